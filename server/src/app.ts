// createApp(services): the express application with both faces, health checks, the OpenAPI
// document, its reference page (/docs) and the example front end (/). No side effects: it reads no
// environment and listens on nothing (main.ts does).
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { apiReference } from '@scalar/express-api-reference';
import { createExpressMiddleware } from '@trpc/server/adapters/express';
import express, { type ErrorRequestHandler, type RequestHandler } from 'express';
import { AppError, clientErrorOf } from './errors.js';
import type { Logger } from './logger.js';
import { trpcBody } from './http/body.js';
import { cors } from './http/cors.js';
import { createRestRouter } from './http/openapi-adapter.js';
import { sendError } from './http/error-response.js';
import { webApp } from './http/web-app.js';
import { openApiDocument } from './openapi/document.js';
import { appRouter } from './router.js';
import type { Services } from './services.js';
import { createContextFactory } from './trpc/context.js';
import { responseMetaFor } from './trpc/response-meta.js';

const REQUEST_ID = /^[\w.:-]{1,128}$/;
const SCALAR_SCRIPT = createRequire(import.meta.url).resolve('@scalar/api-reference/browser/standalone.js');

/**
 * Takes a sane X-Request-Id or makes one, echoes it, and logs the request when it ends. The
 * request's child logger (res.locals.log, with the request id) is made the first time something
 * logs through it: most requests log only their request line, written by the root logger with the
 * id first, the same line a child would write, without making a child for it.
 */
function requestContext(services: Services): RequestHandler {
  return (req, res, next) => {
    const given = req.headers['x-request-id'];
    const requestId = typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    let log: Logger | undefined;
    res.locals['requestId'] = requestId;
    Object.defineProperty(res.locals, 'log', {
      get: () => (log ??= services.logger.child({ requestId })),
      enumerable: true,
      configurable: true,
    });
    res.setHeader('X-Request-Id', requestId);
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      const operation = String(res.locals['operation'] ?? routeLabel(req.path));
      services.metrics.request({ operation, method: req.method, status: res.statusCode }, ms / 1000);
      // The path and the operation, never the query string: tRPC GETs carry their input there (a
      // password, a message's content).
      const path = req.originalUrl.split('?', 1)[0];
      const { method } = req;
      const status = res.statusCode;
      const rounded = Math.round(ms * 10) / 10;
      if (log) log.info({ method, path, operation, status, ms: rounded }, 'request');
      else services.logger.info({ requestId, method, path, operation, status, ms: rounded }, 'request');
    });
    next();
  };
}

const KNOWN_PATHS = new Set(['/', '/healthz', '/readyz', '/metrics', '/api/v1/openapi.json', '/docs']);

/** A bounded label for requests no operation claimed (unknown routes, body errors). */
function routeLabel(path: string): string {
  if (KNOWN_PATHS.has(path)) return path;
  if (path.startsWith('/trpc/')) return 'trpc';
  if (path.startsWith('/api/v1/')) return 'api';
  if (path.startsWith('/assets/')) return 'assets';
  return 'other';
}

export function createApp(services: Services) {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', services.config.TRUST_PROXY);
  app.set('etag', false);
  app.use(requestContext(services));
  app.use(cors(services.config.ALLOWED_ORIGINS));

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', async (_req, res) => {
    try {
      await services.database.ping();
      res.json({ status: 'ready', database: services.database.driver });
    } catch {
      res.status(503).setHeader('Retry-After', '5').json({ status: 'unavailable', message: 'The database does not answer.' });
    }
  });

  app.get('/metrics', async (req, res) => {
    const token = services.config.METRICS_TOKEN;
    if (token && req.headers.authorization !== `Bearer ${token}`) {
      sendError(res, new AppError('unauthenticated'));
      return;
    }
    res.type(services.metrics.registry.contentType).send(await services.metrics.registry.metrics());
  });

  app.use(
    '/trpc',
    ...trpcBody(services.config.MAX_BODY_BYTES),
    createExpressMiddleware({
      router: appRouter,
      createContext: createContextFactory(services, 'trpc'),
      responseMeta: responseMetaFor('trpc'),
      maxBodySize: services.config.MAX_BODY_BYTES,
      // Each call of a batch passes the guards (limits, CSRF) on its own, but an unbounded batch
      // would still let one request do hundreds of writes (and send as many cookies). tRPC refuses
      // a longer batch whole, before any call runs: a 400 in our error format ("Batch call exceeds
      // maximum size"), a malformed request rather than a 413, which names the body size limit.
      maxBatchSize: services.config.TRPC_MAX_BATCH_SIZE,
    }),
  );

  // Made at the first request for it, not at start (a tenth of a second, before /readyz could answer).
  let document: string | undefined;
  app.get('/api/v1/openapi.json', (_req, res) => {
    document ??= JSON.stringify(openApiDocument());
    res.type('application/json').send(document);
  });
  app.use('/api/v1', createRestRouter(services, appRouter));

  // The API reference (Scalar) at /docs, rendered in the browser from the OpenAPI document. Its
  // script is served from node_modules, not a CDN, and its web fonts and telemetry are off, so the
  // page works offline.
  app.get('/docs/scalar.js', (_req, res) => {
    res.sendFile(SCALAR_SCRIPT, { maxAge: '1d' });
  });
  app.use(
    '/docs',
    apiReference({
      url: '/api/v1/openapi.json',
      cdn: '/docs/scalar.js',
      pageTitle: 'ai-threads API reference',
      withDefaultFonts: false,
      telemetry: false,
      agent: { disabled: true },
      showDeveloperTools: 'never',
    }),
  );

  // The example front end at `/` (and its /assets): after every API route, so it shadows none.
  app.use(webApp(services.config.WEB_APP_DIR));

  app.use((_req, res) => sendError(res, new AppError('not_found', { message: 'Route not found.' })));
  const lastResort: ErrorRequestHandler = (err, _req, res, _next) => {
    // A middleware's own 4xx (an undecodable path, say) stays a 4xx in the seed's shape.
    const client = clientErrorOf(err);
    if (client && !res.headersSent) {
      (res.locals['log'] ?? services.logger).warn({ err }, 'request refused by a middleware');
      return sendError(res, client);
    }
    (res.locals['log'] ?? services.logger).error({ err }, 'unhandled error');
    if (res.headersSent) return res.destroy();
    sendError(res, new AppError('internal'));
  };
  app.use(lastResort);
  return app;
}
