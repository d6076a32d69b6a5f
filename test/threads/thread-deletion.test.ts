// Deleting a thread leaves no copy of its data: its messages, the stored idempotent responses that
// carry it (the thread's creation and its messages'), and its stream event logs, here and in Redis.
// The creation's Idempotency-Key is forgotten with the thread: the same key and body then create a
// new thread. Stored responses last 24 hours: an older key is never replayed, and is swept.
import { sql } from 'drizzle-orm';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { harness, type TestApp } from '../support/harness.js';
import { query, trpc } from '../support/helpers.js';
import { openStream } from '../support/sse.js';
import { newThread, sendMessage } from '../support/threads.js';

const REDIS_URL = process.env['REDIS_TEST_URL'] ?? 'redis://127.0.0.1:6379/7';
const SECRET_TITLE = 'Quarterly numbers (confidential)';
const SECRET_INSTRUCTIONS = 'You know the merger date.';
const SECRET_CONTENT = 'The merger closes on 3 March';

let keySeq = 0;
const newKey = () => `deletion-${Date.now()}-${++keySeq}`;
const keyed = (key: string) => ({ 'idempotency-key': key });

const { app, fake, user, startApp } = await harness();

/** Stored idempotent responses (any user) whose text holds `needle`. */
async function storedResponsesHolding(target: TestApp, needle: string): Promise<number> {
  const [row] = await query<{ n: number }>(
    target,
    sql`select count(*)::int as n from idempotency_keys where response_body::text like ${`%${needle}%`}`,
  );
  return Number(row!.n);
}

describe('deleting a thread', () => {
  it('forgets the key of its creation (REST): the same key and body create a new thread', async () => {
    const key = newKey();
    const body = { title: SECRET_TITLE, instructions: SECRET_INSTRUCTIONS, state: { step: 1 } };
    const created = await app.api('POST', '/ai/threads', { token: user.token, body, headers: keyed(key) });
    expect(created.status).toBe(201);
    const replay = await app.api('POST', '/ai/threads', { token: user.token, body, headers: keyed(key) });
    expect(replay.headers.get('idempotent-replayed')).toBe('true');

    expect((await app.api('DELETE', `/ai/threads/${created.body.id}`, { token: user.token })).status).toBe(204);
    expect(await storedResponsesHolding(app, SECRET_INSTRUCTIONS)).toBe(0);

    const again = await app.api('POST', '/ai/threads', { token: user.token, body, headers: keyed(key) });
    expect(again.status).toBe(201);
    expect(again.headers.get('idempotent-replayed')).toBeNull();
    expect(again.body.id).not.toBe(created.body.id);
    expect((await app.api('GET', `/ai/threads/${again.body.id}`, { token: user.token })).status).toBe(200);
    expect((await app.api('GET', `/ai/threads/${created.body.id}`, { token: user.token })).status).toBe(404);
  });

  it('forgets the key of its creation (tRPC): the same key and input create a new thread', async () => {
    const key = newKey();
    const instructions = `${SECRET_INSTRUCTIONS} (over tRPC)`;
    const input = { title: SECRET_TITLE, instructions };
    const options = { token: user.token, headers: keyed(key) };
    const created = await trpc(app, 'mutation', 'threads.create', input, options);
    expect(created.status).toBe(201);
    const id = created.body.result.data.id as number;

    const deleted = await trpc(app, 'mutation', 'threads.delete', { threadId: id }, { token: user.token });
    expect(deleted.status).toBeLessThan(300);
    expect(await storedResponsesHolding(app, instructions)).toBe(0);

    const again = await trpc(app, 'mutation', 'threads.create', input, options);
    expect(again.status).toBe(201);
    expect(again.headers.get('idempotent-replayed')).toBeNull();
    expect(again.body.result.data.id).not.toBe(id);
  });

  it('deletes the stored responses of its messages, failed ones included, and leaves other threads alone', async () => {
    const thread = await newThread(app, user);
    const other = await newThread(app, user);
    fake.script({ type: 'text', content: `Noted: ${SECRET_CONTENT}.` }, { type: 'error', status: 500 }, { type: 'text', content: 'Kept.' });
    const answered = await sendMessage(app, user, thread.id, { content: SECRET_CONTENT, state: { secret: SECRET_CONTENT } }, keyed(newKey()));
    expect(answered.responseMessage.content).toContain(SECRET_CONTENT);
    const failedKey = newKey();
    const failed = await app.api('POST', `/ai/threads/${thread.id}/messages`, {
      token: user.token,
      body: { content: `${SECRET_CONTENT}, failing` },
      headers: keyed(failedKey),
    });
    expect(failed.status).toBe(502);
    const otherKey = newKey();
    const kept = await sendMessage(app, user, other.id, { content: 'Unrelated' }, keyed(otherKey));
    expect(await storedResponsesHolding(app, SECRET_CONTENT)).toBe(1);
    const [held] = await query<{ n: number }>(app, sql`select count(*)::int as n from state_revisions where thread_id = ${thread.id}`);
    expect(Number(held!.n)).toBe(1);

    expect((await app.api('DELETE', `/ai/threads/${thread.id}`, { token: user.token })).status).toBe(204);
    expect(await storedResponsesHolding(app, SECRET_CONTENT)).toBe(0);
    const [left] = await query<{ n: number }>(app, sql`select count(*)::int as n from idempotency_keys where key = ${failedKey}`);
    expect(Number(left!.n)).toBe(0);
    const [messages] = await query<{ n: number }>(app, sql`select count(*)::int as n from messages where thread_id = ${thread.id}`);
    expect(Number(messages!.n)).toBe(0);
    // The state's history went with it: its revisions held the state sent with the message.
    const [revisions] = await query<{ n: number }>(app, sql`select count(*)::int as n from state_revisions where thread_id = ${thread.id}`);
    expect(Number(revisions!.n)).toBe(0);

    // The other thread's key still replays.
    const replay = await app.api('POST', `/ai/threads/${other.id}/messages`, {
      token: user.token,
      body: { content: 'Unrelated' },
      headers: keyed(otherKey),
    });
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(replay.body).toStrictEqual(kept);
  });
});

describe('stored idempotent responses expire after 24 hours', () => {
  it('never replays an older key, even before the sweep, and the sweep deletes it', async () => {
    const thread = await newThread(app, user);
    const key = newKey();
    const body = { content: 'Yesterday' };
    fake.script({ type: 'text', content: 'First.' }, { type: 'text', content: 'Second.' });
    await sendMessage(app, user, thread.id, body, keyed(key));
    await app.database.db.execute(sql`update idempotency_keys set created_at = now() - interval '25 hours' where key = ${key}`);

    const again = await app.api('POST', `/ai/threads/${thread.id}/messages`, { token: user.token, body, headers: keyed(key) });
    expect(again.status).toBe(201);
    expect(again.headers.get('idempotent-replayed')).toBeNull();
    expect(again.body.responseMessage.content).toBe('Second.');

    await app.database.db.execute(sql`update idempotency_keys set created_at = now() - interval '25 hours' where key = ${key}`);
    const fresh = newKey();
    await sendMessage(app, user, thread.id, { content: 'Today' }, keyed(fresh));
    expect(await app.services.idempotency.sweepExpired()).toBeGreaterThanOrEqual(1);
    const rows = await query<{ key: string }>(app, sql`select key from idempotency_keys where key in (${key}, ${fresh})`);
    expect(rows.map((row) => row.key)).toEqual([fresh]);
  });
});

describe('deleting a thread with Redis configured', () => {
  let redis: Redis;
  let shared: TestApp;
  beforeAll(async () => {
    redis = new Redis(REDIS_URL);
    await redis.flushdb();
    shared = await startApp({ redis: new Redis(REDIS_URL) });
  });
  afterAll(async () => {
    redis?.disconnect();
  });

  /** The Redis streams (this test's database only) whose entries hold `needle`, whatever their key. */
  async function logsHolding(needle: string): Promise<string[]> {
    const found: string[] = [];
    for (const key of await redis.keys('*')) {
      if ((await redis.type(key)) !== 'stream') continue;
      const entries = await redis.xrange(key, '-', '+');
      if (entries.some(([, fields]) => fields.some((field) => field.includes(needle)))) found.push(key);
    }
    return found;
  }

  it('deletes the stream event logs of its answers from Redis', async () => {
    const owner = await shared.signUp();
    const thread = await newThread(shared, owner);
    const other = await newThread(shared, owner);
    fake.script({ type: 'text', content: `Streamed: ${SECRET_CONTENT}.` }, { type: 'text', content: 'Other.' });
    const events = await (await openStream(shared, thread.id, { token: owner.token, body: { content: SECRET_CONTENT } })).all();
    expect(events.at(-1)!.event).toBe('response.completed');
    await (await openStream(shared, other.id, { token: owner.token, body: { content: 'Other' } })).all();
    // The log is written without waiting for Redis: wait until both final events are there.
    for (let attempt = 0; (await logsHolding('response.completed')).length < 2; attempt++) {
      expect(attempt, 'the shared log never got the final events').toBeLessThan(500);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(await logsHolding(SECRET_CONTENT)).toHaveLength(1);

    expect((await shared.api('DELETE', `/ai/threads/${thread.id}`, { token: owner.token })).status).toBe(204);
    expect(await logsHolding(SECRET_CONTENT)).toEqual([]);
    expect(await logsHolding('Other.')).toHaveLength(1);
  });
});
