import { SecretValue } from 'aws-cdk-lib';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import type { ManagedDatabaseProps } from './managed-database';

export type DatabaseSettingsProps =
  /** An existing secret (production): a connection string or an RDS-style JSON secret. */
  | { secretArn: string }
  /** A connection string to store in a new secret (local cloud, tests). */
  | { url: string }
  /** RDS PostgreSQL in a private network behind an RDS Proxy, created by the stack. */
  | { managed: ManagedDatabaseProps };

/** Where functions find the PostgreSQL connection: always a Secrets Manager secret. */
export class DatabaseSettings extends Construct {
  readonly secret: secretsmanager.ISecret;

  constructor(scope: Construct, id: string, props: { secretArn: string } | { url: string }) {
    super(scope, id);
    this.secret =
      'secretArn' in props
        ? secretsmanager.Secret.fromSecretCompleteArn(this, 'Secret', props.secretArn)
        : new secretsmanager.Secret(this, 'Secret', {
            description: 'PostgreSQL connection string of datacycle',
            secretStringValue: SecretValue.unsafePlainText(props.url),
          });
  }
}
