// The REST face of every streamed (`transport: 'sse'`) operation, as server-sent events: one POST
// route per such contract, made from the contracts table. Each calls the operation's tRPC
// procedure (through a caller), so guards, validation and the answer are shared; refusals before
// the stream starts are ordinary JSON errors in the seed's style. The contract's `framing` picks
// how events are written: our `id/event/data` frames, AG-UI events, or the AI SDK's UI message
// stream. Edit here to add a framing; a protocol's events themselves come from its service.
import type { Request, RequestHandler, Response } from 'express';
import express from 'express';
import type { BaseEvent } from '@ag-ui/core';
import { EventEncoder } from '@ag-ui/encoder';
import { operations, type Operation, type StreamFraming } from '@ai-threads/contracts';
import { appErrorOf } from '../errors.js';
import type { AppRouter } from '../router.js';
import type { Services } from '../services.js';
import { createContextFactory } from '../trpc/context.js';
import { PATH_CONFLICTS } from '../trpc/validation.js';
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

/**
 * An operation's path as trpc-to-openapi matches it (any case, a trailing `/`), each path
 * parameter matched by `param(name)`: a pattern of one segment.
 */
export function routePattern(op: Operation, param: (name: string) => string): RegExp {
  const source = op.routePath.replace(/[.*+?^$()|[\]\\]/g, '\\$&');
  return new RegExp(`^${source.replace(/\{([^}]+)\}/g, (_, name: string) => param(name))}/?$`, 'i');
}

function routeOf(op: Operation): StreamRoute {
  const params = [...op.routePath.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]!);
  return { match: routePattern(op, () => '[^/]+'), capture: routePattern(op, () => '([^/]+)'), params };
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

/** How one framing writes a stream: its own headers, each event, a failure after the start, the end. */
interface Framing {
  headers: Record<string, string>;
  /** The text of one event the procedure yielded (`tracked(id, event)`). */
  event(id: string, event: unknown): string;
  /** The last event of a stream that failed after it began. */
  error(message: string, status: number): string;
  /** Written after the last event, unless the client went away. */
  end: string;
}

const agUi = new EventEncoder();
const dataLine = (value: unknown) => `data: ${JSON.stringify(value)}\n\n`;

const FRAMINGS: Record<StreamFraming, Framing> = {
  events: {
    headers: {},
    event: (id, event) => frame(id, event as { event: string; data: unknown }),
    error: (message, status) => frame('error', { event: 'error', data: { message, status } }),
    end: '',
  },
  'ag-ui': {
    headers: {},
    event: (_id, event) => agUi.encodeSSE(event as BaseEvent),
    error: (message, status) => agUi.encodeSSE({ type: 'RUN_ERROR', message, code: String(status) } as BaseEvent),
    end: '',
  },
  // Both the `ai` package's reader (eventsource-parser) and browsers skip SSE comments, so the
  // opening comment and the heartbeats are safe here too.
  'ui-message-stream': {
    headers: { 'x-vercel-ai-ui-message-stream': 'v1' },
    event: (_id, part) => dataLine(part),
    error: (errorText) => dataLine({ type: 'error', errorText }),
    end: 'data: [DONE]\n\n',
  },
};

const words = (name: string) => name.replace(/([a-z0-9])([A-Z])/g, '$1 $2').replace(/[_.-]+/g, ' ').toLowerCase();

/**
 * The body fields named like a path parameter whose value is not the path's (compared as strings,
 * so `"threadId": 42` agrees with `/threads/42`): a protocol body that names its thread (AG-UI's
 * `threadId`) must name the one of the path. The procedure refuses them as a 422 after its guards,
 * in the order every validation failure has; this only records them.
 */
function pathConflicts(body: Record<string, unknown>, pathInput: Record<string, string>, op: Operation): Record<string, string[]> {
  const conflicts: Record<string, string[]> = {};
  for (const [field, value] of Object.entries(pathInput)) {
    if (!Object.hasOwn(body, field) || String(body[field]) === value) continue;
    conflicts[field] = [`The ${words(field)} field must be the ${words(op.pathParams[field] ?? field)} of the path.`];
  }
  return conflicts;
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
  const framing = FRAMINGS[op.framing ?? 'events'];
  return async (req: Request, res: Response) => {
    const disconnected = new AbortController();
    // Only a client that went away aborts: a stream that ended has nothing left to stop (an abort
    // costs an AbortError and its stack, and runs every listener, on every stream).
    res.on('close', () => {
      if (!res.writableFinished) disconnected.abort();
    });
    const caller = appRouter.createCaller(makeContext({ req, res }), { signal: disconnected.signal });
    const lastEventId = req.headers['last-event-id'];
    const body = req.body && typeof req.body === 'object' && !Array.isArray(req.body) ? req.body : {};
    const segments = route.capture.exec(req.path)?.slice(1) ?? [];
    const pathInput = Object.fromEntries(route.params.map((name, i) => [name, decodeLeniently(segments[i] ?? '')]));
    const conflicts = pathConflicts(body, pathInput, op);
    let events: AsyncIterable<unknown>;
    try {
      events = await procedureOn(caller, op)({
        ...body,
        ...pathInput,
        ...(typeof lastEventId === 'string' && lastEventId !== '' ? { lastEventId } : {}),
        ...(Object.keys(conflicts).length > 0 ? { [PATH_CONFLICTS]: conflicts } : {}),
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
      ...framing.headers,
    });
    // Events written in one turn of the event loop (the opening ones, the last delta and the
    // completion) go out in one write: the socket is corked until the turn's promise jobs are done.
    let corked = false;
    const send = (text: string) => {
      if (!corked) {
        corked = true;
        res.cork();
        process.nextTick(() => {
          corked = false;
          res.uncork();
        });
      }
      res.write(text);
    };
    send(': stream open\n\n');
    const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), services.config.SSE_HEARTBEAT_MS);
    try {
      for await (const envelope of events) {
        // The procedure yields tRPC `tracked(id, event)` envelopes: [id, event, marker].
        const [id, event] = envelope as [string, unknown];
        if (disconnected.signal.aborted) break;
        send(framing.event(id, event));
      }
      if (framing.end && !disconnected.signal.aborted) send(framing.end);
    } catch (error) {
      const app = appErrorOf(error);
      if (!disconnected.signal.aborted) send(framing.error(app.message, app.status) + framing.end);
    } finally {
      clearInterval(heartbeat);
      res.end();
    }
  };
}
