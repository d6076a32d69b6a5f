// The one registry of the answers of this instance: each running answer (to cancel it, to wait for
// it at shutdown) and, for streams, its replayable event log. An answer runs detached from the
// request that started it: a client that disconnects stops listening, not the answer; a client that
// reconnects (Last-Event-ID) reads what it missed from the log, then the rest as it comes.
import type { StreamEvent } from '@ai-threads/contracts';
import { eventId } from './event-id.js';

export interface LoggedEvent {
  /** `<user message id>:<sequence>` (event-id.ts), unique per answer. */
  id: string;
  event: StreamEvent;
}

/** One answer: how to stop it, when it has settled, and (for a stream) the log of its events. */
export class AnswerRun {
  /** Aborted to stop the answer: an explicit cancel, here or (through the heartbeat) elsewhere. */
  readonly cancel = new AbortController();
  readonly events: LoggedEvent[] = [];
  messageId: number | null = null;
  done = false;
  /** Called with each event as it is logged (to share it with other instances). */
  onPush: ((logged: LoggedEvent) => void) | undefined;
  finishedAt = 0;
  /** Settles when the answer is stored (or has failed). */
  readonly settled: Promise<void>;
  private settle!: () => void;
  private wake: Array<() => void> = [];

  constructor() {
    this.settled = new Promise((resolve) => (this.settle = resolve));
  }

  push(event: StreamEvent) {
    const seq = this.events.length;
    const logged = { id: eventId(this.messageId ?? 0, seq), event };
    this.events.push(logged);
    this.onPush?.(logged);
    this.notify();
  }

  finish() {
    if (this.done) return;
    this.done = true;
    this.finishedAt = Date.now();
    this.settle();
    this.notify();
  }

  private notify() {
    const waiting = this.wake;
    this.wake = [];
    for (const resolve of waiting) resolve();
  }

  /** The events from index `from` on, as they come, until the answer ends or `signal` aborts. */
  async *read(from: number, signal?: AbortSignal): AsyncGenerator<LoggedEvent> {
    let next = from;
    const onAbort = () => this.notify();
    signal?.addEventListener('abort', onAbort);
    try {
      for (;;) {
        while (next < this.events.length) {
          if (signal?.aborted) return;
          yield this.events[next]!;
          next += 1;
        }
        if (this.done || signal?.aborted) return;
        await new Promise<void>((resolve) => this.wake.push(resolve));
      }
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }
}

/**
 * The runs of this instance, by user message id: the answers running here (to cancel, to wait for
 * at shutdown) and finished streams, kept a while for reconnects.
 */
export class AnswerRuns {
  private readonly runs = new Map<number, AnswerRun>();
  /** The finished runs still kept, in the order they finished (the oldest first). */
  private readonly finished = new Map<number, AnswerRun>();

  constructor(private readonly retentionMs = 5 * 60_000, private readonly maxFinished = 1000) {}

  register(messageId: number, run: AnswerRun) {
    run.messageId = messageId;
    this.runs.set(messageId, run);
    void run.settled.then(() => {
      if (this.runs.get(messageId) !== run) return;
      this.finished.delete(messageId);
      this.finished.set(messageId, run);
    });
    this.evict();
  }

  get(messageId: number): AnswerRun | undefined {
    return this.runs.get(messageId);
  }

  /** Drops the logs of these answers (their thread was deleted, or the answer starts over). */
  forget(messageIds: number[]) {
    for (const id of messageIds) {
      this.runs.delete(id);
      this.finished.delete(id);
    }
  }

  /** Drops a run that has nothing to replay, unless another took its place. */
  release(messageId: number, run: AnswerRun) {
    if (this.runs.get(messageId) !== run) return;
    this.runs.delete(messageId);
    this.finished.delete(messageId);
  }

  /** Runs still answering (for graceful shutdown). */
  active(): AnswerRun[] {
    return [...this.runs.values()].filter((run) => !run.done);
  }

  /**
   * Drops finished runs past their retention or over the cap, the oldest first: a look at the
   * oldest ones only, not a scan of every run (which, once the cap of finished runs was reached,
   * was 3% of a streamed answer's CPU, profiled).
   */
  private evict() {
    const now = Date.now();
    for (const [id, run] of this.finished) {
      if (this.finished.size <= this.maxFinished && now - run.finishedAt <= this.retentionMs) break;
      this.finished.delete(id);
      if (this.runs.get(id) === run) this.runs.delete(id);
    }
  }
}
