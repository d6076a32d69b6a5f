// Bounded waiting for the cluster suites: every wait has a deadline and says what it waited for,
// and polling repeats a check until it holds (never a fixed sleep standing in for an event).
import { setTimeout as delay } from 'node:timers/promises';

/** Resolves as `promise` does, or rejects once `ms` have passed, naming `what` was awaited. */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

export interface PollOptions {
  what: string;
  timeoutMs?: number;
  intervalMs?: number;
}

/**
 * Calls `attempt` until it returns something other than undefined, at most every `intervalMs`,
 * and fails once `timeoutMs` have passed. Returns the first defined result.
 */
export async function pollUntil<T>(attempt: () => Promise<T | undefined>, options: PollOptions): Promise<T> {
  const { what, timeoutMs = 15_000, intervalMs = 100 } = options;
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const result = await attempt();
      if (result !== undefined) return result;
      last = undefined;
    } catch (error) {
      last = error;
    }
    if (Date.now() >= end) {
      const cause = last instanceof Error ? `: last error ${last.message}` : '';
      throw new Error(`gave up after ${timeoutMs} ms waiting for ${what}${cause}`);
    }
    await delay(intervalMs);
  }
}

/** A promise the test settles: scripted as the fake's `{type: 'gate', until}`, it holds an answer. */
export function gate(): { until: Promise<void>; open(): void } {
  let open!: () => void;
  const until = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { until, open };
}
