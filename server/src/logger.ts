// The one logger (pino). Request-scoped children carry the request id. What the logs never hold:
// request bodies and query strings (the request line has the path and the operation only), the
// Authorization and Cookie headers, and the values of SQL queries: an error logged as `err` goes
// through safeError, which keeps the query text and drops its parameters (drizzle's "params: ..."
// in the message and stack, `params`/`parameters`/`args` of drizzle, postgres.js and PGlite
// errors) and the row values PostgreSQL puts in `detail` and `where`.
import { destination, pino, stdSerializers, type DestinationStream, type Logger } from 'pino';

export type { Logger };

/**
 * Standard output for a running service, written asynchronously and in batches: pino's default
 * writes every line with its own blocking write(2); an asynchronous write of each line costs more
 * (about 13 us of CPU each, measured: the hand-off to libuv's thread pool and back). Lines are
 * gathered until 4 KB are waiting or 100 ms have passed, then written together: a busy server
 * writes once every few dozen requests, a quiet one's lines appear within a tenth of a second.
 * pino writes what is left when the process exits.
 */
export function serviceLogDestination(): DestinationStream {
  return destination({ dest: 1, sync: false, minLength: 4096, periodicFlush: 100 });
}

export function createLogger(level: string, destination?: DestinationStream): Logger {
  const options = {
    level,
    base: undefined,
    redact: ['req.headers.authorization', 'req.headers.cookie'],
    serializers: { err: safeError },
  };
  return destination ? pino(options, destination) : pino(options);
}

/** Fields of database errors that carry the query's values or a row's. */
const VALUE_FIELDS = new Set(['params', 'parameters', 'args', 'detail', 'where', 'query', 'queryOptions']);

/** pino's error serializer, over a copy of the error (and its causes) with every value taken out. */
function safeError(err: unknown): unknown {
  return stdSerializers.err(withoutValues(err, 0) as Error);
}

function withoutValues(err: unknown, depth: number): unknown {
  if (typeof err !== 'object' || err === null || typeof (err as Error).message !== 'string' || depth > 8) return err;
  const original = err as Error & Record<string, unknown>;
  const message = safeMessage(original);
  const copy = Object.create(Object.getPrototypeOf(original) as object) as Record<string, unknown>;
  for (const key of Object.keys(original)) {
    if (!VALUE_FIELDS.has(key) && key !== 'cause' && key !== 'errors') copy[key] = original[key];
  }
  copy['message'] = message;
  if (typeof original.stack === 'string') {
    copy['stack'] = message === original.message ? original.stack : original.stack.replace(original.message, message);
  }
  if (original.cause !== undefined) copy['cause'] = withoutValues(original.cause, depth + 1);
  if (Array.isArray(original['errors'])) copy['errors'] = original['errors'].map((inner) => withoutValues(inner, depth + 1));
  return copy;
}

function safeMessage(err: Error & Record<string, unknown>): string {
  // drizzle: `Failed query: <sql>\nparams: <values>`; the SQL text holds placeholders only.
  if (typeof err['query'] === 'string' && 'params' in err && err.message.startsWith('Failed query: ')) {
    return `Failed query: ${err['query']}`;
  }
  // PostgreSQL's data exceptions (class 22) quote the offending value: `invalid input syntax for type integer: "abc"`.
  if (typeof err['code'] === 'string' && err['code'].startsWith('22')) return err.message.replace(/: ".*"$/s, ': "(withheld)"');
  return err.message;
}
