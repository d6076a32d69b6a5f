// Rate limits across instances. With Redis, the instances share one budget: a caller's requests
// count against it whichever instance serves them. Without Redis (REDIS_URL pointing at nothing),
// the documented choice holds: every instance still answers and still enforces the limit, on its
// own counters (per instance), and no request fails because Redis is away.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { metricsOf, metricValue, signUp, type User } from './support/api.js';
import { closedPort, createClusterDatabase, freshRedisDb, redisCommands, type ClusterDatabase } from './support/backing.js';
import { startInstance, stopAll, type ApiResponse, type Instance } from './support/instances.js';

const LIMIT = 6;
const REDIS_DB = 10;

let database: ClusterDatabase;
let a: Instance;
let b: Instance;
let c: Instance;
let d: Instance;

beforeAll(async () => {
  database = await createClusterDatabase();
  const common = {
    DATABASE_URL: database.url,
    RATE_LIMIT_REQUESTS_PER_MINUTE: String(LIMIT),
    OPENAI_BASE_URL: 'http://127.0.0.1:9/v1',
  };
  const shared = { ...common, REDIS_URL: await freshRedisDb(REDIS_DB) };
  const unreachable = { ...common, REDIS_URL: `redis://127.0.0.1:${await closedPort()}` };
  // A migrates first so that the others find the schema made (they would also wait on its lock).
  a = await startInstance('A', shared);
  [b, c, d] = await Promise.all([
    startInstance('B', shared),
    startInstance('C (no Redis)', unreachable),
    startInstance('D (no Redis)', unreachable),
  ]);
});

afterAll(async () => {
  await stopAll(a, b, c, d);
  await database?.drop();
});

const listThreads = (instance: Instance, user: User) => instance.api('GET', '/ai/threads', { token: user.token });

function expectAllowed(res: ApiResponse, remaining: number) {
  expect(res.status, res.text).toBe(200);
  expect(res.headers.get('x-ratelimit-limit')).toBe(String(LIMIT));
  expect(res.headers.get('x-ratelimit-remaining')).toBe(String(remaining));
}

function expectLimited(res: ApiResponse) {
  expect(res.status, res.text).toBe(429);
  expect(res.body).toEqual({ message: 'Too Many Attempts.' });
  expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  expect(res.headers.get('x-ratelimit-limit')).toBe(String(LIMIT));
  expect(res.headers.get('x-ratelimit-remaining')).toBe('0');
}

describe('with Redis: one budget across instances', () => {
  it('counts requests on A and B together; the 7th is refused on either', async () => {
    const user = await signUp(a);
    for (let i = 0; i < LIMIT; i += 1) {
      expectAllowed(await listThreads(i % 2 === 0 ? a : b, user), LIMIT - 1 - i);
    }
    expectLimited(await listThreads(a, user));
    expectLimited(await listThreads(b, user));

    // The counts live in Redis, under the deployment's prefix (REDIS_PREFIX, by default "ai-threads:").
    const [keys] = await redisCommands(REDIS_DB, ['KEYS', 'ai-threads:rl:*']);
    expect(keys).toContain(`ai-threads:rl:requests:${LIMIT}:user:${user.id}`);

    for (const instance of [a, b]) {
      const metrics = await metricsOf(instance);
      expect(metricValue(metrics, 'rate_limit_refusals_total', { bucket: 'requests' })).toBe(1);
      expect(metricValue(metrics, 'http_requests_total', { operation: 'threads.list', status: '429' })).toBe(1);
      expect(metricValue(metrics, 'http_requests_total', { operation: 'threads.list', status: '200' })).toBe(LIMIT / 2);
    }
  });
});

describe('with Redis unreachable: limits fall back to each instance', () => {
  it('still answers, with rate-limit headers, and still refuses past the limit on each instance', async () => {
    await c.waitForLog((line) => /redis unreachable/.test(line.msg ?? ''), 'that Redis is unreachable');
    const user = await signUp(c);
    for (let i = 0; i < LIMIT; i += 1) expectAllowed(await listThreads(c, user), LIMIT - 1 - i);
    expectLimited(await listThreads(c, user));

    // D keeps its own counts: the same caller starts afresh there, and is refused past the limit.
    for (let i = 0; i < LIMIT; i += 1) expectAllowed(await listThreads(d, user), LIMIT - 1 - i);
    expectLimited(await listThreads(d, user));
    expectLimited(await listThreads(c, user));

    expect(metricValue(await metricsOf(c), 'rate_limit_refusals_total', { bucket: 'requests' })).toBe(2);
    expect(metricValue(await metricsOf(d), 'rate_limit_refusals_total', { bucket: 'requests' })).toBe(1);
  });
});
