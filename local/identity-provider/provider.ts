import { generateKeyPairSync, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

/**
 * The local stand-in for the Cognito hosted UI: a real OpenID Connect provider (panva's `oidc-provider`, a
 * certified implementation) speaking the protocol the console uses in AWS: authorization code with PKCE (S256
 * required), ID tokens signed with a fresh RSA key, published at `/jwks`, carrying `cognito:groups` and
 * `cognito:username` as Cognito's do. Its sign-in form checks a username and password of the demo staff; MFA
 * is Cognito's business in AWS and not imitated here.
 */
export interface LocalStaffUser {
  username: string;
  password: string;
  sub: string;
  groups: string[];
}

export interface IdentityProviderConfig {
  clientId: string;
  redirectUris: string[];
  postLogoutRedirectUris: string[];
  users: LocalStaffUser[];
  port?: number;
}

export interface RunningIdentityProvider {
  issuer: string;
  close(): Promise<void>;
}

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

const LOGIN_PAGE = (uid: string, error?: string) => `<!DOCTYPE html>
<html lang="ja"><head><meta charset="utf-8"><title>サインイン（ローカル）</title>
<style>body{font-family:"IPAGothic",sans-serif;max-width:420px;margin:40px auto}label{display:block;margin-top:12px}input{width:100%;font-size:16px;padding:6px}button{margin-top:16px;font-size:16px;padding:8px 24px}.error{color:#a00}</style></head>
<body><h1>はぐくみ 職員サインイン</h1><p>ローカルの認証サーバーです（本番は Amazon Cognito）。</p>
${error ? `<p class="error" role="alert">${escapeHtml(error)}</p>` : ''}
<form method="post" action="/interaction/${escapeHtml(uid)}/login">
<label for="username">ユーザー名</label><input id="username" name="username" autocomplete="username">
<label for="password">パスワード</label><input id="password" name="password" type="password" autocomplete="current-password">
<button type="submit">サインイン</button></form></body></html>`;

const readBody = (req: IncomingMessage) =>
  new Promise<string>((resolve) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => resolve(body));
  });

const same = (a: string, b: string) => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

export async function startIdentityProvider(config: IdentityProviderConfig): Promise<RunningIdentityProvider> {
  // ESM only: loaded with Node's import() (this module runs in its own process, never under jest).
  const { default: Provider } = await import('oidc-provider');
  const server: Server = createServer();
  await new Promise<void>((r) => server.listen(config.port ?? 0, '127.0.0.1', r));
  const addr = server.address();
  if (!addr || typeof addr !== 'object') throw new Error('identity provider did not bind');
  const issuer = `http://localhost:${addr.port}`;
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = {
    ...privateKey.export({ format: 'jwk' }),
    kid: randomBytes(6).toString('hex'),
    alg: 'RS256',
    use: 'sig',
  };
  const users = new Map(config.users.map((u) => [u.sub, u]));

  // Typed ahead: its own configuration's callback refers to it.
  const provider: InstanceType<typeof Provider> = new Provider(issuer, {
    clients: [
      {
        client_id: config.clientId,
        token_endpoint_auth_method: 'none',
        redirect_uris: config.redirectUris,
        post_logout_redirect_uris: config.postLogoutRedirectUris,
        response_types: ['code'],
        grant_types: ['authorization_code'],
      },
    ],
    jwks: { keys: [jwk] },
    pkce: { required: () => true },
    // Cognito puts the groups into the ID token itself.
    claims: { openid: ['sub', 'cognito:groups', 'cognito:username'] },
    conformIdTokenClaims: false,
    features: { devInteractions: { enabled: false } },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    cookies: { keys: [randomBytes(32).toString('hex')] },
    ttl: { IdToken: 3600, AccessToken: 3600, Session: 8 * 3600, Interaction: 600, Grant: 8 * 3600 },
    findAccount: (_ctx, sub) => {
      const user = users.get(sub);
      return user
        ? {
            accountId: sub,
            claims: () => ({ sub, 'cognito:groups': user.groups, 'cognito:username': user.username }),
          }
        : undefined;
    },
    // The console is a first-party client: no consent screen, as with Cognito's hosted UI.
    loadExistingGrant: async (ctx): Promise<InstanceType<(typeof provider)['Grant']> | undefined> => {
      const accountId = ctx.oidc.session?.accountId;
      const clientId = ctx.oidc.client?.clientId;
      if (!accountId || !clientId) return undefined;
      const grant: InstanceType<(typeof provider)['Grant']> = new provider.Grant({ accountId, clientId });
      grant.addOIDCScope('openid');
      grant.addOIDCClaims(['sub', 'cognito:groups', 'cognito:username']);
      await grant.save();
      return grant;
    },
  });
  const callback = provider.callback();

  async function interaction(req: IncomingMessage, res: ServerResponse, uid: string, login: boolean) {
    const details = await provider.interactionDetails(req, res);
    if (details.uid !== uid) {
      res.writeHead(400).end();
      return;
    }
    if (!login) {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
      res.end(LOGIN_PAGE(uid));
      return;
    }
    const form = new URLSearchParams(await readBody(req));
    const user = config.users.find((u) => u.username === form.get('username'));
    if (!user || !same(user.password, form.get('password') ?? '')) {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
      res.end(LOGIN_PAGE(uid, 'ユーザー名またはパスワードが違います。'));
      return;
    }
    await provider.interactionFinished(
      req,
      res,
      { login: { accountId: user.sub } },
      { mergeWithLastSubmission: false },
    );
  }

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const m = /^\/interaction\/([A-Za-z0-9_-]+)(\/login)?$/.exec(new URL(req.url ?? '/', issuer).pathname);
    if (m) {
      interaction(req, res, m[1]!, req.method === 'POST' && m[2] === '/login').catch(() => {
        if (!res.headersSent) res.writeHead(400, { 'content-type': 'text/plain' }).end('sign-in expired');
      });
      return;
    }
    void callback(req, res);
  });
  return { issuer, close: () => new Promise((r) => server.close(() => r())) };
}
