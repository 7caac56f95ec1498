import * as path from 'node:path';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { Role, ServicePrincipal, type IGrantable, type IPrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

/** The repository root: handlers, package-lock.json and tsconfig.json are resolved from here. */
export const REPO_ROOT = path.join(__dirname, '..', '..');

const VEGA_CANVAS_SHIM = path.join(REPO_ROOT, 'lambdas', 'web', 'vega-canvas-shim.ts');

export function handlerEntry(name: string): string {
  return path.join(REPO_ROOT, 'lambdas', 'handlers', `${name}.ts`);
}

export interface HagukumiFunctionProps {
  /** Absolute path of the handler file. */
  readonly entry: string;
  /** Powertools service name, shown in logs, metrics and traces. */
  readonly serviceName: string;
  readonly description: string;
  readonly timeout: Duration;
  /** @default 256 */
  readonly memorySize?: number;
  readonly environment?: Record<string, string>;
  /** Where asynchronous invocations go after Lambda's own retries. */
  readonly deadLetterQueue?: IQueue;
  /** @default RetentionDays.THREE_MONTHS */
  readonly logRetention?: RetentionDays;
}

/**
 * One Lambda function the way every hagukumi function is built (after Powertools for AWS Lambda's
 * examples): Node 24 on arm64, bundled by the locally installed esbuild, source maps, X-Ray, a log group
 * with retention, and a role whose only log permissions are on that log group.
 */
export class HagukumiFunction extends Construct implements IGrantable {
  readonly fn: NodejsFunction;
  readonly logGroup: LogGroup;
  readonly role: Role;
  readonly grantPrincipal: IPrincipal;

  constructor(scope: Construct, id: string, props: HagukumiFunctionProps) {
    super(scope, id);

    this.logGroup = new LogGroup(this, 'Logs', {
      retention: props.logRetention ?? RetentionDays.THREE_MONTHS,
      // Logs are diagnostics, not records: they go with the stack.
      removalPolicy: RemovalPolicy.DESTROY,
    });

    // Instead of the managed AWSLambdaBasicExecutionRole (logs on every group in the account).
    this.role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `Execution role of the ${props.serviceName} function`,
    });
    this.logGroup.grantWrite(this.role);

    this.fn = new NodejsFunction(this, 'Function', {
      entry: props.entry,
      handler: 'handler',
      description: props.description,
      runtime: Runtime.NODEJS_24_X,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize ?? 256,
      timeout: props.timeout,
      tracing: Tracing.ACTIVE,
      role: this.role,
      logGroup: this.logGroup,
      deadLetterQueue: props.deadLetterQueue,
      projectRoot: REPO_ROOT,
      depsLockFilePath: path.join(REPO_ROOT, 'package-lock.json'),
      bundling: {
        forceDockerBundling: false,
        format: OutputFormat.CJS,
        target: 'node24',
        minify: true,
        sourceMap: true,
        tsconfig: path.join(REPO_ROOT, 'tsconfig.json'),
        // vega-canvas (loaded by vega, the KPI report's charts) awaits at its top level, which CommonJS cannot
        // hold: a canvas-less stand-in (lambdas/web/vega-canvas-shim.ts). Inert in bundles without vega.
        esbuildArgs: { '--alias:vega-canvas': VEGA_CANVAS_SHIM },
      },
      environment: {
        NODE_OPTIONS: '--enable-source-maps',
        POWERTOOLS_SERVICE_NAME: props.serviceName,
        POWERTOOLS_METRICS_NAMESPACE: 'Hagukumi',
        POWERTOOLS_LOG_LEVEL: 'INFO',
        ...props.environment,
      },
    });
    this.grantPrincipal = this.fn.grantPrincipal;
  }
}
