import { startIdentityProvider, type IdentityProviderConfig } from './provider';

/**
 * Runs the local identity provider in its own process (oidc-provider is ESM only; jest's module registry cannot
 * load it). Its configuration comes as JSON on stdin; it prints `{"issuer": ...}` once listening.
 */
let input = '';
process.stdin.on('data', (c: Buffer) => (input += c.toString('utf8')));
process.stdin.on('end', () => {
  startIdentityProvider(JSON.parse(input) as IdentityProviderConfig).then(
    ({ issuer }) => process.stdout.write(`${JSON.stringify({ issuer })}\n`),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
});
