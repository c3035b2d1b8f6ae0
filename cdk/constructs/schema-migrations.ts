import { CustomResource, Duration } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { requiredSchemaVersion, type DatabaseRole } from '@datacycle/core';
import { DatacycleFunction } from './datacycle-function';
import type { PipelinePartProps } from './pipeline-part';

/**
 * cdk deploy ──► Migrations (custom resource) ──► migrate function ──► PostgreSQL schema
 *
 * The schema follows the code on every deploy: the resource's properties carry the schema
 * version this build needs, so a deploy that brings new migrations runs them (an update), and
 * one that does not leaves the resource alone. The other functions are created after it, and
 * each checks the version once per container.
 */
export class SchemaMigrations extends Construct {
  readonly function: lambda.Function;
  readonly resource: CustomResource;

  constructor(
    scope: Construct,
    id: string,
    props: PipelinePartProps & {
      /** Managed database: each role's login secret, whose password the deploy sets. */
      loginSecrets?: Record<DatabaseRole, secretsmanager.ISecret>;
    },
  ) {
    super(scope, id);
    const logins = Object.fromEntries(
      Object.entries(props.loginSecrets ?? {}).map(([role, secret]) => [role, secret.secretArn]),
    );
    this.function = new DatacycleFunction(this, 'Migrate', {
      codeDir: props.codeDir,
      coreLayer: props.coreLayer,
      network: props.network,
      environment: { ...props.environment, DATABASE_LOGIN_SECRETS: JSON.stringify(logins) },
      timeout: Duration.minutes(10),
      memorySize: 256,
      description: 'Brings the database schema up to date during a deploy (custom resource)',
      retryAttempts: 0,
    }).function;
    props.grantDatabase(this.function);
    for (const secret of Object.values(props.loginSecrets ?? {})) secret.grantRead(this.function);
    this.resource = new CustomResource(this, 'Schema', {
      serviceToken: this.function.functionArn,
      resourceType: 'Custom::DatacycleSchema',
      // A new schema version or new login secrets make the deploy run the function again.
      properties: { SchemaVersion: requiredSchemaVersion(), Logins: logins },
    });
  }

  /** The version the database reached during the deploy. */
  get schemaVersion(): string {
    return this.resource.getAttString('SchemaVersion');
  }
}
