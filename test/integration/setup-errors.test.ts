/**
 * Bad set-up gives one clear message naming the cause and the fix, and a non-zero exit.
 * These run the real commands as a user would.
 */
import { spawnSync } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../..');
const tsx = path.join(root, 'node_modules/.bin/tsx');

function runUp(env: Record<string, string>) {
  const result = spawnSync(tsx, ['localcloud/up.ts'], {
    cwd: root,
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { code: result.status, output: `${result.stdout}${result.stderr}` };
}

describe('local cloud set-up errors', () => {
  it('names an unreachable PostgreSQL and how to fix it', () => {
    const { code, output } = runUp({ DATABASE_URL: 'postgres://postgres@127.0.0.1:1/datacycle' });

    expect(code).toBe(1);
    expect(output).toMatch(
      /✗ PostgreSQL is not reachable at postgres:\/\/postgres@127\.0\.0\.1:1\/datacycle/,
    );
    expect(output).toMatch(/fix: check DATABASE_URL/);
  });

  it('refuses a LocalStack port taken by another program', async () => {
    const squatter = createServer((_req, res) => res.writeHead(200).end('hello'));
    await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', resolve));
    const port = (squatter.address() as AddressInfo).port;
    try {
      const { code, output } = runUp({ LOCALSTACK_PORT: String(port) });

      expect(code).toBe(1);
      expect(output).toContain(`✗ port ${port} is taken by a program that is not LocalStack`);
      expect(output).toContain('fix: stop that program, or run with LOCALSTACK_PORT=<free port>');
    } finally {
      squatter.close();
    }
  });

  it('`datacycle check` exits 1 and prints each problem of a malformed project', () => {
    const result = spawnSync('node', ['bin/datacycle.mjs', 'check', 'test/fixtures/projects/broken'], {
      cwd: root,
      encoding: 'utf8',
    });

    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(
      /✗ test\/fixtures\/projects\/broken\/datasets\/mesures\.yaml › load\.mode: /,
    );
    expect(result.stderr).toMatch(/\d+ problem\(s\) in test\/fixtures\/projects\/broken/);
  });
});
