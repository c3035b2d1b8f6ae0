import { RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

/** How one public endpoint (the read API, the push endpoint) meets the internet. */
export type EdgeSettings =
  /** A function URL: the local cloud (LocalStack's community edition has no HTTP APIs). */
  | { kind: 'function-url' }
  /**
   * An API Gateway HTTP API throttling requests before they reach the function (and, through
   * it, the database), with access logs; a custom domain when a certificate is given.
   */
  | {
      kind: 'http-api';
      /** Steady requests per second, and the burst above it, for the whole endpoint. */
      rateLimit: number;
      burstLimit: number;
      /** e.g. api.data.example.org, with an ACM certificate of the stack's region covering it. */
      domain?: { name: string; certificateArn: string };
      /** Lambda concurrency kept for the function (and never exceeded by it); none by default. */
      reservedConcurrency?: number;
    };

export interface PublicEdgeProps {
  function: lambda.Function;
  settings: EdgeSettings;
  /** Why the endpoint has no API Gateway authorizer (each checks its callers itself). */
  openBecause: string;
}

/**
 *   internet ──► HTTP API ($default stage: throttled, access-logged) ──► function
 *   internet ──► function URL (local cloud)
 *
 * Both hand the function the same event (payload format 2.0), so the handler does not know
 * which it is behind.
 */
export class PublicEdge extends Construct {
  /** Base URL, ending with a slash. */
  readonly url: string;
  /** With a custom domain: the name its DNS record (CNAME or alias) must point at. */
  readonly domainTarget?: string;

  constructor(scope: Construct, id: string, props: PublicEdgeProps) {
    super(scope, id);
    const settings = props.settings;
    if (settings.kind === 'function-url') {
      this.url = props.function.addFunctionUrl({ authType: lambda.FunctionUrlAuthType.NONE }).url;
      return;
    }
    if (settings.reservedConcurrency !== undefined)
      (props.function.node.defaultChild as lambda.CfnFunction).reservedConcurrentExecutions =
        settings.reservedConcurrency;
    const domainName = settings.domain
      ? new apigwv2.DomainName(this, 'Domain', {
          domainName: settings.domain.name,
          certificate: acm.Certificate.fromCertificateArn(
            this,
            'Certificate',
            settings.domain.certificateArn,
          ),
          securityPolicy: apigwv2.SecurityPolicy.TLS_1_2,
        })
      : undefined;
    const api = new apigwv2.HttpApi(this, 'HttpApi', {
      description: props.function.node.path,
      createDefaultStage: false,
      defaultIntegration: new HttpLambdaIntegration('Function', props.function, {
        payloadFormatVersion: apigwv2.PayloadFormatVersion.VERSION_2_0,
      }),
      // With a domain of its own, the endpoint is reached by that name only.
      disableExecuteApiEndpoint: domainName !== undefined,
    });
    const accessLogs = new logs.LogGroup(this, 'AccessLogs', {
      retention: logs.RetentionDays.THREE_MONTHS,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const stage = new apigwv2.HttpStage(this, 'Stage', {
      httpApi: api,
      stageName: '$default',
      autoDeploy: true,
      throttle: { rateLimit: settings.rateLimit, burstLimit: settings.burstLimit },
      accessLogSettings: {
        destination: new apigwv2.LogGroupLogDestination(accessLogs),
        format: apigateway.AccessLogFormat.jsonWithStandardFields(),
      },
      ...(domainName ? { domainMapping: { domainName } } : {}),
    });
    this.url = domainName ? `https://${settings.domain!.name}/` : `${stage.url}`;
    this.domainTarget = domainName?.regionalDomainName;
    for (const route of api.node.findAll().filter((node) => node instanceof apigwv2.HttpRoute))
      Validations.of(route).acknowledge({ id: 'AwsSolutions-APIG4', reason: props.openBecause });
  }
}
