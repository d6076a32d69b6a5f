// The SDK waits as long as the server asks before a retry: `Retry-After` in seconds, as an HTTP
// date, `retry-after-ms`, and its own backoff when the server says nothing. Against a tiny local
// HTTP server that answers 429/503 and then 200, recording when each attempt arrives. Only lower
// bounds are asserted (the retry came no sooner than asked), never how fast a machine is, except
// that the backoff stays below the SDK's own maximum.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AiThreads } from '../../client-sdk/src/index.js';
import { INITIAL_RETRY_DELAY_MS, MAX_RETRY_DELAY_MS } from '../../client-sdk/src/core/utils.js';

interface Answer {
  status: number;
  headers?: Record<string, string> | ((arrivedAt: number) => Record<string, string>);
}
interface Arrival {
  /** performance.now() at arrival: for gaps. */
  at: number;
  /** Date.now() at arrival: for HTTP dates. */
  wallClock: number;
  /** The headers each answer carried. */
  answered: Record<string, string>;
}

// Node's timers run on a millisecond loop clock that can trail performance.now() by about a
// millisecond, so a wait of exactly N ms may measure as N - 1 here.
const TIMER_SLACK_MS = 5;

let server: Server;
let baseURL: string;
let script: Answer[] = [];
let arrivals: Arrival[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    req.resume();
    const at = performance.now();
    const wallClock = Date.now();
    const answer = script.shift() ?? { status: 200 };
    const headers = typeof answer.headers === 'function' ? answer.headers(wallClock) : (answer.headers ?? {});
    arrivals.push({ at, wallClock, answered: headers });
    const body = answer.status === 200 ? { id: 1, email: 'a@example.com' } : { message: 'Try again later.' };
    res.writeHead(answer.status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseURL = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server?.closeAllConnections();
  await new Promise<void>((resolve) => server?.close(() => resolve()));
});

/** Runs one SDK call against the script and returns when each attempt arrived. */
async function callWith(...answers: Answer[]): Promise<Arrival[]> {
  script = [...answers];
  arrivals = [];
  const client = new AiThreads({ baseURL, apiKey: 'k', maxRetries: 2 });
  await expect(client.me.retrieve()).resolves.toMatchObject({ id: 1 });
  expect(arrivals).toHaveLength(answers.length + 1);
  return arrivals;
}

const gap = (arrived: Arrival[], i: number) => arrived[i + 1]!.at - arrived[i]!.at;

describe('the SDK waits before a retry as long as the server asks', () => {
  it('Retry-After: 2 on a 429 → the retry comes at least 2 s later', async () => {
    const arrived = await callWith({ status: 429, headers: { 'retry-after': '2' } });
    expect(gap(arrived, 0)).toBeGreaterThanOrEqual(2_000 - TIMER_SLACK_MS);
  });

  it('retry-after-ms: 1500 on a 503 → at least 1.5 s later (it wins over Retry-After)', async () => {
    const arrived = await callWith({ status: 503, headers: { 'retry-after-ms': '1500', 'retry-after': '0' } });
    expect(gap(arrived, 0)).toBeGreaterThanOrEqual(1_500 - TIMER_SLACK_MS);
  });

  it('Retry-After as an HTTP date → not before that date', async () => {
    // A whole second 1 to 2 s ahead: HTTP dates have no fractions.
    let until = 0;
    const arrived = await callWith({
      status: 503,
      headers: (now) => {
        until = (Math.floor(now / 1000) + 2) * 1000;
        return { 'retry-after': new Date(until).toUTCString() };
      },
    });
    expect(arrived[1]!.wallClock).toBeGreaterThanOrEqual(until - TIMER_SLACK_MS);
  });

  it('no header on a 503 → its own backoff: some wait, below its maximum, then once more', async () => {
    const arrived = await callWith({ status: 503 }, { status: 503 });
    // The first backoff is INITIAL_RETRY_DELAY_MS less up to 25 % jitter; the second, twice that.
    expect(gap(arrived, 0)).toBeGreaterThanOrEqual(INITIAL_RETRY_DELAY_MS * 0.75 - TIMER_SLACK_MS);
    expect(gap(arrived, 1)).toBeGreaterThanOrEqual(INITIAL_RETRY_DELAY_MS * 2 * 0.75 - TIMER_SLACK_MS);
    for (const i of [0, 1]) expect(gap(arrived, i)).toBeLessThan(MAX_RETRY_DELAY_MS);
  });
});
