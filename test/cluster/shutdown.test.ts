// Graceful shutdown on SIGTERM (a rolling deploy): the instance stops taking connections at once,
// lets the answers in flight finish within SHUTDOWN_GRACE_MS and answers them, then exits 0. An
// answer still running when the grace is over is stopped and its user message stored `failed`
// with the reason; the process exits all the same.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOpenAI, type FakeOpenAI } from '../fake-openai/server.js';
import { newThread, postMessage, signUp, type User } from './support/api.js';
import { createClusterDatabase, type ClusterDatabase } from './support/backing.js';
import { probeConnection, startInstance, stopAll, type Instance } from './support/instances.js';
import { gate, pollUntil, within } from './support/wait.js';

let fake: FakeOpenAI;
let database: ClusterDatabase;
let env: Record<string, string>;
const started: Instance[] = [];
let user: User;

beforeAll(async () => {
  fake = await startFakeOpenAI();
  database = await createClusterDatabase();
  env = { DATABASE_URL: database.url, OPENAI_BASE_URL: fake.url };
});

afterAll(async () => {
  await stopAll(...started);
  await fake?.close();
  await database?.drop();
});

async function start(name: string, extra: Record<string, string> = {}): Promise<Instance> {
  const instance = await startInstance(name, { ...env, ...extra });
  started.push(instance);
  user ??= await signUp(instance);
  return instance;
}

/** Sends SIGTERM and waits until the instance no longer accepts connections. */
async function terminate(instance: Instance): Promise<void> {
  instance.signal('SIGTERM');
  await instance.waitForLog((line) => /^shutting down/.test(line.msg ?? ''), '"shutting down"');
  await pollUntil(async () => ((await probeConnection(instance.port)) === 'refused' ? true : undefined), {
    what: `${instance.name} to refuse new connections`,
    timeoutMs: 10_000,
    intervalMs: 50,
  });
}

describe('SIGTERM', () => {
  it('refuses new connections, finishes the answer in flight (201), then exits 0', async () => {
    const instance = await start('S1', { SHUTDOWN_GRACE_MS: '30000' });
    const thread = await newThread(instance, user);
    const held = gate();
    fake.script({ type: 'gate', until: held.until, then: { type: 'text', content: 'Finished during shutdown.' } });
    const seen = fake.requests.length;
    const inFlight = postMessage(instance, user, thread.id, { content: 'Answer me before you go' });
    await fake.waitForRequests(seen + 1);

    await terminate(instance);
    await expect(fetch(`${instance.url}/healthz`, { signal: AbortSignal.timeout(5_000) })).rejects.toThrow();
    expect(instance.running).toBe(true);

    held.open();
    const answered = await inFlight;
    expect(answered.status, answered.text).toBe(201);
    expect(answered.body.createdMessage).toMatchObject({ content: 'Answer me before you go', status: 'completed' });
    expect(answered.body.responseMessage).toMatchObject({ content: 'Finished during shutdown.', status: 'completed' });
    expect(await within(instance.exited, 15_000, 'S1 to exit')).toEqual({ code: 0, signal: null });
    expect(instance.logs.some((line) => line.msg === 'stopped')).toBe(true);
  });

  it('stops an answer still running after SHUTDOWN_GRACE_MS, stores it failed with the reason, and exits 0', async () => {
    const instance = await start('S2', { SHUTDOWN_GRACE_MS: '300' });
    const thread = await newThread(instance, user);
    fake.script({ type: 'hang' });
    const seen = fake.requests.length;
    const inFlight = postMessage(instance, user, thread.id, { content: 'Never answered' });
    await fake.waitForRequests(seen + 1);

    await terminate(instance);
    expect(await within(instance.exited, 15_000, 'S2 to exit after the grace')).toEqual({ code: 0, signal: null });
    await instance.waitForLog((line) => /grace period over/.test(line.msg ?? ''), '"grace period over"');
    const refused = await inFlight;
    expect(refused.status, refused.text).toBe(503);
    expect(refused.body).toEqual({ message: 'The server is shutting down; retry the message.' });
    expect(refused.headers.get('retry-after')).toBe('1');

    const rows = await database.sql<Array<{ status: string; error: string | null }>>`
      select status, error from messages where thread_id = ${thread.id} order by id`;
    expect(rows).toEqual([{ status: 'failed', error: 'The server shut down before the answer was complete.' }]);
    const [lease] = await database.sql<Array<{ busy_until: Date | null }>>`select busy_until from threads where id = ${thread.id}`;
    expect(lease).toEqual({ busy_until: null });
  });
});
