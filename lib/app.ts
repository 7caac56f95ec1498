// The CDK app entry (cdk.json: `npx tsx lib/app.ts`), and the only place that reads context or environment.
//   npx cdk synth -c stage=prod -c tenantsDir=tenants -c lineApiBaseUrl=https://line-emulator.example
import { App } from 'aws-cdk-lib';
import { addHagukumiStacks, addNagChecks, InvalidAppOptionsError } from './hagukumi-app';
import { InvalidTenantFileError, NoTenantFilesError } from './tenants';

const app = new App();
const context = (key: string): string | undefined => {
  const value: unknown = app.node.tryGetContext(key);
  return value === undefined || value === null || value === ''
    ? undefined
    : typeof value === 'string'
      ? value
      : JSON.stringify(value);
};

try {
  addHagukumiStacks(app, {
    tenantsDir: context('tenantsDir') ?? 'tenants',
    stage: context('stage') ?? 'dev',
    lineApiBaseUrl: context('lineApiBaseUrl'),
    emailSendRate: context('emailSendRate'),
    transientBounceThreshold: context('transientBounceThreshold'),
    consoleDomainPrefix: context('consoleDomainPrefix'),
  });
} catch (error) {
  // An operator's mistake (a tenant file, a context value): the problems are the whole message, a stack trace is noise.
  if (
    error instanceof InvalidTenantFileError ||
    error instanceof NoTenantFilesError ||
    error instanceof InvalidAppOptionsError
  ) {
    console.error(error.message);
    process.exit(1);
  }
  throw error;
}
addNagChecks(app);
app.synth();
