/**
 * The node-process runtime executor, exercised through LocalStack's own Lambda API: each
 * test creates a function (and a layer) from code written here, invokes it, and checks
 * what LocalStack returns. No Docker is involved anywhere.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  CreateFunctionCommand,
  DeleteFunctionCommand,
  InvokeCommand,
  LambdaClient,
  PublishLayerVersionCommand,
  waitUntilFunctionActiveV2,
} from '@aws-sdk/client-lambda';
import { afterAll, describe, expect, it } from 'vitest';
import { localClientConfig } from '../../localcloud/aws-clients';
import { venvPython } from '../../localcloud/python-venv';
import { uniqueName } from '../helpers/local-cloud';

const lambda = new LambdaClient(localClientConfig());
const created: string[] = [];

/** Zips a folder made of the given files (zipfile from the project's Python venv). */
function zip(files: Record<string, string>): Uint8Array {
  const dir = mkdtempSync(path.join(tmpdir(), 'dc-zip-'));
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, 'src', name)), { recursive: true });
    writeFileSync(path.join(dir, 'src', name), content);
  }
  const out = path.join(dir, 'code.zip');
  execFileSync(venvPython, [
    '-c',
    'import shutil,sys; shutil.make_archive(sys.argv[1], "zip", sys.argv[2])',
    out.slice(0, -4),
    path.join(dir, 'src'),
  ]);
  return readFileSync(out);
}

async function createFunction(
  code: Record<string, string>,
  options: { timeout?: number; layers?: string[]; env?: Record<string, string> } = {},
) {
  const name = uniqueName('exec');
  await lambda.send(
    new CreateFunctionCommand({
      FunctionName: name,
      Runtime: 'nodejs22.x',
      Role: 'arn:aws:iam::000000000000:role/lambda-test',
      Handler: 'index.handler',
      Code: { ZipFile: zip(code) },
      Timeout: options.timeout ?? 10,
      Layers: options.layers,
      Environment: { Variables: options.env ?? {} },
    }),
  );
  created.push(name);
  await waitUntilFunctionActiveV2({ client: lambda, maxWaitTime: 60 }, { FunctionName: name });
  return name;
}

async function invoke(name: string, payload: unknown = {}) {
  const response = await lambda.send(
    new InvokeCommand({ FunctionName: name, Payload: JSON.stringify(payload), LogType: 'Tail' }),
  );
  return {
    functionError: response.FunctionError,
    payload: JSON.parse(new TextDecoder().decode(response.Payload)) as Record<string, unknown>,
    logs: Buffer.from(response.LogResult ?? '', 'base64').toString('utf8'),
  };
}

afterAll(async () => {
  for (const name of created)
    await lambda.send(new DeleteFunctionCommand({ FunctionName: name })).catch(() => undefined);
});

describe('node-process executor (through LocalStack)', () => {
  it('runs a CommonJS handler with its event, context and environment, and returns its logs', async () => {
    const name = await createFunction(
      {
        'index.js': `exports.handler = async (event, context) => {
          console.log('hello from', context.functionName);
          return { doubled: event.n * 2, remaining: context.getRemainingTimeInMillis() > 0, flavour: process.env.FLAVOUR, endpoint: process.env.AWS_ENDPOINT_URL };
        };`,
      },
      { env: { FLAVOUR: 'vanilla' } },
    );

    const result = await invoke(name, { n: 21 });

    expect(result.functionError).toBeUndefined();
    expect(result.payload).toEqual({
      doubled: 42,
      remaining: true,
      flavour: 'vanilla',
      endpoint: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/),
    });
    expect(result.logs).toMatch(new RegExp(`INFO\\s+hello from ${name}`));
    expect(result.logs).toMatch(/REPORT RequestId: [\w-]+\tDuration: /);
  });

  it('reports a thrown error as an unhandled function error', async () => {
    const name = await createFunction({
      'index.mjs': `export const handler = async () => { throw new TypeError('bad input'); };`,
    });

    const result = await invoke(name);

    expect(result.functionError).toBe('Unhandled');
    expect(result.payload).toMatchObject({ errorType: 'TypeError', errorMessage: 'bad input' });
  });

  it('ends an invocation that outlives the timeout, then serves the next one with a fresh runtime', async () => {
    const name = await createFunction(
      {
        'index.js': `let calls = 0; exports.handler = async (event) => { calls++; if (event.sleep) await new Promise(r => setTimeout(r, 5000)); return { calls }; };`,
      },
      { timeout: 1 },
    );

    const slow = await invoke(name, { sleep: true });
    const next = await invoke(name, {});

    expect(slow.functionError).toBe('Unhandled');
    expect(slow.payload).toMatchObject({
      errorType: 'Sandbox.Timedout',
      errorMessage: expect.stringMatching(/Task timed out after 1\.00 seconds/),
    });
    expect(next.payload).toEqual({ calls: 1 });
  });

  it('resolves modules from the function layers, like /opt/nodejs/node_modules on AWS', async () => {
    const layer = await lambda.send(
      new PublishLayerVersionCommand({
        LayerName: uniqueName('layer'),
        Content: {
          ZipFile: zip({
            'nodejs/node_modules/greeting/index.js': `exports.greet = (who) => 'bonjour ' + who;`,
          }),
        },
        CompatibleRuntimes: ['nodejs22.x'],
      }),
    );
    const name = await createFunction(
      { 'index.js': `const { greet } = require('greeting'); exports.handler = async (e) => greet(e.who);` },
      { layers: [layer.LayerVersionArn!] },
    );

    expect((await invoke(name, { who: 'Orléans' })).payload).toBe('bonjour Orléans');
  });

  it('fails with a clear error when the handler module does not exist', async () => {
    const name = await createFunction({ 'other.js': 'exports.handler = async () => 1;' });

    const result = await invoke(name);

    expect(result.functionError).toBe('Unhandled');
    expect(JSON.stringify(result.payload)).toMatch(/Cannot find module 'index'/);
  });
});
