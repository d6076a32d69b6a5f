// PGlite in a worker thread (../pglite-worker.mjs), seen from the service's thread: a backend that
// takes a batch of protocol messages and answers the backend's bytes, with PGlite's own
// serializers and parsers for the values. The WASM database used to run on the service's one event
// loop, so each request waited behind the others' statements (p99 twice the median at c=16,
// measured); in its own thread it runs on the other core, beside the service's JavaScript.
import { Worker } from 'node:worker_threads';

type Serializer = (value: unknown) => string;
type Parser = (value: string, typeId?: number) => unknown;

/** What pglite-driver.ts needs of PGlite: one batch of messages at a time, and its value codecs. */
export interface PgliteBackend {
  /** Sends a batch of protocol messages (ending in Sync); resolves with all the backend answered. */
  exchange(message: Uint8Array): Promise<Uint8Array>;
  serializers: Record<number, Serializer>;
  parsers: Record<number, Parser>;
  /** Runs drizzle's migrations from this folder. */
  migrate(migrationsFolder: string): Promise<void>;
  /** Closes the database and ends the thread. */
  close(): Promise<void>;
}

interface WorkerError {
  name: string;
  message: string;
  code?: string;
}

type Reply = { id: number; bytes?: Uint8Array; error?: WorkerError };

const WORKER = new URL('../pglite-worker.mjs', import.meta.url);

function errorFrom(shape: WorkerError): Error {
  return Object.assign(new Error(shape.message), { name: shape.name }, shape.code === undefined ? {} : { code: shape.code });
}

/** The serializers and parsers PGlite has after its start: the scalar types', then each array type's. */
function codecs(types: typeof import('@electric-sql/pglite').types, arrayTypes: Array<[number, number]>) {
  const serializers: Record<number, Serializer> = { ...(types.serializers as Record<number, Serializer>) };
  const parsers: Record<number, Parser> = { ...(types.parsers as Record<number, Parser>) };
  for (const [oid, typarray] of arrayTypes) {
    serializers[typarray] = (value) => types.arraySerializer(value, serializers[oid], typarray);
    parsers[typarray] = (value) => types.arrayParser(value, parsers[oid]!, typarray);
  }
  return { serializers, parsers };
}

/**
 * Starts the thread and opens the database in it (`settings`: PostgreSQL's `-c` options, after
 * PGlite's defaults; `newFolder`: initdb runs first). Rejects with the
 * thread's error if the database does not open. The thread keeps the process alive only while a
 * request is under way, so that a process that forgets to close it still exits.
 */
export async function startPgliteBackend(options: {
  dir: string;
  settings: string[];
  newFolder: boolean;
  /** Migrate the database with this folder's migrations as it opens, before the backend is ready. */
  migrationsFolder?: string | undefined;
  /** Called once the thread is started, before it has opened the database. */
  onStarted?: (() => void) | undefined;
}): Promise<PgliteBackend> {
  const { onStarted, ...workerData } = options;
  // The thread's JavaScript only copies bytes in and out of the WASM memory: a young generation of
  // 8 MB is enough for it, and resident memory saved (peak RSS at c=16: 375 MB with node's default,
  // 346 MB with 8 MB, and 4 MB was slower).
  const worker = new Worker(WORKER, { workerData, resourceLimits: { maxYoungGenerationSizeMb: 8 } });
  onStarted?.();
  // PGlite's JavaScript, for its codecs, is loaded on this thread while the database opens in its own.
  const loading = import('@electric-sql/pglite');
  loading.catch(() => {});
  const pending = new Map<number, { resolve: (reply: Reply) => void; reject: (error: Error) => void }>();
  let counter = 0;
  let gone: Error | undefined;

  const ready = await new Promise<Array<[number, number]>>((resolve, reject) => {
    const early = (error: Error) => reject(error);
    const exited = (code: number) => reject(new Error(`The PGlite thread exited (code ${code}) before the database opened.`));
    worker.once('error', early);
    worker.once('exit', exited);
    worker.once('message', (message: { ready?: { arrayTypes: Array<[number, number]> }; failed?: WorkerError }) => {
      worker.off('error', early);
      worker.off('exit', exited);
      if (message.ready) resolve(message.ready.arrayTypes);
      else reject(errorFrom(message.failed ?? { name: 'Error', message: 'The PGlite thread failed to start.' }));
    });
  });

  const failAll = (error: Error) => {
    gone = error;
    for (const { reject } of pending.values()) reject(error);
    pending.clear();
  };
  worker.on('message', (reply: Reply) => {
    const waiting = pending.get(reply.id);
    if (!waiting) return;
    pending.delete(reply.id);
    if (pending.size === 0) worker.unref();
    if (reply.error) waiting.reject(errorFrom(reply.error));
    else waiting.resolve(reply);
  });
  worker.on('error', (error) => failAll(Object.assign(new Error(`The PGlite thread failed: ${error.message}`), { cause: error })));
  worker.on('exit', (code) => failAll(new Error(`The PGlite thread has ended (code ${code}).`)));
  worker.unref();

  const request = (body: Record<string, unknown>): Promise<Reply> => {
    if (gone) return Promise.reject(gone);
    const id = ++counter;
    return new Promise<Reply>((resolve, reject) => {
      if (pending.size === 0) worker.ref();
      pending.set(id, { resolve, reject });
      worker.postMessage({ id, ...body });
    });
  };

  return {
    ...codecs((await loading).types, ready),
    async exchange(message) {
      return (await request({ kind: 'exchange', message })).bytes!;
    },
    async migrate(migrationsFolder) {
      await request({ kind: 'migrate', migrationsFolder });
    },
    async close() {
      if (gone) return;
      await request({ kind: 'close' });
      await worker.terminate();
    },
  };
}
