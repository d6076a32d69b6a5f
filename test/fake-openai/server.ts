// A fake OpenAI-compatible server for tests: POST /v1/chat/completions (JSON and server-sent
// events, in OpenAI's wire format) and GET /v1/models, on 127.0.0.1 and a free port. Tests queue
// behaviours with script() and read what was sent in `requests`. Edit when a test needs a new
// behaviour from the model server.
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeUsage {
  prompt_tokens: number;
  completion_tokens: number;
}

export interface FakeToolCall {
  /** Defaults to update_state. */
  name?: string;
  /** A string is sent as is (so it may be invalid JSON); an object is serialised. */
  arguments: string | object;
}

export type FakeStep =
  /** A text answer; `usage: null` leaves usage out. `model` is the model name reported. */
  | { type: 'text'; content: string; usage?: FakeUsage | null; model?: string }
  /**
   * Tool calls (with optional text beside them). When the request forbids tools (tool_choice
   * `none`, or no tools), the fake answers with text instead, as OpenAI does, unless `force`.
   */
  | { type: 'tool_calls'; calls: FakeToolCall[]; content?: string; usage?: FakeUsage | null; force?: boolean }
  /** An HTTP error; the body defaults to OpenAI's error JSON. */
  | { type: 'error'; status: number; body?: unknown }
  /** Waits, then behaves as `then`; a client that goes away ends the wait. */
  | { type: 'delay'; ms: number; then: FakeStep }
  /**
   * Waits until `until` settles, then behaves as `then`; a client that goes away ends the wait.
   * Holds an answer in flight for exactly as long as a test needs, with no timers.
   */
  | { type: 'gate'; until: Promise<unknown>; then: FakeStep }
  /** 200 with a body that is not JSON (`invalid_json`) or JSON without choices; streaming: a garbage chunk. */
  | { type: 'malformed'; variant?: 'invalid_json' | 'no_choices' }
  /** Never answers, until the client goes away. */
  | { type: 'hang' }
  /** Streams these text deltas, then destroys the socket. */
  | { type: 'stream_error_after'; deltas: string[] }
  /** Streams these text deltas, then waits until the client goes away. */
  | { type: 'stream_hang_after'; deltas: string[] }
  /**
   * A text answer streamed piece by piece: each string is one delta; each promise holds the stream
   * until it settles (a client that goes away ends it), so a test acts mid-answer with no timers.
   * Without streaming, the whole text once every promise has settled.
   */
  | { type: 'paced_text'; parts: Array<string | Promise<unknown>>; usage?: FakeUsage | null }
  /** A text answer derived from the request: the number of messages and the last one's content. */
  | { type: 'echo' };

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** The parsed JSON body; undefined for a request without a body. */
  body: any;
}

export interface FakeOpenAI {
  /** Base URL including `/v1`, for the SDK's baseURL. */
  url: string;
  close(): Promise<void>;
  requests: RecordedRequest[];
  /** Queues behaviours for the next chat completion calls, one a call. */
  script(...steps: FakeStep[]): void;
  /** Steps queued and not yet used. */
  pending(): number;
  /** Resolves once `count` requests in all have been received. */
  waitForRequests(count: number): Promise<void>;
  /** Forgets queued steps and recorded requests. */
  reset(): void;
}

export const DEFAULT_TEXT = 'Hello from the fake model.';
export const DEFAULT_USAGE: FakeUsage = { prompt_tokens: 10, completion_tokens: 5 };
export const FAKE_MODEL = 'fake-model';

interface ChatRequestBody {
  model?: string;
  messages?: Array<{ role?: string; content?: unknown }>;
  stream?: boolean;
  stream_options?: { include_usage?: boolean };
  tools?: unknown[];
  tool_choice?: unknown;
}

let completionCounter = 0;

export async function startFakeOpenAI(): Promise<FakeOpenAI> {
  const requests: RecordedRequest[] = [];
  let steps: FakeStep[] = [];
  let waiters: Array<{ count: number; resolve: () => void }> = [];

  const notifyWaiters = () => {
    const ready = waiters.filter((waiter) => requests.length >= waiter.count);
    waiters = waiters.filter((waiter) => requests.length < waiter.count);
    for (const waiter of ready) waiter.resolve();
  };

  const server = createServer((req, res) => {
    void handle(req, res).catch(() => {
      if (!res.headersSent && !res.destroyed) sendJson(res, 500, openAiError('fake server failure'));
      else res.destroy();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const text = await readBody(req);
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    let body: unknown;
    if (text !== '') {
      try {
        body = JSON.parse(text);
      } catch {
        record(req, path, text);
        sendJson(res, 400, openAiError('We could not parse the JSON body of your request.', 'invalid_request_error'));
        return;
      }
    }
    record(req, path, body);

    if (req.method === 'GET' && path === '/v1/models') {
      sendJson(res, 200, { object: 'list', data: [{ id: FAKE_MODEL, object: 'model', created: 0, owned_by: 'fake' }] });
      return;
    }
    if (req.method !== 'POST' || path !== '/v1/chat/completions') {
      sendJson(res, 404, openAiError(`Unknown route ${req.method} ${path}`, 'invalid_request_error'));
      return;
    }
    const step = steps.shift() ?? { type: 'text', content: DEFAULT_TEXT };
    await perform(step, (body ?? {}) as ChatRequestBody, res);
  }

  function record(req: IncomingMessage, path: string, body: unknown): void {
    requests.push({ method: req.method ?? '', path, headers: req.headers, body });
    notifyWaiters();
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}/v1`,
    requests,
    script: (...more) => {
      steps.push(...more);
    },
    pending: () => steps.length,
    waitForRequests: (count) =>
      new Promise<void>((resolve) => {
        waiters.push({ count, resolve });
        notifyWaiters();
      }),
    reset: () => {
      steps = [];
      requests.length = 0;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

async function perform(step: FakeStep, body: ChatRequestBody, res: ServerResponse): Promise<void> {
  const streaming = body.stream === true;
  const includeUsage = body.stream_options?.include_usage === true;
  const model = body.model ?? FAKE_MODEL;

  switch (step.type) {
    case 'text':
      return answer(res, streaming, includeUsage, {
        model: step.model ?? model,
        content: step.content,
        toolCalls: [],
        usage: step.usage === undefined ? DEFAULT_USAGE : step.usage,
      });
    case 'echo': {
      const messages = body.messages ?? [];
      const last = messages[messages.length - 1];
      const lastText = typeof last?.content === 'string' ? last.content : '';
      return answer(res, streaming, includeUsage, {
        model,
        content: `Echo: ${messages.length} messages; last: ${lastText}`,
        toolCalls: [],
        usage: DEFAULT_USAGE,
      });
    }
    case 'tool_calls': {
      const toolsForbidden = body.tool_choice === 'none' || !Array.isArray(body.tools) || body.tools.length === 0;
      if (toolsForbidden && !step.force) {
        return answer(res, streaming, includeUsage, {
          model,
          content: 'I answer without tools now.',
          toolCalls: [],
          usage: DEFAULT_USAGE,
        });
      }
      return answer(res, streaming, includeUsage, {
        model,
        content: step.content ?? null,
        toolCalls: step.calls.map((call) => ({
          name: call.name ?? 'update_state',
          arguments: typeof call.arguments === 'string' ? call.arguments : JSON.stringify(call.arguments),
        })),
        usage: step.usage === undefined ? DEFAULT_USAGE : step.usage,
      });
    }
    case 'error':
      sendJson(res, step.status, step.body ?? openAiError(`Fake error ${step.status}`));
      return;
    case 'delay': {
      const waited = await waitUnlessClosed(res, step.ms);
      if (waited) return perform(step.then, body, res);
      return;
    }
    case 'gate': {
      const opened = step.until.then(
        () => true,
        () => true,
      );
      if (await Promise.race([opened, waitUnlessClosed(res, Number.POSITIVE_INFINITY)])) {
        return perform(step.then, body, res);
      }
      return;
    }
    case 'paced_text': {
      const content = step.parts.filter((part): part is string => typeof part === 'string').join('');
      const usage = step.usage === undefined ? DEFAULT_USAGE : step.usage;
      if (!streaming) {
        for (const part of step.parts) if (typeof part !== 'string' && !(await heldUntil(res, part))) return;
        return answer(res, false, includeUsage, { model, content, toolCalls: [], usage });
      }
      const id = nextId();
      startEventStream(res);
      writeEvent(res, chunk(id, model, { role: 'assistant', content: '' }, null));
      for (const part of step.parts) {
        if (typeof part === 'string') writeEvent(res, chunk(id, model, { content: part }, null));
        else if (!(await heldUntil(res, part))) return;
      }
      writeEvent(res, chunk(id, model, {}, 'stop'));
      if (includeUsage && usage) writeEvent(res, { ...chunkBase(id, model), choices: [], usage: withTotal(usage) });
      res.end('data: [DONE]\n\n');
      return;
    }
    case 'malformed':
      if (streaming) {
        startEventStream(res);
        res.write('data: {"id": "chatcmpl-broken", "choices": [{"delta": \n\n');
        res.end('data: [DONE]\n\n');
        return;
      }
      if (step.variant === 'no_choices') {
        sendJson(res, 200, { id: 'chatcmpl-broken', object: 'chat.completion', model });
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"id": "chatcmpl-broken", "choices": [');
      return;
    case 'hang':
      await waitUnlessClosed(res, Number.POSITIVE_INFINITY);
      return;
    case 'stream_error_after':
    case 'stream_hang_after': {
      const id = nextId();
      if (!streaming) {
        if (step.type === 'stream_error_after') res.destroy();
        else await waitUnlessClosed(res, Number.POSITIVE_INFINITY);
        return;
      }
      startEventStream(res);
      const events = [{ role: 'assistant', content: '' }, ...step.deltas.map((delta) => ({ content: delta }))];
      events.forEach((delta, index) => {
        const last = index === events.length - 1;
        // The deltas leave before the connection is cut, as when a server crashes mid-answer.
        const after = last && step.type === 'stream_error_after' ? () => res.destroy() : undefined;
        writeEvent(res, chunk(id, model, delta, null), after);
      });
      if (step.type === 'stream_hang_after') await waitUnlessClosed(res, Number.POSITIVE_INFINITY);
      return;
    }
  }
}

interface Answer {
  model: string;
  content: string | null;
  toolCalls: Array<{ name: string; arguments: string }>;
  usage: FakeUsage | null;
}

function answer(res: ServerResponse, streaming: boolean, includeUsage: boolean, reply: Answer): void {
  const id = nextId();
  const finishReason = reply.toolCalls.length > 0 ? 'tool_calls' : 'stop';
  if (!streaming) {
    sendJson(res, 200, {
      id,
      object: 'chat.completion',
      created: Math.floor(Date.now() / 1000),
      model: reply.model,
      choices: [
        {
          index: 0,
          message: {
            role: 'assistant',
            content: reply.content,
            refusal: null,
            ...(reply.toolCalls.length > 0 && {
              tool_calls: reply.toolCalls.map((call, index) => ({
                id: `call_${id}_${index}`,
                type: 'function',
                function: call,
              })),
            }),
          },
          logprobs: null,
          finish_reason: finishReason,
        },
      ],
      ...(reply.usage && { usage: withTotal(reply.usage) }),
    });
    return;
  }

  startEventStream(res);
  writeEvent(res, chunk(id, reply.model, { role: 'assistant', content: '' }, null));
  for (const piece of words(reply.content ?? '')) writeEvent(res, chunk(id, reply.model, { content: piece }, null));
  reply.toolCalls.forEach((call, index) => {
    const opening = { index, id: `call_${id}_${index}`, type: 'function', function: { name: call.name, arguments: '' } };
    writeEvent(res, chunk(id, reply.model, { tool_calls: [opening] }, null));
    // Arguments arrive in fragments, as they do from OpenAI.
    for (const fragment of thirds(call.arguments)) {
      writeEvent(res, chunk(id, reply.model, { tool_calls: [{ index, function: { arguments: fragment } }] }, null));
    }
  });
  writeEvent(res, chunk(id, reply.model, {}, finishReason));
  if (includeUsage && reply.usage) {
    writeEvent(res, { ...chunkBase(id, reply.model), choices: [], usage: withTotal(reply.usage) });
  }
  res.end('data: [DONE]\n\n');
}

function nextId(): string {
  completionCounter += 1;
  return `chatcmpl-fake-${completionCounter}`;
}

function chunkBase(id: string, model: string) {
  return { id, object: 'chat.completion.chunk', created: Math.floor(Date.now() / 1000), model };
}

function chunk(id: string, model: string, delta: object, finishReason: string | null) {
  return { ...chunkBase(id, model), choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }] };
}

function withTotal(usage: FakeUsage) {
  return { ...usage, total_tokens: usage.prompt_tokens + usage.completion_tokens };
}

/** Word-sized pieces (each word with the spaces after it) that concatenate to the text. */
function words(text: string): string[] {
  return text.match(/\s*\S+\s*/g) ?? (text === '' ? [] : [text]);
}

function thirds(text: string): string[] {
  const size = Math.max(1, Math.ceil(text.length / 3));
  const pieces: string[] = [];
  for (let start = 0; start < text.length; start += size) pieces.push(text.slice(start, start + size));
  return pieces;
}

function startEventStream(res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
}

function writeEvent(res: ServerResponse, data: object, afterFlush?: () => void): void {
  if (!res.destroyed) res.write(`data: ${JSON.stringify(data)}\n\n`, afterFlush);
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  if (res.destroyed) return;
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

function openAiError(message: string, type = 'server_error') {
  return { error: { message, type, param: null, code: null } };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (data: Buffer) => chunks.push(data));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** Resolves true once `until` settles, or false as soon as the client goes away. */
function heldUntil(res: ServerResponse, until: Promise<unknown>): Promise<boolean> {
  const settled = until.then(
    () => true,
    () => true,
  );
  return Promise.race([settled, waitUnlessClosed(res, Number.POSITIVE_INFINITY)]);
}

/** Resolves true after `ms`, or false as soon as the client goes away. */
function waitUnlessClosed(res: ServerResponse, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    if (res.destroyed) {
      resolve(false);
      return;
    }
    const timer = Number.isFinite(ms) ? setTimeout(() => done(true), ms) : undefined;
    const onClose = () => done(false);
    const done = (waited: boolean) => {
      clearTimeout(timer);
      res.off('close', onClose);
      resolve(waited);
    };
    res.on('close', onClose);
  });
}
