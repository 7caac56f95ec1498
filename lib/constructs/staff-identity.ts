import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import {
  AccountRecovery,
  FeaturePlan,
  ManagedLoginVersion,
  Mfa,
  StandardThreatProtectionMode,
  UserPool,
  UserPoolDomain,
  UserPoolGroup,
} from 'aws-cdk-lib/aws-cognito';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { STAFF_ROLES, staffGroupName } from '../../schemas/console';

export interface StaffIdentityProps {
  readonly tenantIds: readonly string[];
  readonly domainPrefix: string;
}

/**
 * Who may use the staff console: a Cognito user pool per stage (stateful: the staff users must survive
 * redeployments). Staff are created by the operator only (no self sign-up), sign in with a password and a TOTP
 * authenticator (MFA required, no SMS), and belong to one group per tenant and role, `<tenantId>:staff` or
 * `<tenantId>:admin`, which the ID token carries as `cognito:groups`. The console's cookies are sealed with a
 * secret of their own.
 */
export class StaffIdentity extends Construct {
  readonly userPool: UserPool;
  readonly domain: UserPoolDomain;
  readonly sessionSecret: Secret;

  constructor(scope: Construct, id: string, props: StaffIdentityProps) {
    super(scope, id);
    this.userPool = new UserPool(this, 'UserPool', {
      selfSignUpEnabled: false,
      signInAliases: { username: true, email: true },
      mfa: Mfa.REQUIRED,
      mfaSecondFactor: { otp: true, sms: false },
      passwordPolicy: {
        minLength: 12,
        requireLowercase: true,
        requireUppercase: true,
        requireDigits: true,
        requireSymbols: true,
        tempPasswordValidity: Duration.days(3),
      },
      accountRecovery: AccountRecovery.EMAIL_ONLY,
      // Health staff see screening results: compromised-credential and adaptive sign-in checks, enforced.
      featurePlan: FeaturePlan.PLUS,
      standardThreatProtectionMode: StandardThreatProtectionMode.FULL_FUNCTION,
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.domain = this.userPool.addDomain('Domain', {
      cognitoDomain: { domainPrefix: props.domainPrefix },
      managedLoginVersion: ManagedLoginVersion.CLASSIC_HOSTED_UI,
    });
    for (const tenantId of props.tenantIds)
      for (const role of STAFF_ROLES)
        new UserPoolGroup(this, `Group-${tenantId}-${role}`, {
          userPool: this.userPool,
          groupName: staffGroupName(tenantId, role),
          description: `${role} of ${tenantId} in the staff console`,
        });

    this.sessionSecret = new Secret(this, 'SessionSecret', {
      description: 'hagukumi: seals the staff console session cookies (@hapi/iron, at least 32 characters)',
      generateSecretString: { passwordLength: 64, excludePunctuation: true },
    });
    Validations.of(this.sessionSecret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'Rotated by the operator (a new value in Secrets Manager): the only effect is that staff sign in again, sessions last at most 8 hours; a rotation Lambda would add a function with write access to the secret for no gain.',
    });
  }
}
