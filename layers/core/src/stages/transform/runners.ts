import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { z } from 'zod';
import type { ModelLanguage } from '../../platform/project/model';

/** Kinds of columns as the runners see them: what a data frame can hold, and geometry as EWKT. */
export const columnKinds = [
  'integer',
  'number',
  'boolean',
  'date',
  'datetime',
  'datetimetz',
  'geometry',
  'string',
] as const;
export type ColumnKind = (typeof columnKinds)[number];

/** What a runner receives: the model's code and where its inputs and its result are. */
export interface RunnerEvent {
  model: string;
  file: string;
  code: string;
  inputs: { parameter: string; url: string; columns: { name: string; kind: ColumnKind }[] }[];
  output: { url: string };
}

/** What a runner answers: the result's columns, or the model's own error located in its file. */
export const runnerAnswerSchema = z.discriminatedUnion('ok', [
  z.object({
    ok: z.literal(true),
    columns: z.array(z.object({ name: z.string().min(1), kind: z.enum(columnKinds) })).min(1),
    rows: z.number().int().min(0),
  }),
  z.object({ ok: z.literal(false), error: z.string(), line: z.number().int().nullish() }),
]);
export type RunnerAnswer = z.infer<typeof runnerAnswerSchema>;

/** Runs Python and R models somewhere (Lambda functions when deployed). */
export interface ModelRunners {
  run(language: Exclude<ModelLanguage, 'sql'>, event: RunnerEvent): Promise<RunnerAnswer>;
}

/**
 * The runners as Lambda functions, invoked synchronously (the pass waits in its transaction).
 * A runner that could not run at all (its runtime failed, a timeout) throws; a model's own
 * error comes back as an answer.
 */
export function lambdaRunners(
  functions: { python?: string; r?: string },
  client = new LambdaClient({}),
): ModelRunners {
  return {
    async run(language, event) {
      const name = functions[language];
      if (!name)
        throw new Error(
          `no ${language === 'python' ? 'Python' : 'R'} runner in this stack: deploy the project again (datacycle deploy) so that it has one`,
        );
      const response = await client.send(
        new InvokeCommand({ FunctionName: name, Payload: Buffer.from(JSON.stringify(event)) }),
      );
      const text = Buffer.from(response.Payload ?? []).toString('utf8');
      if (response.FunctionError)
        throw new Error(
          `the ${language} runner ${name} failed (${response.FunctionError}): ${text.slice(0, 2000)}`,
        );
      const parsed = runnerAnswerSchema.safeParse(JSON.parse(text));
      if (!parsed.success) throw new Error(`the ${language} runner ${name} answered ${text.slice(0, 500)}`);
      return parsed.data;
    },
  };
}
