// The PGlite database in its own thread (a worker_threads Worker started by src/pglite-backend.ts):
// the WASM backend runs here, on the machine's other core, instead of between the service's
// requests on its one event loop. The thread owns the PGlite instance; the service sends it
// batches of protocol messages and gets the backend's answers back as bytes, one batch at a time,
// in the order sent. Plain JavaScript, beside src/ and dist/, so that the same file runs whether the
// package is loaded from its sources (tests) or from its build.
//
// Started with {dir, settings, newFolder, migrationsFolder?}: with a migrations folder, the thread
// migrates the database as soon as it is open, before it says it is ready (the service's own thread
// may be busy loading the rest of the service meanwhile).
// Messages in: {id, kind: 'exchange', message} | {id, kind: 'migrate', migrationsFolder} |
// {id, kind: 'close'}. Out: {ready: {arrayTypes}} once open, or {failed: error}; then
// {id, bytes} | {id} | {id, error}. An error is {name, message, code?}.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { PGlite } from '@electric-sql/pglite';

/** @type {{dir: string, settings: string[], newFolder: boolean, migrationsFolder?: string}} */
const { dir, settings, newFolder, migrationsFolder } = workerData;

const open = () => PGlite.create(dir, { startParams: [...PGlite.defaultStartParams, ...settings] });

/** The array types PGlite reads at start, for the service's serializers and parsers of arrays. */
const ARRAY_TYPES = `
  SELECT b.oid, b.typarray
  FROM pg_catalog.pg_type a
  LEFT JOIN pg_catalog.pg_type b ON b.oid = a.typelem
  WHERE a.typcategory = 'A'
  GROUP BY b.oid, b.typarray
  ORDER BY b.oid`;

const errorOf = (error) => ({
  name: error?.name ?? 'Error',
  message: error?.message ?? String(error),
  ...(typeof error?.code === 'string' ? { code: error.code } : {}),
});

let pg;
try {
  pg = await open();
  // On a new folder PGlite ran initdb in this thread, and the instance keeps initdb's WASM memory
  // (about 450 MB resident, measured) until it is closed: closed and opened again (about half a
  // second, once), the database runs in a third of that.
  if (newFolder) {
    await pg.close();
    pg = await open();
  }
  if (migrationsFolder) await migrate(migrationsFolder);
  const { rows } = await pg.query(ARRAY_TYPES);
  parentPort.postMessage({ ready: { arrayTypes: rows.map((row) => [row.oid, row.typarray]) } });
} catch (error) {
  parentPort.postMessage({ failed: errorOf(error) });
  await pg?.close().catch(() => {});
  process.exit(1);
}

/**
 * Whether the database has had every migration of the folder, by drizzle's own rule (a migration
 * runs when it is newer than the newest one applied): on an existing folder, the start need not
 * load drizzle (100-350 ms of this thread, measured) to find there is nothing to do. Anything
 * unexpected (no journal, no table) answers false, and the migrator decides.
 */
async function upToDate(folder) {
  try {
    const journal = JSON.parse(readFileSync(join(folder, 'meta', '_journal.json'), 'utf8'));
    const newest = Math.max(...journal.entries.map((entry) => entry.when));
    const { rows } = await pg.query(`SELECT to_regclass('drizzle.__drizzle_migrations') IS NOT NULL AS present`);
    if (!rows[0].present) return false;
    const applied = await pg.query('SELECT max(created_at) AS last FROM drizzle.__drizzle_migrations');
    const last = applied.rows[0].last;
    return last !== null && Number.isFinite(newest) && Number(last) >= newest;
  } catch {
    return false;
  }
}

/** Applies the migrations of the folder that this database has not had yet (drizzle's migrator). */
async function migrate(folder) {
  if (await upToDate(folder)) return;
  const { drizzle } = await import('drizzle-orm/pglite');
  const { migrate: apply } = await import('drizzle-orm/pglite/migrator');
  await apply(drizzle({ client: pg }), { migrationsFolder: folder });
}

/** One batch's answers, copied out of the WASM memory into one buffer of their own (transferred). */
async function exchange(message) {
  const chunks = [];
  let length = 0;
  await pg.execProtocolRawStream(message, {
    syncToFs: false,
    onRawData: (bytes) => {
      chunks.push(bytes.slice());
      length += bytes.length;
    },
  });
  if (chunks.length === 1) return chunks[0];
  const bytes = new Uint8Array(length);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.length;
  }
  return bytes;
}

async function handle(request) {
  switch (request.kind) {
    case 'exchange': {
      const bytes = await exchange(request.message);
      parentPort.postMessage({ id: request.id, bytes }, [bytes.buffer]);
      return;
    }
    case 'migrate': {
      await migrate(request.migrationsFolder);
      parentPort.postMessage({ id: request.id });
      return;
    }
    case 'close':
      await pg.close();
      parentPort.postMessage({ id: request.id });
      parentPort.close();
      return;
    default:
      throw new Error(`pglite-worker: unknown request ${String(request.kind)}`);
  }
}

// One request at a time, in the order they came: PGlite answers one batch before the next.
let tail = Promise.resolve();
parentPort.on('message', (request) => {
  tail = tail.then(() => handle(request)).catch((error) => parentPort.postMessage({ id: request.id, error: errorOf(error) }));
});
