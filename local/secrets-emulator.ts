import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';

/**
 * The part of AWS Secrets Manager's JSON protocol that hagukumi uses (CreateSecret, PutSecretValue,
 * GetSecretValue), so the production code path (Powertools SecretsProvider over the AWS SDK) runs unchanged
 * locally. No maintained offline Secrets Manager emulator exists on npm without Docker; this is ~60 lines.
 */
export interface SecretsEmulator {
  endpoint: string;
  stop(): Promise<void>;
}

export async function startSecretsEmulator(): Promise<SecretsEmulator> {
  const secrets = new Map<string, { arn: string; value: string; versionId: string; created: number }>();
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      const target = String(req.headers['x-amz-target'] ?? '').replace('secretsmanager.', '');
      const reply = (status: number, payload: unknown) => {
        res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
        res.end(JSON.stringify(payload));
      };
      const fail = (type: string, message: string) => reply(400, { __type: type, message });
      let input: Record<string, string>;
      try {
        input = JSON.parse(body || '{}');
      } catch {
        return fail('InvalidRequestException', 'body is not JSON');
      }
      const name = input.Name ?? input.SecretId ?? '';
      const existing = secrets.get(name);
      switch (target) {
        case 'CreateSecret': {
          if (existing) return fail('ResourceExistsException', `secret ${name} already exists`);
          const s = {
            arn: `arn:aws:secretsmanager:ap-northeast-1:000000000000:secret:${name}-local`,
            value: input.SecretString ?? '',
            versionId: randomUUID(),
            created: Date.now() / 1000,
          };
          secrets.set(name, s);
          return reply(200, { ARN: s.arn, Name: name, VersionId: s.versionId });
        }
        case 'PutSecretValue': {
          if (!existing) return fail('ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
          existing.value = input.SecretString ?? '';
          existing.versionId = randomUUID();
          return reply(200, { ARN: existing.arn, Name: name, VersionId: existing.versionId });
        }
        case 'GetSecretValue': {
          if (!existing) return fail('ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
          return reply(200, {
            ARN: existing.arn,
            Name: name,
            SecretString: existing.value,
            VersionId: existing.versionId,
            VersionStages: ['AWSCURRENT'],
            CreatedDate: existing.created,
          });
        }
        default:
          return fail('UnknownOperationException', `operation ${target} is not emulated`);
      }
    });
  });
  // Idle sockets are closed by the client (see the LINE emulator).
  server.keepAliveTimeout = 0;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  if (!addr || typeof addr !== 'object') throw new Error('secrets emulator did not bind');
  return {
    endpoint: `http://127.0.0.1:${addr.port}`,
    stop: () => new Promise((r) => server.close(() => r())),
  };
}
