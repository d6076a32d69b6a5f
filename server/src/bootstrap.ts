// Everything a running service is built from, in one place: config → database → limiter →
// services. main.ts, the CLI and the test harness all start here.
import type { DatabaseHandle } from '@ai-threads/db';
import type { Redis } from 'ioredis';
import type { Config } from './config.js';
import { openDatabase } from './database.js';
import { createLogger, type Logger } from './logger.js';
import { createMemoryRateLimiter, type RateLimiter } from './rate-limit/limiter.js';
import { createServices, type Services } from './services.js';

export interface BootOptions {
  logger?: Logger;
  limiter?: RateLimiter;
  now?: () => Date;
  /** The database, already being opened (main.ts opens it while the rest of the server loads). */
  database?: Promise<DatabaseHandle>;
}

export async function bootServices(config: Config, options: BootOptions = {}): Promise<Services> {
  const logger = options.logger ?? createLogger(config.LOG_LEVEL);
  const database = await (options.database ?? openDatabase(config));
  // ioredis is loaded only when there is a Redis to talk to (a tenth of a second of a start without one).
  let redis: Redis | undefined;
  let redisLimiter: RateLimiter | undefined;
  if (config.REDIS_URL) {
    const shared = await import('./rate-limit/redis.js');
    redis = shared.createRedisConnection(config.REDIS_URL, logger);
    if (!options.limiter) redisLimiter = shared.createRedisRateLimiter(redis, config.REDIS_PREFIX);
  }
  return createServices({
    config,
    database,
    logger,
    limiter: options.limiter ?? redisLimiter ?? createMemoryRateLimiter(),
    ...(redis ? { redis } : {}),
    ...(options.now ? { now: options.now } : {}),
  });
}
