// The nastiest inputs, one by one, on both faces: `__proto__` / `constructor` keys in a state
// (kept as data, no prototype touched), invalid UTF-8, numbers JSON cannot hold, 10,000-level
// nesting, a million keys, wrong content types and encodings, oversized and very long headers, and
// requests node's own HTTP parser has to refuse (sent over a raw socket). Every answer is below
// 500 with a JSON error body, a refusal stores nothing, and the process answers afterwards.
import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import type { Server } from 'node:http';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { configWith, createApp, createLogger, createMemoryRateLimiter, createServices } from '@ai-threads/server';
import { DEEP_ARRAY, DEEP_OBJECT, enc } from './arbitraries.js';
import {
  counts,
  expectAlive,
  HOSTILE_ENV,
  sendAndCheck,
  startFixture,
  type Fixture,
  type HostileRequest,
  type HostileResponse,
} from './support.js';

let fx: Fixture;
beforeAll(async () => {
  fx = await startFixture();
});
afterAll(async () => {
  await fx?.app.close();
});
beforeEach(() => {
  if (fx) fx.counts = undefined;
});

const JSON_TYPE = { 'content-type': 'application/json' };
const bearer = () => ({ authorization: `Bearer ${fx.token}` });
const thread = () => fx.threads[0]!;

function rest(method: string, path: string, body?: string | Uint8Array, headers: Record<string, string> = {}): HostileRequest {
  return { method, path: `/api/v1${path}`, headers: { ...bearer(), ...(body !== undefined ? JSON_TYPE : {}), ...headers }, body };
}
function rpcMutation(name: string, body?: string | Uint8Array, headers: Record<string, string> = {}): HostileRequest {
  return { method: 'POST', path: `/trpc/${name}`, headers: { ...bearer(), ...(body !== undefined ? JSON_TYPE : {}), ...headers }, body };
}
function rpcQuery(name: string, inputText: string, headers: Record<string, string> = {}): HostileRequest {
  return { method: 'GET', path: `/trpc/${name}?input=${enc(inputText)}`, headers: { ...bearer(), ...headers } };
}

async function restCall(request: HostileRequest): Promise<HostileResponse> {
  const res = await sendAndCheck(fx, 'rest', request);
  expect(res, 'the server hung up').toBeDefined();
  return res!;
}
async function rpcCall(request: HostileRequest): Promise<HostileResponse> {
  const res = await sendAndCheck(fx, 'trpc', request);
  expect(res, 'the server hung up').toBeDefined();
  return res!;
}
const rpcStatus = (res: HostileResponse) => res.json?.error?.data?.httpStatus ?? res.status;

describe('__proto__, constructor and prototype keys are data, never prototypes', () => {
  const STATE = '{"__proto__":{"polluted":"yes"},"constructor":{"prototype":{"polluted":"yes"}},"prototype":{"x":1},"nested":{"__proto__":{"isAdmin":true}}}';

  function expectNoPollution() {
    const probe: Record<string, unknown> = {};
    expect(probe['polluted']).toBeUndefined();
    expect(probe['isAdmin']).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty('polluted');
    expect(Object.prototype).not.toHaveProperty('isAdmin');
  }

  // jsonb keeps its own key order (shorter keys first): compare the keys as sets.
  function expectKeysKept(state: Record<string, unknown>) {
    expect(Object.keys(state).sort()).toEqual(['__proto__', 'constructor', 'nested', 'prototype']);
    expect(Object.getPrototypeOf(state)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(state, '__proto__')?.value).toEqual({ polluted: 'yes' });
    expect(Object.keys(state['nested'] as object)).toEqual(['__proto__']);
  }

  it('in a message state, on REST: stored and answered as plain keys', async () => {
    const res = await restCall(rest('POST', `/ai/threads/${thread()}/messages`, `{"content":"hello","state":${STATE}}`));
    expect(res.status, res.text).toBe(201);
    expectKeysKept(res.json.createdMessage.state);
    expectKeysKept(res.json.responseMessage.updated_state);
    const again = await restCall(rest('GET', `/ai/threads/${thread()}/messages/${res.json.createdMessage.id}`));
    expectKeysKept(again.json.state);
    expectNoPollution();
  });

  it('in a thread state, on tRPC', async () => {
    const res = await rpcCall(rpcMutation('threads.create', `{"title":"proto","state":${STATE}}`));
    expect(res.status, res.text).toBe(201);
    expectKeysKept(res.json.result.data.state);
    const read = await rpcCall(rpcQuery('threads.get', `{"threadId":${res.json.result.data.id}}`));
    expectKeysKept(read.json.result.data.state);
    expectNoPollution();
  });

  it('at the top of a body, and as the offline model\'s state commands', async () => {
    const top = await restCall(
      rest('POST', `/ai/threads/${thread()}/messages`, '{"__proto__":{"content":"from the prototype"},"constructor":{"name":"x"}}'),
    );
    expect(top.status).toBe(422);
    expect(top.json.errors).toHaveProperty('content');

    const res = await restCall(
      rest('POST', `/ai/threads/${thread()}/messages`, JSON.stringify({ content: 'set __proto__.polluted to "yes"\nset constructor.prototype.polluted to 1', state: {} })),
    );
    expect(res.status, res.text).toBe(201);
    const state = res.json.responseMessage.updated_state;
    expect(Object.keys(state).sort()).toEqual(['__proto__', 'constructor']);
    expect(Object.getPrototypeOf(state)).toBe(Object.prototype);
    expectNoPollution();
  });

  it('as metadata keys and list filters', async () => {
    const created = await restCall(rest('POST', '/ai/threads', '{"metadata":{"__proto__":"a","constructor":"b","toString":"c"}}'));
    expect(created.status, created.text).toBe(201);
    expect(Object.keys(created.json.metadata).sort()).toEqual(['__proto__', 'constructor', 'toString']);
    const listed = await restCall(rest('GET', '/ai/threads?metadata_key=__proto__&metadata_value=a'));
    expect(listed.status).toBe(200);
    expect(listed.json.data.map((t: { id: number }) => t.id)).toEqual([created.json.id]);
    const none = await restCall(rest('GET', '/ai/threads?metadata_key=hasOwnProperty'));
    expect(none.status).toBe(200);
    expect(none.json.data).toEqual([]);
    expectNoPollution();
  });
});

describe('invalid UTF-8 and text that cannot be stored', () => {
  const bytes = (...parts: Array<string | number[]>) =>
    Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : Buffer.from(p))));

  it.each([
    ['a truncated sequence', bytes('{"content":"', [0xc3], '"}')],
    ['a stray continuation byte', bytes('{"content":"', [0x80, 0x80], '"}')],
    ['an overlong NUL', bytes('{"content":"', [0xc0, 0x80], '"}')],
    ['a UTF-8 encoded surrogate (CESU-8)', bytes('{"content":"', [0xed, 0xa0, 0x80], '"}')],
    ['bytes that are no UTF-8 at all', bytes([0xff, 0xfe, 0xfd, 0xfc])],
    ['invalid UTF-8 inside a state key', bytes('{"content":"hi","state":{"', [0xff], '":1}}')],
  ])('%s: 400 "not valid UTF-8" on both faces, nothing stored', async (_label, body) => {
    // The tRPC input names the thread in the body.
    const rpcBody = body[0] === 0x7b ? Buffer.concat([Buffer.from(`{"threadId":${thread()},`), body.subarray(1)]) : body;
    for (const request of [rest('POST', `/ai/threads/${thread()}/messages`, body), rpcMutation('messages.create', rpcBody)]) {
      const res = request.path.startsWith('/trpc') ? await rpcCall(request) : await restCall(request);
      expect(rpcStatus(res), res.text).toBe(400);
      const message = res.json?.error?.message ?? res.json?.message;
      expect(message).toBe('The request body is not valid UTF-8.');
    }
  });

  it.each([
    ['a lone high surrogate', '"\\ud800"'],
    ['a lone low surrogate', '"x\\udfff"'],
    ['NUL', '"a\\u0000b"'],
  ])('%s as JSON escape in content, state values and state keys: 422', async (_label, text) => {
    for (const body of [
      `{"content":${text}}`,
      `{"content":"hi","state":{"v":${text}}}`,
      `{"content":"hi","state":{${text}:1}}`,
      `{"content":"hi","state":{"deep":[[{"v":${text}}]]}}`,
    ]) {
      const res = await restCall(rest('POST', `/ai/threads/${thread()}/messages`, body));
      expect(res.status, res.text).toBe(422);
      const rpc = await rpcCall(rpcMutation('messages.create', `{"threadId":${thread()},${body.slice(1)}`));
      expect(rpc.status, rpc.text).toBe(422);
    }
    for (const body of [`{"title":${text}}`, `{"instructions":${text}}`, `{"metadata":{"k":${text}}}`, `{"metadata":{${text}:"v"}}`, `{"state":{"s":${text}}}`]) {
      const res = await restCall(rest('POST', '/ai/threads', body));
      expect(res.status, `${body} → ${res.text}`).toBe(422);
    }
  });
});

describe('numbers JSON cannot hold', () => {
  it.each(['1e400', '-1e400', '1e999999', '-0', '1e-400', '123456789012345678901234567890', '0.' + '0'.repeat(5000) + '1', '9'.repeat(10_000)])(
    '%s in a state: stored finite, or refused with 422',
    async (number) => {
      const res = await restCall(rest('POST', `/ai/threads/${thread()}/messages`, `{"content":"hi","state":{"n":${number}}}`));
      expect([201, 422], res.text).toContain(res.status);
      if (res.status === 201) expect(Number.isFinite(res.json.createdMessage.state.n)).toBe(true);
      const rpc = await rpcCall(rpcMutation('threads.create', `{"state":{"n":${number}}}`));
      expect([201, 422], rpc.text).toContain(rpc.status);
    },
  );

  it.each(['1e400', '-1', '0', '1.5', '1e3', '9007199254740992', '99999999999999999999999', 'NaN', 'Infinity', '0x10', '%20', '-0'])(
    'thread id %s in the path, the query and the tRPC input: 422 or 404',
    async (id) => {
      const path = await restCall(rest('GET', `/ai/threads/${enc(id)}`));
      expect([404, 422], path.text).toContain(path.status);
      const query = await restCall(rest('GET', `/ai/threads?after=${enc(id)}`));
      expect([200, 422], query.text).toContain(query.status);
      const rpc = await rpcCall(rpcQuery('threads.get', `{"threadId":${/^[-\d.e]+$/i.test(id) ? id : JSON.stringify(id)}}`));
      expect([404, 422], rpc.text).toContain(rpc.status);
      const limit = await restCall(rest('GET', `/ai/threads/${thread()}/messages?limit=${enc(id)}`));
      expect([200, 422], limit.text).toContain(limit.status);
    },
  );
});

describe('10,000 levels of nesting', () => {
  const deep = { array: DEEP_ARRAY(10_000), object: DEEP_OBJECT(10_000) };

  it.each(Object.entries(deep))('a whole body that is a 10,000-level %s, on every REST write', async (kind, text) => {
    // An array is no object (422); the object's one key `a` is a stray field, dropped, so a thread
    // (all of whose fields are optional) is created from it, and the other writes miss a field.
    const created = kind === 'array' ? 422 : 201;
    for (const [method, path, status] of [
      ['POST', '/ai/threads', created],
      ['POST', `/ai/threads/${thread()}/messages`, 422],
      ['POST', `/ai/threads/${thread()}/messages/stream`, 422],
      ['POST', '/api-tokens', 422],
      ['POST', '/auth/sign-up', 422],
      ['POST', '/auth/sign-in', 422],
      ['PATCH', `/ai/threads/${thread()}`, kind === 'array' ? 422 : 200],
    ] as const) {
      const res = await restCall(rest(method, path, text));
      expect(res.status, `${path} → ${res.text.slice(0, 300)}`).toBe(status);
    }
  });

  it.each(Object.entries(deep))('a 10,000-level %s in every field, on both faces', async (_kind, text) => {
    for (const field of ['content', 'state', 'title', 'metadata', 'toJSON', 'then', '__proto__', 'constructor']) {
      for (const request of [
        rest('POST', `/ai/threads/${thread()}/messages`, `{"content":"hi","${field}":${text}}`),
        rest('POST', '/ai/threads', `{"${field}":${text}}`, { 'idempotency-key': `deep-${field}` }),
        rest('POST', `/ai/threads/${thread()}/messages/stream`, `{"content":"hi","${field}":${text}}`),
        rpcMutation('messages.create', `{"threadId":${thread()},"content":"hi","${field}":${text}}`),
        rpcMutation('threads.create', `{"${field}":${text}}`, { 'idempotency-key': `deep-rpc-${field}` }),
        rpcQuery('threads.list', `{"${field}":${text}}`),
      ]) {
        const res = request.path.startsWith('/trpc') ? await rpcCall(request) : await restCall(request);
        expect(res.status, `${request.method} ${request.path.slice(0, 60)} ${field} → ${res.text.slice(0, 200)}`).toBeLessThan(500);
      }
    }
  });

  it('a 10,000-level subscription input', async () => {
    const res = await rpcCall(rpcQuery('messages.stream', `{"threadId":${thread()},"content":"hi","state":${deep.object}}`));
    expect(res.status).toBeLessThan(500);
  });
});

describe('bodies JSON parsers choke on', () => {
  it.each([
    ['truncated', '{"content":"hi"'],
    ['trailing garbage', '{"content":"hi"}x'],
    ['two documents', '{}{}'],
    ['a BOM', '\ufeff{"content":"hi"}'],
    ['single quotes', "{'content':'hi'}"],
    ['a trailing comma', '{"content":"hi",}'],
    ['a comment', '{"content":"hi"/* */}'],
    ['an unterminated string', '{"content":"hi'],
    ['only whitespace', '   \n  '],
    ['NaN', '{"content":"hi","state":{"n":NaN}}'],
    ['duplicate keys', '{"content":"a","content":"b"}'],
  ])('%s: 400 or a 4xx, on both faces', async (_label, body) => {
    const res = await restCall(rest('POST', `/ai/threads/${thread()}/messages`, body));
    expect(res.status).toBeLessThan(500);
    const rpc = await rpcCall(rpcMutation('messages.create', body));
    expect(rpc.status).toBeLessThan(500);
  });
});

describe('content types and encodings', () => {
  const body = () => JSON.stringify({ content: 'hi' });
  it.each([
    'text/plain',
    'application/x-www-form-urlencoded',
    'multipart/form-data; boundary=xyz',
    'application/json; charset=latin1',
    'application/json; charset=utf-16',
    'application/json; charset=nonsense',
    'application/xml',
    'application/octet-stream',
    'text/event-stream',
    'garbage',
    '',
  ])('%s: 415 or another 4xx, or read as JSON; never a 5xx', async (type) => {
    const res = await restCall(rest('POST', `/ai/threads/${thread()}/messages`, body(), { 'content-type': type }));
    expect([201, 400, 415, 422], res.text).toContain(res.status);
    const rpc = await rpcCall(rpcMutation('messages.create', JSON.stringify({ threadId: thread(), content: 'hi' }), { 'content-type': type }));
    expect([201, 400, 415, 422], rpc.text).toContain(rpc.status);
  });

  it.each(['latin1', 'utf-16', 'iso-8859-1'])('application/json; charset=%s is a 415 that asks for UTF-8, on both faces', async (charset) => {
    const type = { 'content-type': `application/json; charset=${charset}` };
    const res = await restCall(rest('POST', '/ai/threads', '{}', type));
    expect(res.status).toBe(415);
    expect(res.json.message).toBe('Send the request body as UTF-8 JSON.');
    const rpc = await rpcCall(rpcMutation('threads.create', '{}', type));
    expect(rpcStatus(rpc)).toBe(415);
  });

  it.each([
    ['gzip garbage', 'gzip', Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0x01, 0x02, 0x03])],
    ['deflate garbage', 'deflate', Buffer.from('not deflate')],
    ['brotli garbage', 'br', Buffer.from([0xff, 0xff, 0xff])],
    ['an unknown encoding', 'x-unknown', Buffer.from('{}')],
    ['a stacked encoding', 'gzip, gzip', gzipSync(gzipSync(Buffer.from('{}')))],
    ['valid gzip', 'gzip', gzipSync(Buffer.from('{"title":"zipped"}'))],
  ])('Content-Encoding with %s: never a 5xx', async (_label, encoding, payload) => {
    const res = await restCall(rest('POST', '/ai/threads', payload, { 'content-encoding': encoding }));
    expect([201, 400, 415], res.text).toContain(res.status);
    const rpc = await rpcCall(rpcMutation('threads.create', payload, { 'content-encoding': encoding }));
    expect(rpc.status).toBeLessThan(500);
  });

  it('a gzip bomb (100 MB of zeros) is a 413, not a 100 MB allocation', async () => {
    const bomb = gzipSync(Buffer.alloc(100 * 1024 * 1024));
    const res = await restCall(rest('POST', '/ai/threads', bomb, { 'content-encoding': 'gzip' }));
    expect(res.status).toBe(413);
  });

  it('a body over the limit: 413 on both faces, also when streamed without a length', async () => {
    const big = JSON.stringify({ content: 'a'.repeat(300 * 1024) });
    expect((await restCall(rest('POST', `/ai/threads/${thread()}/messages`, big))).status).toBe(413);
    expect((await rpcCall(rpcMutation('messages.create', big))).status).toBe(413);
    const chunked = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < 40; i += 1) controller.enqueue(new TextEncoder().encode('a'.repeat(10_000)));
        controller.close();
      },
    });
    const res = await fetch(`${fx.app.url}/api/v1/ai/threads`, {
      method: 'POST',
      headers: { ...bearer(), ...JSON_TYPE },
      body: chunked,
      duplex: 'half',
    } as RequestInit);
    expect(res.status).toBe(413);
    expect(await res.json()).toEqual({ message: expect.any(String) });
  });
});

describe('very long and odd headers', () => {
  it.each([
    ['Authorization', 'authorization', `Bearer ${'a'.repeat(12_000)}`, [401]],
    ['Authorization (no scheme)', 'authorization', 'x'.repeat(12_000), [401]],
    ['Idempotency-Key', 'idempotency-key', 'k'.repeat(12_000), [422]],
    ['Last-Event-ID', 'last-event-id', '1'.repeat(12_000), [422]],
    ['X-Request-Id', 'x-request-id', 'r'.repeat(12_000), [200, 201]],
    ['Cookie', 'cookie', `ai_threads_session=${'c'.repeat(12_000)}`, [201]],
    ['Accept', 'accept', 'text/'.repeat(2_400), [200, 201]],
  ])('%s of 12 KB: a clean answer', async (_label, name, value, statuses) => {
    const path = name === 'last-event-id' ? `/ai/threads/${thread()}/messages/stream` : name === 'idempotency-key' ? '/ai/threads' : `/ai/threads/${thread()}/messages`;
    const res = await restCall(rest('POST', path, JSON.stringify({ content: 'hi' }), { [name]: value }));
    expect(statuses, res.text.slice(0, 300)).toContain(res.status);
    if (name === 'x-request-id') expect(res.headers.get('x-request-id')!.length).toBeLessThanOrEqual(128);
  });

  it('headers over node\'s 16 KB limit: 431 (or a hang-up), and the process goes on', async () => {
    const before = await counts(fx.app);
    const res = await fetch(`${fx.app.url}/api/v1/ai/threads`, {
      method: 'POST',
      headers: { authorization: `Bearer ${'a'.repeat(40_000)}`, ...JSON_TYPE },
      body: '{}',
    }).catch(() => undefined);
    if (res) expect(res.status).toBe(431);
    expect(await counts(fx.app)).toEqual(before);
    await expectAlive(fx);
  });

  it('a Last-Event-ID that points at nothing, or at another user\'s message', async () => {
    for (const id of ['1:0', `${fx.messages[0]}:999999999`, '9999999999999999:0', '0:0', `${fx.messages[0]}:done`, '1:-1', 'a:b']) {
      const res = await restCall(rest('POST', `/ai/threads/${fx.foreignThread}/messages/stream`, '{"content":"hi"}', { 'last-event-id': id }));
      expect([404, 422], res.text).toContain(res.status);
    }
  });
});

describe('a million keys under the size limit', () => {
  let server: Server;
  let url: string;
  beforeAll(async () => {
    // A second instance over the same database, with room for a 16 MB body.
    const config = configWith({ ...HOSTILE_ENV, LOG_LEVEL: 'silent', NODE_ENV: 'test', MAX_BODY_BYTES: String(16 * 1024 * 1024) });
    const services = createServices({ config, database: fx.app.database, logger: createLogger('silent'), limiter: createMemoryRateLimiter() });
    server = await new Promise((resolve) => {
      const s = createApp(services).listen(0, '127.0.0.1', () => resolve(s));
    });
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server?.closeAllConnections();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  });

  const keys = (n: number) => {
    const parts: string[] = [];
    for (let i = 0; i < n; i += 1) parts.push(`"k${i.toString(36)}":0`);
    return `{${parts.join(',')}}`;
  };

  /**
   * Sends `body` to the big-body instance; below 500, and `status` when given. How long it takes is
   * the benchmark's business: a time limit here would only measure how loaded the machine is.
   */
  async function bigCall(path: string, body: string, status?: number) {
    expect(body.length).toBeLessThan(16 * 1024 * 1024);
    const before = await counts(fx.app);
    const res = await fetch(url + path, { method: 'POST', headers: { ...bearer(), ...JSON_TYPE }, body });
    const answer = await res.text();
    expect(res.status, `${path} → ${answer.slice(0, 300)}`).toBeLessThan(500);
    if (status !== undefined) expect(res.status, answer.slice(0, 300)).toBe(status);
    if (res.status >= 400) expect(await counts(fx.app)).toEqual(before);
    fx.counts = undefined;
  }

  it('a million keys in a state: 422, on REST', { timeout: 60_000 }, async () => {
    await bigCall(`/api/v1/ai/threads/${thread()}/messages`, `{"content":"hi","state":${keys(1_000_000)}}`, 422);
  });

  it('a million stray top-level keys: dropped, on tRPC', { timeout: 60_000 }, async () => {
    const million = keys(1_000_000);
    await bigCall('/trpc/messages.create', `{"threadId":${thread()},"content":"hi",${million.slice(1)}`, 201);
  });

  it('200,000 metadata keys, on both faces: 422', { timeout: 60_000 }, async () => {
    const metadata = keys(200_000).replace(/:0/g, ':"v"');
    await bigCall('/api/v1/ai/threads', `{"metadata":${metadata}}`, 422);
    await bigCall('/trpc/threads.create', `{"metadata":${metadata}}`, 422);
    await expectAlive(fx);
  });
});

describe('requests node itself has to refuse (raw socket)', () => {
  /** Writes raw bytes to the server and reads until it closes (or a timeout). */
  function rawHttp(payload: string | Buffer, timeoutMs = 3000): Promise<{ status: number | undefined; text: string }> {
    const { port } = new URL(fx.app.url);
    return new Promise((resolve) => {
      const socket = connect(Number(port), '127.0.0.1');
      const chunks: Buffer[] = [];
      const done = () => {
        socket.destroy();
        const text = Buffer.concat(chunks).toString('latin1');
        const match = /^HTTP\/1\.[01] (\d{3})/.exec(text);
        resolve({ status: match ? Number(match[1]) : undefined, text });
      };
      socket.setTimeout(timeoutMs, done);
      socket.on('data', (chunk) => chunks.push(chunk));
      socket.on('end', done);
      socket.on('error', done);
      socket.on('close', done);
      socket.write(payload);
    });
  }

  const auth = () => `Authorization: Bearer ${fx.token}\r\n`;
  const post = (path: string, headers: string, body: string) =>
    `POST ${path} HTTP/1.1\r\nHost: localhost\r\n${auth()}Content-Type: application/json\r\n${headers}Connection: close\r\n\r\n${body}`;

  it.each([
    ['a NUL in a header value', () => Buffer.from(`GET /api/v1/me HTTP/1.1\r\nHost: x\r\nX-A: a\u0000b\r\n${auth()}Connection: close\r\n\r\n`, 'latin1')],
    ['obs-text bytes in Authorization', () => Buffer.concat([Buffer.from('GET /api/v1/me HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer '), Buffer.from([0xff, 0xfe, 0x80]), Buffer.from('\r\nConnection: close\r\n\r\n')])],
    ['obs-text in Idempotency-Key', () => Buffer.concat([Buffer.from(`POST /api/v1/ai/threads HTTP/1.1\r\nHost: x\r\n${auth()}Content-Type: application/json\r\nContent-Length: 2\r\nIdempotency-Key: `), Buffer.from([0xe9, 0xff]), Buffer.from('\r\nConnection: close\r\n\r\n{}')])],
    ['a bare LF line ending', () => 'GET /api/v1/me HTTP/1.1\nHost: x\n\n'],
    ['a header without a colon', () => 'GET /api/v1/me HTTP/1.1\r\nHost: x\r\nNoColonHere\r\n\r\n'],
    ['Content-Length and Transfer-Encoding (smuggling)', () => post('/api/v1/ai/threads', 'Content-Length: 2\r\nTransfer-Encoding: chunked\r\n', '0\r\n\r\n{}')],
    ['two different Content-Lengths', () => post('/api/v1/ai/threads', 'Content-Length: 2\r\nContent-Length: 3\r\n', '{}')],
    ['a negative Content-Length', () => post('/api/v1/ai/threads', 'Content-Length: -1\r\n', '{}')],
    ['a huge Content-Length', () => post('/api/v1/ai/threads', 'Content-Length: 99999999999999999999\r\n', '{}')],
    ['a bad chunk size', () => post('/api/v1/ai/threads', 'Transfer-Encoding: chunked\r\n', 'zz\r\n{}\r\n0\r\n\r\n')],
    ['an unknown Transfer-Encoding', () => post('/api/v1/ai/threads', 'Transfer-Encoding: gzip, identity\r\n', '{}')],
    ['a chunked body over the limit', () => post('/api/v1/ai/threads', 'Transfer-Encoding: chunked\r\n', `${(300 * 1024).toString(16)}\r\n${'a'.repeat(300 * 1024)}\r\n0\r\n\r\n`)],
    ['a body shorter than its Content-Length (then a hang-up)', () => post('/api/v1/ai/threads', 'Content-Length: 100\r\n', '{"title":'), 1000],
    ['a 100 KB request line', () => `GET /api/v1/ai/threads?${'a'.repeat(100_000)} HTTP/1.1\r\nHost: x\r\n\r\n`],
    ['HTTP/1.0 without Host', () => 'GET /api/v1/me HTTP/1.0\r\n\r\n'],
    ['HTTP/9.9', () => 'GET /api/v1/me HTTP/9.9\r\nHost: x\r\n\r\n'],
    ['a lowercase method', () => 'get /api/v1/me HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'],
    ['an unknown method', () => 'BREW /api/v1/me HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'],
    ['an absolute-form target', () => 'GET http://evil.example/api/v1/me HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'],
    ['a target with dot segments', () => `GET /api/v1/ai/threads/../../../../etc/passwd HTTP/1.1\r\nHost: x\r\n${auth()}Connection: close\r\n\r\n`],
    ['a target with raw non-ASCII bytes', () => Buffer.concat([Buffer.from('GET /api/v1/ai/threads/'), Buffer.from([0xff, 0xc3]), Buffer.from(` HTTP/1.1\r\nHost: x\r\n${auth()}Connection: close\r\n\r\n`)])],
    ['an asterisk target', () => 'OPTIONS * HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'],
    ['a tRPC call with a raw NUL in its path', () => Buffer.from(`GET /trpc/me.get\u0000 HTTP/1.1\r\nHost: x\r\n${auth()}Connection: close\r\n\r\n`, 'latin1')],
    ['garbage', () => Buffer.from([0x16, 0x03, 0x01, 0x00, 0xa5, 0x01, 0x00])],
  ] as Array<[string, () => string | Buffer, number?]>)('%s: refused (or answered) below 500, nothing stored, the process goes on', async (_label, payload, timeoutMs) => {
    const before = await counts(fx.app);
    const res = await rawHttp(payload(), timeoutMs);
    if (res.status !== undefined) expect(res.status, res.text.slice(0, 300)).toBeLessThan(500);
    if (res.status !== undefined && res.status >= 400) expect(await counts(fx.app)).toEqual(before);
    const body = res.text.split('\r\n\r\n')[1];
    if (res.status !== undefined && res.status >= 400 && body) expect(() => JSON.parse(body)).not.toThrow();
    expect((await fx.app.http('GET', '/healthz')).status).toBe(200);
  });

  it('pipelined requests, one of them broken', async () => {
    // node refuses the connection at the broken one (400), possibly before answering the first.
    const good = `GET /api/v1/me HTTP/1.1\r\nHost: x\r\n${auth()}\r\n`;
    const res = await rawHttp(`${good}GET /api/v1/me HTTP/1.1\r\nHost: x\r\nBroken\r\n\r\n${good}`);
    expect(res.status).toBeDefined();
    for (const [, status] of res.text.matchAll(/HTTP\/1\.1 (\d{3})/g)) expect(Number(status)).toBeLessThan(500);
    expect((await fx.app.http('GET', '/healthz')).status).toBe(200);
  });

  it('a client that hangs up mid-body, and one that hangs up mid-stream', async () => {
    await rawHttp(post('/api/v1/ai/threads', 'Content-Length: 1000\r\n', '{"title":"half'), 200);
    await rawHttp(post(`/api/v1/ai/threads/${thread()}/messages/stream`, 'Content-Length: 16\r\n', '{"content":"hi"}'), 1);
    await rawHttp(post(`/trpc/messages.create`, 'Content-Length: 1000\r\n', `{"threadId":${thread()},"content":"hi`), 200);
    await new Promise((resolve) => setTimeout(resolve, 300));
    fx.counts = undefined;
    await expectAlive(fx);
  });
});

describe('regressions found by the fuzzers', () => {
  it('a body with its own `toJSON` key next to deep nesting: a 4xx, not a stack overflow', async () => {
    const deepValue = DEEP_OBJECT(10_000);
    for (const toJSON of ['1', '"x"', 'null', '{}', deepValue]) {
      const res = await restCall(rest('POST', '/api-tokens', `{"name":"t","permissions":["ai_threads.view"],"toJSON":${toJSON},"x":${deepValue}}`, { authorization: 'Bearer nope' }));
      expect(res.status).toBe(401);
      const mine = await restCall(rest('POST', `/ai/threads/${thread()}/messages`, `{"toJSON":${toJSON},"content":"hi","state":${deepValue}}`));
      expect(mine.status, mine.text).toBe(422);
    }
  });

  it('a stream route whose thread id cannot be percent-decoded: the 422 of every other route', async () => {
    for (const id of ['%zz', '%ED%A0%80', '%', '%C0%80', '%FF']) {
      const stream = await restCall(rest('POST', `/ai/threads/${id}/messages/stream`, '{"content":"hi"}'));
      const create = await restCall(rest('POST', `/ai/threads/${id}/messages`, '{"content":"hi"}'));
      expect({ status: stream.status, body: stream.json }).toEqual({ status: create.status, body: create.json });
      expect(stream.status).toBe(422);
    }
  });

  it('a body that fails to inflate: 400 in the seed\'s shape', async () => {
    const res = await restCall(rest('POST', '/ai/threads', Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0x01, 0x02]), { 'content-encoding': 'gzip' }));
    expect(res.status).toBe(400);
    expect(res.json).toEqual({ message: expect.any(String) });
  });

  it('a tRPC batch in which one call stores a row and another is refused: 207, not a 4xx', async () => {
    const before = await counts(fx.app);
    const res = await rpcCall({
      method: 'POST',
      path: '/trpc/threads.create,threads.create?batch=1',
      headers: { ...bearer(), ...JSON_TYPE },
      body: '{"0":{"title":"kept"},"1":{"title":42}}',
    });
    expect(res.status).toBe(207);
    expect(res.json[0].result.data.title).toBe('kept');
    expect(res.json[1].error.data.httpStatus).toBe(422);
    expect((await counts(fx.app)).threads).toBe(before.threads + 1);
    const refused = await rpcCall({
      method: 'POST',
      path: '/trpc/threads.create,threads.create?batch=1',
      headers: { ...bearer(), ...JSON_TYPE },
      body: '{"0":{"title":42},"1":{"title":""}}',
    });
    expect(refused.status).toBe(422);
  });

  it('tRPC errors raised before any procedure runs are labelled JSON', async () => {
    for (const request of [
      { method: 'POST', path: '/trpc/threads.create', headers: { ...bearer(), 'content-type': 'text/plain' }, body: '{}' },
      { method: 'GET', path: '/trpc/threads.list?input=%7B', headers: bearer() },
      { method: 'GET', path: '/trpc/%ED%A0%80', headers: bearer() },
      { method: 'GET', path: '/trpc/threads.create', headers: bearer() },
    ]) {
      const res = await rpcCall(request);
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    }
  });
});

describe('paths outside the operations', () => {
  it.each([
    '/api/v1/__proto__',
    '/api/v1/constructor',
    '/api/v1/ai/threads/constructor/messages',
    '/api/v1/ai/threads/1/messages/__proto__',
    '/api/v1/ai/threads/%2e%2e/messages',
    '/api/v1/ai/threads/1%2F2',
    '/api/v1/ai/threads/%00',
    '/api/v1/ai/threads/%zz/messages/%zz',
    '/api/v1/ai/threads/%ED%A0%80/messages/stream',
    '/api/v1/ai/threads/%zz/messages/stream',
    '/api/v1//ai/threads',
    '/api/v1/ai/threads/' + '9'.repeat(8000),
    '/api/v1/' + 'a/'.repeat(3000),
    '/api/v1/openapi.json/%zz',
    '/docs/%zz',
    '/docs/..%2f..%2fpackage.json',
    '/docs/scalar.js/%2e%2e',
    '/healthz/%zz',
    '/%zz',
    '/trpc/%zz',
    '/trpc/',
    '/trpc',
  ])('%s: a JSON 4xx (or a page) on every method', async (path) => {
    for (const method of ['GET', 'POST', 'PATCH', 'DELETE', 'PUT', 'OPTIONS']) {
      const request: HostileRequest = { method, path, headers: { ...bearer(), ...(method === 'GET' || method === 'OPTIONS' ? {} : JSON_TYPE) }, body: method === 'GET' || method === 'OPTIONS' ? undefined : '{"content":"hi"}' };
      const res = await sendAndCheck(fx, 'any', request);
      expect(res?.status, `${method} ${path}`).toBeLessThan(500);
    }
  });

  it('and the process still answers', async () => {
    await expectAlive(fx);
  });
});
