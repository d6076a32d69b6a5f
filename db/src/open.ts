// Opening the database the options name: PostgreSQL at a URL, else PGlite in a folder. Light to
// import (node's own modules and the folder lock; the rest is loaded as it is needed), so that a
// process can start opening its database first: PGlite's thread starts before drizzle and the
// schema have loaded, and opens the folder on the other core while they do.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import type { DatabaseHandle } from './client.js';
import { lockDataFolder, type FolderLock } from './pglite-lock.js';

export { DatabaseLockedError, LOCK_FILE, lockDataFolder, type LockOwner } from './pglite-lock.js';

export interface DatabaseOptions {
  /** A PostgreSQL URL; absent: PGlite. */
  url?: string | undefined;
  /** PGlite data folder, or `memory://`. */
  pgliteDir?: string;
  /** Pool size for postgres.js. */
  poolSize?: number;
  /** Run the migrations before returning (default true). */
  migrate?: boolean;
  /**
   * Called once the database is at work elsewhere (PGlite: its thread is started; PostgreSQL: at
   * once), while the returned promise is still pending: the caller can do its own work meanwhile.
   */
  onStarted?: () => void;
}

const migrationsFolder = fileURLToPath(new URL('../migrations', import.meta.url));

export async function createDatabase(options: DatabaseOptions): Promise<DatabaseHandle> {
  const migrate = options.migrate !== false;
  // PGlite migrates in its thread as it opens, without waiting for this one (which may be busy
  // loading the rest of the service meanwhile).
  if (!options.url) return openPglite(options.pgliteDir ?? '.data/pglite', { migrate, onStarted: options.onStarted });
  options.onStarted?.();
  const { openPostgres } = await import('./client.js');
  const handle = await openPostgres(options.url, options.poolSize ?? 10, migrationsFolder);
  if (migrate) {
    try {
      await handle.migrate();
    } catch (error) {
      await handle.close();
      throw error;
    }
  }
  return handle;
}

/**
 * PGlite as a service, not a test: initdb writes `shared_buffers = 128MB` into the folder's
 * postgresql.conf, and in the WASM heap those buffers are resident memory from the start (about
 * 115 MB of the process at rest, measured). The data folder is on disk and the OS caches its files
 * anyway; 16 MB of buffers hold an embedded service's working set (no change in CPU per query was
 * measured against 128 MB or 32 MB). PGlite sets its buffers up in WASM as it opens, so they are
 * also start time: opening an existing folder took 1.16 s with 128 MB, 0.79 s with 32 MB and
 * 0.62 s with 16 MB (measured). Given on the command line, so that the folder's own file stays as made.
 */
const PGLITE_SETTINGS = ['-c', 'shared_buffers=16MB'];

/**
 * V8 compiles PGlite's 9 MB of WASM twice: at once (Liftoff) and again, optimised, in the
 * background (TurboFan), and keeps both. For the short statements a service runs the optimised
 * code was measured no faster (6,000 statements: 2.3 s of CPU either way once warm), while it costs
 * about 40 MB more resident memory and a second of CPU after each start. The flag is read when a
 * module is compiled, and PGlite is the only WASM this process compiles.
 */
function compileWasmOnce() {
  setFlagsFromString('--liftoff-only');
}

async function openPglite(dir: string, options: { migrate: boolean; onStarted: (() => void) | undefined }): Promise<DatabaseHandle> {
  compileWasmOnce();
  const { startPgliteBackend } = await import('./pglite-backend.js');
  let lock: FolderLock | undefined;
  let newFolder = false;
  if (!dir.startsWith('memory://')) {
    const { mkdir } = await import('node:fs/promises');
    await mkdir(dir, { recursive: true });
    // One process per folder: a second one would run its own copy of the database on the same files.
    lock = await lockDataFolder(dir);
    newFolder = !existsSync(join(dir, 'PG_VERSION'));
  }
  // The database runs in a thread of its own (pglite-backend.ts), which runs initdb on a new folder.
  // It starts before what this thread needs only once it is open (drizzle, the schema, the driver)
  // is loaded: on an existing folder the thread's start is most of the service's.
  const starting = startPgliteBackend({
    dir,
    settings: PGLITE_SETTINGS,
    newFolder,
    migrationsFolder: options.migrate ? migrationsFolder : undefined,
    onStarted: options.onStarted,
  });
  // Handled here, awaited below: a failure while the modules load is not an unhandled rejection.
  starting.catch(() => {});
  try {
    const [{ pgliteHandle }, backend] = await Promise.all([import('./client.js'), starting]);
    return await pgliteHandle(backend, lock, migrationsFolder);
  } catch (error) {
    await starting.then((started) => started.close(), () => {});
    await lock?.release();
    throw error;
  }
}
