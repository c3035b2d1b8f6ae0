/**
 * TLS to PostgreSQL, against a real server: a throw-away cluster of the local PostgreSQL that
 * only accepts encrypted connections (hostssl), with a certificate signed by a test authority
 * for localhost and 127.0.0.1. The pool verifies the server (verify-full) with the right
 * authority, refuses another authority or another name, and never falls back to plain text.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, createPool, enableLogins, migrate } from '@datacycle/core';

const bin = '/usr/lib/postgresql/15/bin';
const port = 25499;
const dir = mkdtempSync(path.join(tmpdir(), 'datacycle-tls-'));
const data = path.join(dir, 'data');
const file = (name: string) => path.join(dir, name);
/** initdb and postgres refuse to run as root: run them as the postgres user then. */
const asOwner = (command: string, args: string[]) =>
  userInfo().uid === 0
    ? execFileSync('runuser', ['-u', 'postgres', '--', command, ...args])
    : execFileSync(command, args);

function openssl(...args: string[]) {
  execFileSync('openssl', args, { stdio: 'pipe' });
}

/** An authority (key + self-signed certificate) and, optionally, a server certificate it signs. */
function authority(name: string) {
  openssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '2',
    '-subj',
    `/CN=${name}`,
    '-keyout',
    file(`${name}.key`),
    '-out',
    file(`${name}.pem`),
  );
  return file(`${name}.pem`);
}

const url = (host: string, query: string) => `postgres://postgres@${host}:${port}/postgres?${query}`;

async function encrypted(connectionString: string): Promise<boolean> {
  const pool = createPool(connectionString, 1);
  try {
    const { rows } = await pool.query<{ ssl: boolean }>(
      'SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()',
    );
    return rows[0]!.ssl;
  } finally {
    await pool.end();
  }
}

let testCa = '';
let otherCa = '';

beforeAll(() => {
  testCa = authority('test-ca');
  otherCa = authority('other-ca');
  openssl(
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-subj',
    '/CN=localhost',
    '-keyout',
    file('server.key'),
    '-out',
    file('server.csr'),
  );
  writeFileSync(file('server.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
  openssl(
    'x509',
    '-req',
    '-in',
    file('server.csr'),
    '-CA',
    testCa,
    '-CAkey',
    file('test-ca.key'),
    '-CAcreateserial',
    '-days',
    '2',
    '-extfile',
    file('server.ext'),
    '-out',
    file('server.pem'),
  );
  chmodSync(dir, 0o755);
  if (userInfo().uid === 0) {
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString());
    for (const name of ['server.key', 'server.pem']) chownSync(file(name), uid, gid);
    execFileSync('install', ['-d', '-o', 'postgres', '-g', 'postgres', data]);
  }
  chmodSync(file('server.key'), 0o600);
  asOwner(`${bin}/initdb`, ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync']);
  // Encrypted connections only, from any loopback address.
  // The datacycle role logins authenticate with their password (SCRAM), as on RDS.
  writeFileSync(
    path.join(data, 'pg_hba.conf'),
    'local all all trust\n' +
      'hostssl all datacycle_loader,datacycle_reader,datacycle_api 127.0.0.0/8 scram-sha-256\n' +
      'hostssl all all 127.0.0.0/8 trust\n',
  );
  if (userInfo().uid === 0) execFileSync('chown', ['postgres:postgres', path.join(data, 'pg_hba.conf')]);
  asOwner(`${bin}/pg_ctl`, [
    '-D',
    data,
    '-w',
    '-l',
    path.join(data, 'server.log'),
    'start',
    '-o',
    `-p ${port} -k ${data} -c listen_addresses='127.0.0.1,127.0.0.2' -c ssl=on ` +
      `-c ssl_cert_file=${file('server.pem')} -c ssl_key_file=${file('server.key')}`,
  ]);
}, 60_000);

afterAll(() => {
  spawnSync('runuser', ['-u', 'postgres', '--', `${bin}/pg_ctl`, '-D', data, '-m', 'immediate', 'stop']);
  if (userInfo().uid !== 0) spawnSync(`${bin}/pg_ctl`, ['-D', data, '-m', 'immediate', 'stop']);
  rmSync(dir, { recursive: true, force: true });
});

describe('TLS to PostgreSQL', () => {
  it('verify-full: connects, encrypted, when the server is signed by the trusted authority', async () => {
    expect(await encrypted(url('localhost', `sslmode=verify-full&sslrootcert=${testCa}`))).toBe(true);
    // The same through the function environment's defaults (DATABASE_SSL_MODE, DATABASE_SSL_CA_FILE).
    const pool = createPool(`postgres://postgres@localhost:${port}/postgres`, 1, {
      mode: 'verify-full',
      caFile: testCa,
    });
    await expect(pool.query('SELECT 1')).resolves.toBeTruthy();
    await pool.end();
  });

  it('verify-full: refuses a server signed by another authority', async () => {
    await expect(encrypted(url('localhost', `sslmode=verify-full&sslrootcert=${otherCa}`))).rejects.toThrow(
      /self[- ]signed|unable to (get|verify)/i,
    );
  });

  it('verify-full: refuses a server whose certificate names another host; verify-ca accepts it', async () => {
    // 127.0.0.2 reaches the same server, whose certificate names localhost and 127.0.0.1 only.
    await expect(encrypted(url('127.0.0.2', `sslmode=verify-full&sslrootcert=${testCa}`))).rejects.toThrow(
      /Hostname\/IP does not match|altnames/i,
    );
    expect(await encrypted(url('127.0.0.2', `sslmode=verify-ca&sslrootcert=${testCa}`))).toBe(true);
  });

  it('verify-full by default, with the default authorities, which do not include a test authority', async () => {
    await expect(encrypted(`postgres://postgres@127.0.0.2:${port}/postgres`)).rejects.toThrow(
      /self[- ]signed|unable to (get|verify)/i,
    );
  });

  it('require: encrypted without checking; disable: refused by a server that wants TLS', async () => {
    expect(await encrypted(url('localhost', 'sslmode=require'))).toBe(true);
    await expect(encrypted(url('localhost', 'sslmode=disable'))).rejects.toThrow(/no encryption/);
  });

  it('refuses sslmode=prefer rather than fall back to plain text', () => {
    expect(() => createPool(url('localhost', 'sslmode=prefer'))).toThrow(
      /sslmode=prefer in the database URL is not supported: use disable, require, verify-ca, verify-full/,
    );
  });

  it('role logins: the password a deploy sets (a SCRAM verifier) opens the role, a wrong one does not', async () => {
    const owner = createPool(url('localhost', `sslmode=verify-full&sslrootcert=${testCa}`), 1);
    try {
      await migrate(owner);
      const client = await connect(owner);
      try {
        await enableLogins(client, [{ role: 'reader', password: 'first password' }]);
        await enableLogins(client, [{ role: 'reader', password: 'rotated: p@ss/w0rd' }]);
      } finally {
        client.release();
      }
    } finally {
      await owner.end();
    }
    const login = (password: string) =>
      createPool(
        `postgres://datacycle_reader:${encodeURIComponent(password)}@localhost:${port}/postgres?sslmode=verify-full&sslrootcert=${testCa}`,
        1,
      );
    const reader = login('rotated: p@ss/w0rd');
    try {
      expect((await reader.query('SELECT current_user AS name')).rows).toEqual([
        { name: 'datacycle_reader' },
      ]);
      expect((await reader.query('SELECT count(*)::int AS n FROM ops.runs')).rows).toEqual([{ n: 0 }]);
      await expect(
        reader.query("INSERT INTO ops.runs (id, trigger, status) VALUES (gen_random_uuid(), 'x', 'running')"),
      ).rejects.toThrow(/permission denied/);
    } finally {
      await reader.end();
    }
    for (const wrong of ['first password', 'rotated']) {
      const refused = login(wrong);
      await expect(refused.query('SELECT 1')).rejects.toThrow(/password authentication failed/);
      await refused.end();
    }
  }, 60_000);
});
