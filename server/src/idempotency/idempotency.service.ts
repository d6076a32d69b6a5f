// Idempotency-Key, per user: the same key and body within 24 hours replays the first success
// without doing the work again; another body is a 422; a key still in flight is a 409. Refused
// requests release the key. A key whose attempt failed (or crashed) can be retried, and the retry
// continues the same work (the message service answers the same user message). Keys are
// forgotten after 24 hours, and with the thread whose data they carry.
import { createHash } from 'node:crypto';
import type { Database } from '@ai-threads/db';
import { AppError } from '../errors.js';
import * as repo from './idempotency.repo.js';

export const IDEMPOTENCY_HEADER = 'idempotency-key';
const KEY_SHAPE = /^[\x21-\x7e]{1,255}$/;

export type Claim =
  | { kind: 'replay'; status: number; body: unknown }
  /** The key is ours; `messageId` is the user message an earlier failed attempt stored. */
  | { kind: 'claimed'; messageId: number | null };

export interface ClaimedKey {
  userId: number;
  key: string;
}

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

export function createIdempotencyService(deps: { db: Database; leaseMs: number }) {
  const { db, leaseMs } = deps;
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

  return {
    /** `threadId`: the thread the request works on, when known (its deletion forgets the key). */
    async claim(userId: number, key: string, hash: string, threadId: number | null = null): Promise<Claim> {
      for (let attempt = 0; attempt < 5; attempt += 1) {
        if (await repo.insertInFlight(db, userId, key, hash, leaseMs, threadId)) return { kind: 'claimed', messageId: null };
        const found = await repo.findKey(db, userId, key);
        if (!found) continue;
        if (found.expired) {
          if (await repo.renewExpired(db, userId, key, hash, leaseMs, threadId)) return { kind: 'claimed', messageId: null };
          continue;
        }
        const { row } = found;
        if (row.requestHash !== hash) throw mismatch();
        if (row.status === 'completed') return { kind: 'replay', status: row.responseStatus ?? 200, body: row.responseBody };
        if (row.status === 'in_flight' && found.locked) throw inFlight(found.lockedForMs);
        const taken = await repo.takeOver(db, userId, key, leaseMs);
        if (taken) return { kind: 'claimed', messageId: taken.messageId };
      }
      throw inFlight();
    },
    attachMessage: (claimed: ClaimedKey, messageId: number) => repo.setMessage(db, claimed.userId, claimed.key, messageId),
    complete: (claimed: ClaimedKey, status: number, body: unknown) => repo.complete(db, claimed.userId, claimed.key, status, body),
    /** Deletes the keys past their 24 hours; returns how many. */
    sweepExpired: () => repo.sweepExpired(db),
    fail: (claimed: ClaimedKey) => repo.markFailed(db, claimed.userId, claimed.key),
    release: (claimed: ClaimedKey) => repo.remove(db, claimed.userId, claimed.key),

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
      const claim = await this.claim(userId, key, requestHash(operation, input));
      if (claim.kind === 'replay') return { body: claim.body as T, replayed: true };
      let body: T;
      try {
        body = await work();
      } catch (error) {
        await repo.remove(db, userId, key).catch(() => {});
        throw error;
      }
      await repo.complete(db, userId, key, status, body, threadOf?.(body));
      return { body, replayed: false };
    },
  };
}

export type IdempotencyService = ReturnType<typeof createIdempotencyService>;
