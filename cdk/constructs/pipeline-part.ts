import type * as events from 'aws-cdk-lib/aws-events';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type { Project } from '@datacycle/core';
import type { DataBuckets } from './data-buckets';
import type { FunctionNetwork } from './managed-database';

/** What every part of the pipeline (ingest, collection, push) is built from. */
export interface PipelinePartProps {
  project: Project;
  buckets: DataBuckets;
  /** Folder of the part's bundled handler (see bundle.ts). */
  codeDir: string;
  coreLayer: lambda.ILayerVersion;
  /** Bucket names and the database secret, shared by every function. */
  environment: Record<string, string>;
  grantDatabase: (grantee: iam.IGrantable) => void;
  /** With a managed database, the private network every function runs in. */
  network?: FunctionNetwork;
  /** The stack's event bus (EVENT_BUS_NAME in `environment`), where alerts are published. */
  eventBus: events.IEventBus;
}
