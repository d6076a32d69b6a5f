// The service's database as its configuration names it: PostgreSQL at DATABASE_URL, else PGlite in
// PGLITE_DIR. A module of its own, light to load, so that main.ts can open the database first.
import type { DatabaseHandle } from '@ai-threads/db';
import { createDatabase } from '@ai-threads/db/open';
import type { Config } from './config.js';

/** `onStarted`: see DatabaseOptions (the database is at work elsewhere; its promise still pending). */
export function openDatabase(config: Config, onStarted?: () => void): Promise<DatabaseHandle> {
  return createDatabase({
    url: config.DATABASE_URL,
    pgliteDir: config.PGLITE_DIR,
    poolSize: config.DATABASE_POOL_SIZE,
    ...(onStarted ? { onStarted } : {}),
  });
}
