// The REST face under /api/v1, and the one module that adapts trpc-to-openapi (the REST engine the
// product's design keeps) to the seed's contract. Each workaround says why it exists; each has a
// test in test/foundation/openapi-adapter.test.ts. Edit here, not in the routers, when the library
// changes. The workarounds:
//   1. Error bodies: the library writes `{message, code, data, issues}`; the seed's body is
//      `{message, errors}`. Its onError hook hands us the error; error-response.ts renders it.
//   2. 204s: the library sends `null` with a JSON content type; a 204 has no body.
//   3. A POST or PATCH without a body: the library refuses a missing content type (415); sign-out
//      and a thread with defaults take no body, so an absent body is `{}`.
//   4. A body that is JSON but not an object (`[1]`, `"x"`): the library would spread it into the
//      input; it is the tRPC face's 422 on `body` instead, and `null` is no input, as there.
//   5. The recursion guard: the library re-serialises the parsed body to build an abort signal, so a
//      body 10,000 levels deep overflowed the stack (500) before the contract could refuse it (422);
//      the body now serialises as nothing there, which also spares that unused request a body.
//   6. Content types: its body reader takes exactly `application/json`, dropping a body sent with
//      `; charset=utf-8`; body.ts parses bodies first (UTF-8 only, with the size limit).
//   7. Coercion: on the first REST request the library switches coercion on for plain number
//      schemas, shared with the tRPC face; ids are `Integer()` (contracts/common.ts, a pipe it leaves
//      alone) and the REST face alone turns canonical decimal strings into numbers
//      (trpc/validation.ts `restInput`).
//   8. Streams: it cannot serve a subscription, and never calls next(): the SSE route (sse.ts) is
//      registered before it, and the document describes the stream itself (openapi/document.ts).
//   9. The document: path parameters named `{thread-id}` (its route regex refuses hyphens), success
//      statuses, error bodies, headers and optional bodies are completed in openapi/document.ts.
//  10. Raw patches: it takes `application/json` alone, and an input is an object; PATCH .../state
//      also takes the patch itself as `application/merge-patch+json` (an object) or
//      `application/json-patch+json` (an array). body.ts parses those types (UTF-8 only, the size
//      limit); here such a body becomes `{merge_patch: ...}` / `{json_patch: [...]}`, as JSON, on that
//      route, and a 415 on every other.
import type { IncomingMessage, ServerResponse } from 'node:http';
import express, { type RequestHandler } from 'express';
import { createOpenApiNodeHttpHandler } from 'trpc-to-openapi';
import { contracts, operations, type Operation } from '@ai-threads/contracts';
import type { Logger } from '../logger.js';
import { AppError, appErrorOf } from '../errors.js';
import { mediaTypeOf, RAW_PATCH_TYPES, restBody, type RawPatchType } from './body.js';
import { restErrorBody, sendError } from './error-response.js';
import type { AppRouter } from '../router.js';
import { createContextFactory } from '../trpc/context.js';
import { directCallOf, type DirectCall } from '../trpc/procedure.js';
import { createStreamRoutes, routePattern } from './sse.js';
import { responseMetaFor } from '../trpc/response-meta.js';
import type { Services } from '../services.js';

/**
 * Workaround: trpc-to-openapi writes its own error body (`{message, code, data, issues}`), and the
 * seed's is `{message, errors}`. The library reports every error to `onError` before it answers;
 * the answer's end then renders that error with the one renderer (error-response.ts) instead.
 */
const failures = new WeakMap<IncomingMessage, AppError>();

function withSeedErrors(
  handler: (req: IncomingMessage, res: ServerResponse, next: () => void) => Promise<void>,
): RequestHandler {
  return (req, res, next) => {
    const end = res.end;
    res.end = function (this: ServerResponse, chunk?: unknown, ...rest: unknown[]) {
      res.end = end;
      // A 204 has no body; the library still sends `null` with a JSON content type.
      if (res.statusCode === 204) {
        res.removeHeader('Content-Type');
        return (end as (...args: unknown[]) => ServerResponse).call(this, undefined, ...rest);
      }
      if (res.statusCode >= 400) chunk = JSON.stringify(restErrorBody(failures.get(req) ?? new AppError('internal')));
      return (end as (...args: unknown[]) => ServerResponse).call(this, chunk, ...rest);
    } as typeof res.end;
    handler(req, res, () => {
      res.end = end;
      next();
    }).catch(next);
  };
}

/** A POST or PATCH without a body is an empty JSON object (sign-out needs none). */
const emptyBodyIsObject: RequestHandler = (req, _res, next) => {
  const hasBody = req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
  if ((req.method === 'POST' || req.method === 'PATCH') && !hasBody) {
    req.headers['content-type'] = 'application/json';
    req.body = {};
  }
  next();
};

/**
 * trpc-to-openapi re-serialises the parsed body (recursive JSON.stringify) only to build an abort
 * signal: a body 10,000 levels deep would overflow the stack there, as a 500, before the contract
 * can refuse it with a 422. The body serialises as nothing for that (`JSON.stringify` answers
 * undefined), so the library's request has no body at all: it would otherwise copy the text into a
 * web stream that nothing reads (about 3% of a PATCH's CPU, profiled). The input itself is
 * untouched. A client's own top-level `toJSON` key is replaced too (else `{"toJSON": 1, "x": <deep>}`
 * is the same 500): no contract has such a field, and the input would drop it anyway.
 */
const shallowBodyJson: RequestHandler = (req, _res, next) => {
  const body: unknown = req.body;
  if (typeof body === 'object' && body !== null) {
    Object.defineProperty(body, 'toJSON', { value: () => undefined, enumerable: false, configurable: true, writable: true });
  }
  next();
};

/** The one route that takes a raw patch, matched as the library matches it (any case, a trailing `/`). */
const rawPatchRoute = {
  method: contracts.threads.state.patch.method,
  path: routePattern(contracts.threads.state.patch, () => '[^/]+'),
};

/**
 * A raw patch body (`application/merge-patch+json`, `application/json-patch+json`) is the JSON body
 * `{merge_patch: <body>}` / `{json_patch: <body>}` on PATCH .../state, so that the contract checks
 * it as it checks those fields; nothing else can come with it (`expected_version`: use If-Match).
 * Another route does not take these types: 415.
 */
const rawPatchBody: RequestHandler = (req, res, next) => {
  const type = mediaTypeOf(req);
  if (type === undefined || !Object.hasOwn(RAW_PATCH_TYPES, type)) return next();
  if (req.method !== rawPatchRoute.method || !rawPatchRoute.path.test(req.path)) {
    return sendError(
      res,
      new AppError('unsupported_media_type', {
        message: `Only PATCH ${contracts.threads.state.patch.path} takes ${type}; send the request body as application/json.`,
      }),
    );
  }
  const body: unknown = req.body;
  req.body = body === undefined ? {} : { [RAW_PATCH_TYPES[type as RawPatchType]]: body };
  req.headers['content-type'] = 'application/json';
  next();
};

/**
 * Every input is an object: another JSON value is the 422 the tRPC face gives, and `null` is no
 * input, as there. (A non-strict parser, so that `"text"` is not called invalid JSON.)
 */
const bodyIsObject: RequestHandler = (req, res, next) => {
  const body: unknown = req.body;
  if (body === null) req.body = {};
  else if (body !== undefined && (typeof body !== 'object' || Array.isArray(body))) {
    return sendError(res, AppError.field('body', 'The body field must be an object.'));
  }
  next();
};

/** A JSON operation's route, matched as trpc-to-openapi matches it (any case, a trailing `/`, raw segments). */
interface DirectRoute {
  op: Operation;
  pattern: RegExp;
  /** The procedure's steps as one function (trpc/procedure.ts). */
  call: DirectCall;
  status: number;
}

/**
 * The JSON operations answered directly: the same steps as their procedure (the guards, the
 * contract's input and output, the handler; trpc/procedure.ts `DirectCall`), with the same input (the body, or the query's first
 * values, and the path's raw segments), status and answers, minus what the library does on each
 * request that nothing here uses: a Fetch `Request` copy of the request (headers, body stream, an
 * AbortController) made only for a signal no JSON procedure reads, a URL parse, a scan of every
 * route, and the rewrite of its error body (workaround 1). 4% of a POST .../messages' CPU, more of
 * a GET's, profiled. Whatever is not plainly one of these (another content type, HEAD, a path
 * that matches no operation) goes on to the library, which answers it as before.
 */
function directRoutes(services: Services, appRouter: AppRouter): RequestHandler {
  const makeContext = createContextFactory(services, 'rest');
  const respond = responseMetaFor('rest');
  const procedures = appRouter._def.procedures as Record<string, object>;
  const byMethod = new Map<string, DirectRoute[]>();
  for (const op of operations) {
    const procedure = procedures[op.name];
    const call = procedure && directCallOf(procedure);
    if (!call) continue;
    const pattern = routePattern(op, (name) => `(?<${name}>[^/]+)`);
    const routes = byMethod.get(op.method) ?? [];
    routes.push({ op, pattern, call, status: respond({ paths: [op.name], errors: [] }).status ?? 200 });
    byMethod.set(op.method, routes);
  }
  return (req, res, next) => {
    const routes = byMethod.get(req.method);
    let route: DirectRoute | undefined;
    let match: RegExpExecArray | null = null;
    for (const candidate of routes ?? []) {
      match = candidate.pattern.exec(req.path);
      if (match) {
        route = candidate;
        break;
      }
    }
    if (!route || !match) return next();
    const usesBody = req.method !== 'GET' && req.method !== 'DELETE';
    if (usesBody && !req.headers['content-type']?.startsWith('application/json')) return next();
    const { op, status } = route;
    const input = { ...(usesBody ? (req.body as object | undefined) : queryInput(req.query)), ...match.groups };
    route.call(makeContext({ req, res }), input).then(
      (data) => {
        res.statusCode = status;
        if (status === 204) return res.end();
        res.setHeader('Content-Type', 'application/json');
        res.end(JSON.stringify(data));
      },
      (error: unknown) => {
        const app = appErrorOf(error);
        if (app.code === 'internal') (res.locals['log'] as Logger).error({ err: app.cause ?? error, path: op.name }, 'unhandled error');
        res.statusCode = app.status;
        for (const [name, value] of Object.entries(app.headers)) res.setHeader(name, value);
        res.setHeader('Content-Type', 'application/json');
        res.end(JSON.stringify(restErrorBody(app)));
      },
    );
  };
}

/** The query as trpc-to-openapi reads it: a repeated parameter's values, a single one's value, empty ones left out. */
function queryInput(query: Record<string, unknown>): Record<string, unknown> {
  const input: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(query)) {
    if (value) input[key] = Array.isArray(value) && value.length === 1 ? value[0] : value;
  }
  return input;
}

export function createRestRouter(services: Services, appRouter: AppRouter) {
  const router = express.Router();
  router.use(...restBody(services.config.MAX_BODY_BYTES));
  // The body's four steps as one middleware (one pass through the router instead of four).
  router.use((req, res, next) =>
    rawPatchBody(req, res, () => emptyBodyIsObject(req, res, () => bodyIsObject(req, res, () => shallowBodyJson(req, res, next)))),
  );
  // Registered before trpc-to-openapi, which never passes a request on.
  router.use(createStreamRoutes(services, appRouter));
  router.use(directRoutes(services, appRouter));
  const handler = createOpenApiNodeHttpHandler({
    router: appRouter,
    createContext: createContextFactory(services, 'rest') as never,
    responseMeta: responseMetaFor('rest'),
    maxBodySize: services.config.MAX_BODY_BYTES,
    onError: ({ error, req }: { error: unknown; req: IncomingMessage }) => failures.set(req, appErrorOf(error)),
  });
  router.use(withSeedErrors(handler as unknown as Parameters<typeof withSeedErrors>[0]));
  return router;
}
