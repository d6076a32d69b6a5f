// Idempotency-Key, per user: the same key and body within 24 hours replays the first success
// without doing the work again; another body is a 422; a key still in flight is a 409. A claim
// hands the request a KeyHandle to complete, fail or give back the key. Refused requests release
// the key. A key whose attempt failed (or crashed) can be retried, and the retry
// continues the same work (the message service answers the same user message). Keys are
// forgotten after 24 hours, and with the thread whose data they carry.
import { createHash } from 'node:crypto';
import type { Database } from '@ai-threads/db';
import { AppError } from '../errors.js';
import type { Logger } from '../logger.js';
import * as repo from './idempotency.repo.js';

export const IDEMPOTENCY_HEADER = 'idempotency-key';
const KEY_SHAPE = /^[\x21-\x7e]{1,255}$/;

export type Claim =
  | { kind: 'replay'; status: number; body: unknown }
  | { kind: 'claimed'; key: KeyHandle };

/**
 * The key of one request, once claimed: what the request does with it as it goes. A request
 * without a key gets a handle that does nothing, so callers need no second path.
 */
export interface KeyHandle {
  /** The user message an earlier failed (or crashed) attempt stored: a retry answers it again. */
  readonly retryMessageId: number | null;
  /** Ties the key to the user message it stands for. */
  attachMessage(messageId: number): Promise<void>;
  /** Stores the response to replay; `threadId` names the thread whose data it carries. */
  complete(status: number, body: unknown, threadId?: number): Promise<void>;
  /** The attempt failed: a retry with the key continues its work. Never throws (logs). */
  fail(): Promise<void>;
  /**
   * The request was refused: the key is free again, or, when it stands for a stored message,
   * stays tied to it as failed, so the next retry answers that message, not a copy. Never throws.
   */
  giveBack(): Promise<void>;
}

const NO_KEY: KeyHandle = {
  retryMessageId: null,
  attachMessage: async () => {},
  complete: async () => {},
  fail: async () => {},
  giveBack: async () => {},
};

/** The key from a request header: undefined when absent, 422 when malformed. */
export function idempotencyKeyFrom(header: string | string[] | undefined): string | undefined {
  if (header === undefined) return undefined;
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined || !KEY_SHAPE.test(value)) {
    throw AppError.field('idempotency_key', 'The Idempotency-Key header must be 1 to 255 visible ASCII characters.');
  }
  return value;
}

/** JSON with object keys sorted, so that the same body in another key order is the same request. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const keys = Object.keys(value).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** The fingerprint of a request; call it on validated input only (its depth is bounded). */
export function requestHash(operation: string, input: unknown): string {
  return createHash('sha256').update(operation).update('\0').update(canonicalJson(input)).digest('hex');
}

export function createIdempotencyService(deps: { db: Database; leaseMs: number; logger: Logger }) {
  const { db, leaseMs, logger } = deps;
  /**
   * `Retry-After` is the time until the key's lock runs out: by then the request holding it has
   * ended (an answer's deadline is shorter than the lock) or died, and the key is free for sure.
   * It often ends sooner, and a retry then replays it; any shorter figure would be a guess.
   */
  const inFlight = (lockedForMs: number = leaseMs) =>
    new AppError('conflict', {
      message: 'A request with this Idempotency-Key is still in progress; retry when it is done.',
      headers: { 'Retry-After': String(Math.max(1, Math.ceil(lockedForMs / 1000))) },
    });
  const mismatch = () =>
    AppError.field('idempotency_key', 'The Idempotency-Key was already used with a different request body.');

  function handle(userId: number, key: string, retryMessageId: number | null): KeyHandle {
    // On a failure path the request's own error is what the client must see; a key left in
    // flight by a lost write frees itself when its lock runs out.
    const quietly = async (what: string, work: Promise<void>) => {
      await work.catch((err: unknown) => logger.warn({ err, userId, retryMessageId }, `idempotency key not ${what}`));
    };
    return {
      retryMessageId,
      attachMessage: (messageId) => repo.setMessage(db, userId, key, messageId),
      complete: (status, body, threadId) => repo.complete(db, userId, key, status, body, threadId),
      fail: () => quietly('marked failed', repo.markFailed(db, userId, key)),
      giveBack: () =>
        retryMessageId === null
          ? quietly('released', repo.remove(db, userId, key))
          : quietly('marked failed', repo.markFailed(db, userId, key)),
    };
  }

  async function claimKey(userId: number, key: string, hash: string, threadId: number | null): Promise<Claim> {
    for (let attempt = 0; attempt < 5; attempt += 1) {
      if (await repo.insertInFlight(db, userId, key, hash, leaseMs, threadId)) return { kind: 'claimed', key: handle(userId, key, null) };
      const found = await repo.findKey(db, userId, key);
      if (!found) continue;
      if (found.expired) {
        if (await repo.renewExpired(db, userId, key, hash, leaseMs, threadId)) {
          return { kind: 'claimed', key: handle(userId, key, null) };
        }
        continue;
      }
      const { row } = found;
      if (row.requestHash !== hash) throw mismatch();
      if (row.status === 'completed') return { kind: 'replay', status: row.responseStatus ?? 200, body: row.responseBody };
      if (row.status === 'in_flight' && found.locked) throw inFlight(found.lockedForMs);
      const taken = await repo.takeOver(db, userId, key, leaseMs);
      if (taken) return { kind: 'claimed', key: handle(userId, key, taken.messageId) };
    }
    throw inFlight();
  }

  return {
    /**
     * Claims `key` (absent: a handle that does nothing) for a request with this fingerprint, or
     * answers its replay; 422 for another body, 409 while another request holds it. `threadId`:
     * the thread the request works on, when known (deleting it forgets the key).
     */
    /** `hash`: the request's fingerprint, computed only when there is a key. */
    claim(userId: number, key: string | undefined, hash: () => string, threadId: number | null = null): Promise<Claim> {
      if (key === undefined) return Promise.resolve({ kind: 'claimed', key: NO_KEY });
      return claimKey(userId, key, hash(), threadId);
    },

    /** Deletes the keys past their 24 hours; returns how many. */
    sweepExpired: () => repo.sweepExpired(db),

    /**
     * Runs `work` once per key: replays a completed answer, releases the key when `work` throws.
     * For operations whose answer is the whole effect (creating a thread). `threadOf` names the
     * thread whose data the answer carries: deleting that thread forgets the key with it, so the
     * same key and body then create a new thread, as a first request would.
     */
    async run<T>(
      userId: number,
      key: string | undefined,
      operation: string,
      input: unknown,
      status: number,
      work: () => Promise<T>,
      threadOf?: (body: T) => number,
    ): Promise<{ body: T; replayed: boolean }> {
      if (key === undefined) return { body: await work(), replayed: false };
      const claim = await this.claim(userId, key, () => requestHash(operation, input));
      if (claim.kind === 'replay') return { body: claim.body as T, replayed: true };
      let body: T;
      try {
        body = await work();
      } catch (error) {
        await claim.key.giveBack();
        throw error;
      }
      await claim.key.complete(status, body, threadOf?.(body));
      return { body, replayed: false };
    },
  };
}

export type IdempotencyService = ReturnType<typeof createIdempotencyService>;
