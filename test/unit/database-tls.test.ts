import { describe, expect, it } from 'vitest';
import { connectionTls } from '@datacycle/core';

describe('connectionTls', () => {
  it('verifies a remote server by default, with the default authorities (Node roots and RDS bundles)', () => {
    const secured = connectionTls('postgres://u:p@db.example.org:5432/d');
    expect(secured.mode).toBe('verify-full');
    expect(secured.ssl).toMatchObject({ rejectUnauthorized: true });
    const ca = (secured.ssl as { ca: string[] }).ca;
    expect(ca.length).toBeGreaterThan(120);
    expect(ca.some((pem) => pem.includes('BEGIN CERTIFICATE'))).toBe(true);
  });

  it('leaves a loopback server in plain text unless told otherwise', () => {
    expect(connectionTls('postgres://u@127.0.0.1:5432/d')).toMatchObject({ mode: 'disable', ssl: false });
    expect(connectionTls('postgres://u@localhost/d', { mode: 'require' })).toMatchObject({
      mode: 'require',
      ssl: { rejectUnauthorized: false },
    });
  });

  it("takes the URL's sslmode over the defaults, and strips the libpq parameters node-postgres would misread", () => {
    const secured = connectionTls('postgres://u@db.example.org/d?sslmode=require&application_name=x', {
      mode: 'verify-full',
    });
    expect(secured.mode).toBe('require');
    expect(secured.connectionString).toBe('postgres://u@db.example.org/d?application_name=x');
  });

  it('refuses the modes that may fall back to plain text, saying which to use', () => {
    for (const mode of ['prefer', 'allow', 'verify_full'])
      expect(() => connectionTls(`postgres://u@db.example.org/d?sslmode=${mode}`)).toThrow(
        `sslmode=${mode} in the database URL is not supported: use disable, require, verify-ca, verify-full`,
      );
  });
});
