// The HTTP server around the app, as main.ts runs it (and the test harness, so that tests see the
// same server): a request's headers and body must arrive within REQUEST_TIMEOUT_MS, or the
// connection is answered 408 and closed, so that clients trickling a body cannot hold connections
// for Node's default five minutes. Responses are not limited: Node stops timing a request once it
// has been received, so event streams stay open as long as their answer runs.
import { createServer, type RequestListener, type Server } from 'node:http';
import type { Config } from '../config.js';

/** How often Node looks for requests past their deadline (its default, 30 s, would double the limit). */
const CHECK_INTERVAL_MS = 1_000;

export function createHttpServer(app: RequestListener, config: Pick<Config, 'REQUEST_TIMEOUT_MS'>): Server {
  return createServer(
    {
      requestTimeout: config.REQUEST_TIMEOUT_MS,
      headersTimeout: config.REQUEST_TIMEOUT_MS,
      connectionsCheckingInterval: Math.min(CHECK_INTERVAL_MS, config.REQUEST_TIMEOUT_MS),
    },
    app,
  );
}
