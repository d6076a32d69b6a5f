// Builds every procedure from its contract: the OpenAPI meta, then the checks in the order the
// spec fixes (401, 429, 403, 422), then input and output. Routers only add the handler.
import { getTRPCErrorFromUnknown, TRPCError, tracked } from '@trpc/server';
import { z } from 'zod';
import type { Operation } from '@ai-threads/contracts';
import type { Principal } from '../auth/auth.service.js';
import { AppError, databaseUnavailable, isDatabaseUnavailable, toTRPCError } from '../errors.js';
import { resumeIdOf } from '../messages/streams.service.js';
import type { Context } from './context.js';
import { t, type Meta } from './init.js';
import { fieldErrorsFromIssues, pathConflictsOf, restInput } from './validation.js';

/** Inputs the REST face reads from a header, named in field errors as the service names them. */
const HEADER_FIELDS: Record<string, string> = { lastEventId: 'last_event_id' };

/**
 * The app error a failed call answers with (the error table's status, message and headers), or
 * undefined for an error that stays as it is: app errors, input validation failures (422 with the
 * field errors), a database that does not answer (503).
 */
async function appErrorFor(error: TRPCError, meta: Meta | undefined, getRawInput: () => Promise<unknown>): Promise<AppError | undefined> {
  if (error.cause instanceof AppError) return error.cause;
  if (error.code === 'BAD_REQUEST' && error.cause instanceof z.ZodError) {
    const raw = await getRawInput().catch(() => undefined);
    return new AppError('validation', {
      fields: fieldErrorsFromIssues(error.cause.issues, raw, { ...HEADER_FIELDS, ...meta?.operation?.pathParams }),
    });
  }
  if (isDatabaseUnavailable(error.cause)) return databaseUnavailable(error.cause);
  return undefined;
}

function setRateLimitHeaders(ctx: Context, limit: number, remaining: number) {
  ctx.res.setHeader('X-RateLimit-Limit', String(limit));
  ctx.res.setHeader('X-RateLimit-Remaining', String(remaining));
}

/**
 * A reconnect to a stream (Last-Event-ID) creates nothing: it counts as an ordinary request. The
 * stream service decides "resume or new" by the same function, so no call that creates escapes
 * the message budget.
 */
async function bucketOf(op: Operation, getRawInput: () => Promise<unknown>): Promise<Operation['rateLimit']> {
  if (op.transport !== 'sse') return op.rateLimit;
  const raw = await getRawInput().catch(() => undefined);
  return resumeIdOf(raw) === undefined ? op.rateLimit : 'requests';
}

/**
 * Whether a call may change something, read from its contract, never from the HTTP method that
 * carries it: the tRPC subscription that creates a message travels as a GET, yet writes like the
 * POST it is on REST. Only the contract's GET operations are reads.
 */
const writes = (op: Operation) => op.method !== 'GET';

/**
 * The checks in the order the spec fixes (401, 429, 403), then the 422 for a body field that
 * contradicts the path (recorded by the SSE routes), before the input's own rules. Resolves with
 * the caller.
 */
async function guard(ctx: Context, op: Operation, getRawInput: () => Promise<unknown>): Promise<Principal | null> {
  ctx.nameOperation(op.name);

  // 401
  const principal = await ctx.resolvePrincipal();
  if (op.auth === 'required' && !principal) throw new AppError('unauthenticated');

  // 429
  const { config, limiter } = ctx.services;
  const bucket = await bucketOf(op, getRawInput);
  const limit = bucket === 'messages' ? config.RATE_LIMIT_MESSAGES_PER_MINUTE : config.RATE_LIMIT_REQUESTS_PER_MINUTE;
  const key = principal ? `user:${principal.user.id}` : `ip:${ctx.ip}`;
  const rate = await limiter.consume(bucket, key, limit);
  setRateLimitHeaders(ctx, rate.limit, rate.remaining);
  if (!rate.allowed) {
    ctx.services.metrics.rateLimitRefusal(bucket);
    throw new AppError('rate_limited', { headers: { 'Retry-After': String(rate.retryAfterSeconds) } });
  }

  // 403: the permission, and the cross-site check (CSRF) for cookie-authenticated calls that write,
  // whatever their transport (a resume writes nothing, but is a POST operation too: same check).
  // Bearer credentials are never sent by a browser on its own, so they need none.
  if (op.permission && !principal?.permissions.includes(op.permission)) throw new AppError('forbidden');
  if (ctx.credential?.source === 'cookie' && writes(op) && !fromTrustedOrigin(ctx)) throw new AppError('forbidden');

  if (principal?.renewedUntil && ctx.credential?.source === 'cookie') {
    ctx.services.cookies.set(ctx.res, ctx.credential.token, principal.renewedUntil);
  }

  // 422 for a body field that contradicts the path.
  const conflicts = ctx.face === 'rest' ? pathConflictsOf(await getRawInput().catch(() => undefined)) : undefined;
  if (conflicts) throw new AppError('validation', { fields: conflicts });
  return principal;
}

/**
 * Whether a browser sent this request from this site or a trusted one: an Origin that is this host
 * or one of ALLOWED_ORIGINS; or, when there is no Origin (a same-origin GET such as an EventSource
 * sends none), `Sec-Fetch-Site: same-origin`, which pages cannot set. Anything else (another site,
 * the opaque `null`, neither header) is refused.
 */
function fromTrustedOrigin(ctx: Context): boolean {
  const origin = ctx.req.headers.origin;
  const host = ctx.req.headers.host;
  if (origin === undefined) return ctx.req.headers['sec-fetch-site'] === 'same-origin';
  if (!origin || !host) return false;
  if (ctx.services.config.ALLOWED_ORIGINS.includes(origin)) return true;
  try {
    return new URL(origin).host === host;
  } catch {
    return false;
  }
}

/**
 * A credential just handed out (sign-up, sign-in, a new API token) is valid: its first use is
 * served even from an IP blocked for others' failed authentications.
 */
function noteIssuedCredential(ctx: Context, data: unknown) {
  const token = (data as { token?: unknown } | null | undefined)?.token;
  if (typeof token === 'string') ctx.credentialIssued(token);
}

/**
 * Every procedure's one middleware: the guards (above), then the call, whose app errors and input
 * validation failures it turns into the tRPC errors of the error table. One middleware, not one a
 * step: tRPC copies its options (and the context, when a middleware extends it) at every level,
 * for every call. The caller goes on the context itself (each request has its own); no input is
 * an empty object, as on the REST face (typed clients send none for `me.get.query()`).
 */
const boundary = t.middleware(async ({ ctx, meta, next, getRawInput }) => {
  const op = meta?.operation;
  if (!op) throw new TRPCError({ code: 'INTERNAL_SERVER_ERROR', message: 'Procedure without a contract.' });
  const input = async () => {
    const raw = (await getRawInput()) ?? {};
    return ctx.face === 'rest' ? restInput(op, raw) : raw;
  };
  let error: TRPCError;
  try {
    ctx.principal = await guard(ctx, op, input);
    const result = await next({ getRawInput: input });
    if (result.ok) {
      noteIssuedCredential(ctx, result.data);
      return result;
    }
    error = result.error;
  } catch (thrown) {
    error = getTRPCErrorFromUnknown(thrown);
  }
  const app = await appErrorFor(error, meta, getRawInput);
  if (!app) throw error;
  for (const [name, value] of Object.entries(app.headers)) ctx.res.setHeader(name, value);
  throw toTRPCError(app);
});

const base = t.procedure.use(boundary);

function metaFor(op: Operation): Meta {
  return {
    operation: op,
    openapi: {
      method: op.method,
      path: op.routePath,
      operationId: op.name,
      summary: op.summary,
      ...(op.description ? { description: op.description } : {}),
      tags: [...op.tags],
      protect: op.auth === 'required',
      // trpc-to-openapi cannot serve subscriptions: the SSE route and document are our own.
      ...(op.transport === 'sse' ? { enabled: false } : {}),
      errorResponses: [...op.errors],
    },
  };
}

type AnyHandler = (opts: never) => unknown;

/**
 * Parses as tRPC's procedures parse (initTRPC's getParseFn): synchronously, and asynchronously only
 * for a schema with asynchronous rules (zod throws something other than its issues for those).
 */
async function parseWith<T extends z.ZodType>(schema: T, value: unknown): Promise<z.output<T>> {
  try {
    return schema.parse(value);
  } catch (error) {
    if (error instanceof z.ZodError) throw error;
    return schema.parseAsync(value);
  }
}

/**
 * A JSON operation of the REST face called as a plain function: the same steps as its procedure
 * (the guards, the contract's input, the handler, the contract's output) and the same errors, as
 * AppErrors, without tRPC's middleware engine, which copies its options object at each of its
 * levels for every call and made up 5% of a PATCH .../state's CPU (profiled). `raw` is the REST
 * input: the body, or the query, with the path's segments.
 */
export type DirectCall = (ctx: Context, raw: Record<string, unknown>) => Promise<unknown>;

function directCallFor(op: Operation, handler: AnyHandler): DirectCall {
  const call = handler as (opts: unknown) => unknown;
  const aliases = { ...HEADER_FIELDS, ...op.pathParams };
  return async (ctx, raw) => {
    const given = restInput(op, raw);
    ctx.principal = await guard(ctx, op, () => Promise.resolve(given));
    let input: unknown;
    try {
      input = await parseWith(op.input, given);
    } catch (error) {
      if (!(error instanceof z.ZodError)) throw error;
      throw new AppError('validation', { fields: fieldErrorsFromIssues(error.issues, raw, aliases) });
    }
    const data = await call({ ctx, input, signal: undefined });
    let output: unknown;
    try {
      output = await parseWith(op.output, data);
    } catch (cause) {
      throw new AppError('internal', { cause }); // tRPC's "Output validation failed", a 500
    }
    noteIssuedCredential(ctx, output);
    return output;
  };
}

/** Each JSON operation's procedure → its direct call (see `DirectCall`). */
const directCalls = new WeakMap<object, DirectCall>();

/** The direct call of a JSON operation's procedure; undefined for a streamed one. */
export const directCallOf = (procedure: object): DirectCall | undefined => directCalls.get(procedure);

/**
 * The procedure for a contract: its meta, the guards, its input and output schemas, and the
 * handler as a query (GET), a mutation, or a subscription (`sse`) whose events are tracked by id.
 * `implement` (implement.ts) types the handlers; this only wires them.
 */
export function procedureFor(op: Operation, handler: AnyHandler) {
  const call = handler as (opts: unknown) => unknown;
  const procedure = base.meta(metaFor(op)).input(op.input);
  if (op.transport === 'sse') {
    return procedure.subscription(async (opts) => {
      const events = (await call(opts)) as AsyncIterable<{ id: string; event: unknown }>;
      return (async function* () {
        for await (const { id, event } of events) yield tracked(id, event);
      })();
    });
  }
  const withOutput = procedure.output(op.output);
  const built = op.method === 'GET' ? withOutput.query((opts) => call(opts)) : withOutput.mutation((opts) => call(opts));
  directCalls.set(built, directCallFor(op, handler));
  return built;
}
