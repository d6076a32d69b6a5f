// The Redis side of the shared stream log and rate limits (Redis at 127.0.0.1:6379, as
// shared-stream.test.ts): an instance follows any number of resumed streams over one subscriber
// connection, not one connection each; and REDIS_PREFIX keeps two deployments on one Redis apart
// (neither replays the other's stream events nor counts against the other's limits).
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { beforeAll, describe, expect, it } from 'vitest';
import { harness, type TestApp, type TestUser } from '../support/harness.js';
import { openStream, type SseEvent } from '../support/sse.js';

const REDIS_URL = process.env['REDIS_TEST_URL'] ?? 'redis://127.0.0.1:6379/7';
/** Concurrent resumes on one instance. */
const READERS = 20;

const isDelta = (text: string) => (event: SseEvent) => event.event === 'response.delta' && event.data.delta === text;
const isCompleted = (event: SseEvent) => event.event === 'response.completed';

const { fake, startApp } = await harness({ app: false });
const uniquePrefix = (label: string) => `test-${label}-${randomBytes(4).toString('hex')}:`;

/** Redis clients connected under `name`, as the server counts them. */
async function clientsNamed(name: string): Promise<number> {
  const admin = new Redis(REDIS_URL);
  try {
    const list = (await admin.client('LIST')) as string;
    return list.split('\n').filter((line) => line.includes(` name=${name} `)).length;
  } finally {
    admin.disconnect();
  }
}

async function keysStartingWith(prefix: string): Promise<string[]> {
  const admin = new Redis(REDIS_URL);
  try {
    return await admin.keys(`${prefix}*`);
  } finally {
    admin.disconnect();
  }
}

/** Starts an answer on `app` that pauses after "One " and after "two ", and reads it to "One ". */
async function startPausedAnswer(app: TestApp, user: TestUser) {
  const thread = await app.api('POST', '/ai/threads', { token: user.token, body: {} });
  let releaseTwo!: () => void;
  let releaseRest!: () => void;
  const two = new Promise<void>((resolve) => (releaseTwo = resolve));
  const rest = new Promise<void>((resolve) => (releaseRest = resolve));
  fake.script({ type: 'paced_text', parts: ['One ', two, 'two ', rest, 'three.'] });
  const request = { token: user.token, body: { content: 'Count to three' } };
  const first = await openStream(app, thread.body.id, request);
  const one = await first.until(isDelta('One '));
  const resumeFrom = (other: TestApp) => openStream(other, thread.body.id, { ...request, lastEventId: one.id! });
  return { first, resumeFrom, releaseTwo, releaseRest };
}

describe('following resumed streams from another instance', () => {
  const nameB = `ait-test-b-${randomBytes(4).toString('hex')}`;
  let a: TestApp;
  let b: TestApp;
  beforeAll(async () => {
    const prefix = uniquePrefix('share');
    a = await startApp({ env: { REDIS_PREFIX: prefix }, redis: new Redis(REDIS_URL) });
    b = await startApp({
      env: { REDIS_PREFIX: prefix },
      redis: new Redis(REDIS_URL, { connectionName: nameB }),
      shareDatabaseOf: a,
    });
  });

  it(`keeps one subscriber connection however many streams it follows (${READERS} resumes)`, async () => {
    const user = await a.signUp();
    const answer = await startPausedAnswer(a, user);
    const readers = await Promise.all(Array.from({ length: READERS }, () => answer.resumeFrom(b)));

    // Every reader on B gets "two " live: each is following the shared log now.
    answer.releaseTwo();
    await Promise.all(readers.map((reader) => reader.until(isDelta('two '))));
    // Its own connection (rate limits, appends, reads) and one subscriber, not one per reader.
    expect(await clientsNamed(nameB)).toBeLessThanOrEqual(2);

    answer.releaseRest();
    for (const reader of readers) {
      await reader.until(isCompleted);
      const seen = reader.events;
      expect(seen.filter((f) => f.event === 'response.delta').map((f) => f.data.delta).join('')).toBe('two three.');
      expect(seen.at(-1)!.data.responseMessage.content).toBe('One two three.');
    }
    answer.first.abort();
  });
});

describe('REDIS_PREFIX: two deployments on one Redis', () => {
  const prefix1 = uniquePrefix('one');
  const prefix2 = uniquePrefix('two');
  let one: TestApp;
  let two: TestApp;
  let oneAgain: TestApp;
  beforeAll(async () => {
    const limits = { RATE_LIMIT_REQUESTS_PER_MINUTE: '4' };
    one = await startApp({ env: { ...limits, REDIS_PREFIX: prefix1 }, redis: new Redis(REDIS_URL) });
    two = await startApp({ env: { ...limits, REDIS_PREFIX: prefix2 }, redis: new Redis(REDIS_URL), shareDatabaseOf: one });
    oneAgain = await startApp({ env: { ...limits, REDIS_PREFIX: prefix1 }, redis: new Redis(REDIS_URL), shareDatabaseOf: one });
  });

  it("do not replay each other's stream events", async () => {
    const user = await one.signUp();
    const answer = await startPausedAnswer(one, user);
    const elsewhere = await answer.resumeFrom(two);
    answer.releaseTwo();
    answer.releaseRest();
    await elsewhere.until(isCompleted);
    const seen = elsewhere.events;
    // The other deployment knows the answer only from the database: its outcome, no deltas.
    expect(seen.map((f) => f.event)).toEqual(['response.completed']);
    expect(seen[0]!.data.responseMessage.content).toBe('One two three.');
    await answer.first.until(isCompleted);
    answer.first.abort();

    expect((await keysStartingWith(prefix1)).some((key) => key.startsWith(`${prefix1}answer:`))).toBe(true);
    expect(await keysStartingWith(`${prefix2}answer:`)).toEqual([]);
  });

  it("do not count against each other's rate limits", async () => {
    const user = await one.signUp();
    for (let i = 0; i < 4; i++) expect((await one.api('GET', '/me', { token: user.token })).status).toBe(200);
    // The same deployment (another instance) shares the budget; the other deployment has its own.
    expect((await oneAgain.api('GET', '/me', { token: user.token })).status).toBe(429);
    const other = await two.api('GET', '/me', { token: user.token });
    expect(other.status).toBe(200);
    expect(other.headers.get('x-ratelimit-remaining')).toBe('3');
    expect((await keysStartingWith(`${prefix1}rl:`)).length).toBeGreaterThan(0);
  });
});
