import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

export interface PublicSiteProps {
  /** The public bucket (exports/, catalog/, portal/), private: only this distribution reads it. */
  bucket: s3.IBucket;
  removalPolicy: RemovalPolicy;
  /** A domain of your own, with an ACM certificate in us-east-1 (CloudFront's region). */
  domain?: { name: string; certificateArn: string };
}

/**
 *   internet ──HTTPS──► CloudFront (cached 5 minutes, security headers, CORS, access log)
 *                        ──origin access control──► public bucket (private)
 *
 * The published data and the portal from edge locations, the bucket reachable by the
 * distribution only (`-c publicSite=cloudfront`). Exports are replaced in place: five minutes of
 * cache bound how stale a download can be.
 */
export class PublicSite extends Construct {
  readonly distribution: cloudfront.Distribution;
  /** Base URL, ending with a slash. */
  readonly url: string;

  constructor(scope: Construct, id: string, props: PublicSiteProps) {
    super(scope, id);
    // CloudFront's standard logs are written with ACLs: a bucket of their own that accepts them.
    const logs = new s3.Bucket(this, 'Logs', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
      removalPolicy: props.removalPolicy,
      lifecycleRules: [{ id: 'expire-logs', expiration: Duration.days(365) }],
    });
    Validations.of(logs).acknowledge({
      id: 'AwsSolutions-S1',
      reason: "the distribution's access log bucket: logging its own writes would log forever",
    });
    const cachePolicy = new cloudfront.CachePolicy(this, 'Cache', {
      comment: 'datacycle published data: five minutes, so a new export shows soon',
      defaultTtl: Duration.minutes(5),
      minTtl: Duration.seconds(0),
      maxTtl: Duration.hours(1),
      enableAcceptEncodingGzip: true,
      enableAcceptEncodingBrotli: true,
    });
    this.distribution = new cloudfront.Distribution(this, 'Distribution', {
      comment: 'datacycle: published data and portal',
      defaultBehavior: {
        origin: origins.S3BucketOrigin.withOriginAccessControl(props.bucket),
        viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        allowedMethods: cloudfront.AllowedMethods.ALLOW_GET_HEAD_OPTIONS,
        cachePolicy,
        responseHeadersPolicy:
          cloudfront.ResponseHeadersPolicy.CORS_ALLOW_ALL_ORIGINS_WITH_PREFLIGHT_AND_SECURITY_HEADERS,
        compress: true,
      },
      defaultRootObject: 'portal/index.html',
      enableLogging: true,
      logBucket: logs,
      logFilePrefix: 'cloudfront/',
      httpVersion: cloudfront.HttpVersion.HTTP2_AND_3,
      ...(props.domain
        ? {
            domainNames: [props.domain.name],
            certificate: acm.Certificate.fromCertificateArn(this, 'Certificate', props.domain.certificateArn),
            minimumProtocolVersion: cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021,
          }
        : {}),
    });
    this.url = `https://${props.domain?.name ?? this.distribution.distributionDomainName}/`;
    Validations.of(this.distribution).acknowledge({
      id: 'AwsSolutions-CFR1',
      reason: 'open data is published for anyone, wherever they are: no geographic restriction',
    });
    Validations.of(this.distribution).acknowledge({
      id: 'AwsSolutions-CFR2',
      reason:
        'read-only static files cached at the edge; a WAF web ACL (rate rules) can be attached by the ' +
        'team that needs one (docs/aws.md), at its own cost',
    });
    if (!props.domain)
      Validations.of(this.distribution).acknowledge({
        id: 'AwsSolutions-CFR4',
        reason:
          "the distribution's own cloudfront.net name takes CloudFront's default certificate, whose " +
          'protocol floor cannot be raised; with -c publicDomain (and a certificate) TLS 1.2 is the minimum',
      });
  }
}
