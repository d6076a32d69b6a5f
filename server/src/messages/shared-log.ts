// The streams' events, shared through Redis so that a client reconnecting to another instance
// (Last-Event-ID) still gets every delta it missed, then the rest live. Each answer is a Redis
// stream `<REDIS_PREFIX>answer:<user message id>`, kept for a while after it ends; each append
// also publishes a wake-up on the channel of the same name. Readers on an instance share one
// subscriber connection (however many streams they follow) and fetch new entries with XRANGE on
// the instance's own connection. Without Redis, only the instance that runs the answer can replay
// its deltas; others fall back to the stored reply.
import type { Redis } from 'ioredis';
import type { Logger } from '../logger.js';
import type { LoggedEvent } from './answer-runs.js';
import { parseEventId } from './event-id.js';

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

const seqOf = (logged: LoggedEvent) => Number(parseEventId(logged.id)?.seq);
const terminal = (logged: LoggedEvent) => logged.event.event === 'response.completed' || logged.event.event === 'error';

type Wake = () => void;

/**
 * One subscriber connection for the instance, opened on first use and closed with the instance's
 * connection; each message on a channel wakes that channel's readers.
 */
function createWakeups(redis: Redis, logger: Logger) {
  let subscriber: Redis | undefined;
  const channels = new Map<string, { readers: Set<Wake>; subscribed: Promise<unknown> }>();

  const connection = () => {
    if (!subscriber) {
      const sub = redis.duplicate({ enableOfflineQueue: true, maxRetriesPerRequest: null });
      let failing = false;
      sub.on('error', (err: Error) => {
        if (!failing) logger.warn({ err: err.message }, 'redis: stream wake-ups unavailable, readers poll');
        failing = true;
      });
      sub.on('ready', () => (failing = false));
      sub.on('message', (channel: string) => channels.get(channel)?.readers.forEach((wake) => wake()));
      redis.once('end', () => sub.disconnect());
      subscriber = sub;
    }
    return subscriber;
  };

  return {
    /** Wakes `wake` on every message of `channel` until the returned function is called. */
    listen(channel: string, wake: Wake): { subscribed: Promise<unknown>; stop(): void } {
      let entry = channels.get(channel);
      if (!entry) {
        entry = { readers: new Set(), subscribed: connection().subscribe(channel).catch(() => {}) };
        channels.set(channel, entry);
      }
      const current = entry;
      current.readers.add(wake);
      return {
        subscribed: current.subscribed,
        stop() {
          current.readers.delete(wake);
          if (current.readers.size > 0 || channels.get(channel) !== current) return;
          channels.delete(channel);
          subscriber?.unsubscribe(channel).catch(() => {});
        },
      };
    },
  };
}

export function createRedisEventLog(
  redis: Redis,
  logger: Logger,
  options: { prefix?: string; ttlSeconds?: number; pollMs?: number; maxWaitMs: number },
): SharedEventLog {
  const prefix = options.prefix ?? '';
  const key = (messageId: number) => `${prefix}answer:${messageId}`;
  const ttl = options.ttlSeconds ?? 600;
  // Wake-ups are at most once (a reconnecting subscriber misses some): readers also look every pollMs.
  const pollMs = options.pollMs ?? 2_000;
  const wakeups = createWakeups(redis, logger);
  let failing = false;

  const parse = (entries: Array<[string, string[]]>) =>
    entries.map(([id, fields]) => ({ id, logged: JSON.parse(fields[1] ?? 'null') as LoggedEvent }));
  const entriesFrom = async (messageId: number, fromId: string) =>
    parse((await redis.xrange(key(messageId), fromId, '+')) as Array<[string, string[]]>);

  return {
    append(messageId, logged) {
      redis
        .multi()
        .xadd(key(messageId), '*', 'e', JSON.stringify(logged))
        .expire(key(messageId), ttl)
        .publish(key(messageId), '')
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
        first = await entriesFrom(messageId, '-');
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
        let woken = false;
        let wakeNow: Wake | undefined;
        const wake = () => {
          woken = true;
          wakeNow?.();
        };
        const listener = wakeups.listen(key(messageId), wake);
        signal?.addEventListener('abort', wake);
        const until = Date.now() + options.maxWaitMs;
        try {
          // Subscribed before looking again: nothing appended from here on goes unnoticed.
          await Promise.race([listener.subscribed, pause(pollMs)]);
          while (!signal?.aborted && Date.now() < until) {
            woken = false;
            // Inclusive of lastId (XRANGE's exclusive form needs Redis 6.2): that entry is skipped.
            for (const { id, logged } of await entriesFrom(messageId, lastId)) {
              if (id === lastId) continue;
              lastId = id;
              if (seqOf(logged) > afterSeq) yield logged;
              if (terminal(logged)) return;
            }
            if (!woken) {
              await new Promise<void>((resolve) => {
                const timer = setTimeout(resolve, pollMs);
                wakeNow = () => {
                  clearTimeout(timer);
                  resolve();
                };
              });
              wakeNow = undefined;
            }
          }
        } catch (err) {
          if (!signal?.aborted) logger.warn({ err: String(err) }, 'redis: reading shared stream events failed');
        } finally {
          signal?.removeEventListener('abort', wake);
          listener.stop();
        }
      })();
    },
  };
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
