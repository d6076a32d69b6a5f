// Redis: one connection per instance, shared by the rate limiter and the streams' event log (which
// adds one subscriber connection for its wake-ups). Every key starts with REDIS_PREFIX.
// The rate limits live there so every instance counts against one budget. When Redis cannot be
// reached, each instance falls back to its own in-process counters (rate-limiter-flexible's
// insurance limiter): limits keep holding per instance, and no request fails because of Redis.
import { hostname } from 'node:os';
import { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis } from 'rate-limiter-flexible';
import type { Logger } from '../logger.js';
import { createFlexibleRateLimiter, type RateLimiter } from './limiter.js';

export function createRedisConnection(url: string, logger: Logger): Redis {
  const redis = new Redis(url, {
    // Named per process, so that an operator (or a test) can tell each instance's connections apart
    // in CLIENT LIST; its duplicates (the stream log's subscriber) carry the same name.
    connectionName: `ai-threads:${hostname()}:${process.pid}`,
    // Fail fast while disconnected (callers have a fallback), and keep reconnecting.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2_000,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2_000),
  });
  let down = false;
  redis.on('error', (err: Error) => {
    if (!down) logger.warn({ err: err.message }, 'redis unreachable: rate limits fall back to this instance');
    down = true;
  });
  redis.on('ready', () => {
    if (down) logger.info('redis reachable again: rate limits are shared');
    down = false;
  });
  return redis;
}

/** `prefix` (REDIS_PREFIX) keeps each deployment's counters apart on a shared Redis. */
export function createRedisRateLimiter(redis: Redis, prefix: string): RateLimiter {
  return createFlexibleRateLimiter(
    (opts) =>
      new RateLimiterRedis({
        ...opts,
        keyPrefix: `${prefix}${opts.keyPrefix}`,
        storeClient: redis,
        rejectIfRedisNotReady: true,
        insuranceLimiter: new RateLimiterMemory({ points: opts.points, duration: opts.duration }),
      }),
  );
}
