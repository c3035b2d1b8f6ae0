import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { databaseRoles } from '../warehouse/roles';
import { sslModeSchema } from '../warehouse/tls';
import { parseCompiledProject, type Project } from '../project';

/** A JSON object of names to strings, set by the stack (absent: empty). */
const jsonRecord = z
  .string()
  .default('{}')
  .transform((text, context) => {
    try {
      return z.record(z.string(), z.string()).parse(JSON.parse(text));
    } catch {
      context.addIssue({ code: 'custom', message: 'a JSON object of names to strings' });
      return z.NEVER;
    }
  });

/** Environment of a deployed function, set by the CDK stack: the only place functions read it. */
export const functionEnvironmentSchema = z.object({
  LANDING_BUCKET: z.string().min(1),
  RAW_BUCKET: z.string().min(1),
  INTERNAL_BUCKET: z.string().min(1),
  PUBLIC_BUCKET: z.string().min(1),
  /** Where the public bucket is served when not by S3 itself (a CloudFront distribution). */
  PUBLIC_BASE_URL: z.url().optional(),
  /** Secrets Manager secret holding the PostgreSQL connection string. */
  DATABASE_SECRET_ARN: z.string().min(1).optional(),
  /**
   * `database: managed`: the RDS Proxy's endpoint, reached with an IAM token made for
   * DATABASE_IAM_USER (no password anywhere); wins over the secret and the URL.
   */
  DATABASE_HOST: z.string().min(1).optional(),
  DATABASE_PORT: z.coerce.number().int().min(1).max(65535).default(5432),
  DATABASE_NAME: z.string().min(1).optional(),
  DATABASE_IAM_USER: z.string().min(1).optional(),
  /**
   * The datacycle role whose privileges the function works with (see warehouse/roles.ts): its
   * login on a managed database (DATABASE_IAM_USER), else entered with SET ROLE. Absent: the
   * owner's privileges (the migrate function).
   */
  DATABASE_ROLE: z.enum(databaseRoles).optional(),
  /** Migrate function of a managed database: role → ARN of the secret holding its login (JSON). */
  DATABASE_LOGIN_SECRETS: jsonRecord,
  /** Direct connection string (local tools and tests); the secret wins when both are set. */
  DATABASE_URL: z.string().min(1).optional(),
  PROJECT_FILE: z.string().default('project.json'),
  /** The functions that run the project's Python and R models (see stages/transform/runners.ts). */
  PYTHON_MODELS_FUNCTION: z.string().min(1).optional(),
  R_MODELS_FUNCTION: z.string().min(1).optional(),
  /** The stack's event bus, where alerts (and pipeline events) are published. */
  EVENT_BUS_NAME: z.string().min(1).optional(),
  /**
   * How the connection is secured when its URL does not say (sslmode): verify-full by default,
   * disable for a server on loopback. See warehouse/tls.ts.
   */
  DATABASE_SSL_MODE: sslModeSchema.optional(),
  /** A PEM file of the authorities to trust instead of the default ones (Node's and RDS's). */
  DATABASE_SSL_CA_FILE: z.string().min(1).optional(),
  /** Database connections each container keeps open at most. */
  DATABASE_POOL_MAX: z.coerce.number().int().min(1).max(50).default(2),
  /** A queue consumer's own queue (the transform pass drains the rest of a burst from it). */
  QUEUE_URL: z.string().min(1).optional(),
  /** A queue consumer's dead-letter queue, where poison messages are parked at once. */
  DEAD_LETTER_QUEUE_URL: z.string().min(1).optional(),
  /** Its queue's redrive policy: deliveries before a message moves to the DLQ. */
  MAX_RECEIVE_COUNT: z.coerce.number().int().min(1).optional(),
  /** The webhook deliveries queue (fan-out and the API's replays enqueue attempts there). */
  DELIVERIES_QUEUE_URL: z.string().min(1).optional(),
  /** The read API's base URL, for the links of webhook payloads. */
  API_URL: z.string().min(1).optional(),
  /** The secret holding the API key of the read API's write routes. */
  API_KEY_SECRET_ARN: z.string().min(1).optional(),
  /** Push endpoint: dataset id → ARN of its push secret (JSON). */
  PUSH_SECRETS: jsonRecord,
  /** Monitor: DLQ name → URL (JSON). */
  DEAD_LETTER_QUEUES: jsonRecord,
});

export type FunctionEnvironment = z.infer<typeof functionEnvironmentSchema>;

/** Parses the environment once, failing with the names of what is missing. */
export function readFunctionEnvironment(env: NodeJS.ProcessEnv = process.env): FunctionEnvironment {
  const result = functionEnvironmentSchema.safeParse(env);
  if (!result.success) {
    const names = result.error.issues.map((issue) => issue.path.join('.')).join(', ');
    throw new Error(`function environment is incomplete: ${names}`);
  }
  const parsed = result.data;
  if (parsed.DATABASE_HOST && !(parsed.DATABASE_IAM_USER && parsed.DATABASE_NAME))
    throw new Error(
      'function environment is incomplete: DATABASE_HOST needs DATABASE_IAM_USER and DATABASE_NAME',
    );
  if (!parsed.DATABASE_HOST && !parsed.DATABASE_SECRET_ARN && !parsed.DATABASE_URL) {
    throw new Error('function environment is incomplete: DATABASE_HOST, DATABASE_SECRET_ARN or DATABASE_URL');
  }
  return parsed;
}

/** The compiled project shipped beside the function code (see compileProject). */
export function readDeployedProject(file: string): Project {
  const resolved = path.isAbsolute(file)
    ? file
    : path.join(process.env.LAMBDA_TASK_ROOT ?? process.cwd(), file);
  return parseCompiledProject(readFileSync(resolved, 'utf8'));
}
