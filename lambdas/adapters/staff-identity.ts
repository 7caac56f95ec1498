import { CognitoJwtVerifier, JwtVerifier } from 'aws-jwt-verify';
import type { Fetcher } from 'aws-jwt-verify/https';
import { SimpleJwksCache } from 'aws-jwt-verify/jwk';
import type { StaffIdentityProvider } from '../services/ports';

export class TokenExchangeError extends Error {
  constructor(status: number, options?: { cause: unknown }) {
    // The status only: the body may echo the code.
    super(`the identity provider refused the authorization code (HTTP ${status})`, options);
    this.name = 'TokenExchangeError';
  }
}

export interface StaffIdentityConfig {
  /** `https://<domain>/oauth2/authorize` (Cognito) or the local provider's `/auth`. */
  authorizeEndpoint: string;
  tokenEndpoint: string;
  logoutEndpoint: string;
  clientId: string;
  /** Cognito: the user pool (the verifier derives issuer and JWKS from it). */
  userPoolId?: string;
  /** Any other OpenID Connect provider (the local one): its issuer and JWKS. */
  issuer?: string;
  jwksUri?: string;
}

/**
 * aws-jwt-verify fetches JWKS over HTTPS only; the local identity provider serves plain HTTP on 127.0.0.1.
 * This fetcher uses Node's fetch for any URL; it is only ever given the configured JWKS URI.
 */
class AnyUrlFetcher implements Fetcher {
  async fetch(uri: string): Promise<ArrayBuffer> {
    const res = await fetch(uri, { signal: AbortSignal.timeout(5000) });
    if (!res.ok) throw new Error(`JWKS fetch answered ${res.status}`);
    return res.arrayBuffer();
  }
}

/**
 * The console's OpenID Connect client: authorization code with PKCE (a public client, no secret), the ID token
 * verified by aws-jwt-verify (CognitoJwtVerifier in AWS: signature, issuer, audience, token_use, expiry; JwtVerifier
 * with the local provider's issuer and JWKS locally). The token request itself is one form POST (RFC 6749 4.1.3).
 */
export class OidcStaffIdentity implements StaffIdentityProvider {
  private readonly verifier: { verify(token: string): Promise<Record<string, unknown>> };

  constructor(private readonly config: StaffIdentityConfig) {
    if (config.userPoolId) {
      const v = CognitoJwtVerifier.create({ userPoolId: config.userPoolId, tokenUse: 'id', clientId: config.clientId });
      this.verifier = { verify: async (t) => await v.verify(t) };
    } else if (config.issuer && config.jwksUri) {
      const v = JwtVerifier.create(
        { issuer: config.issuer, audience: config.clientId, jwksUri: config.jwksUri },
        { jwksCache: new SimpleJwksCache({ fetcher: new AnyUrlFetcher() }) },
      );
      this.verifier = { verify: async (t) => await v.verify(t) };
    } else throw new Error('staff identity: a user pool id, or an issuer and a JWKS URI, is required');
  }

  authorizeUrl(p: { redirectUri: string; state: string; nonce: string; codeChallenge: string }): string {
    const url = new URL(this.config.authorizeEndpoint);
    url.search = new URLSearchParams({
      response_type: 'code',
      client_id: this.config.clientId,
      redirect_uri: p.redirectUri,
      scope: 'openid',
      state: p.state,
      nonce: p.nonce,
      code_challenge: p.codeChallenge,
      code_challenge_method: 'S256',
    }).toString();
    return url.toString();
  }

  async exchangeCode(p: { code: string; codeVerifier: string; redirectUri: string }): Promise<string> {
    const res = await fetch(this.config.tokenEndpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        client_id: this.config.clientId,
        code: p.code,
        redirect_uri: p.redirectUri,
        code_verifier: p.codeVerifier,
      }),
      signal: AbortSignal.timeout(5000),
    });
    if (!res.ok) throw new TokenExchangeError(res.status);
    const body = (await res.json()) as { id_token?: unknown };
    if (typeof body.id_token !== 'string') throw new TokenExchangeError(res.status, { cause: 'no id_token' });
    return body.id_token;
  }

  logoutUrl(returnTo: string): string {
    const url = new URL(this.config.logoutEndpoint);
    // Cognito's /logout takes logout_uri; OpenID Connect RP-initiated logout takes post_logout_redirect_uri.
    url.search = new URLSearchParams({
      client_id: this.config.clientId,
      ...(this.config.userPoolId ? { logout_uri: returnTo } : { post_logout_redirect_uri: returnTo }),
    }).toString();
    return url.toString();
  }

  verifyIdToken(idToken: string): Promise<Record<string, unknown>> {
    return this.verifier.verify(idToken);
  }
}
