// Small runtime helpers that work the same in Node 20 and browsers: ids, abortable sleeps, signal
// plumbing, and the retry delays. No Node-only modules here.
import { APIConnectionTimeoutError } from './error.js';

/** A random v4 UUID: crypto.randomUUID where it exists (it is missing in non-secure browser contexts). */
export function uuid4(): string {
  const crypto = globalThis.crypto;
  if (typeof crypto?.randomUUID === 'function') return crypto.randomUUID();
  const bytes = new Uint8Array(16);
  if (typeof crypto?.getRandomValues === 'function') crypto.getRandomValues(bytes);
  else for (let i = 0; i < 16; i += 1) bytes[i] = Math.floor(Math.random() * 256);
  bytes[6] = (bytes[6]! & 0x0f) | 0x40;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** Resolves after `ms`, or rejects with the signal's reason as soon as it aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * A timer that does not keep a Node process alive by itself (a timeout, not a wait): the request
 * it guards keeps the process alive while it runs. Browsers' timers have no unref.
 */
export function timeout(ms: number, onTimeout: () => void): ReturnType<typeof setTimeout> {
  const timer = setTimeout(onTimeout, ms);
  (timer as { unref?: () => void }).unref?.();
  return timer;
}

/**
 * One read of a stream's body, failing as a timeout (and aborting `controller`) when the server
 * stays silent for `ms`: what every streamed answer's reader does between two chunks.
 */
export async function readWithin(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  controller: AbortController,
  ms: number,
): Promise<ReadableStreamReadResult<Uint8Array>> {
  let timedOut = false;
  const timer = timeout(ms, () => {
    timedOut = true;
    controller.abort();
  });
  try {
    return await reader.read();
  } catch (error) {
    if (timedOut) throw new APIConnectionTimeoutError({ message: 'The stream was silent for too long.' });
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

/** An AbortController that also aborts when `parent` does (AbortSignal.any is too new for some browsers). */
export function linkedController(parent?: AbortSignal): { controller: AbortController; unlink(): void } {
  const controller = new AbortController();
  if (!parent) return { controller, unlink: () => {} };
  if (parent.aborted) {
    controller.abort(parent.reason);
    return { controller, unlink: () => {} };
  }
  const onAbort = () => controller.abort(parent.reason);
  parent.addEventListener('abort', onAbort, { once: true });
  return { controller, unlink: () => parent.removeEventListener('abort', onAbort) };
}

export const INITIAL_RETRY_DELAY_MS = 500;
export const MAX_RETRY_DELAY_MS = 8_000;
/** The longest `Retry-After` the client waits for; a longer one is handed to the caller as the error. */
const MAX_RETRY_AFTER_MS = 60_000;

/** Exponential backoff (0.5 s, 1 s, 2 s, … up to 8 s) with up to 25 % jitter taken off. */
export function backoffMs(retriesDone: number, random: () => number = Math.random): number {
  const delay = Math.min(INITIAL_RETRY_DELAY_MS * 2 ** retriesDone, MAX_RETRY_DELAY_MS);
  return delay * (1 - random() * 0.25);
}

/**
 * How long to wait before the next attempt: the server's `Retry-After` (or `retry-after-ms`) when
 * it gives one, else the backoff. Null when the server asks for longer than MAX_RETRY_AFTER_MS.
 */
export function retryDelayMs(headers: Headers | undefined, retriesDone: number, now: number = Date.now()): number | null {
  const ms = headers?.get('retry-after-ms');
  if (ms != null && /^\d+(\.\d+)?$/.test(ms.trim())) {
    const value = Number(ms.trim());
    return value <= MAX_RETRY_AFTER_MS ? value : null;
  }
  const header = headers?.get('retry-after');
  if (header != null && header.trim() !== '') {
    let value: number | undefined;
    if (/^\d+(\.\d+)?$/.test(header.trim())) value = Number(header.trim()) * 1000;
    else {
      const date = Date.parse(header);
      if (!Number.isNaN(date)) value = Math.max(0, date - now);
    }
    if (value !== undefined) return value <= MAX_RETRY_AFTER_MS ? value : null;
  }
  return backoffMs(retriesDone);
}
