// The one error table: app error code → tRPC code → HTTP status → default message. Services throw
// AppError; both faces render it from here. Edit this table, never a face, to change an error.
import { TRPCError } from '@trpc/server';
import type { TRPC_ERROR_CODE_KEY } from '@trpc/server/rpc';

export type FieldErrors = Record<string, string[]>;

const TABLE = {
  bad_request: { trpc: 'BAD_REQUEST', status: 400, message: 'The request is malformed.' },
  unauthenticated: { trpc: 'UNAUTHORIZED', status: 401, message: 'Unauthenticated.' },
  forbidden: { trpc: 'FORBIDDEN', status: 403, message: 'This action is unauthorized.' },
  not_found: { trpc: 'NOT_FOUND', status: 404, message: 'Not found.' },
  method_not_allowed: { trpc: 'METHOD_NOT_SUPPORTED', status: 405, message: 'Method not allowed.' },
  conflict: { trpc: 'CONFLICT', status: 409, message: 'Conflict.' },
  precondition_failed: { trpc: 'PRECONDITION_FAILED', status: 412, message: 'The state has changed since the version you sent.' },
  payload_too_large: { trpc: 'PAYLOAD_TOO_LARGE', status: 413, message: 'The request body is too large.' },
  unsupported_media_type: {
    trpc: 'UNSUPPORTED_MEDIA_TYPE',
    status: 415,
    message: 'Send the request body as application/json.',
  },
  validation: { trpc: 'UNPROCESSABLE_CONTENT', status: 422, message: 'The given data was invalid.' },
  precondition_required: {
    trpc: 'PRECONDITION_REQUIRED',
    status: 428,
    message: "This request must be conditional: send If-Match with the state's ETag.",
  },
  rate_limited: { trpc: 'TOO_MANY_REQUESTS', status: 429, message: 'Too Many Attempts.' },
  internal: { trpc: 'INTERNAL_SERVER_ERROR', status: 500, message: 'Server Error.' },
  upstream_error: { trpc: 'BAD_GATEWAY', status: 502, message: 'The AI provider failed to answer.' },
  unavailable: { trpc: 'SERVICE_UNAVAILABLE', status: 503, message: 'Service temporarily unavailable.' },
  upstream_timeout: { trpc: 'GATEWAY_TIMEOUT', status: 504, message: 'The AI provider did not answer in time.' },
} as const satisfies Record<string, { trpc: TRPC_ERROR_CODE_KEY; status: number; message: string }>;

export type AppErrorCode = keyof typeof TABLE;

/** Headers an error always carries: a 401 names the scheme to authenticate with (RFC 9110). */
const DEFAULT_HEADERS: Partial<Record<AppErrorCode, Record<string, string>>> = {
  unauthenticated: { 'WWW-Authenticate': 'Bearer' },
};

export interface AppErrorOptions {
  message?: string;
  /** 422: field → messages. */
  fields?: FieldErrors;
  /** Response headers the error needs (Retry-After). */
  headers?: Record<string, string>;
  /** More members of the body, beside `message` (a 412's `current_version`); on tRPC, in `data`. */
  details?: Record<string, unknown>;
  cause?: unknown;
}

export class AppError extends Error {
  readonly status: number;
  readonly fields: FieldErrors | undefined;
  readonly headers: Record<string, string>;
  readonly details: Record<string, unknown> | undefined;

  constructor(
    readonly code: AppErrorCode,
    options: AppErrorOptions = {},
  ) {
    super(options.message ?? (options.fields ? validationMessage(options.fields) : TABLE[code].message), {
      cause: options.cause,
    });
    this.name = 'AppError';
    this.status = TABLE[code].status;
    this.fields = options.fields;
    this.headers = { ...DEFAULT_HEADERS[code], ...options.headers };
    this.details = options.details;
  }

  /** A 422 for one field, in the Laravel style. */
  static field(field: string, message: string): AppError {
    return new AppError('validation', { fields: { [field]: [message] } });
  }
}

/** Laravel's summary: the first message, then "(and N more error[s])". */
function validationMessage(fields: FieldErrors): string {
  const all = Object.values(fields).flat();
  const first = all[0] ?? TABLE.validation.message;
  const more = all.length - 1;
  return more > 0 ? `${first} (and ${more} more error${more === 1 ? '' : 's'})` : first;
}

const BY_TRPC_CODE = new Map<string, AppErrorCode>(
  Object.entries(TABLE).map(([code, row]) => [row.trpc, code as AppErrorCode]),
);

export function toTRPCError(error: AppError): TRPCError {
  return new TRPCError({ code: TABLE[error.code].trpc, message: error.message, cause: error });
}

// The database cannot take the query now (postgres.js and node codes, SQLSTATE class 08, 53300
// too many connections, 57P01-03 shut down or starting up): the service is unavailable for a
// moment, not broken. drizzle wraps these in a DrizzleQueryError: the code is on a cause.
const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'CONNECT_TIMEOUT',
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
  '53300',
  '57P01',
  '57P02',
  '57P03',
]);

/**
 * SQLSTATE 55000 (object not in prerequisite state) is mostly a bug, but it is also what a database
 * that does not accept connections answers (ALTER DATABASE ... ALLOW_CONNECTIONS false, or one
 * being dropped): only that one is unavailability.
 */
const notAcceptingConnections = (e: { code?: unknown; message?: unknown }) =>
  e.code === '55000' && typeof e.message === 'string' && e.message.includes('not currently accepting connections');

/** Whether an error (or any of its causes) says the database cannot be reached. */
export function isDatabaseUnavailable(error: unknown): boolean {
  for (let e = error, depth = 0; e && depth < 8; e = (e as { cause?: unknown }).cause, depth += 1) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && (UNAVAILABLE_CODES.has(code) || code.startsWith('08'))) return true;
    if (notAcceptingConnections(e as { code?: unknown; message?: unknown })) return true;
    if (e instanceof AggregateError && e.errors.some((inner) => isDatabaseUnavailable(inner))) return true;
  }
  return false;
}

export const databaseUnavailable = (cause?: unknown) =>
  new AppError('unavailable', {
    message: 'The database is unavailable; retry shortly.',
    headers: { 'Retry-After': '5' },
    cause,
  });

/**
 * The AppError behind any error that reached a face: ours as thrown, or one made from a tRPC or
 * library error. Unknown failures become a 500 that reveals nothing.
 */
export function appErrorOf(error: unknown): AppError {
  if (error instanceof AppError) return error;
  if (error instanceof TRPCError) {
    if (error.cause instanceof AppError) return error.cause;
    const code = BY_TRPC_CODE.get(error.code);
    // tRPC reports unparsable JSON as a BAD_REQUEST caused by the SyntaxError.
    if (error.code === 'PARSE_ERROR' || (error.code === 'BAD_REQUEST' && error.cause instanceof SyntaxError)) {
      return new AppError('bad_request', { message: 'The request body is not valid JSON.' });
    }
    if (code && code !== 'internal') {
      // The library's own wording is kept only where it says more than the table (not "PAYLOAD_TOO_LARGE").
      const generic =
        error.message === error.code || code === 'not_found' || code === 'validation' || code === 'unsupported_media_type';
      return new AppError(code, generic ? {} : { message: error.message });
    }
  }
  if (isDatabaseUnavailable(error)) return databaseUnavailable(error);
  return new AppError('internal', { cause: error });
}

/**
 * The client error a middleware signalled the http-errors way (a `status` from 400 to 499, as
 * express's router does for a path it cannot decode), or undefined: a 4xx, never a 500.
 */
export function clientErrorOf(error: unknown): AppError | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { status, statusCode } = error as { status?: unknown; statusCode?: unknown };
  const value = typeof status === 'number' ? status : statusCode;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 400 || value > 499) return undefined;
  const code = (Object.keys(TABLE) as AppErrorCode[]).find((c) => TABLE[c].status === value) ?? 'bad_request';
  return new AppError(code, { cause: error });
}

export function trpcCodeOf(code: AppErrorCode): TRPC_ERROR_CODE_KEY {
  return TABLE[code].trpc;
}
