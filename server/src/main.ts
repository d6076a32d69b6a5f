// The process entry point: read the environment, build the services, listen on PORT, and shut
// down cleanly on SIGTERM/SIGINT. The only file that touches process.env or listens.
//
// Only what reads the configuration and opens the database is imported up front: the database
// opens (PGlite starts its thread and loads its WASM there) while the rest of the server loads, on
// the other core. On PGlite that is most of the start.
import type { ServerResponse } from 'node:http';
import { setFlagsFromString } from 'node:v8';
import { DatabaseLockedError } from '@ai-threads/db/open';
import { ConfigError, loadConfig } from './config.js';
import { openDatabase } from './database.js';

/**
 * How often answers that died with a server (lease run out) are marked failed, and idempotency
 * keys past their 24 hours are deleted.
 */
const SWEEP_INTERVAL_MS = 60_000;

/** At shutdown, how long the responses of settled answers get to be written before connections are cut. */
const RESPONSE_DRAIN_MS = 2_000;

/**
 * After each full garbage collection V8 lets the heap grow to up to 4 times what survived before
 * the next one: under load at c=64 the old space reached 120 MB over 35 MB live, a peak RSS of
 * 240 MB. Twice what survived keeps the peak at 178 MB for about 5% more CPU per request (GC),
 * measured. A value given in NODE_OPTIONS or on the command line wins.
 */
function boundHeapGrowth(nodeOptions: string | undefined) {
  if (/heap-growing-percent/.test(`${process.execArgv.join(' ')} ${nodeOptions ?? ''}`)) return;
  setFlagsFromString('--heap-growing-percent=100');
}

async function main() {
  boundHeapGrowth(process.env['NODE_OPTIONS']);
  let config;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(78);
    }
    throw error;
  }
  // The rest of the server is loaded once the database is at work (PGlite's thread started): loading
  // it first would hold up the few steps before that, the module loader taking turns with them.
  let started!: () => void;
  const starting = new Promise<void>((resolve) => (started = resolve));
  const database = openDatabase(config, started);
  // A failure goes on to bootServices, which awaits it (and must not count as unhandled until then).
  database.then(started, started);
  await starting;
  const [{ bootServices }, { createApp }, { createLogger, serviceLogDestination }, { createHttpServer }, { sweepInterrupted }] = await Promise.all([
    import('./bootstrap.js'),
    import('./app.js'),
    import('./logger.js'),
    import('./http/server.js'),
    import('./messages/messages.repo.js'),
  ]);
  const services = await bootServices(config, { logger: createLogger(config.LOG_LEVEL, serviceLogDestination()), database });
  const { logger } = services;
  if (services.database.tookOverLockOf) {
    logger.warn({ previousOwner: services.database.tookOverLockOf }, 'took over the PGlite folder from a process that is gone');
  }
  const app = createApp(services);
  const server = createHttpServer(app, config);
  server.listen(config.PORT, config.HOST, () => {
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : config.PORT;
    logger.info(
      { port, database: services.database.driver, ai: services.ai.model, redis: Boolean(config.REDIS_URL) },
      `ai-threads listening on http://localhost:${port}`,
    );
  });

  const sweep = async () => {
    try {
      const swept = await sweepInterrupted(services.database.db);
      if (swept > 0) logger.warn({ swept }, 'marked interrupted answers failed');
    } catch (err) {
      logger.warn({ err }, 'sweep of interrupted answers failed');
    }
    try {
      const expired = await services.idempotency.sweepExpired();
      if (expired > 0) logger.info({ expired }, 'deleted expired idempotency keys');
    } catch (err) {
      logger.warn({ err }, 'sweep of expired idempotency keys failed');
    }
  };
  void sweep();
  const sweeper = setInterval(sweep, SWEEP_INTERVAL_MS);
  sweeper.unref();

  let stopping = false;
  // Responses not yet written; once stopping, each closes its connection when done (no keep-alive),
  // so that clients go to another instance and the server can close.
  const responses = new Set<ServerResponse>();
  server.prependListener('request', (_req, res: ServerResponse) => {
    responses.add(res);
    res.once('close', () => responses.delete(res));
    if (stopping) res.setHeader('Connection', 'close');
  });

  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    clearInterval(sweeper);
    logger.info({ signal }, 'shutting down: no new connections; waiting for answers in flight');
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const res of responses) if (!res.headersSent) res.setHeader('Connection', 'close');
    server.closeIdleConnections();
    // Answers in flight get the grace period; then they are stopped and stored as failed.
    const inFlight = Promise.all(services.messages.inProgress());
    const grace = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), config.SHUTDOWN_GRACE_MS).unref());
    if ((await Promise.race([inFlight.then(() => 'done' as const), grace])) === 'timeout') {
      logger.warn('grace period over: stopping the answers still running');
      services.shutdown.abort();
      await inFlight;
    }
    // The answers have settled; their responses are on the way out. Then cut what is left.
    let drain: NodeJS.Timeout | undefined;
    await Promise.race([closed, new Promise<void>((resolve) => (drain = setTimeout(resolve, RESPONSE_DRAIN_MS)))]);
    clearTimeout(drain);
    server.closeAllConnections();
    await closed;
    await services.close();
    logger.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

main().catch((error: unknown) => {
  // Another process owns the PGlite folder: its message says what to do; a stack would bury it.
  if (error instanceof DatabaseLockedError) {
    process.stderr.write(`ai-threads failed to start: ${error.message}\n`);
    process.exit(1);
  }
  process.stderr.write(`ai-threads failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
