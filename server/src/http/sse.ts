// The REST face of every streamed (`transport: 'sse'`) operation, as server-sent events: one POST
// route per such contract, made from the contracts table. Each calls the operation's tRPC
// procedure (through a caller), so guards, validation and the answer are shared; refusals before
// the stream starts are ordinary JSON errors in the seed's style.
import type { Request, RequestHandler, Response } from 'express';
import express from 'express';
import { operations, type Operation } from '@ai-threads/contracts';
import { appErrorOf } from '../errors.js';
import type { AppRouter } from '../router.js';
import type { Services } from '../services.js';
import { createContextFactory } from '../trpc/context.js';
import { sendError } from './error-response.js';

interface StreamRoute {
  /**
   * Matched as a pattern without a capture, so that express does not decode the path itself: its
   * decoding throws on `%zz` or `%ED%A0%80`, which would end as a 500. Parameters are decoded
   * leniently here and the contract refuses what is no id, with the same 422 as every route.
   */
  match: RegExp;
  /** The same pattern with a capture per path parameter, in the order of `params`. */
  capture: RegExp;
  params: string[];
}

function routeOf(op: Operation): StreamRoute {
  const params = [...op.routePath.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]!);
  const source = op.routePath.replace(/[.*+?^$()|[\]\\]/g, '\\$&');
  const pattern = (group: string) => new RegExp(`^${source.replace(/\{[^}]+\}/g, group)}/?$`, 'i');
  return { match: pattern('[^/]+'), capture: pattern('([^/]+)'), params };
}

function decodeLeniently(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** The procedure of an operation on a caller: `messages.stream` → caller.messages.stream. */
function procedureOn(caller: unknown, op: Operation): (input: unknown) => Promise<AsyncIterable<unknown>> {
  return op.name.split('.').reduce((node: any, key) => node[key], caller) as never;
}

/** One event: its data line names the event too (`type`), for clients that read only data lines. */
function frame(id: string, event: { event: string; data: unknown }): string {
  const data = typeof event.data === 'object' && event.data !== null ? event.data : { value: event.data };
  return `id: ${id}\nevent: ${event.event}\ndata: ${JSON.stringify({ type: event.event, ...data })}\n\n`;
}

/** The SSE routes of every streamed operation; register them before trpc-to-openapi. */
export function createStreamRoutes(services: Services, appRouter: AppRouter): express.Router {
  const router = express.Router();
  for (const op of operations) {
    if (op.transport !== 'sse') continue;
    const route = routeOf(op);
    router[op.method === 'GET' ? 'get' : 'post'](route.match, streamHandler(services, appRouter, op, route));
  }
  return router;
}

function streamHandler(services: Services, appRouter: AppRouter, op: Operation, route: StreamRoute): RequestHandler {
  const makeContext = createContextFactory(services, 'rest');
  return async (req: Request, res: Response) => {
    const disconnected = new AbortController();
    res.on('close', () => disconnected.abort());
    const caller = appRouter.createCaller(makeContext({ req, res }), { signal: disconnected.signal });
    const lastEventId = req.headers['last-event-id'];
    const body = req.body && typeof req.body === 'object' && !Array.isArray(req.body) ? req.body : {};
    const segments = route.capture.exec(req.path)?.slice(1) ?? [];
    const pathInput = Object.fromEntries(route.params.map((name, i) => [name, decodeLeniently(segments[i] ?? '')]));
    let events: AsyncIterable<unknown>;
    try {
      events = await procedureOn(caller, op)({
        ...body,
        ...pathInput,
        ...(typeof lastEventId === 'string' && lastEventId !== '' ? { lastEventId } : {}),
      });
    } catch (error) {
      sendError(res, appErrorOf(error));
      return;
    }

    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache, no-transform',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
    res.write(': stream open\n\n');
    const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), services.config.SSE_HEARTBEAT_MS);
    try {
      for await (const envelope of events) {
        // The procedure yields tRPC `tracked(id, event)` envelopes: [id, event, marker].
        const [id, event] = envelope as [string, { event: string; data: unknown }];
        if (disconnected.signal.aborted) break;
        res.write(frame(id, event));
      }
    } catch (error) {
      const app = appErrorOf(error);
      if (!disconnected.signal.aborted) res.write(frame('error', { event: 'error', data: { message: app.message, status: app.status } }));
    } finally {
      clearInterval(heartbeat);
      res.end();
    }
  };
}
