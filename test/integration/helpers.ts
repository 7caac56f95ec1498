import { randomBytes } from 'node:crypto';
import type { ContentItem, ContentLibrary } from '../../schemas/content';
import type { TenantConfig } from '../../schemas/tenant';
import { LineEmulatorClient } from '../../local/line-emulator/client';
import type { Endpoints } from '../../local/emulators';
import { loadRepoTenants, provision, type Provisioned } from '../../local/stack';

export function testEndpoints(): Endpoints {
  const raw = process.env.HAGUKUMI_TEST_ENDPOINTS;
  if (!raw) throw new Error('integration tests need the emulators of test/integration/global-setup.ts');
  return JSON.parse(raw) as Endpoints;
}

/** A library with a message for every slot of both tracks; every fifth uses {nickname}. */
export function testLibrary(libraryId = 'test-lib'): ContentLibrary {
  const items: ContentItem[] = [];
  for (let day = 28; day <= 293; day++) {
    items.push({
      track: 'maternity',
      day,
      audience: 'parent',
      text: day % 5 === 0 ? `妊娠${day}日目、{nickname}へ` : `妊娠${day}日目のメッセージ`,
    });
    if (day % 7 === 0)
      items.push({ track: 'maternity', day, audience: 'partner', text: `パートナーの方へ 妊娠${day}日目` });
  }
  const childDays = [
    ...Array.from({ length: 101 }, (_, d) => d),
    ...Array.from({ length: 88 }, (_, k) => 103 + 3 * k).filter((d) => d <= 365),
    ...Array.from({ length: 52 }, (_, k) => 372 + 7 * k).filter((d) => d <= 730),
    ...Array.from({ length: 26 }, (_, k) => 744 + 14 * k).filter((d) => d <= 1094),
  ];
  for (const day of childDays)
    items.push({
      track: 'childcare',
      day,
      audience: 'parent',
      text: day % 5 === 0 ? `生後${day}日、{nickname}` : `生後${day}日のメッセージ`,
    });
  return { libraryId, language: 'ja', sample: true, notice: 'test library', items };
}

/** The repository's demo tenants, pointed at the test library and at secrets no other test file uses. */
export function testTenants(prefix: string, library = 'test-lib'): TenantConfig[] {
  return loadRepoTenants().map((t) => ({
    ...t,
    library,
    line: { ...t.line, secretName: `${prefix}/${t.tenantId}/line` },
    // The SES emulator is shared by all test files: a sender of its own keeps each file's mail apart.
    email: t.email && { ...t.email, from: `${t.tenantId}.${prefix}@example.jp` },
    // The demo tenants' surveys would add invitations to the expected days; the survey tests add their own.
    surveys: [],
    sharedSurveys: [],
    screening: undefined,
    // Free text would go to the inquiry flow instead of the help reply; the inquiry tests add their own.
    inquiries: undefined,
  }));
}

export const uniquePrefix = (name: string) => `t-${name}-${randomBytes(3).toString('hex')}`;

export interface TestStack extends Provisioned {
  line: LineEmulatorClient;
}

/** A fresh set of tables, queues, tenants and LINE channels on the shared emulators; fast retries. */
export async function startTestStack(
  name: string,
  opts: {
    library?: ContentLibrary;
    tenants?: (prefix: string) => TenantConfig[];
    handlerEnv?: Record<string, string>;
    webhook?: boolean;
    console?: boolean;
  } = {},
): Promise<TestStack> {
  const endpoints = testEndpoints();
  const prefix = uniquePrefix(name);
  const library = opts.library ?? testLibrary();
  const line = new LineEmulatorClient(endpoints.line);
  const p = await provision({
    prefix,
    endpoints,
    line,
    tenants: (opts.tenants ?? ((px) => testTenants(px, library.libraryId)))(prefix),
    libraries: [library],
    handlerEnv: {
      LINE_RETRY_BASE_MS: '5',
      LINE_REQUEST_TIMEOUT_MS: '1500',
      LINE_RETRY_ATTEMPTS: '8',
      ...opts.handlerEnv,
    },
    queue: { visibilityTimeoutSeconds: 1 },
    webhook: opts.webhook === true || opts.console === true,
    console: opts.console,
  });
  return { ...p, line };
}
