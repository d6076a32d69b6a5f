// The fetch the OpenAI SDK calls the model with (node:http, kept-alive connections) against a real
// HTTP server of the test's: what it sends, what the SDK gets back (status, headers, bodies, event
// streams as they come), and failures as fetch gives them (aborts, refused connections).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { modelFetch } from '../../server/src/ai/model-fetch.js';

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

let server: Server;
let base: string;
let seen: Seen[] = [];
let connections = 0;
let closedRequests = 0;
let handler: (req: IncomingMessage, res: ServerResponse, body: string) => void;

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString();
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, body });
      res.on('close', () => {
        if (!res.writableFinished) closedRequests += 1;
      });
      handler(req, res, body);
    });
  });
  server.on('connection', () => (connections += 1));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(() => {
  seen = [];
  closedRequests = 0;
  handler = (_req, res) => res.end();
});

/** Resolves once `check` holds, looking again on each turn of the event loop (no timers). */
async function until(check: () => boolean) {
  while (!check()) await new Promise((resolve) => setImmediate(resolve));
}

const caught = (promise: Promise<unknown>) =>
  promise.then(
    () => {
      throw new Error('expected a failure');
    },
    (error: unknown) => error as Error,
  );

describe('model fetch: requests and answers', () => {
  it('sends the method, headers and body, and answers with the status, headers, body and url', async () => {
    handler = (_req, res) => {
      res.writeHead(201, 'Made', [
        ['Content-Type', 'application/json'],
        ['X-Request-Id', 'req_1'],
        ['X-Many', 'a'],
        ['X-Many', 'b'],
      ]);
      res.end(JSON.stringify({ ok: true, text: 'héllo' }));
    };
    const headers = new Headers({ 'Content-Type': 'application/json', Authorization: 'Bearer k' });
    const response = await modelFetch(`${base}/v1/chat/completions?x=1`, { method: 'post', headers, body: '{"a":1}' });
    expect(seen).toEqual([
      expect.objectContaining({
        method: 'POST',
        url: '/v1/chat/completions?x=1',
        body: '{"a":1}',
        headers: expect.objectContaining({ 'content-type': 'application/json', authorization: 'Bearer k' }),
      }),
    ]);
    expect(response).toBeInstanceOf(Response);
    expect(response.status).toBe(201);
    expect(response.statusText).toBe('Made');
    expect(response.ok).toBe(true);
    expect(response.url).toBe(`${base}/v1/chat/completions?x=1`);
    expect(response.headers.get('x-request-id')).toBe('req_1');
    expect(response.headers.get('x-many')).toBe('a, b');
    expect(await response.json()).toEqual({ ok: true, text: 'héllo' });
  });

  it('takes headers as a record or as pairs, and a body as bytes', async () => {
    handler = (_req, res) => res.end('done');
    await modelFetch(base, { method: 'PUT', headers: { 'X-One': '1' }, body: new TextEncoder().encode('bytes') });
    await modelFetch(base, { headers: [['X-Two', '2']] });
    expect(seen.map(({ method, headers, body }) => [method, headers['x-one'] ?? headers['x-two'], body])).toEqual([
      ['PUT', '1', 'bytes'],
      ['GET', '2', ''],
    ]);
  });

  it('gives an error status with its body, and a 204 without one', async () => {
    handler = (req, res) => {
      if (req.url === '/gone') return res.writeHead(204).end();
      res.writeHead(503, { 'Content-Type': 'application/json', 'Retry-After': '2' }).end('{"error":{"message":"busy"}}');
    };
    const failed = await modelFetch(`${base}/busy`, { method: 'POST', body: '{}' });
    expect([failed.status, failed.ok, failed.headers.get('retry-after')]).toEqual([503, false, '2']);
    expect(await failed.text()).toBe('{"error":{"message":"busy"}}');
    const empty = await modelFetch(`${base}/gone`, { method: 'DELETE' });
    expect([empty.status, empty.body]).toEqual([204, null]);
  });

  it('decodes a compressed answer', async () => {
    handler = (_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' });
      res.end(gzipSync(JSON.stringify({ long: 'x'.repeat(5000) })));
    };
    const response = await modelFetch(base, { method: 'POST', body: '{}' });
    expect(await response.json()).toEqual({ long: 'x'.repeat(5000) });
  });

  it('keeps the connection for the next call', async () => {
    handler = (_req, res) => res.end('{}');
    const before = connections;
    for (let i = 0; i < 5; i++) await (await modelFetch(base, { method: 'POST', body: '{}' })).text();
    expect(connections - before).toBeLessThanOrEqual(1);
  });

  it('hands an event stream over as it comes', async () => {
    let sendRest!: () => void;
    const rest = new Promise<void>((resolve) => (sendRest = resolve));
    handler = (_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/event-stream' });
      res.write('data: {"n":1}\n\n');
      void rest.then(() => res.end('data: [DONE]\n\n'));
    };
    const response = await modelFetch(base, { method: 'POST', body: '{"stream":true}' });
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    // The first event arrives while the server still holds the rest back.
    expect(decoder.decode((await reader.read()).value)).toBe('data: {"n":1}\n\n');
    sendRest();
    let text = '';
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) text += decoder.decode(chunk.value);
    expect(text).toBe('data: [DONE]\n\n');
  });

  it('sends a body it does not stream itself (a form) through the built-in fetch', async () => {
    handler = (_req, res) => res.end('ok');
    const response = await modelFetch(base, { method: 'POST', body: new URLSearchParams({ a: '1' }) });
    expect(await response.text()).toBe('ok');
    expect(seen[0]).toEqual(expect.objectContaining({ body: 'a=1', headers: expect.objectContaining({ 'content-type': expect.stringContaining('application/x-www-form-urlencoded') }) }));
  });
});

describe('model fetch: failures as fetch gives them', () => {
  it('an abort before the answer rejects with the abort and closes the request', async () => {
    handler = () => {}; // never answers
    const controller = new AbortController();
    const pending = modelFetch(base, { method: 'POST', body: '{}', signal: controller.signal });
    await until(() => seen.length === 1);
    controller.abort();
    const error = await caught(pending);
    expect(error.name).toBe('AbortError');
    await until(() => closedRequests === 1);
  });

  it('an abort with a reason rejects with that reason; an aborted signal sends nothing', async () => {
    handler = () => {};
    const controller = new AbortController();
    const pending = modelFetch(base, { method: 'POST', body: '{}', signal: controller.signal });
    await until(() => seen.length === 1);
    const reason = new Error('deadline');
    controller.abort(reason);
    expect(await caught(pending)).toBe(reason);
    const already = await caught(modelFetch(base, { signal: AbortSignal.abort() }));
    expect(already.name).toBe('AbortError');
    expect(seen).toHaveLength(1);
  });

  it('an abort during an event stream fails its reading and closes the request', async () => {
    handler = (_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/event-stream' });
      res.write('data: {"n":1}\n\n');
    };
    const controller = new AbortController();
    const response = await modelFetch(base, { method: 'POST', body: '{}', signal: controller.signal });
    const reader = response.body!.getReader();
    await reader.read();
    controller.abort();
    const error = await caught(reader.read());
    expect(error.name).toBe('AbortError');
    await until(() => closedRequests === 1);
  });

  it('an abort while a JSON answer is still arriving rejects the call', async () => {
    handler = (_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.write('{"partial":');
    };
    const controller = new AbortController();
    const pending = modelFetch(base, { method: 'POST', body: '{}', signal: controller.signal });
    await until(() => seen.length === 1);
    controller.abort();
    expect((await caught(pending)).name).toBe('AbortError');
  });

  it('a refused connection is a TypeError "fetch failed" with the cause', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise((resolve) => closed.close(resolve));
    const error = await caught(modelFetch(`http://127.0.0.1:${port}/v1`, { method: 'POST', body: '{}' }));
    expect(error).toBeInstanceOf(TypeError);
    expect(error.message).toBe('fetch failed');
    expect((error.cause as NodeJS.ErrnoException).code).toBe('ECONNREFUSED');
  });

  it('a connection closed halfway through a JSON answer is a TypeError "fetch failed"', async () => {
    handler = (_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': '100' });
      res.write('{"cut":');
      res.socket?.destroy();
    };
    const error = await caught(modelFetch(base, { method: 'POST', body: '{}' }));
    expect(error).toBeInstanceOf(TypeError);
    expect(error.message).toBe('fetch failed');
  });

  it('a scheme it cannot speak is a TypeError "fetch failed"', async () => {
    const error = await caught(modelFetch('ftp://127.0.0.1/v1', { method: 'POST', body: '{}' }));
    expect([error instanceof TypeError, error.message]).toEqual([true, 'fetch failed']);
  });
});
