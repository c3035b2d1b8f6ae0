/**
 * The deployed read API against its own OpenAPI document, judged by schemathesis (the OpenAPI
 * reference fuzzer), with every phase (examples, coverage, fuzzing, stateful) and every check:
 * no server error, every status and body as documented, every request the document declares
 * valid accepted and every one it declares invalid refused, the key-protected subscription
 * operations included (with the key, and checked to refuse without it).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSchemathesis } from '../helpers/conformance';
import { startServer } from '../helpers/http-server';
import { callApi, localApiBase, readStackOutputs, sharedSecret, testPool } from '../helpers/local-cloud';

const outputs = readStackOutputs();
const pool = testPool();
let sink: Awaited<ReturnType<typeof startServer>>;
let apiKey: string;
let startedAt: Date;

/** The subscriptions the project file declares, as they stand: the fuzzer must leave them alone. */
const declaredSubscriptions = async () =>
  (
    await pool.query(
      `SELECT id, url, event_types, datasets, enabled, retry_schedule FROM ops.subscriptions
       WHERE origin = 'project' ORDER BY id`,
    )
  ).rows;

beforeAll(async () => {
  apiKey = await sharedSecret(outputs.ApiKeySecretArn);
  sink = await startServer((_req, res) => res.writeHead(204).end());
  startedAt = (await pool.query<{ now: Date }>('SELECT now()')).rows[0]!.now;
});

afterAll(async () => {
  // What the fuzzer subscribed: removed, so later scenarios fan out to no stranger.
  const { rows } = await pool.query<{ id: string }>(
    `SELECT id FROM ops.subscriptions WHERE origin = 'api' AND created_at >= $1`,
    [startedAt],
  );
  for (const { id } of rows)
    await callApi(outputs.ApiUrl, `/subscriptions/${id}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${apiKey}` },
    });
  await sink.close();
  await pool.end();
});

describe('the read API against its OpenAPI document (schemathesis)', () => {
  // About 8,000 requests: a few minutes on the local cloud.
  it('passes every phase and every check with no failure', { timeout: 900_000 }, async () => {
    const answer = await callApi(outputs.ApiUrl, '/openapi.json');
    expect(answer.status).toBe(200);
    const document = path.join(mkdtempSync(path.join(tmpdir(), 'datacycle-openapi-')), 'openapi.json');
    writeFileSync(document, answer.text);
    const before = await declaredSubscriptions();

    const base = new URL(localApiBase(outputs.ApiUrl));
    const { code, output } = await runSchemathesis({
      document,
      // LocalStack's gateway on loopback, the function URL chosen by the Host header.
      baseUrl: `http://127.0.0.1:${base.port}`,
      headers: { host: base.host },
      env: { DATACYCLE_API_KEY: apiKey, WEBHOOK_SINK_URL: `${sink.url}/webhooks` },
    });
    const summary = output.slice(output.lastIndexOf('SUMMARY'));
    expect(code, output.slice(-20_000)).toBe(0);
    // Every operation was reached, and every phase ran (none skipped for want of a schema).
    const operations = Object.values(
      (JSON.parse(answer.text) as { paths: Record<string, object> }).paths,
    ).flatMap((item) => Object.keys(item)).length;
    expect(summary).toMatch(new RegExp(`Tested: ${operations}\\b`));
    for (const phase of ['Examples', 'Coverage', 'Fuzzing', 'Stateful'])
      expect(summary, summary).toMatch(new RegExp(`✅ ${phase}`));
    expect(summary).not.toMatch(/Failures:/);
    const [, generated, passed] = /(\d+) generated, (\d+) passed/.exec(summary) ?? [];
    expect(Number(generated)).toBeGreaterThan(1000);
    expect(passed).toBe(generated);
    // The stateful phase created subscriptions through the key-protected operations…
    const { rows } = await pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM ops.subscriptions WHERE origin = 'api' AND starts_with(url, $1)`,
      [sink.url],
    );
    expect(rows[0]!.n).toBeGreaterThan(0);
    // …and left the project's own untouched.
    expect(await declaredSubscriptions()).toEqual(before);
  });
});
