import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { parseCompiledProject, type Project } from '../project';

/** Environment of a deployed function, set by the CDK stack. */
export const functionEnvironmentSchema = z.object({
  LANDING_BUCKET: z.string().min(1),
  RAW_BUCKET: z.string().min(1),
  INTERNAL_BUCKET: z.string().min(1),
  PUBLIC_BUCKET: z.string().min(1),
  /** Secrets Manager secret holding the PostgreSQL connection string. */
  DATABASE_SECRET_ARN: z.string().min(1).optional(),
  /** Direct connection string (local tools and tests); the secret wins when both are set. */
  DATABASE_URL: z.string().min(1).optional(),
  PROJECT_FILE: z.string().default('project.json'),
  /** The stack's event bus, where alerts (and pipeline events) are published. */
  EVENT_BUS_NAME: z.string().min(1).optional(),
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
  if (!parsed.DATABASE_SECRET_ARN && !parsed.DATABASE_URL) {
    throw new Error('function environment is incomplete: DATABASE_SECRET_ARN (or DATABASE_URL)');
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
