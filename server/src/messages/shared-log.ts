// The streams' events, shared through Redis so that a client reconnecting to another instance
// (Last-Event-ID) still gets every delta it missed, then the rest live. Each answer is a Redis
// stream `ait:answer:<user message id>`, kept for a while after it ends. Without Redis, only the
// instance that runs the answer can replay its deltas; others fall back to the stored reply.
import type { Redis } from 'ioredis';
import type { Logger } from '../logger.js';
import type { LoggedEvent } from './answer-runs.js';

export interface SharedEventLog {
  /** Appends one event (fire and forget: the answer never waits on Redis). */
  append(messageId: number, logged: LoggedEvent): void;
  /**
   * The events after sequence `afterSeq`, then the rest as they come until the answer ends;
   * null when the log knows nothing of this answer.
   */
  read(messageId: number, afterSeq: number, signal?: AbortSignal): Promise<AsyncGenerator<LoggedEvent> | null>;
  /** Deletes the logs of these answers (their thread was deleted, or the answer starts over). */
  forget(messageIds: number[]): Promise<void>;
}

const key = (messageId: number) => `ait:answer:${messageId}`;
const seqOf = (logged: LoggedEvent) => Number(logged.id.split(':')[1]);
const terminal = (logged: LoggedEvent) => logged.event.event === 'response.completed' || logged.event.event === 'error';

export function createRedisEventLog(
  redis: Redis,
  logger: Logger,
  options: { ttlSeconds?: number; blockMs?: number; maxWaitMs: number },
): SharedEventLog {
  const ttl = options.ttlSeconds ?? 600;
  const blockMs = options.blockMs ?? 5_000;
  let failing = false;

  const parse = (entries: Array<[string, string[]]>) =>
    entries.map(([id, fields]) => ({ id, logged: JSON.parse(fields[1] ?? 'null') as LoggedEvent }));

  return {
    append(messageId, logged) {
      redis
        .multi()
        .xadd(key(messageId), '*', 'e', JSON.stringify(logged))
        .expire(key(messageId), ttl)
        .exec()
        .then(
          () => (failing = false),
          (err: unknown) => {
            if (!failing) logger.warn({ err: String(err) }, 'redis: stream events not shared');
            failing = true;
          },
        );
    },

    async forget(messageIds) {
      for (let i = 0; i < messageIds.length; i += 1000) await redis.del(...messageIds.slice(i, i + 1000).map(key));
    },

    async read(messageId, afterSeq, signal) {
      let first: Array<{ id: string; logged: LoggedEvent }>;
      try {
        first = parse((await redis.xrange(key(messageId), '-', '+')) as Array<[string, string[]]>);
      } catch {
        return null;
      }
      if (first.length === 0) return null;
      return (async function* () {
        let lastId = '0';
        for (const { id, logged } of first) {
          lastId = id;
          if (seqOf(logged) > afterSeq) yield logged;
          if (terminal(logged)) return;
        }
        // Blocking reads need a connection of their own.
        const reader = redis.duplicate({ enableOfflineQueue: true, maxRetriesPerRequest: 1 });
        const stop = () => reader.disconnect();
        signal?.addEventListener('abort', stop);
        const until = Date.now() + options.maxWaitMs;
        try {
          while (!signal?.aborted && Date.now() < until) {
            const result = (await reader.xread('BLOCK', blockMs, 'STREAMS', key(messageId), lastId)) as
              | Array<[string, Array<[string, string[]]>]>
              | null;
            for (const { id, logged } of parse(result?.[0]?.[1] ?? [])) {
              lastId = id;
              if (seqOf(logged) > afterSeq) yield logged;
              if (terminal(logged)) return;
            }
          }
        } catch (err) {
          if (!signal?.aborted) logger.warn({ err: String(err) }, 'redis: reading shared stream events failed');
        } finally {
          signal?.removeEventListener('abort', stop);
          reader.disconnect();
        }
      })();
    },
  };
}
