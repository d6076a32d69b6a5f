// A deadline as an abort signal, shared by a whole answer (messages.service.ts) and each model call
// (openai-provider.ts): one AbortController, aborted when its timer runs out (`expired`) or when any
// of its sources aborts; `release()` clears the timer and the listeners on the sources. Not
// AbortSignal.timeout and AbortSignal.any: those make more signals per answer, each costly to make on
// Node 20 (a few percent of a request's CPU, profiled), and a composed signal with a listener is not
// collected before its sources are.
export class Deadline {
  private readonly controller = new AbortController();
  private readonly timer: NodeJS.Timeout;
  private readonly listened: AbortSignal[] = [];
  expired = false;

  /** `reason`: what the signal is aborted with when the time runs out (by default an AbortError). */
  constructor(ms: number, sources: ReadonlyArray<AbortSignal | undefined> = [], reason?: () => unknown) {
    this.timer = setTimeout(() => {
      this.expired = true;
      this.controller.abort(reason?.());
    }, ms);
    this.timer.unref();
    for (const source of sources) {
      if (!source) continue;
      if (source.aborted) {
        this.abort();
        break;
      }
      source.addEventListener('abort', this.abort, { once: true });
      this.listened.push(source);
    }
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Starts the time again (a streaming call that is still receiving), unless it has run out. */
  refresh(): void {
    if (!this.expired) this.timer.refresh();
  }

  /** Aborts now, for the caller's reason (not the deadline). */
  readonly abort = (): void => this.controller.abort();

  release(): void {
    clearTimeout(this.timer);
    for (const source of this.listened) source.removeEventListener('abort', this.abort);
  }
}
