import { loadTenants } from '../../lib/tenants';
import { CONSOLE_FUNCTIONS } from '../../lib/constructs/staff-console';
import { buildApp, REAL_TENANTS_DIR, resourcesOfType, type BuiltApp } from './helpers';

let built: BuiltApp;
beforeAll(() => {
  built = buildApp({}, { skipBundling: true });
});

describe('staff identity (stateful stack)', () => {
  it('one user pool: MFA required with TOTP only, no self sign-up, strong passwords, threat protection enforced, retained', () => {
    const pools = resourcesOfType(built.statefulTemplate, 'AWS::Cognito::UserPool');
    expect(pools).toHaveLength(1);
    const [, pool] = pools[0]!;
    expect(pool.Properties.MfaConfiguration).toBe('ON');
    expect(pool.Properties.EnabledMfas).toEqual(['SOFTWARE_TOKEN_MFA']);
    expect(pool.Properties.AdminCreateUserConfig.AllowAdminCreateUserOnly).toBe(true);
    expect(pool.Properties.Policies.PasswordPolicy).toMatchObject({
      MinimumLength: 12,
      RequireLowercase: true,
      RequireUppercase: true,
      RequireNumbers: true,
      RequireSymbols: true,
    });
    expect(pool.Properties.UserPoolAddOns.AdvancedSecurityMode).toBe('ENFORCED');
    expect(pool.Properties.DeletionProtection).toBe('ACTIVE');
    expect(pool.DeletionPolicy).toBe('Retain');
  });

  it('one group per tenant and role, named <tenantId>:staff and <tenantId>:admin', () => {
    const names = resourcesOfType(built.statefulTemplate, 'AWS::Cognito::UserPoolGroup')
      .map(([, g]) => g.Properties.GroupName as string)
      .sort();
    const expected = loadTenants(REAL_TENANTS_DIR)
      .flatMap((t) => [`${t.config.tenantId}:admin`, `${t.config.tenantId}:staff`])
      .sort();
    expect(names).toEqual(expected);
  });

  it('a hosted domain for the sign-in pages, with the stage in its prefix', () => {
    const [[, domain]] = resourcesOfType(built.statefulTemplate, 'AWS::Cognito::UserPoolDomain') as [
      [string, { Properties: { Domain: string } }],
    ];
    expect(domain.Properties.Domain).toBe('hagukumi-test-staff');
  });
});

describe('staff console (stateless stack)', () => {
  it('an app client for the authorization code flow with PKCE: public (no secret), openid, callback on the console API', () => {
    const clients = resourcesOfType(built.statelessTemplate, 'AWS::Cognito::UserPoolClient');
    expect(clients).toHaveLength(1);
    const [, c] = clients[0]!;
    expect(c.Properties.GenerateSecret).toBe(false);
    expect(c.Properties.AllowedOAuthFlows).toEqual(['code']);
    expect(c.Properties.AllowedOAuthFlowsUserPoolClient).toBe(true);
    expect(c.Properties.AllowedOAuthScopes).toEqual(['openid']);
    expect(c.Properties.SupportedIdentityProviders).toEqual(['COGNITO']);
    expect(JSON.stringify(c.Properties.CallbackURLs)).toContain('/console/callback');
    expect(c.Properties.PreventUserExistenceErrors).toBe('ENABLED');
    // Only the hosted UI signs in: no password flows the app could call directly.
    expect(c.Properties.ExplicitAuthFlows ?? []).toEqual([]);
  });

  it('its own HTTP API with exactly the console routes, no $default, throttled', () => {
    const apis = resourcesOfType(built.statelessTemplate, 'AWS::ApiGatewayV2::Api').filter(([id]) =>
      id.startsWith('StaffConsole'),
    );
    expect(apis).toHaveLength(1);
    const apiId = apis[0]![0];
    const routes = resourcesOfType(built.statelessTemplate, 'AWS::ApiGatewayV2::Route')
      .filter(([, r]) => JSON.stringify(r.Properties.ApiId).includes(apiId))
      .map(([, r]) => r.Properties.RouteKey as string)
      .sort();
    const expected = Object.values(CONSOLE_FUNCTIONS)
      .flatMap((f) => f.routes.map(([m, p]) => `${m} ${p}`))
      .sort();
    expect(routes).toEqual(expected);
    expect(routes).not.toContain('$default');
    const stages = resourcesOfType(built.statelessTemplate, 'AWS::ApiGatewayV2::Stage').filter(([, s]) =>
      JSON.stringify(s.Properties.ApiId).includes(apiId),
    );
    expect(stages[0]![1].Properties.DefaultRouteSettings.ThrottlingRateLimit).toBeGreaterThan(0);
  });

  it('each console function verifies against the user pool and knows the hosted UI endpoints', () => {
    const fns = resourcesOfType(built.statelessTemplate, 'AWS::Lambda::Function').filter(([id]) =>
      id.startsWith('StaffConsole'),
    );
    expect(fns).toHaveLength(Object.keys(CONSOLE_FUNCTIONS).length);
    for (const [, fn] of fns) {
      const env = fn.Properties.Environment.Variables as Record<string, unknown>;
      for (const k of [
        'CONSOLE_USER_POOL_ID',
        'CONSOLE_CLIENT_ID',
        'CONSOLE_BASE_URL',
        'CONSOLE_AUTHORIZE_URL',
        'CONSOLE_TOKEN_URL',
        'CONSOLE_LOGOUT_URL',
        'AUDIT_TABLE',
        'CONSOLE_SESSION_SECRET',
      ])
        expect(env[k]).toBeDefined();
      expect(JSON.stringify(env.CONSOLE_AUTHORIZE_URL)).toContain('/oauth2/authorize');
      expect(env.CONSOLE_ISSUER).toBeUndefined();
    }
  });
});
