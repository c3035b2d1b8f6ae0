import { createHmac, createHash, pbkdf2Sync, randomBytes } from 'node:crypto';
import type pg from 'pg';
import { quoteIdent } from './sql';

/**
 * The database roles of a deployment, besides the owner that runs migrations (the login of
 * DATABASE_URL, or datacycle_owner on a managed database):
 * - loader: writes raw, enriched and ops, and owns every table and view of raw and enriched
 *   (the pipeline replaces them by an atomic swap, which takes ownership);
 * - reader: reads raw, enriched and ops, nothing else: for BI tools (Metabase, Superset);
 * - api: the reader, plus managing webhook subscriptions (ops.subscriptions) and replaying
 *   their deliveries: the read API.
 *
 * They are cluster-wide like every PostgreSQL role; their privileges are per database. On a
 * managed database each is a login with its own secret; elsewhere they are group roles that
 * the functions enter with `SET ROLE` (DATABASE_ROLE), so the privileges are the same.
 */
export const DATABASE_ROLES = {
  loader: 'datacycle_loader',
  reader: 'datacycle_reader',
  api: 'datacycle_api',
} as const;
export type DatabaseRole = keyof typeof DATABASE_ROLES;
export const databaseRoles = Object.keys(DATABASE_ROLES) as DatabaseRole[];

/** The migration that introduced the roles (a restored database gets them re-asserted). */
export const ROLES_MIGRATION = 11;

const { loader, reader, api } = DATABASE_ROLES;

/**
 * Creates the roles when missing and (re)asserts their privileges and the ownership of raw and
 * enriched objects. Idempotent: run by migration 11 and after a restore. The migrating login
 * becomes a member of each role (to hand objects over and to enter them with SET ROLE).
 */
export const assignRolesSql = `
  DO $roles$
  DECLARE
    role_name text;
    relation record;
  BEGIN
    FOREACH role_name IN ARRAY ARRAY['${loader}', '${reader}', '${api}'] LOOP
      IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = role_name) THEN
        BEGIN
          EXECUTE format('CREATE ROLE %I NOLOGIN', role_name);
        EXCEPTION
          -- another database of the cluster migrating at the same moment created it
          WHEN duplicate_object OR unique_violation THEN NULL;
          WHEN insufficient_privilege THEN
            RAISE EXCEPTION 'role % does not exist and % may not create roles', role_name, current_user
              USING HINT = 'migrate as a login with CREATEROLE (the RDS master user has it), or have an '
                || 'administrator create NOLOGIN roles ${loader}, ${reader} and ${api} and grant them to '
                || current_user || ' WITH ADMIN OPTION';
        END;
      END IF;
      IF NOT pg_has_role(current_user, role_name, 'MEMBER') THEN
        BEGIN
          EXECUTE format('GRANT %I TO %I', role_name, current_user);
        EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
        END;
      END IF;
    END LOOP;
    IF NOT pg_has_role('${api}', '${reader}', 'MEMBER') THEN
      GRANT ${reader} TO ${api};
    END IF;

    GRANT USAGE, CREATE ON SCHEMA raw, enriched TO ${loader};
    GRANT USAGE ON SCHEMA raw, enriched, ops TO ${reader};
    GRANT USAGE ON SCHEMA ops TO ${loader};
    GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE ON ALL TABLES IN SCHEMA ops TO ${loader};
    GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA ops TO ${loader};
    GRANT SELECT ON ALL TABLES IN SCHEMA raw, enriched, ops TO ${reader};
    -- A backup reads sequence positions too.
    GRANT SELECT ON ALL SEQUENCES IN SCHEMA raw, enriched, ops TO ${reader};
    GRANT INSERT, UPDATE, DELETE ON ops.subscriptions TO ${api};
    GRANT UPDATE ON ops.deliveries TO ${api}; -- replaying failed deliveries

    -- The pipeline drops and renames what it rebuilds: the loader owns raw and enriched.
    FOR relation IN
      SELECT c.oid::regclass AS name, c.relkind AS kind
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname IN ('raw', 'enriched') AND c.relkind IN ('r', 'p', 'v', 'm')
        AND c.relowner <> '${loader}'::regrole
    LOOP
      EXECUTE format('ALTER %s %s OWNER TO ${loader}',
        CASE relation.kind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' ELSE 'TABLE' END,
        relation.name);
    END LOOP;

    -- What the loader creates later is readable by the reader; what later migrations create in
    -- ops is writable by the loader and readable by the reader.
    ALTER DEFAULT PRIVILEGES FOR ROLE ${loader} IN SCHEMA raw, enriched GRANT SELECT ON TABLES TO ${reader};
    ALTER DEFAULT PRIVILEGES FOR ROLE ${loader} IN SCHEMA raw, enriched GRANT SELECT ON SEQUENCES TO ${reader};
    ALTER DEFAULT PRIVILEGES IN SCHEMA ops GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE ON TABLES TO ${loader};
    ALTER DEFAULT PRIVILEGES IN SCHEMA ops GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO ${loader};
    ALTER DEFAULT PRIVILEGES IN SCHEMA ops GRANT SELECT ON TABLES TO ${reader};
    ALTER DEFAULT PRIVILEGES IN SCHEMA ops GRANT SELECT ON SEQUENCES TO ${reader};
  END
  $roles$;
`;

/**
 * A SCRAM-SHA-256 verifier of `password` (RFC 5802, the form pg_authid stores): PostgreSQL takes
 * it in place of the password, so the password itself never reaches the server or its logs.
 */
export function scramVerifier(password: string, iterations = 4096): string {
  const salt = randomBytes(16);
  const salted = pbkdf2Sync(password.normalize('NFKC'), salt, iterations, 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  const storedKey = createHash('sha256').update(clientKey).digest();
  const serverKey = createHmac('sha256', salted).update('Server Key').digest();
  return `SCRAM-SHA-256$${iterations}:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
}

/** Makes each role a login with the password of its secret (managed databases, on deploy). */
export async function enableLogins(
  client: pg.ClientBase,
  logins: { role: DatabaseRole; password: string }[],
): Promise<void> {
  for (const { role, password } of logins) {
    // ALTER ROLE takes no parameters: the verifier is a literal of base64 and '$:' only.
    const verifier = scramVerifier(password);
    if (!/^[A-Za-z0-9+/=$:-]+$/.test(verifier)) throw new Error('unexpected SCRAM verifier');
    await client.query(`ALTER ROLE ${quoteIdent(DATABASE_ROLES[role])} LOGIN PASSWORD '${verifier}'`);
  }
}
