// The example front end (examples/form-copilot), served at `/` from its Vite build: index.html at
// `/` and the hashed files under `/assets/`. Nothing else is claimed, so /api, /trpc, /docs and the
// health routes are untouched. The page gets its own strict headers (a CSP that allows only this
// origin, no framing); the API's headers are not changed. Without a build, `/` says how to make one.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import express, { type Response, type Router } from 'express';

/**
 * Only this origin, for scripts, styles, fetches and the SSE streams; images may be data: URLs.
 * The Vite build has no inline script or style, so nothing needs 'unsafe-inline'.
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

function pageHeaders(res: Response): void {
  res.setHeader('Content-Security-Policy', CONTENT_SECURITY_POLICY);
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader('Referrer-Policy', 'same-origin');
}

const NOT_BUILT = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>ai-threads: the example app is not built</title></head>
<body><h1>The example app is not built</h1>
<p>The API is running (<a href="/docs">API reference</a>). To serve the form copilot here, build it
once with <code>npm run build:app</code> (<code>npm install</code> does it too), then reload.
For hot reload while you change it, run <code>npm run dev</code>.</p></body></html>
`;

export function webApp(dir: string): Router {
  const router = express.Router();
  const index = join(dir, 'index.html');
  router.get('/', (_req, res) => {
    pageHeaders(res);
    // Looked up per request: a build made while the service runs is served without a restart.
    if (!existsSync(index)) {
      res.status(503).type('html').setHeader('Retry-After', '60').send(NOT_BUILT);
      return;
    }
    // The page names its hashed assets, so it must be fetched again after every build.
    res.setHeader('Cache-Control', 'no-cache');
    res.sendFile(index);
  });
  router.use(
    '/assets',
    (_req, res, next) => {
      pageHeaders(res);
      next();
    },
    // Hashed names: a file never changes under its name. Unknown files fall through to the 404.
    express.static(join(dir, 'assets'), { immutable: true, maxAge: '1y', index: false, fallthrough: true }),
  );
  return router;
}
