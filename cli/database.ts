/** The database the CLI talks to: DATABASE_URL, else the local server's `datacycle` database. */
export function databaseUrl(): string {
  return process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/datacycle';
}
