import { Duration, RemovalPolicy, Size } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { FunctionNetwork } from './managed-database';
import { NETWORK_INTERFACE_ACTIONS } from './scoped-wildcards';

export interface DatacycleFunctionProps {
  /** Folder of the bundled handler (see bundleFunction). */
  codeDir: string;
  coreLayer: lambda.ILayerVersion;
  /**
   * Another runtime than Node.js (the Python and R model runners): its runtime, handler,
   * architecture (that of its layers' native code) and layers, instead of the core layer.
   */
  runtime?: {
    runtime: lambda.Runtime;
    handler: string;
    architecture: lambda.Architecture;
    layers: lambda.ILayerVersion[];
  };
  environment: Record<string, string>;
  timeout?: Duration;
  memorySize?: number;
  /** /tmp space, where zip archives and Parquet files are spooled (default 512 MiB). */
  ephemeralStorageMiB?: number;
  description: string;
  /** Retries of an asynchronous invocation that failed (Lambda's default: 2). */
  retryAttempts?: number;
  /** The private network of a managed database (functions reach it from there only). */
  network?: FunctionNetwork;
}

/**
 * Node.js options of every function: a 16 MiB young generation, set rather than left to the
 * platform. Ingestion allocates millions of short-lived cell strings per file; with batched
 * rows, 32 MiB (tried first) bought no speed and cost ~35 MB of peak RSS on a 1M-row load
 * (232 MB against 265 MB, same time; measured with bench/measure-load.ts).
 */
export const FUNCTION_NODE_OPTIONS = '--max-semi-space-size=16';

/**
 * The environment every Node.js function starts with:
 * - its Node.js options (FUNCTION_NODE_OPTIONS);
 * - glibc's allocator told to map every block of 1 MiB or more on its own, so that a freed one
 *   goes back to the system at once. By default glibc raises that threshold to the size of the
 *   last mapped block freed (up to 32 MiB): the exports' multi-MiB buffers (Arrow batches,
 *   deflate blocks) were then carved from the threads' heaps and kept there, in pieces, once
 *   freed. A 1M-row Parquet export peaked at 243-266 MB of RSS, 221-229 MB with it, at the same
 *   speed; smaller blocks (ingestion's COPY chunks) stay in the heap, where 128 KiB cost
 *   ingestion ~5 % more CPU;
 * - file reads on libuv's thread pool rather than io_uring: Node.js 20's libuv (1.46) polls
 *   io_uring's submission queue from a kernel thread (iou-sqp-<pid>), which spun for 2.2 CPU-s
 *   while the 463 MB bench file was read, taken from the validation workers and PostgreSQL on
 *   2 cores. libuv 1.49 made io_uring opt-in (Node.js 22 and 24, the Lambda runtime): this
 *   gives Node.js 20 hosts, such as LocalStack's functions run on the machine's Node.js, the
 *   same reads.
 */
export const FUNCTION_ENVIRONMENT: Readonly<Record<string, string>> = {
  NODE_OPTIONS: FUNCTION_NODE_OPTIONS,
  MALLOC_MMAP_THRESHOLD_: String(1024 * 1024),
  UV_USE_IO_URING: '0',
};

/** The one place that sets the defaults of every datacycle function. */
export class DatacycleFunction extends Construct {
  readonly function: lambda.Function;

  constructor(scope: Construct, id: string, props: DatacycleFunctionProps) {
    super(scope, id);
    const logGroup = new logs.LogGroup(this, 'Logs', {
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // A role of its own, with what it is granted and no AWS managed policy: its logs, and in
    // a private network the network interfaces Lambda attaches to it.
    const role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `datacycle: ${props.description}`,
    });
    logGroup.grantWrite(role);
    if (props.network)
      role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          sid: 'VpcNetworkInterfaces',
          actions: NETWORK_INTERFACE_ACTIONS,
          resources: ['*'],
        }),
      );
    // Its policy's wildcards are acknowledged, kind by kind, by ScopedWildcards.
    const other = props.runtime;
    this.function = new lambda.Function(this, 'Function', {
      runtime: other?.runtime ?? lambda.Runtime.NODEJS_24_X,
      architecture: other?.architecture ?? lambda.Architecture.ARM_64,
      handler: other?.handler ?? 'index.handler',
      code: lambda.Code.fromAsset(props.codeDir),
      layers: other?.layers ?? [props.coreLayer],
      timeout: props.timeout ?? Duration.minutes(1),
      memorySize: props.memorySize ?? 512,
      ephemeralStorageSize: Size.mebibytes(props.ephemeralStorageMiB ?? 512),
      description: props.description,
      retryAttempts: props.retryAttempts,
      role,
      ...props.network,
      logGroup,
      environment: { ...(other ? {} : FUNCTION_ENVIRONMENT), ...props.environment },
    });
  }
}
