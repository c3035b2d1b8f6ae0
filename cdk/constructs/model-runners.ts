import { Duration, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { DatacycleFunction } from './datacycle-function';
import type { FunctionNetwork } from './managed-database';

/** The staged code of the runners a project needs (see stageLambdaCode). */
export interface RunnerCode {
  python?: { code: string; layer: string };
  /** R: the runner, and the layer that brings R itself on AWS (absent on the local cloud, which uses the host's R). */
  r?: { code: string; layerArn?: string };
}

export interface ModelRunnersProps {
  code: RunnerCode;
  coreLayer: lambda.ILayerVersion;
  network?: FunctionNetwork;
}

/**
 * The functions that run Python and R models, invoked by the transform function (which waits
 * for them inside its transaction). They reach nothing but the presigned URLs of their inputs
 * and result: no database access, no bucket grant.
 */
export class ModelRunners extends Construct {
  readonly python?: lambda.Function;
  readonly r?: lambda.Function;

  constructor(scope: Construct, id: string, props: ModelRunnersProps) {
    super(scope, id);
    const common = {
      coreLayer: props.coreLayer,
      environment: {},
      timeout: Duration.minutes(14),
      memorySize: 2048,
      ephemeralStorageMiB: 2048,
      retryAttempts: 0,
      network: props.network,
    };
    if (props.code.python) {
      const layer = new lambda.LayerVersion(this, 'PandasLayer', {
        code: lambda.Code.fromAsset(props.code.python.layer),
        compatibleRuntimes: [lambda.Runtime.PYTHON_3_11],
        compatibleArchitectures: [lambda.Architecture.X86_64],
        description: 'pandas and numpy for the Python models (functions/model-python/requirements.txt)',
      });
      this.python = new DatacycleFunction(this, 'Python', {
        ...common,
        codeDir: props.code.python.code,
        description: "Runs the project's Python models (pandas)",
        runtime: {
          runtime: lambda.Runtime.PYTHON_3_11,
          handler: 'runner.handler',
          architecture: lambda.Architecture.X86_64,
          layers: [layer],
        },
      }).function;
      Validations.of(this.python.node.defaultChild!).acknowledge({
        id: 'AwsSolutions-L1',
        reason:
          'python3.11: the layer is built for it (cp311 wheels), and the local cloud runs the same layer with ' +
          "the machine's Python 3.11; a newer runtime needs both moved together",
      });
    }
    if (props.code.r) {
      const layerArn = props.code.r.layerArn;
      this.r = new DatacycleFunction(this, 'R', {
        ...common,
        codeDir: props.code.r.code,
        description: "Runs the project's R models",
        runtime: {
          runtime: lambda.Runtime.PROVIDED_AL2023,
          handler: 'runner.R',
          architecture: lambda.Architecture.X86_64,
          layers: layerArn ? [lambda.LayerVersion.fromLayerVersionArn(this, 'RLayer', layerArn)] : [],
        },
      }).function;
    }
  }

  /** The environment that tells the transform function where the runners are. */
  get environment(): Record<string, string> {
    return {
      ...(this.python ? { PYTHON_MODELS_FUNCTION: this.python.functionName } : {}),
      ...(this.r ? { R_MODELS_FUNCTION: this.r.functionName } : {}),
    };
  }

  /** Invoking the runners themselves (not their versions or aliases: none is published). */
  grantInvoke(grantee: iam.IGrantable): void {
    const runners = [this.python, this.r].filter((runner) => runner !== undefined);
    if (runners.length === 0) return;
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['lambda:InvokeFunction'],
        resources: runners.map((runner) => runner.functionArn),
      }),
    );
  }
}
