import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

/**
 * The storage zones. Zones that need different guarantees live in different buckets:
 * landing (producers write, an inbox), raw (immutable, versioned copies), internal
 * (quarantine/, reports/, backups/) and public (exports/, catalog/, portal/: read by anyone).
 */
export class DataBuckets extends Construct {
  readonly landing: s3.Bucket;
  readonly raw: s3.Bucket;
  readonly internal: s3.Bucket;
  readonly public: s3.Bucket;
  /** Server access logs of the four buckets (who read or wrote what), kept a year. */
  readonly accessLogs: s3.Bucket;

  constructor(
    scope: Construct,
    id: string,
    props: {
      removalPolicy: RemovalPolicy;
      /**
       * Who reads the public bucket: anyone, through its bucket policy (the default), or only a
       * CloudFront distribution (origin access control: see PublicSite), the bucket private.
       */
      publicReaders?: 'anyone' | 'cloudfront';
    },
  ) {
    super(scope, id);
    this.accessLogs = new s3.Bucket(this, 'AccessLogs', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      removalPolicy: props.removalPolicy,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      lifecycleRules: [{ id: 'expire-logs', expiration: Duration.days(365) }],
    });
    Validations.of(this.accessLogs).acknowledge({
      id: 'AwsSolutions-S1',
      reason: 'the access log bucket itself: logging its own writes would log forever',
    });
    const common = (name: string): s3.BucketProps => ({
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      removalPolicy: props.removalPolicy,
      autoDeleteObjects: false,
      serverAccessLogsBucket: this.accessLogs,
      serverAccessLogsPrefix: `${name}/`,
    });
    this.landing = new s3.Bucket(this, 'Landing', {
      ...common('landing'),
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      // Ingestion moves every file out; what stays is a file nobody claimed.
      lifecycleRules: [
        { id: 'expire-unclaimed', expiration: Duration.days(30) },
        { id: 'abort-uploads', abortIncompleteMultipartUploadAfter: Duration.days(2) },
      ],
    });
    this.raw = new s3.Bucket(this, 'Raw', {
      ...common('raw'),
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      versioned: true,
      lifecycleRules: [
        {
          id: 'infrequent-access',
          transitions: [
            { storageClass: s3.StorageClass.INFREQUENT_ACCESS, transitionAfter: Duration.days(90) },
          ],
        },
        { id: 'old-versions', noncurrentVersionExpiration: Duration.days(365) },
      ],
    });
    this.internal = new s3.Bucket(this, 'Internal', {
      ...common('internal'),
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      lifecycleRules: [
        { id: 'quarantine', prefix: 'quarantine/', expiration: Duration.days(180) },
        { id: 'reports', prefix: 'reports/', expiration: Duration.days(400) },
        { id: 'backups', prefix: 'backups/', expiration: Duration.days(35) },
        // Inputs and results of Python and R models, deleted after each model; leftovers of
        // a pass that died go here.
        { id: 'transform-exchange', prefix: 'transform-exchange/', expiration: Duration.days(1) },
      ],
    });
    const throughCloudFront = props.publicReaders === 'cloudfront';
    this.public = new s3.Bucket(this, 'Public', {
      ...common('public'),
      blockPublicAccess: throughCloudFront
        ? s3.BlockPublicAccess.BLOCK_ALL
        : new s3.BlockPublicAccess({
            blockPublicAcls: true,
            ignorePublicAcls: true,
            blockPublicPolicy: false,
            restrictPublicBuckets: false,
          }),
      lifecycleRules: [
        { id: 'old-export-versions', prefix: 'exports/', noncurrentVersionExpiration: Duration.days(90) },
      ],
    });
    if (throughCloudFront) return;
    Validations.of(this.public).acknowledge({
      id: 'AwsSolutions-S2',
      reason:
        'the public bucket serves the published open data (exports/, catalog/, portal/) to anyone: ' +
        'public ACLs stay blocked, and the bucket policy grants s3:GetObject on those prefixes only',
    });
    // Public read, and only on the published prefixes.
    this.public.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'PublicReadOfPublishedData',
        principals: [new iam.AnyPrincipal()],
        actions: ['s3:GetObject'],
        resources: ['exports/*', 'catalog/*', 'portal/*'].map((prefix) => this.public.arnForObjects(prefix)),
      }),
    );
  }

  /**
   * Sends ObjectCreated events of the landing bucket to a queue. Declared on the bucket
   * itself (native CloudFormation) rather than through CDK's notifications custom resource,
   * which needs an extra Lambda function and which LocalStack's CloudFormation does not run.
   */
  notifyObjectCreated(queue: sqs.Queue): void {
    queue.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'LandingBucketNotifications',
        principals: [new iam.ServicePrincipal('s3.amazonaws.com')],
        actions: ['sqs:SendMessage'],
        resources: [queue.queueArn],
        // The bucket's generated name cannot appear here without a dependency cycle;
        // the account condition keeps other accounts' buckets out.
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }),
    );
    const bucket = this.landing.node.defaultChild as s3.CfnBucket;
    bucket.notificationConfiguration = {
      queueConfigurations: [{ event: 's3:ObjectCreated:*', queue: queue.queueArn }],
    };
    // S3 checks that it may write to the queue when the configuration is set.
    const queuePolicy = queue.node.tryFindChild('Policy');
    if (queuePolicy) bucket.node.addDependency(queuePolicy);
  }
}
