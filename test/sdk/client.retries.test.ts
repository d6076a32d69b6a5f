// The SDK's retries: a 409 busy retried until the thread is free, a 5xx retried with the same
// Idempotency-Key so the server answers the same user message (never a duplicate), and the rules
// (what is retried, what is not, Retry-After as seconds or a date) on a scripted fetch.
import { describe, expect, it } from 'vitest';
import {
  AiThreads,
  APIConnectionError,
  BadGatewayError,
  ConflictError,
  NotFoundError,
  RateLimitError,
  ServiceUnavailableError,
} from '../../client-sdk/src/index.js';
import { harness } from '../support/harness.js';
import { gate, inFlight, messageRows } from '../support/threads.js';
import { idempotencyKeys, recordingFetch, sdk, statuses } from './helpers.js';

const { app, fake } = await harness();

describe('against the service', () => {
  it('retries a 409 busy until the earlier answer is stored, then answers once', async () => {
    const user = await app.signUp();
    const held = gate();
    fake.script({ type: 'gate', until: held.until, then: { type: 'text', content: 'First answer.' } }, { type: 'text', content: 'Second answer.' });
    const client = sdk(app, user);
    const thread = await client.threads.create();
    const first = await inFlight(fake, () => client.messages.create(thread.id, { content: 'First' }));

    // The earlier answer is let go only once the second message has been refused as busy.
    const recording = recordingFetch((attempt) => {
      if (attempt.status === 409) held.open();
    });
    const second = await sdk(app, user, { fetch: recording.fetch }).messages.create(thread.id, { content: 'Second' }, { maxRetries: 10 });

    const seen = statuses(recording);
    expect(seen[0]).toBe(409);
    expect(seen[seen.length - 1]).toBe(201);
    expect(seen.slice(0, -1).every((status) => status === 409)).toBe(true);
    expect(idempotencyKeys(recording)).toEqual([expect.stringMatching(/^[0-9a-f-]{36}$/)]);
    expect((await first.done).responseMessage.content).toBe('First answer.');
    expect(second.responseMessage.content).toBe('Second answer.');

    const messages = (await client.messages.list(thread.id)).data;
    expect(messages.map((m) => [m.role, m.content, m.status])).toEqual([
      ['user', 'First', 'completed'],
      ['assistant', 'First answer.', 'completed'],
      ['user', 'Second', 'completed'],
      ['assistant', 'Second answer.', 'completed'],
    ]);
    expect(await messageRows(app, thread.id)).toBe(4);
  });

  it('retries a 502 with the same Idempotency-Key: the same user message is answered, no duplicate', async () => {
    const user = await app.signUp();
    const recording = recordingFetch();
    const client = sdk(app, user, { fetch: recording.fetch });
    const thread = await client.threads.create();
    const messagesBefore = await app.count('messages');
    fake.script({ type: 'error', status: 500 }, { type: 'text', content: 'Recovered.' });

    const pair = await client.messages.create(thread.id, { content: 'Flaky' });

    const creates = recording.attempts.filter((a) => a.path.endsWith('/messages'));
    expect(creates.map((a) => a.status)).toEqual([502, 201]);
    expect(new Set(creates.map((a) => a.headers.get('idempotency-key'))).size).toBe(1);
    expect(pair.createdMessage).toMatchObject({ content: 'Flaky', status: 'completed' });
    expect(pair.responseMessage).toMatchObject({ content: 'Recovered.', status: 'completed' });
    expect(await app.count('messages')).toBe(messagesBefore + 2);
    const messages = (await client.messages.list(thread.id)).data;
    expect(messages.map((m) => [m.id, m.role, m.status])).toEqual([
      [pair.createdMessage.id, 'user', 'completed'],
      [pair.responseMessage.id, 'assistant', 'completed'],
    ]);
  });

  it('gives up after maxRetries with the typed error, and keeps the user message failed', async () => {
    const user = await app.signUp();
    const recording = recordingFetch();
    const client = sdk(app, user, { fetch: recording.fetch, maxRetries: 1 });
    const thread = await client.threads.create();
    fake.script({ type: 'error', status: 500 }, { type: 'error', status: 500 });

    const error = await client.messages.create(thread.id, { content: 'Doomed' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BadGatewayError);
    expect(error).toMatchObject({ status: 502, requestId: expect.any(String) });
    expect(statuses(recording).slice(-2)).toEqual([502, 502]);
    const messages = (await client.messages.list(thread.id)).data;
    expect(messages.map((m) => [m.role, m.status])).toEqual([['user', 'failed']]);
  });

  it('retries a refused stream (409 busy) like any call', async () => {
    const user = await app.signUp();
    const held = gate();
    fake.script({ type: 'gate', until: held.until, then: { type: 'text', content: 'One.' } }, { type: 'text', content: 'Two.' });
    const client = sdk(app, user);
    const thread = await client.threads.create();
    const first = await inFlight(fake, () => client.messages.create(thread.id, { content: 'One' }));
    const recording = recordingFetch((attempt) => {
      if (attempt.status === 409) held.open();
    });
    const pair = await sdk(app, user, { fetch: recording.fetch, maxRetries: 10 }).messages.stream(thread.id, { content: 'Two' }).finalMessage();
    expect(statuses(recording)[0]).toBe(409);
    expect(pair.responseMessage.content).toBe('Two.');
    await first.done;
    expect(await messageRows(app, thread.id)).toBe(4);
  });
});

/** A fetch that answers from a script, one response per call, recording each call. */
function scriptedFetch(...responses: Array<() => Response>) {
  const calls: Array<{ url: string; init: RequestInit }> = [];
  return {
    calls,
    fetch: async (url: string, init: RequestInit) => {
      calls.push({ url, init });
      const next = responses.shift();
      if (!next) throw new Error('no scripted response left');
      return next();
    },
  };
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}) => () =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', 'x-request-id': `req-${status}`, ...headers } });
const refused = () => {
  throw new TypeError('fetch failed');
};

function scriptedClient(script: ReturnType<typeof scriptedFetch>, maxRetries = 2) {
  return new AiThreads({ baseURL: 'http://sdk.test', apiKey: 'k', fetch: script.fetch, maxRetries });
}

describe('the retry rules', () => {
  it('honours Retry-After as an HTTP date, and keeps one Idempotency-Key across attempts', async () => {
    const past = new Date(Date.now() - 5_000).toUTCString();
    const script = scriptedFetch(json(503, { message: 'Busy.' }, { 'retry-after': past }), json(429, { message: 'Too Many Attempts.' }, { 'retry-after': '0' }), json(201, { id: 1 }));
    const thread = await scriptedClient(script).threads.create({ title: 't' });
    expect(thread).toEqual({ id: 1 });
    expect(script.calls).toHaveLength(3);
    const keys = script.calls.map((c) => new Headers(c.init.headers).get('idempotency-key'));
    expect(new Set(keys).size).toBe(1);
    expect(keys[0]).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('sends a new key per call, the caller’s when given, and none on GET', async () => {
    const script = scriptedFetch(json(201, { id: 1 }), json(201, { id: 2 }), json(201, { id: 3 }), json(200, { id: 3 }));
    const client = scriptedClient(script);
    await client.threads.create();
    await client.threads.create();
    await client.threads.create({}, { idempotencyKey: 'mine' });
    await client.threads.retrieve(3);
    const keys = script.calls.map((c) => new Headers(c.init.headers).get('idempotency-key'));
    expect(keys[0]).not.toBe(keys[1]);
    expect(keys.slice(2)).toEqual(['mine', null]);
  });

  it('does not retry other 4xx, nor a 409 without Retry-After', async () => {
    const notFound = scriptedFetch(json(404, { message: 'Thread not found.' }));
    await expect(scriptedClient(notFound).threads.retrieve(1)).rejects.toBeInstanceOf(NotFoundError);
    expect(notFound.calls).toHaveLength(1);

    const conflict = scriptedFetch(json(409, { message: 'The message is not being answered (its status is completed).' }));
    const error = await scriptedClient(conflict).messages.cancel(1, 2).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConflictError);
    expect(error).toMatchObject({ retryAfter: null, requestId: 'req-409' });
    expect(conflict.calls).toHaveLength(1);
  });

  it('does not wait for a Retry-After over a minute: the caller gets the error', async () => {
    const script = scriptedFetch(json(429, { message: 'Too Many Attempts.' }, { 'retry-after': '3600' }));
    const error = await scriptedClient(script).threads.list().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RateLimitError);
    expect(error).toMatchObject({ retryAfter: 3600 });
    expect(script.calls).toHaveLength(1);
  });

  it('keeps the start of an error body that is not JSON (a proxy page) in the message', async () => {
    const page = () => new Response('<html>Bad gateway</html>', { status: 502, headers: { 'content-type': 'text/html' } });
    const script = scriptedFetch(page);
    const error = await scriptedClient(script, 0).threads.list().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BadGatewayError);
    expect(error).toMatchObject({ status: 502, message: '502: <html>Bad gateway</html>', body: '<html>Bad gateway</html>', requestId: null });
  });

  it('retries connection errors and 5xx up to maxRetries, per client and per call', async () => {
    const down = scriptedFetch(refused, refused);
    const error = await scriptedClient(down, 1).me.retrieve().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(APIConnectionError);
    expect((error as Error).cause).toBeInstanceOf(TypeError);
    expect(down.calls).toHaveLength(2);

    const flaky = scriptedFetch(json(503, { message: 'Down.' }, { 'retry-after': '0' }), json(503, { message: 'Down.' }, { 'retry-after': '0' }));
    await expect(scriptedClient(flaky, 5).me.retrieve({ maxRetries: 1 })).rejects.toBeInstanceOf(ServiceUnavailableError);
    expect(flaky.calls).toHaveLength(2);
  });
});
