// Reading server-sent events in tests: POST .../messages/stream over real HTTP, and a reader that
// splits the body into frames on blank lines and parses `id`, `event` and `data`. Comment lines
// (`: keep-alive`) are not events, but are kept in arrival order so that tests can count them.
// Edit when the streaming suites need another way to read a stream.
import { expect } from 'vitest';
import type { TestApp } from './harness.js';

export interface SseEvent {
  id: string | undefined;
  event: string;
  /** The raw data lines, joined with newlines. */
  raw: string;
  /** The data parsed as JSON (undefined when it is not JSON). */
  data: any;
}

export type SseItem = { kind: 'event'; event: SseEvent } | { kind: 'comment'; text: string };

/** Parses one frame (the lines between two blank lines) into its event and comments. */
export function parseFrame(frame: string): { event: SseEvent | undefined; comments: string[] } {
  const comments: string[] = [];
  const data: string[] = [];
  let id: string | undefined;
  let event: string | undefined;
  for (const line of frame.split('\n')) {
    if (line === '') continue;
    if (line.startsWith(':')) {
      comments.push(line.slice(1).replace(/^ /, ''));
      continue;
    }
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'id') id = value;
    else if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
  }
  if (data.length === 0 && event === undefined && id === undefined) return { event: undefined, comments };
  const raw = data.join('\n');
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    parsed = undefined;
  }
  return { event: { id, event: event ?? 'message', raw, data: parsed }, comments };
}

/** Follows an event stream body frame by frame; `abort()` drops the connection, as a client going away. */
export class SseReader {
  /** Every event and comment so far, in arrival order. */
  readonly items: SseItem[] = [];
  private readonly reader: ReadableStreamDefaultReader<Uint8Array>;
  private readonly decoder = new TextDecoder();
  private buffer = '';
  private queue: SseEvent[] = [];
  private ended = false;

  constructor(
    readonly response: Response,
    private readonly controller: AbortController,
  ) {
    if (!response.body) throw new Error('the response has no body');
    this.reader = response.body.getReader();
  }

  get events(): SseEvent[] {
    return this.items.flatMap((item) => (item.kind === 'event' ? [item.event] : []));
  }

  get comments(): string[] {
    return this.items.flatMap((item) => (item.kind === 'comment' ? [item.text] : []));
  }

  /** The next event, or undefined once the stream has ended (or was aborted). */
  async next(): Promise<SseEvent | undefined> {
    while (this.queue.length === 0 && !this.ended) await this.pull();
    return this.queue.shift();
  }

  /** Reads events up to and including the first that `matches`; fails if the stream ends first. */
  async until(matches: (event: SseEvent) => boolean): Promise<SseEvent> {
    for (;;) {
      const event = await this.next();
      if (!event) throw new Error(`the stream ended first; events: ${this.events.map((e) => e.event).join(', ')}`);
      if (matches(event)) return event;
    }
  }

  /** Reads on until the comment `text` has arrived; events read meanwhile stay queued for next(). */
  async untilComment(text: string): Promise<void> {
    while (!this.comments.includes(text)) {
      if (this.ended) throw new Error(`the stream ended without the comment "${text}"`);
      await this.pull();
    }
  }

  /** Reads to the end of the stream and returns every event it carried (not only the rest). */
  async all(): Promise<SseEvent[]> {
    while (await this.next());
    return this.events;
  }

  /** Drops the connection. */
  abort(): void {
    this.controller.abort();
    this.ended = true;
    this.queue = [];
  }

  private async pull(): Promise<void> {
    let chunk: ReadableStreamReadResult<Uint8Array>;
    try {
      chunk = await this.reader.read();
    } catch (error) {
      if (this.controller.signal.aborted) {
        this.ended = true;
        return;
      }
      throw error;
    }
    if (chunk.done) {
      this.buffer += this.decoder.decode();
      this.ended = true;
    } else {
      this.buffer += this.decoder.decode(chunk.value, { stream: true });
    }
    this.buffer = this.buffer.replace(/\r\n?/g, '\n');
    const frames = this.buffer.split('\n\n');
    this.buffer = this.ended ? '' : frames.pop()!;
    for (const frame of frames) {
      const { event, comments } = parseFrame(frame);
      for (const text of comments) this.items.push({ kind: 'comment', text });
      if (event) {
        this.items.push({ kind: 'event', event });
        this.queue.push(event);
      }
    }
  }
}

export interface StreamRequest {
  token?: string | undefined;
  /** A JSON body, or raw text sent as application/json. */
  body?: unknown;
  lastEventId?: string;
  headers?: Record<string, string>;
}

/** POST /api/v1/ai/threads/{threadId}/messages/stream; the raw response, not yet read. */
export async function postStream(
  app: TestApp,
  threadId: number | string,
  request: StreamRequest,
  controller = new AbortController(),
): Promise<Response> {
  const headers: Record<string, string> = { accept: 'text/event-stream', 'content-type': 'application/json', ...request.headers };
  if (request.token) headers['authorization'] = `Bearer ${request.token}`;
  if (request.lastEventId !== undefined) headers['last-event-id'] = request.lastEventId;
  const body = typeof request.body === 'string' ? request.body : JSON.stringify(request.body ?? {});
  return fetch(`${app.url}/api/v1/ai/threads/${threadId}/messages/stream`, {
    method: 'POST',
    headers,
    body,
    signal: controller.signal,
  });
}

/** Opens a stream that must be accepted (200, text/event-stream) and returns its reader. */
export async function openStream(app: TestApp, threadId: number | string, request: StreamRequest): Promise<SseReader> {
  const controller = new AbortController();
  const response = await postStream(app, threadId, request, controller);
  if (response.status !== 200) {
    throw new Error(`the stream was refused: ${response.status} ${await response.text()}`);
  }
  expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
  return new SseReader(response, controller);
}

/** The stream's refusal: a JSON answer, its status, headers and parsed body. */
export async function refusedStream(app: TestApp, threadId: number | string, request: StreamRequest) {
  const response = await postStream(app, threadId, request);
  const text = await response.text();
  expect(response.headers.get('content-type'), text).toMatch(/^application\/json/);
  return { status: response.status, headers: response.headers, body: JSON.parse(text) as any, text };
}

/** Reads up to and including the `count`th delta. */
export async function readDeltas(stream: SseReader, count: number): Promise<SseEvent> {
  let seen = 0;
  return stream.until((event) => event.event === 'response.delta' && ++seen === count);
}

/** The text of the `response.delta` events, in order. */
export function deltasOf(events: SseEvent[]): string[] {
  return events.filter((event) => event.event === 'response.delta').map((event) => event.data.delta as string);
}

/** The sequence number of an event id `<user message id>:<sequence>`. */
export function sequenceOf(id: string | undefined): number {
  const match = /^\d+:(\d+)$/.exec(id ?? '');
  if (!match) throw new Error(`not a sequenced event id: ${id}`);
  return Number(match[1]);
}

/**
 * Polls GET .../messages/{messageId} until `done` holds for it (by default: no longer pending), and
 * returns it; fails after `attempts` polls. For answers that finish after their client went away.
 */
export async function pollMessage(
  app: TestApp,
  token: string,
  threadId: number,
  messageId: number,
  done: (message: Record<string, any>) => boolean = (message) => message.status !== 'pending',
  attempts = 500,
): Promise<Record<string, any>> {
  let last: unknown;
  for (let attempt = 0; attempt < attempts; attempt++) {
    const res = await app.api('GET', `/ai/threads/${threadId}/messages/${messageId}`, { token });
    if (res.status === 200 && done(res.body)) return res.body;
    last = res.body;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`message ${messageId} never reached the expected state; last seen: ${JSON.stringify(last)}`);
}
