// Crash safety: an instance killed with SIGKILL while the AI answers loses no user message. The
// message stays stored (pending); the thread is busy no longer than its lease (answer deadline +
// grace, 2 s here); a retry with the same Idempotency-Key on another instance answers that same
// message, once; and without a retry, the sweep of a starting instance marks it failed.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOpenAI, type FakeOpenAI } from '../fake-openai/server.js';
import { listMessages, newThread, postMessage, signUp, type StoredMessage, type User } from './support/api.js';
import { createClusterDatabase, freshRedisDb, type ClusterDatabase } from './support/backing.js';
import { startInstance, stopAll, type Instance } from './support/instances.js';
import { pollUntil, within } from './support/wait.js';

const INTERRUPTED = 'The answer was interrupted (the server stopped); send the message again.';
const BUSY = 'The thread is still answering an earlier message; retry when it is done.';

let fake: FakeOpenAI;
let database: ClusterDatabase;
let env: Record<string, string>;
let b: Instance;
const doomed: Instance[] = [];
let user: User;

beforeAll(async () => {
  fake = await startFakeOpenAI();
  database = await createClusterDatabase();
  env = {
    DATABASE_URL: database.url,
    REDIS_URL: await freshRedisDb(12),
    OPENAI_BASE_URL: fake.url,
    // The thread's lease is AI_ANSWER_TIMEOUT_MS + THREAD_LEASE_GRACE_MS = 2 s.
    AI_ANSWER_TIMEOUT_MS: '1500',
    THREAD_LEASE_GRACE_MS: '500',
    RATE_LIMIT_MESSAGES_PER_MINUTE: '1000',
    RATE_LIMIT_REQUESTS_PER_MINUTE: '1000',
  };
  b = await startInstance('B', env);
  user = await signUp(b);
});

afterAll(async () => {
  await stopAll(b, ...doomed);
  await fake?.close();
  await database?.drop();
});

async function startDoomed(name: string): Promise<Instance> {
  const instance = await startInstance(name, env);
  doomed.push(instance);
  return instance;
}

/** Starts messages on `instance`, waits until the model has every one of them, then SIGKILLs it. */
async function killMidAnswer(instance: Instance, sends: Array<() => Promise<unknown>>): Promise<void> {
  const seen = fake.requests.length;
  fake.script(...sends.map(() => ({ type: 'hang' as const })));
  const requests = sends.map((send) => send().then(() => 'answered', (error: unknown) => error));
  await fake.waitForRequests(seen + sends.length);
  instance.signal('SIGKILL');
  expect((await within(instance.exited, 10_000, `${instance.name} to die`)).signal).toBe('SIGKILL');
  // The clients see their connection cut; nothing answered them.
  for (const outcome of await Promise.all(requests)) expect(outcome).toBeInstanceOf(Error);
}

const userMessagesOf = async (threadId: number) =>
  database.sql<Array<{ id: number; status: string }>>`select id::int as id, status from messages where thread_id = ${threadId} and role = 'user'`;

describe('an instance killed while the AI answers', () => {
  it('keeps the message; after the lease, a retry with the same key on B answers it once', async () => {
    const a = await startDoomed('A');
    const thread = await newThread(b, user);
    const key = randomUUID();
    const body = { content: 'Do not lose me', state: { draft: true } };
    await killMidAnswer(a, [() => postMessage(a, user, thread.id, body, key)]);

    const [stored] = await listMessages(b, user, thread.id);
    expect(stored).toMatchObject({ role: 'user', content: 'Do not lose me', status: 'pending' });

    // The same request again, as a client retries, until the dead answer's lease has run out.
    fake.script({ type: 'text', content: 'Answered after the crash.' });
    const retried = await pollUntil(
      async () => {
        const res = await postMessage(b, user, thread.id, body, key);
        if (res.status !== 409) return res;
        expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
        return undefined;
      },
      { what: 'the thread to take the retried message', timeoutMs: 20_000, intervalMs: 200 },
    );
    expect(retried.status, retried.text).toBe(201);
    expect(retried.headers.get('idempotent-replayed')).toBeNull();
    expect(retried.body.createdMessage).toMatchObject({ id: stored!.id, content: 'Do not lose me', status: 'completed' });
    expect(retried.body.responseMessage.content).toBe('Answered after the crash.');

    const messages = await listMessages(b, user, thread.id);
    expect(messages.map((m) => [m.id, m.role, m.status])).toEqual([
      [stored!.id, 'user', 'completed'],
      [retried.body.responseMessage.id, 'assistant', 'completed'],
    ]);

    // Once more: a replay, with no AI call and nothing new stored.
    const calls = fake.requests.length;
    const replay = await postMessage(b, user, thread.id, body, key);
    expect(replay.status).toBe(201);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(replay.body).toEqual(retried.body);
    expect(fake.requests.length).toBe(calls);
    expect(await userMessagesOf(thread.id)).toEqual([{ id: stored!.id, status: 'completed' }]);
  });

  it('keeps the key tied to the stored message when a retry finds the thread still leased', async () => {
    const a = await startDoomed('A (2)');
    const thread = await newThread(b, user);
    const key = randomUUID();
    const body = { content: 'Retry me' };
    await killMidAnswer(a, [() => postMessage(a, user, thread.id, body, key)]);
    const [stored] = await userMessagesOf(thread.id);

    // The key's lease ends a moment before the thread's (it is taken first): a retry in between
    // is refused as busy, and must not forget which message the key stands for.
    await database.sql`update idempotency_keys set locked_until = now() - interval '1 second' where key = ${key}`;
    await database.sql`update threads set busy_until = now() + interval '1 minute' where id = ${thread.id}`;
    const calls = fake.requests.length;
    const refused = await postMessage(b, user, thread.id, body, key);
    expect(refused.status, refused.text).toBe(409);
    expect(refused.body.message).toBe(BUSY);
    expect(fake.requests.length).toBe(calls);

    await database.sql`update threads set busy_until = now() - interval '1 second' where id = ${thread.id}`;
    fake.script({ type: 'text', content: 'Answered at last.' });
    const retried = await postMessage(b, user, thread.id, body, key);
    expect(retried.status, retried.text).toBe(201);
    expect(retried.body.createdMessage).toMatchObject({ id: stored!.id, status: 'completed' });
    expect(await userMessagesOf(thread.id)).toEqual([{ id: stored!.id, status: 'completed' }]);
  });

  it('without a retry: a starting instance marks the message failed once the lease is over', async () => {
    const a = await startDoomed('A (3)');
    const thread = await newThread(b, user);
    await killMidAnswer(a, [() => postMessage(a, user, thread.id, { content: 'Left behind' })]);
    const [stored] = await listMessages(b, user, thread.id);
    expect(stored).toMatchObject({ content: 'Left behind', status: 'pending' });

    await pollUntil(
      async () => {
        const [row] = await database.sql<Array<{ over: boolean }>>`
          select busy_until is null or busy_until <= now() as over from threads where id = ${thread.id}`;
        return row?.over ? true : undefined;
      },
      { what: "the dead answer's lease to run out", timeoutMs: 20_000 },
    );
    const restarted = await startDoomed('A (restarted)');
    const swept = await pollUntil(
      async () => {
        const res = await restarted.api('GET', `/ai/threads/${thread.id}/messages/${stored!.id}`, { token: user.token });
        const message = res.body as StoredMessage;
        return message.status === 'pending' ? undefined : message;
      },
      { what: 'the sweep to mark the message failed', timeoutMs: 15_000 },
    );
    expect(swept).toMatchObject({ id: stored!.id, content: 'Left behind', status: 'failed', error: INTERRUPTED });

    fake.script({ type: 'text', content: 'Back in business.' });
    const next = await postMessage(restarted, user, thread.id, { content: 'Again' });
    expect(next.status, next.text).toBe(201);
    expect((await listMessages(b, user, thread.id)).map((m) => [m.role, m.content, m.status])).toEqual([
      ['user', 'Left behind', 'failed'],
      ['user', 'Again', 'completed'],
      ['assistant', 'Back in business.', 'completed'],
    ]);
  });
});
