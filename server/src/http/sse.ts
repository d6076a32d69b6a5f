// The REST face of the streamed answer: POST .../messages/stream as server-sent events. It calls
// the same tRPC procedure (through a caller), so guards, validation and the answer are shared;
// refusals before the stream starts are ordinary JSON errors in the seed's style.
import type { Request, RequestHandler, Response } from 'express';
import { streamEventData, type StreamEvent } from '@ai-threads/contracts';
import { appErrorOf } from '../errors.js';
import type { AppRouter } from '../router.js';
import type { Services } from '../services.js';
import { createContextFactory } from '../trpc/context.js';
import { sendError } from './error-response.js';

/**
 * Matched as a pattern without a capture, so that express does not decode the thread id itself: its
 * decoding throws on `%zz` or `%ED%A0%80`, which would end as a 500. The id is decoded leniently
 * here and the contract refuses what is no id, with the same 422 as every other route.
 */
export const STREAM_ROUTE = /^\/ai\/threads\/[^/]+\/messages\/stream\/?$/i;

/** The raw `{thread-id}` segment of a stream route's path, percent-decoded when it can be. */
function threadIdSegment(path: string): string {
  const segment = path.split('/')[3] ?? '';
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** One event: its data line names the event too (`type`), for clients that read only data lines. */
function frame(id: string, event: StreamEvent): string {
  return `id: ${id}\nevent: ${event.event}\ndata: ${JSON.stringify(streamEventData(event))}\n\n`;
}

export function createStreamRoute(services: Services, appRouter: AppRouter): RequestHandler {
  const makeContext = createContextFactory(services, 'rest');
  return async (req: Request, res: Response) => {
    const disconnected = new AbortController();
    res.on('close', () => disconnected.abort());
    const caller = appRouter.createCaller(makeContext({ req, res }), { signal: disconnected.signal });
    const lastEventId = req.headers['last-event-id'];
    const body = req.body && typeof req.body === 'object' && !Array.isArray(req.body) ? req.body : {};
    let events: AsyncIterable<unknown>;
    try {
      events = await caller.messages.stream({
        ...body,
        threadId: threadIdSegment(req.path),
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
        const [id, event] = envelope as [string, StreamEvent];
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
