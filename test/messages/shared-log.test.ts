// The Redis side of the shared stream log and rate limits (Redis at 127.0.0.1:6379, as
// shared-stream.test.ts): an instance follows any number of resumed streams over one subscriber
// connection, not one connection each; and REDIS_PREFIX keeps two deployments on one Redis apart
// (neither replays the other's stream events nor counts against the other's limits).
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { beforeAll, describe, expect, it } from 'vitest';
import { harness, type TestApp, type TestUser } from '../support/harness.js';

const REDIS_URL = process.env['REDIS_TEST_URL'] ?? 'redis://127.0.0.1:6379/7';
/** Concurrent resumes on one instance. */
const READERS = 20;

interface Frame {
  id: string;
  event: string;
  data: any;
}

/** An open event stream, read frame by frame. */
function frames(res: Response) {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  const seen: Frame[] = [];
  let buffer = '';
  return {
    seen,
    /** Reads until a frame matches (or the stream ends); the stream stays open. */
    async until(stop: (frame: Frame) => boolean): Promise<Frame[]> {
      if (seen.some(stop)) return seen;
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return seen;
        buffer += decoder.decode(value, { stream: true });
        let end: number;
        let matched = false;
        while ((end = buffer.indexOf('\n\n')) !== -1) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const fields = Object.fromEntries(
            block
              .split('\n')
              .filter((line) => !line.startsWith(':') && line.includes(': '))
              .map((line) => [line.slice(0, line.indexOf(': ')), line.slice(line.indexOf(': ') + 2)]),
          );
          if (!fields['event']) continue;
          const frame = { id: fields['id'] ?? '', event: fields['event'], data: JSON.parse(fields['data'] ?? 'null') };
          seen.push(frame);
          matched ||= stop(frame);
        }
        if (matched) return seen;
      }
    },
    close: () => reader.cancel(),
  };
}

const isDelta = (text: string) => (frame: Frame) => frame.event === 'response.delta' && frame.data.delta === text;
const isCompleted = (frame: Frame) => frame.event === 'response.completed';

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
  const path = `/api/v1/ai/threads/${thread.body.id}/messages/stream`;
  const headers = { authorization: `Bearer ${user.token}`, 'content-type': 'application/json' };
  const body = JSON.stringify({ content: 'Count to three' });
  const first = frames(await fetch(app.url + path, { method: 'POST', headers, body }));
  const seen = await first.until(isDelta('One '));
  const resumeFrom = (other: TestApp) =>
    fetch(other.url + path, { method: 'POST', headers: { ...headers, 'last-event-id': seen.at(-1)!.id }, body }).then(frames);
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
      const seen = await reader.until(isCompleted);
      expect(seen.filter((f) => f.event === 'response.delta').map((f) => f.data.delta).join('')).toBe('two three.');
      expect(seen.at(-1)!.data.responseMessage.content).toBe('One two three.');
    }
    await answer.first.close();
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
    const seen = await elsewhere.until(isCompleted);
    // The other deployment knows the answer only from the database: its outcome, no deltas.
    expect(seen.map((f) => f.event)).toEqual(['response.completed']);
    expect(seen[0]!.data.responseMessage.content).toBe('One two three.');
    await answer.first.until(isCompleted);
    await answer.first.close();

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
