// A streamed call that creates a message counts against the message budget, however it names its
// `lastEventId`: an empty one is no resume, on the REST route and the tRPC subscription alike, so
// it cannot slip into the (larger) request budget. RATE_LIMIT_MESSAGES_PER_MINUTE=2; answers come
// from the offline model.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/harness.js';
import { TOO_MANY } from '../support/helpers.js';
import { openStream, refusedStream } from '../support/sse.js';
import { expectStoresNothing, listAll, newThread } from '../support/threads.js';

const LIMIT = 2;

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({ env: { RATE_LIMIT_MESSAGES_PER_MINUTE: String(LIMIT) } });
});
afterAll(async () => {
  await app?.close();
});

/** The `messages.stream` subscription over GET with a bearer token; the raw event-stream text. */
async function subscribe(token: string, input: Record<string, unknown>) {
  const query = new URLSearchParams({ input: JSON.stringify(input) });
  const res = await fetch(`${app.url}/trpc/messages.stream?${query}`, {
    headers: { accept: 'text/event-stream', authorization: `Bearer ${token}` },
  });
  const text = await res.text();
  const error = /event: serialized-error\ndata: (.*)\n/.exec(text);
  return { text, error: error ? JSON.parse(error[1]!) : undefined };
}

describe('an empty lastEventId creates a message, and is counted as one', () => {
  it('on the REST route: the message budget, then 429 storing nothing', async () => {
    const user = await app.signUp();
    const thread = await newThread(app, user);
    const body = { content: 'hi', lastEventId: '' };
    for (let i = 0; i < LIMIT; i++) {
      const events = await (await openStream(app, thread.id, { token: user.token, body })).all();
      expect(events.at(-1)!.event).toBe('response.completed');
    }
    const refused = await expectStoresNothing(app, () => refusedStream(app, thread.id, { token: user.token, body }));
    expect({ status: refused.status, body: refused.body }).toStrictEqual({ status: 429, body: TOO_MANY });
    expect(refused.headers.get('x-ratelimit-limit')).toBe(String(LIMIT));
    expect((await listAll(app, user, thread.id)).filter((m) => m.role === 'user')).toHaveLength(LIMIT);
  });

  it('on the tRPC subscription: the message budget, then 429 storing nothing', async () => {
    const user = await app.signUp();
    const thread = await newThread(app, user);
    const input = { threadId: thread.id, content: 'hi', lastEventId: '' };
    for (let i = 0; i < LIMIT; i++) {
      const res = await subscribe(user.token, input);
      expect(res.error, res.text).toBeUndefined();
      expect(res.text).toContain('response.completed');
    }
    const refused = await expectStoresNothing(app, () => subscribe(user.token, input));
    expect(refused.error).toMatchObject({ message: TOO_MANY.message, data: { httpStatus: 429 } });
    expect((await listAll(app, user, thread.id)).filter((m) => m.role === 'user')).toHaveLength(LIMIT);
  });

  it('the two faces share one budget', async () => {
    const user = await app.signUp();
    const thread = await newThread(app, user);
    await (await openStream(app, thread.id, { token: user.token, body: { content: 'hi', lastEventId: '' } })).all();
    expect((await subscribe(user.token, { threadId: thread.id, content: 'hi', lastEventId: '' })).error).toBeUndefined();
    const refused = await refusedStream(app, thread.id, { token: user.token, body: { content: 'hi' } });
    expect(refused.status).toBe(429);
  });
});
