import { Duration, Validations } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { DatacycleFunction } from './datacycle-function';
import { PublicEdge, type EdgeSettings } from './public-edge';
import type { PipelinePartProps } from './pipeline-part';

export type PushEndpointProps = PipelinePartProps & { edge: EdgeSettings };

/**
 * partner ──POST /<dataset>/<file>──► HTTP API (throttled) or function URL ──► push function ──► landing/<dataset>/…
 * One generated secret per push source (Secrets Manager): partners sign with it (HMAC) or
 * send it (API key); it never appears in the project files.
 */
export class PushEndpoint extends Construct {
  readonly function: lambda.Function;
  /** Where it meets the internet: its base URL, and a custom domain's DNS target. */
  readonly edge: PublicEdge;
  readonly secrets: Record<string, secretsmanager.Secret> = {};

  constructor(scope: Construct, id: string, props: PushEndpointProps) {
    super(scope, id);
    for (const dataset of props.project.datasets) {
      if (!dataset.config.sources.some((source) => source.type === 'push')) continue;
      this.secrets[dataset.id] = new secretsmanager.Secret(this, `Secret-${dataset.id}`, {
        description: `push secret of dataset ${dataset.id}: give it to the producers who push files`,
        generateSecretString: { passwordLength: 48, excludePunctuation: true },
      });
      Validations.of(this.secrets[dataset.id]!).acknowledge({
        id: 'AwsSolutions-SMG4',
        reason:
          'a push secret is shared with partners, who must change it on their side at the same time: ' +
          'rotated by an operator with the partner (docs/aws.md), not on a schedule that would cut them off',
      });
    }
    this.function = new DatacycleFunction(this, 'Push', {
      codeDir: props.codeDir,
      coreLayer: props.coreLayer,
      network: props.network,
      environment: {
        ...props.environment,
        PUSH_SECRETS: JSON.stringify(
          Object.fromEntries(Object.entries(this.secrets).map(([name, secret]) => [name, secret.secretArn])),
        ),
      },
      timeout: Duration.seconds(30),
      memorySize: 512,
      description: 'Receives files pushed by partners into the landing bucket',
    }).function;
    this.edge = new PublicEdge(this, 'Edge', {
      function: this.function,
      settings: props.edge,
      openBecause:
        "partners authenticate each request with their dataset's push secret (a signature or the key), checked by the function",
    });
    for (const secret of Object.values(this.secrets)) secret.grantRead(this.function);
    props.buckets.landing.grantPut(this.function);
    props.grantDatabase(this.function);
  }
}
