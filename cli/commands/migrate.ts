import { createPool, migrate } from '@datacycle/core';
import { databaseUrl } from '../database';

/** `datacycle migrate`: applies pending platform migrations (a deploy step). */
export async function migrateCommand(): Promise<number> {
  const pool = createPool(databaseUrl());
  try {
    const outcome = await migrate(pool);
    const applied = outcome.applied.map((m) => `${m.version} (${m.name})`).join(', ') || 'none';
    console.log(`database at migration ${outcome.current}; applied now: ${applied}`);
    return 0;
  } finally {
    await pool.end();
  }
}
