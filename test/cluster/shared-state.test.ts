// Two instances of the built server on one PostgreSQL and one Redis, as behind a load balancer:
// what one writes the other reads, the one-answer-per-thread rule holds across them, and an
// Idempotency-Key used on one replays on the other without a new AI call. Each instance's
// /metrics counts what it served.
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import type { FakeOpenAI } from '../fake-openai/server.js';
import { listMessages, metricsOf, metricValue, newThread, postMessage, type User } from './support/api.js';
import type { Instance } from './support/instances.js';
import { instancePair } from './support/pair.js';
import { gate } from './support/wait.js';

const pair = instancePair(11);
let fake: FakeOpenAI;
let a: Instance;
let b: Instance;
let user: User;
beforeAll(() => {
  ({ fake, a, b, user } = pair);
});

describe('one database behind both instances', () => {
  it('serves on B the session, thread and messages made on A, and the other way round', async () => {
    const me = await b.api('GET', '/me', { token: user.token });
    expect(me.status, me.text).toBe(200);
    expect(me.body.user.id).toBe(user.id);

    const created = await newThread(a, user, { title: 'Made on A', metadata: { origin: 'a' } });
    const read = await b.api('GET', `/ai/threads/${created.id}`, { token: user.token });
    expect(read.status, read.text).toBe(200);
    expect(read.body).toEqual(created);

    fake.script({ type: 'text', content: 'Answered by B.' });
    const sent = await postMessage(b, user, created.id, { content: 'Sent to B', state: { step: 1 } });
    expect(sent.status, sent.text).toBe(201);

    const onA = await listMessages(a, user, created.id);
    expect(onA.map((m) => [m.role, m.content, m.status])).toEqual([
      ['user', 'Sent to B', 'completed'],
      ['assistant', 'Answered by B.', 'completed'],
    ]);
    const thread = await a.api('GET', `/ai/threads/${created.id}`, { token: user.token });
    expect(thread.body).toMatchObject({ message_count: 2, state: { step: 1 } });

    const renamed = await a.api('PATCH', `/ai/threads/${created.id}`, { token: user.token, body: { title: 'Renamed on A' } });
    expect(renamed.status, renamed.text).toBe(200);
    const list = await b.api('GET', '/ai/threads', { token: user.token });
    expect(list.body.data.map((t: { id: number; title: string }) => [t.id, t.title])).toContainEqual([created.id, 'Renamed on A']);
  });
});

describe('one answer at a time per thread, across instances', () => {
  it('refuses on B (409, Retry-After) a message to a thread that A is answering, then accepts it', async () => {
    const thread = await newThread(a, user);
    const held = gate();
    fake.script({ type: 'gate', until: held.until, then: { type: 'text', content: 'A answered.' } });
    const seen = fake.requests.length;
    const first = postMessage(a, user, thread.id, { content: 'First, on A' });
    await fake.waitForRequests(seen + 1);

    const refused = await postMessage(b, user, thread.id, { content: 'Second, on B' });
    expect(refused.status, refused.text).toBe(409);
    expect(refused.body).toEqual({ message: 'The thread is still answering an earlier message; retry when it is done.' });
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(fake.requests.length).toBe(seen + 1);
    // The refused message stored nothing; the first is pending.
    expect((await listMessages(b, user, thread.id)).map((m) => [m.content, m.status])).toEqual([['First, on A', 'pending']]);

    held.open();
    expect((await first).status).toBe(201);
    fake.script({ type: 'text', content: 'B answered.' });
    const second = await postMessage(b, user, thread.id, { content: 'Second, on B' });
    expect(second.status, second.text).toBe(201);
    expect(second.body.responseMessage.content).toBe('B answered.');

    const metrics = await metricsOf(b);
    expect(metricValue(metrics, 'thread_busy_refusals_total')).toBeGreaterThanOrEqual(1);
    expect(metricValue(metrics, 'http_requests_total', { operation: 'messages.create', method: 'POST', status: '409' })).toBe(1);
  });
});

describe('Idempotency-Key across instances', () => {
  it('replays on B the answer A gave to the same key and body, with no new AI call', async () => {
    const thread = await newThread(a, user);
    const key = randomUUID();
    const body = { content: 'Only once, please', state: { n: 1 } };
    fake.script({ type: 'text', content: 'The one answer.' });
    const calls = fake.requests.length;
    const first = await postMessage(a, user, thread.id, body, key);
    expect(first.status, first.text).toBe(201);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    expect(fake.requests.length).toBe(calls + 1);

    const again = await postMessage(b, user, thread.id, body, key);
    expect(again.status, again.text).toBe(201);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body).toEqual(first.body);
    expect(fake.requests.length).toBe(calls + 1);

    const different = await postMessage(b, user, thread.id, { content: 'Something else' }, key);
    expect(different.status, different.text).toBe(422);
    expect(fake.requests.length).toBe(calls + 1);

    expect((await listMessages(a, user, thread.id)).map((m) => [m.role, m.content])).toEqual([
      ['user', 'Only once, please'],
      ['assistant', 'The one answer.'],
    ]);
  });
});

describe('/metrics on each instance', () => {
  it('counts requests by operation and the AI answers it ran', async () => {
    const metrics = await metricsOf(a);
    expect(metricValue(metrics, 'http_requests_total', { operation: 'auth.signUp', method: 'POST', status: '201' })).toBe(1);
    expect(metricValue(metrics, 'http_requests_total', { operation: 'threads.create', method: 'POST', status: '201' })).toBe(3);
    expect(metricValue(metrics, 'http_requests_total', { operation: 'messages.create', status: '201' })).toBe(2);
    expect(metricValue(metrics, 'ai_answer_duration_seconds_count', { outcome: 'completed' })).toBe(2);
    expect(metricValue(metrics, 'ai_answer_duration_seconds_sum', { outcome: 'completed' })).toBeGreaterThan(0);
    // B served the replay and the busy refusal, and answered twice itself.
    const onB = await metricsOf(b);
    expect(metricValue(onB, 'ai_answer_duration_seconds_count', { outcome: 'completed' })).toBe(2);
    expect(metricValue(onB, 'http_requests_total', { operation: 'threads.get', method: 'GET', status: '200' })).toBe(1);
  });
});
