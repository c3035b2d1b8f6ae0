import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { DATABASE_ROLES, databaseRoles, type DatabaseRole, type Project } from '@datacycle/core';

/** Where a function that uses the database runs: the VPC's function subnets, its security group. */
export interface FunctionNetwork {
  vpc: ec2.IVpc;
  vpcSubnets: ec2.SubnetSelection;
  securityGroups: ec2.ISecurityGroup[];
}

export interface ManagedDatabaseProps {
  /** The project's name: the instance is datacycle-<name>. */
  projectName: string;
  /**
   * The functions reach the internet (collected sources, webhook subscribers, alert webhooks)
   * through one NAT gateway; without, their subnets are isolated and AWS services are reached
   * through VPC endpoints only.
   */
  internetEgress: boolean;
  /** A standby in a second availability zone (twice the instance cost). */
  multiAz: boolean;
  /** Deletion protection, a final snapshot on removal, 14 days of point-in-time recovery. */
  production: boolean;
  /** RDS instance class, e.g. t4g.micro (default), m7g.large. */
  instanceType?: string;
  /** Initial storage (GiB); it grows by itself up to ten times this. */
  allocatedStorageGiB?: number;
  /**
   * RDS for PostgreSQL on one instance (default), or Aurora PostgreSQL Serverless v2, whose
   * capacity follows the load between `minCapacity` and `maxCapacity` (Aurora capacity units;
   * 0 pauses it when idle, at the cost of a cold start of some seconds).
   */
  engine?: { kind: 'rds' } | { kind: 'aurora-serverless'; minCapacity: number; maxCapacity: number };
}

/**
 * Why the project's functions need the internet, if they do: sources to collect, webhook
 * subscribers, alert webhooks. (Subscriptions created later through the API need it too:
 * `-c egress=nat` then.)
 */
export function internetNeeds(project: Pick<Project, 'config' | 'datasets'>): string[] {
  const needs: string[] = [];
  for (const dataset of project.datasets)
    for (const source of dataset.config.sources)
      if (source.type !== 's3' && source.type !== 'push')
        needs.push(`${dataset.id} collects a ${source.type} source`);
  if (project.config.webhooks.subscriptions.length > 0) needs.push('webhook subscriptions');
  if (project.config.alerts.channels.some((channel) => channel.type === 'webhook'))
    needs.push('alert webhooks');
  return needs;
}

/** The master login, which runs migrations (IAM authentication through the proxy: no password in any function). */
export const DATABASE_USER = 'datacycle_owner';
export const DATABASE_NAME = 'datacycle';

/**
 * `database: managed`: PostgreSQL 16 on RDS in a private network, reached only through an RDS
 * Proxy that requires TLS and IAM authentication.
 *
 *   functions (private subnets, sg Functions) ──TLS, IAM token──► RDS Proxy ──TLS──► RDS PostgreSQL
 *        │                                                     (database subnets, sg Database)
 *        └── S3 (gateway endpoint), SQS, Secrets Manager, EventBridge, SES (interface endpoints
 *            when there is no NAT gateway; through it otherwise)
 *
 * The proxy pools connections: a burst of function containers does not exhaust PostgreSQL's.
 * The owner's password is generated into a secret that only the proxy reads.
 */
/** TLS only; statements slower than five seconds logged. */
const databaseParameters = { 'rds.force_ssl': '1', log_min_duration_statement: '5000' };

export class ManagedDatabase extends Construct {
  readonly vpc: ec2.Vpc;
  /** The RDS instance, or the Aurora cluster. */
  readonly database: rds.DatabaseInstance | rds.DatabaseCluster;
  /** The master login's secret (owner). */
  readonly ownerSecret: secretsmanager.ISecret;
  /** Where a BI tool connects (the instance, or the cluster's writer endpoint). */
  readonly endpoint: string;
  readonly proxy: rds.DatabaseProxy;
  readonly network: FunctionNetwork;
  readonly functionsSecurityGroup: ec2.SecurityGroup;
  /** Attach it to a BI tool's host (Metabase, Superset) in the VPC: it may reach PostgreSQL. */
  readonly readerClientsSecurityGroup: ec2.SecurityGroup;
  /** Each role's login: username and password, rotated every 30 days. */
  readonly loginSecrets: Record<DatabaseRole, secretsmanager.ISecret>;
  /** The logins' rotation schedules (the stack starts them once the deploy has created the logins). */
  readonly loginRotations: Construct[] = [];

  constructor(scope: Construct, id: string, props: ManagedDatabaseProps) {
    super(scope, id);
    const functionSubnets = props.internetEgress
      ? ec2.SubnetType.PRIVATE_WITH_EGRESS
      : ec2.SubnetType.PRIVATE_ISOLATED;
    this.vpc = new ec2.Vpc(this, 'Network', {
      maxAzs: 2,
      natGateways: props.internetEgress ? 1 : 0,
      subnetConfiguration: [
        ...(props.internetEgress
          ? [{ name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 }]
          : []),
        { name: 'functions', subnetType: functionSubnets, cidrMask: 22 },
        { name: 'database', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 24 },
      ],
      flowLogs: {
        rejected: {
          destination: ec2.FlowLogDestination.toCloudWatchLogs(
            new logs.LogGroup(this, 'FlowLogs', {
              retention: logs.RetentionDays.ONE_MONTH,
              removalPolicy: RemovalPolicy.DESTROY,
            }),
          ),
          trafficType: ec2.FlowLogTrafficType.REJECT,
        },
      },
    });
    const functionsSubnets: ec2.SubnetSelection = { subnetGroupName: 'functions' };
    // S3 through a gateway endpoint (free): loads and exports never cross a NAT gateway.
    this.vpc.addGatewayEndpoint('S3', {
      service: ec2.GatewayVpcEndpointAwsService.S3,
      subnets: [functionsSubnets],
    });
    this.functionsSecurityGroup = new ec2.SecurityGroup(this, 'Functions', {
      vpc: this.vpc,
      description: 'datacycle functions: out to the proxy, AWS endpoints and (with a NAT) the internet',
      allowAllOutbound: true,
    });
    if (!props.internetEgress) {
      for (const [name, service] of [
        ['Sqs', ec2.InterfaceVpcEndpointAwsService.SQS],
        ['SecretsManager', ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER],
        ['EventBridge', ec2.InterfaceVpcEndpointAwsService.EVENTBRIDGE],
        ['Ses', ec2.InterfaceVpcEndpointAwsService.EMAIL],
      ] as const)
        // Open to the functions only (not to the whole VPC).
        this.vpc
          .addInterfaceEndpoint(name, {
            service,
            subnets: functionsSubnets,
            privateDnsEnabled: true,
            open: false,
          })
          .connections.allowDefaultPortFrom(this.functionsSecurityGroup, 'datacycle functions');
    }

    const databaseSecurityGroup = new ec2.SecurityGroup(this, 'Database', {
      vpc: this.vpc,
      description: 'datacycle PostgreSQL and its proxy: in from the functions only',
      allowAllOutbound: false,
    });
    databaseSecurityGroup.addIngressRule(
      this.functionsSecurityGroup,
      ec2.Port.tcp(5432),
      'functions to the proxy',
    );
    databaseSecurityGroup.addIngressRule(
      databaseSecurityGroup,
      ec2.Port.tcp(5432),
      'the proxy to PostgreSQL',
    );
    databaseSecurityGroup.addEgressRule(databaseSecurityGroup, ec2.Port.tcp(5432), 'the proxy to PostgreSQL');
    // BI tools log in as the reader with its password (the proxy takes IAM tokens only), so
    // they reach the instance itself, from a host the team puts in this group.
    this.readerClientsSecurityGroup = new ec2.SecurityGroup(this, 'ReaderClients', {
      vpc: this.vpc,
      description: 'BI tools reading datacycle as datacycle_reader: in to PostgreSQL',
      allowAllOutbound: false,
    });
    this.readerClientsSecurityGroup.addEgressRule(databaseSecurityGroup, ec2.Port.tcp(5432), 'to PostgreSQL');
    databaseSecurityGroup.addIngressRule(
      this.readerClientsSecurityGroup,
      ec2.Port.tcp(5432),
      'BI tools to PostgreSQL (as datacycle_reader)',
    );

    // The log groups RDS exports to, created first with a retention (rather than through
    // CDK's LogRetention function): named after a fixed instance (or cluster) identifier.
    const identifier = `datacycle-${props.projectName}`;
    const aurora = props.engine?.kind === 'aurora-serverless' ? props.engine : undefined;
    const rdsLogs = (aurora ? ['postgresql'] : ['postgresql', 'upgrade']).map(
      (kind) =>
        new logs.LogGroup(this, `Logs-${kind}`, {
          logGroupName: `/aws/rds/${aurora ? 'cluster' : 'instance'}/${identifier}/${kind}`,
          retention: logs.RetentionDays.ONE_MONTH,
          removalPolicy: RemovalPolicy.DESTROY,
        }),
    );
    this.database = aurora
      ? this.auroraCluster(props, aurora, databaseSecurityGroup, identifier)
      : this.rdsInstance(props, databaseSecurityGroup, identifier);
    for (const group of rdsLogs) this.database.node.addDependency(group);
    this.ownerSecret = this.database.secret!;
    this.endpoint =
      this.database instanceof rds.DatabaseInstance
        ? this.database.dbInstanceEndpointAddress
        : this.database.clusterEndpoint.hostname;
    if (!props.production)
      Validations.of(this.database).acknowledge({
        id: 'AwsSolutions-RDS10',
        reason:
          'a stack deployed with production=false (a trial or a staging copy) can be deleted with its database',
      });
    Validations.of(this.database).acknowledge({
      id: 'AwsSolutions-RDS11',
      reason:
        'the default port hides nothing here: the database is in isolated subnets and its security ' +
        'group admits the proxy, the rotation functions and the BI clients group only',
    });
    // Managed rotation of the owner's password (AWS's rotation function, in the function
    // subnets): the proxy reads the secret for each new connection, the functions never do.
    this.database.addRotationSingleUser({
      automaticallyAfter: Duration.days(30),
      vpcSubnets: functionsSubnets,
    });
    // One login per role (roles.ts), its password generated into its own secret: the migrate
    // function sets it at deploy, the proxy reads it, AWS's rotation function changes it.
    this.loginSecrets = Object.fromEntries(
      databaseRoles.map((role) => {
        // Attached: the secret carries the host and engine the rotation function needs.
        const secret = new rds.DatabaseSecret(this, `Login-${role}`, {
          username: DATABASE_ROLES[role],
          secretName: `datacycle/${props.projectName}/database/${role}`,
        }).attach(this.database);
        new secretsmanager.SecretRotation(this, `Rotation-${role}`, {
          application: secretsmanager.SecretRotationApplication.POSTGRES_ROTATION_SINGLE_USER,
          secret,
          target: this.database,
          vpc: this.vpc,
          vpcSubnets: functionsSubnets,
          automaticallyAfter: Duration.days(30),
        });
        // SecretRotation adds the schedule to the secret: the first rotation starts with it.
        this.loginRotations.push(secret.node.findChild('RotationSchedule') as Construct);
        return [role, secret];
      }),
    ) as Record<DatabaseRole, secretsmanager.ISecret>;
    this.proxy = this.database.addProxy('Proxy', {
      secrets: [this.ownerSecret, ...Object.values(this.loginSecrets)],
      vpc: this.vpc,
      vpcSubnets: { subnetGroupName: 'database' },
      securityGroups: [databaseSecurityGroup],
      requireTLS: true,
      iamAuth: true,
      // Lambda containers come and go: a connection idle for 10 minutes is closed.
      idleClientTimeout: Duration.minutes(10),
      maxConnectionsPercent: 90,
      debugLogging: false,
    });
    this.network = {
      vpc: this.vpc,
      vpcSubnets: functionsSubnets,
      securityGroups: [this.functionsSecurityGroup],
    };
  }

  private rdsInstance(
    props: ManagedDatabaseProps,
    securityGroup: ec2.ISecurityGroup,
    instanceIdentifier: string,
  ): rds.DatabaseInstance {
    const engine = rds.DatabaseInstanceEngine.postgres({ version: rds.PostgresEngineVersion.VER_16 });
    const instance = new rds.DatabaseInstance(this, 'PostgreSQL', {
      engine,
      vpc: this.vpc,
      vpcSubnets: { subnetGroupName: 'database' },
      securityGroups: [securityGroup],
      instanceType: new ec2.InstanceType(props.instanceType ?? 't4g.micro'),
      credentials: rds.Credentials.fromGeneratedSecret(DATABASE_USER),
      databaseName: DATABASE_NAME,
      parameterGroup: new rds.ParameterGroup(this, 'Parameters', {
        engine,
        description: 'datacycle: TLS only; slow statements logged',
        parameters: databaseParameters,
      }),
      caCertificate: rds.CaCertificate.RDS_CA_RSA2048_G1,
      storageEncrypted: true,
      storageType: rds.StorageType.GP3,
      allocatedStorage: props.allocatedStorageGiB ?? 20,
      maxAllocatedStorage: (props.allocatedStorageGiB ?? 20) * 10,
      multiAz: props.multiAz,
      backupRetention: Duration.days(props.production ? 14 : 7),
      deletionProtection: props.production,
      removalPolicy: props.production ? RemovalPolicy.SNAPSHOT : RemovalPolicy.DESTROY,
      instanceIdentifier,
      cloudwatchLogsExports: ['postgresql', 'upgrade'],
      autoMinorVersionUpgrade: true,
      enablePerformanceInsights: true,
      publiclyAccessible: false,
    });
    if (!props.multiAz)
      Validations.of(instance).acknowledge({
        id: 'AwsSolutions-RDS3',
        reason:
          'one availability zone unless databaseMultiAz=true: a standby doubles the cost, and point-in-time ' +
          'recovery (daily snapshots, 5-minute logs) bounds what a zone outage loses',
      });
    return instance;
  }

  /**
   * Aurora PostgreSQL Serverless v2: storage replicated over three zones whatever the instances;
   * with multiAz, a reader in a second zone that takes over (and scales with the writer).
   */
  private auroraCluster(
    props: ManagedDatabaseProps,
    capacity: { minCapacity: number; maxCapacity: number },
    securityGroup: ec2.ISecurityGroup,
    clusterIdentifier: string,
  ): rds.DatabaseCluster {
    const engine = rds.DatabaseClusterEngine.auroraPostgres({
      version: rds.AuroraPostgresEngineVersion.VER_16_6,
    });
    return new rds.DatabaseCluster(this, 'Aurora', {
      engine,
      vpc: this.vpc,
      vpcSubnets: { subnetGroupName: 'database' },
      securityGroups: [securityGroup],
      credentials: rds.Credentials.fromGeneratedSecret(DATABASE_USER),
      defaultDatabaseName: DATABASE_NAME,
      parameterGroup: new rds.ParameterGroup(this, 'Parameters', {
        engine,
        description: 'datacycle: TLS only; slow statements logged',
        parameters: databaseParameters,
      }),
      writer: rds.ClusterInstance.serverlessV2('writer', {
        caCertificate: rds.CaCertificate.RDS_CA_RSA2048_G1,
        enablePerformanceInsights: true,
        publiclyAccessible: false,
        autoMinorVersionUpgrade: true,
      }),
      readers: props.multiAz
        ? [
            rds.ClusterInstance.serverlessV2('standby', {
              scaleWithWriter: true,
              caCertificate: rds.CaCertificate.RDS_CA_RSA2048_G1,
              enablePerformanceInsights: true,
              publiclyAccessible: false,
              autoMinorVersionUpgrade: true,
            }),
          ]
        : [],
      serverlessV2MinCapacity: capacity.minCapacity,
      serverlessV2MaxCapacity: capacity.maxCapacity,
      storageEncrypted: true,
      iamAuthentication: true,
      backup: { retention: Duration.days(props.production ? 14 : 7) },
      deletionProtection: props.production,
      removalPolicy: props.production ? RemovalPolicy.SNAPSHOT : RemovalPolicy.DESTROY,
      clusterIdentifier,
      cloudwatchLogsExports: ['postgresql'],
    });
  }

  /** Lets a function connect through the proxy as its role's login (the owner's without), with an IAM token. */
  grantConnect(grantee: iam.IGrantable, role?: DatabaseRole): void {
    this.proxy.grantConnect(grantee, role ? DATABASE_ROLES[role] : DATABASE_USER);
  }

  /** The environment that tells a function how to reach the database as `role` (see runtime.ts). */
  environmentFor(role?: DatabaseRole): Record<string, string> {
    return {
      DATABASE_HOST: this.proxy.endpoint,
      DATABASE_PORT: '5432',
      DATABASE_NAME,
      DATABASE_IAM_USER: role ? DATABASE_ROLES[role] : DATABASE_USER,
      DATABASE_SSL_MODE: 'verify-full',
    };
  }
}
