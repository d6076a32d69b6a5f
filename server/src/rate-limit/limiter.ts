// Rate limiting behind one interface: fixed one-minute windows keyed by bucket and caller. The
// in-process store serves one instance; a shared store (Redis) implements the same interface.
import { RateLimiterMemory, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';

export interface RateLimitResult {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Seconds until the window frees a point (for Retry-After). */
  retryAfterSeconds: number;
}

export interface RateLimiter {
  /** Takes one point from `key` in `bucket`, whose budget is `limit` a minute. */
  consume(bucket: string, key: string, limit: number): Promise<RateLimitResult>;
  /** Reads without taking (is the key already blocked?). */
  peek(bucket: string, key: string, limit: number): Promise<RateLimitResult>;
  /** Forgets a key (a successful sign-in clears its failures). */
  reset(bucket: string, key: string, limit: number): Promise<void>;
}

const WINDOW_SECONDS = 60;

function toResult(res: RateLimiterRes | null, limit: number, allowed: boolean): RateLimitResult {
  return {
    allowed,
    limit,
    remaining: Math.max(0, res?.remainingPoints ?? limit),
    retryAfterSeconds: Math.max(1, Math.ceil((res?.msBeforeNext ?? 0) / 1000)),
  };
}

/** Builds a RateLimiter from any rate-limiter-flexible store. */
export function createFlexibleRateLimiter(
  makeStore: (opts: { keyPrefix: string; points: number; duration: number }) => RateLimiterAbstract,
): RateLimiter {
  const stores = new Map<string, RateLimiterAbstract>();
  const store = (bucket: string, limit: number) => {
    const name = `${bucket}:${limit}`;
    let s = stores.get(name);
    if (!s) {
      s = makeStore({ keyPrefix: `rl:${name}`, points: limit, duration: WINDOW_SECONDS });
      stores.set(name, s);
    }
    return s;
  };
  return {
    async consume(bucket, key, limit) {
      try {
        return toResult(await store(bucket, limit).consume(key), limit, true);
      } catch (rejection) {
        if (rejection instanceof RateLimiterRes) return toResult(rejection, limit, false);
        throw rejection;
      }
    },
    async peek(bucket, key, limit) {
      const res = await store(bucket, limit).get(key);
      return toResult(res, limit, !res || res.remainingPoints > 0);
    },
    async reset(bucket, key, limit) {
      await store(bucket, limit).delete(key);
    },
  };
}

export function createMemoryRateLimiter(): RateLimiter {
  return createFlexibleRateLimiter((opts) => new RateLimiterMemory(opts));
}
