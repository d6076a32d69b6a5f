// Losing PostgreSQL, without stopping the shared server: the instance reaches the database through
// a TCP proxy the test takes down. While it is down the API answers 503 with Retry-After, /readyz
// says not ready (liveness stays up), and nothing is half-written; once the proxy is back the
// instance serves again by itself, with no restart.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOpenAI, type FakeOpenAI } from '../fake-openai/server.js';
import { listMessages, newThread, postMessage, signUp, type User } from './support/api.js';
import { createClusterDatabase, rowCounts, startTcpProxy, type ClusterDatabase, type TcpProxy } from './support/backing.js';
import { startInstance, stopAll, type ApiResponse, type Instance } from './support/instances.js';
import { pollUntil } from './support/wait.js';

let fake: FakeOpenAI;
let database: ClusterDatabase;
let proxy: TcpProxy;
let instance: Instance;
let user: User;

beforeAll(async () => {
  fake = await startFakeOpenAI();
  database = await createClusterDatabase();
  proxy = await startTcpProxy(database.host, database.port);
  const url = new URL(database.url);
  url.hostname = '127.0.0.1';
  url.port = String(proxy.port);
  instance = await startInstance('P (database through a proxy)', {
    DATABASE_URL: url.toString(),
    OPENAI_BASE_URL: fake.url,
  });
  user = await signUp(instance);
});

afterAll(async () => {
  await stopAll(instance);
  await proxy?.close();
  await fake?.close();
  await database?.drop();
});

function expectUnavailable(res: ApiResponse) {
  expect(res.status, res.text).toBe(503);
  expect(res.body).toEqual({ message: 'The database is unavailable; retry shortly.' });
  expect(res.headers.get('retry-after')).toBe('5');
}

describe('the database goes away and comes back', () => {
  it('answers 503 with Retry-After while it is away, stores nothing, and recovers without a restart', async () => {
    const thread = await newThread(instance, user, { title: 'Before the outage' });
    fake.script({ type: 'text', content: 'First answer.' });
    expect((await postMessage(instance, user, thread.id, { content: 'Before' })).status).toBe(201);
    const before = await rowCounts(database.sql);
    const calls = fake.requests.length;

    await proxy.down();

    expectUnavailable(await instance.api('GET', `/ai/threads/${thread.id}`, { token: user.token }));
    expectUnavailable(await instance.api('GET', '/ai/threads', { token: user.token }));
    expectUnavailable(await instance.api('POST', '/ai/threads', { token: user.token, body: { title: 'During' } }));
    expectUnavailable(await postMessage(instance, user, thread.id, { content: 'During' }));
    expectUnavailable(await postMessage(instance, user, thread.id, { content: 'During, keyed' }, 'outage-key'));
    expectUnavailable(
      await instance.api('POST', '/auth/sign-up', { body: { email: 'outage@example.com', password: 'correct horse battery' } }),
    );

    const ready = await instance.http('GET', '/readyz');
    expect(ready.status).toBe(503);
    expect(ready.headers.get('retry-after')).toBe('5');
    expect(ready.body).toMatchObject({ status: 'unavailable' });
    expect((await instance.http('GET', '/healthz')).status).toBe(200);

    expect(fake.requests.length).toBe(calls);
    expect(await rowCounts(database.sql)).toEqual(before);

    await proxy.restore();
    await pollUntil(async () => ((await instance.http('GET', '/readyz')).status === 200 ? true : undefined), {
      what: '/readyz to answer 200 again',
      timeoutMs: 20_000,
      intervalMs: 200,
    });

    const read = await instance.api('GET', `/ai/threads/${thread.id}`, { token: user.token });
    expect(read.status, read.text).toBe(200);
    fake.script({ type: 'text', content: 'After the outage.' });
    const sent = await postMessage(instance, user, thread.id, { content: 'After' }, 'outage-key');
    expect(sent.status, sent.text).toBe(201);
    expect((await listMessages(instance, user, thread.id)).map((m) => [m.role, m.content, m.status])).toEqual([
      ['user', 'Before', 'completed'],
      ['assistant', 'First answer.', 'completed'],
      ['user', 'After', 'completed'],
      ['assistant', 'After the outage.', 'completed'],
    ]);
    expect(instance.running).toBe(true);
  });
});
