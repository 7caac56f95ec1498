import type { TenantConfig } from '../../../schemas/tenant';
import { attributeMail, type SesStoredEmail } from '../../../local/stack';

const tenant = (tenantId: string, from: string) => ({ tenantId, email: { from } }) as TenantConfig;
const mail = (from: string, to: string, unsubscribeTenant?: string): SesStoredEmail => ({
  from,
  destination: { to: [to] },
  subject: 's',
  body: { text: 't' },
  at: 0,
  headers: unsubscribeTenant
    ? [{ name: 'List-Unsubscribe', value: `<https://api.example.jp/email/${unsubscribeTenant}/unsubscribe?token=x>` }]
    : undefined,
});

describe('attributeMail', () => {
  const tenants = [
    tenant('demo-minato', 'kosodate@minato.example.jp'),
    tenant('demo-kawabe', 'kosodate@minato.example.jp'),
    tenant('demo-yamabe', 'hoken@yamabe.example.jp'),
  ];

  it('tells tenants that share a sender apart by the tenant in the unsubscribe link', () => {
    const m1 = mail('kosodate@minato.example.jp', 'a@x.jp', 'demo-kawabe');
    const m2 = mail('kosodate@minato.example.jp', 'b@x.jp', 'demo-minato');
    const byTenant = attributeMail([m1, m2], tenants);
    expect(byTenant.get('demo-kawabe')).toEqual([m1]);
    expect(byTenant.get('demo-minato')).toEqual([m2]);
  });

  it("takes a sender only one tenant uses as that tenant's, link or not", () => {
    const m = mail('hoken@yamabe.example.jp', 'c@x.jp');
    expect(attributeMail([m], tenants).get('demo-yamabe')).toEqual([m]);
  });

  it('leaves out mail from senders none of the tenants use (another stack on the same emulator)', () => {
    const byTenant = attributeMail([mail('other@example.jp', 'd@x.jp', 'demo-minato')], tenants);
    expect([...byTenant.keys()]).toEqual([]);
  });

  it('keeps mail from a shared sender that names none of its tenants apart, to be reported', () => {
    const odd = mail('kosodate@minato.example.jp', 'e@x.jp', 'demo-yamabe');
    const bare = mail('kosodate@minato.example.jp', 'f@x.jp');
    expect(attributeMail([odd, bare], tenants).get('')).toEqual([odd, bare]);
  });
});
