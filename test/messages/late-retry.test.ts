// A retry (same Idempotency-Key) of a failed message after the thread moved on: its answer would be
// stored after the newer messages, out of order, so it is refused with 409 and nothing is stored;
// the client posts it again as a new message. Resuming the failed message's stream reports what is
// stored, also when a retry answered it after its first stream had ended with an error.
import { describe, expect, it } from 'vitest';
import { harness } from '../support/harness.js';
import { trpc } from '../support/helpers.js';
import { openStream, refusedStream, SseReader } from '../support/sse.js';
import { expectErrorBody, expectStoresNothing, listAll, newThread, postMessage, sendMessage } from '../support/threads.js';

const STALE =
  'The message this Idempotency-Key stands for has newer messages after it in the thread; post it again as a new message (with a new key).';

let keySeq = 0;
const newKey = () => `late-${Date.now()}-${++keySeq}`;
const keyed = (key: string) => ({ 'idempotency-key': key });

const { app, fake, user } = await harness();

/** A keyed message that failed (502), then a newer pair: returns the failed message's id. */
async function failedThenMovedOn(threadId: number, key: string, body: Record<string, unknown>) {
  fake.script({ type: 'error', status: 500 }, { type: 'text', content: 'Newer answer.' });
  expect((await postMessage(app, user.token, threadId, body, keyed(key))).status).toBe(502);
  const [failed] = await listAll(app, user, threadId);
  await sendMessage(app, user, threadId, { content: 'Newer question' });
  return failed!.id as number;
}

/** The events of a tRPC `messages.stream` subscription, read as the EventSource would. */
async function trpcStream(input: Record<string, unknown>, headers: Record<string, string> = {}) {
  const controller = new AbortController();
  const res = await fetch(`${app.url}/trpc/messages.stream?input=${encodeURIComponent(JSON.stringify(input))}`, {
    headers: { accept: 'text/event-stream', authorization: `Bearer ${user.token}`, ...headers },
    signal: controller.signal,
  });
  expect(res.status).toBe(200);
  const reader = new SseReader(res, controller);
  const events: Array<{ event: string; data: any }> = [];
  for (;;) {
    const frame = await reader.next();
    if (!frame) break;
    if (frame.event === 'serialized-error') {
      events.push({ event: 'serialized-error', data: frame.data });
      break;
    }
    if (frame.data?.event) events.push(frame.data);
    if (frame.data?.event === 'response.completed' || frame.data?.event === 'error') break;
  }
  reader.abort();
  return events;
}

describe('a retry of a failed message once newer messages exist', () => {
  it('is refused with 409 on /messages and /messages/stream, storing nothing and calling no model', async () => {
    const thread = await newThread(app, user);
    const key = newKey();
    const body = { content: 'Late one' };
    const failedId = await failedThenMovedOn(thread.id, key, body);
    const before = await listAll(app, user, thread.id);
    const calls = fake.requests.length;

    const retried = await expectStoresNothing(app, () => postMessage(app, user.token, thread.id, body, keyed(key)));
    expectErrorBody(retried, 409, STALE);
    const streamed = await expectStoresNothing(app, () =>
      refusedStream(app, thread.id, { token: user.token, body, headers: keyed(key) }),
    );
    expect({ status: streamed.status, body: streamed.body }).toStrictEqual({ status: 409, body: { message: STALE } });
    expect(fake.requests.length).toBe(calls);
    expect(await listAll(app, user, thread.id)).toStrictEqual(before);
    expect(before.map((m) => [m.id, m.status])[0]).toEqual([failedId, 'failed']);

    // Posted again as a new message, it is answered at the end of the thread.
    fake.script({ type: 'text', content: 'Answered in order.' });
    const again = await sendMessage(app, user, thread.id, body, keyed(newKey()));
    expect(again.createdMessage.id).toBeGreaterThan(before.at(-1)!.id);
  });

  it('is refused with 409 on the tRPC face too', async () => {
    const thread = await newThread(app, user);
    const key = newKey();
    await failedThenMovedOn(thread.id, key, { content: 'Late over tRPC' });
    const res = await expectStoresNothing(app, () =>
      trpc(app, 'mutation', 'messages.create', { threadId: thread.id, content: 'Late over tRPC' }, {
        token: user.token,
        headers: keyed(key),
      }),
    );
    expect(res.status).toBe(409);
    expect(res.body.error.message).toBe(STALE);
  });

  it('leaves the failed message resumable with its stored outcome, an error', async () => {
    const thread = await newThread(app, user);
    const key = newKey();
    const failedId = await failedThenMovedOn(thread.id, key, { content: 'Resume me' });
    expect((await postMessage(app, user.token, thread.id, { content: 'Resume me' }, keyed(key))).status).toBe(409);
    const events = await (await openStream(app, thread.id, {
      token: user.token,
      body: { content: 'Resume me' },
      lastEventId: `${failedId}:0`,
    })).all();
    expect(events.map((event) => event.event)).toEqual(['error']);
  });
});

describe('resuming a message answered by a retry after its stream failed', () => {
  it('reports the stored answer, not the failed attempt (REST)', async () => {
    const thread = await newThread(app, user);
    const key = newKey();
    const body = { content: 'Second time lucky' };
    fake.script({ type: 'error', status: 500 });
    const first = await (await openStream(app, thread.id, { token: user.token, body, headers: keyed(key) })).all();
    expect(first.map((event) => event.event)).toEqual(['message.created', 'error']);

    fake.script({ type: 'text', content: 'Lucky.' });
    const retried = await sendMessage(app, user, thread.id, body, keyed(key));
    expect(retried.createdMessage.id).toBe(first[0]!.data.id);

    const resumed = await (await openStream(app, thread.id, { token: user.token, body, lastEventId: first[0]!.id! })).all();
    expect(resumed.at(-1)).toMatchObject({ event: 'response.completed', data: retried });
    expect(resumed.filter((event) => event.event === 'error')).toEqual([]);
  });

  it('reports the stored answer, not the failed attempt (tRPC)', async () => {
    const thread = await newThread(app, user);
    const key = newKey();
    const input = { threadId: thread.id, content: 'Lucky over tRPC' };
    fake.script({ type: 'error', status: 500 });
    const first = await trpcStream(input, keyed(key));
    expect(first.map((event) => event.event)).toEqual(['message.created', 'error']);
    const messageId = first[0]!.data.id as number;

    fake.script({ type: 'text', content: 'Lucky.' });
    const retried = await trpc(app, 'mutation', 'messages.create', input, { token: user.token, headers: keyed(key) });
    expect(retried.status).toBe(201);

    const resumed = await trpcStream({ ...input, lastEventId: `${messageId}:0` });
    expect(resumed.at(-1)).toMatchObject({ event: 'response.completed', data: retried.body.result.data });
  });
});
