// The registry of this instance's answers keeps finished streams for reconnects, within a cap and
// a retention time, the oldest dropped first; running answers are never dropped.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AnswerRun, AnswerRuns } from '../../server/src/messages/answer-runs.js';

/** Lets the registry see runs that finished (it learns of them a promise job later). */
const settle = () => new Promise((resolve) => setImmediate(resolve));

function finishedRun(runs: AnswerRuns, id: number): AnswerRun {
  const run = new AnswerRun();
  runs.register(id, run);
  run.finish();
  return run;
}

afterEach(() => {
  vi.useRealTimers();
});

describe('AnswerRuns', () => {
  it('keeps at most the cap of finished runs, dropping the oldest finished first, and never a running one', async () => {
    const runs = new AnswerRuns(60_000, 3);
    const running = new AnswerRun();
    runs.register(100, running);
    for (const id of [1, 2, 3]) finishedRun(runs, id);
    await settle();
    for (const id of [4, 5]) finishedRun(runs, id);
    await settle();
    runs.register(6, new AnswerRun()); // a registration evicts
    expect([1, 2].map((id) => runs.get(id))).toEqual([undefined, undefined]);
    expect([3, 4, 5].every((id) => runs.get(id)?.done)).toBe(true);
    expect(runs.get(100)).toBe(running);
    expect(runs.active()).toHaveLength(2);
  });

  it('drops finished runs past their retention at the next registration', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const runs = new AnswerRuns(1_000, 100);
    finishedRun(runs, 1);
    await settle();
    vi.setSystemTime(Date.now() + 500);
    finishedRun(runs, 2);
    await settle();
    vi.setSystemTime(Date.now() + 700);
    runs.register(3, new AnswerRun());
    expect(runs.get(1)).toBeUndefined();
    expect(runs.get(2)?.done).toBe(true);
  });

  it('does not drop a run that took the place of an evicted one under the same id', async () => {
    const runs = new AnswerRuns(60_000, 1);
    finishedRun(runs, 1);
    await settle();
    const again = new AnswerRun();
    runs.register(1, again); // a regenerate of the same message: a new run under its id
    finishedRun(runs, 2);
    await settle();
    finishedRun(runs, 3);
    await settle();
    runs.register(4, new AnswerRun());
    expect(runs.get(1)).toBe(again);
  });
});
