// The history window: token counting and which turns fit the budget.
import { describe, expect, it } from 'vitest';
import {
  countTokens,
  countTurnTokens,
  MESSAGE_OVERHEAD_TOKENS,
  selectHistory,
} from '../../server/src/ai/history.js';
import type { ChatTurn } from '../../server/src/ai/provider.js';

const user = (content: string): ChatTurn => ({ role: 'user', content });
const assistant = (content: string): ChatTurn => ({ role: 'assistant', content });

describe('countTokens', () => {
  it('counts tokens of the o200k_base encoding', () => {
    expect(countTokens('hello world')).toBe(2);
    expect(countTokens('')).toBe(0);
  });

  it('counts special-token strings in user text as plain text instead of throwing', () => {
    expect(countTokens('a <|endoftext|> b')).toBeGreaterThan(3);
  });

  it('adds the per-message overhead for a turn', () => {
    expect(countTurnTokens(user('hello world'))).toBe(2 + MESSAGE_OVERHEAD_TOKENS);
  });
});

describe('selectHistory', () => {
  const newest = user('What colour is the form now?');
  const older = [assistant('It is red.'), user('What colour is the form?'), assistant('Hi!'), user('Hello')];
  const newestFirst = [newest, ...older];
  const cost = (turns: ChatTurn[]) => turns.reduce((sum, turn) => sum + countTurnTokens(turn), 0);

  it('keeps every turn, oldest first, when all fit', () => {
    const window = selectHistory(newestFirst, 10_000, 100);
    expect(window.turns).toEqual([...newestFirst].reverse());
    expect(window.truncated).toBe(false);
  });

  it('keeps exactly the newest turns that fit and says it truncated', () => {
    const fixed = 50;
    const budget = fixed + cost([newest, older[0]!, older[1]!]);
    const window = selectHistory(newestFirst, budget, fixed);
    expect(window.turns).toEqual([older[1], older[0], newest]);
    expect(window.truncated).toBe(true);

    const oneShort = selectHistory(newestFirst, budget - 1, fixed);
    expect(oneShort.turns).toEqual([older[0], newest]);
    expect(oneShort.truncated).toBe(true);
  });

  it('always keeps the newest turn, even alone over the budget', () => {
    const long = user('word '.repeat(500));
    const window = selectHistory([long, ...older], 10, 5);
    expect(window.turns).toEqual([long]);
    expect(window.truncated).toBe(true);

    expect(selectHistory([long], 10, 5)).toEqual({ turns: [long], truncated: false });
  });

  it('keeps the newest turn when the fixed part alone exceeds the budget', () => {
    expect(selectHistory(newestFirst, 100, 500)).toEqual({ turns: [newest], truncated: true });
  });

  it('never leaves a hole: a small turn older than one that did not fit is left out', () => {
    const big = assistant('lorem ipsum '.repeat(200));
    const small = user('hi');
    const budget = cost([newest, small]) + 1;
    const window = selectHistory([newest, big, small], budget, 0);
    expect(window.turns).toEqual([newest]);
    expect(window.truncated).toBe(true);
  });

  it('returns nothing for no turns', () => {
    expect(selectHistory([], 1000, 0)).toEqual({ turns: [], truncated: false });
  });
});
