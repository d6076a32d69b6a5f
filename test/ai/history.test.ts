// The history window: token counting and which earlier turns fit the budget, as the message
// service chooses them for every answer.
import { describe, expect, it } from 'vitest';
import { countTokens, MESSAGE_OVERHEAD_TOKENS, selectHistory, type StoredTurn } from '../../server/src/ai/history.js';

const stored = (role: 'user' | 'assistant', content: string): StoredTurn => ({ role, content, tokenCount: countTokens(content) });
const user = (content: string) => stored('user', content);
const assistant = (content: string) => stored('assistant', content);
const chat = (turns: StoredTurn[]) => turns.map(({ role, content }) => ({ role, content }));

describe('countTokens', () => {
  it('counts tokens of the o200k_base encoding', () => {
    expect(countTokens('hello world')).toBe(2);
    expect(countTokens('')).toBe(0);
  });

  it('counts special-token strings in user text as plain text instead of throwing', () => {
    expect(countTokens('a <|endoftext|> b')).toBeGreaterThan(3);
  });
});

describe('selectHistory', () => {
  const newMessageTokens = countTokens('What colour is the form now?');
  const earlier = [assistant('It is red.'), user('What colour is the form?'), assistant('Hi!'), user('Hello')];
  /** What turns cost in the prompt: their text and the per-message overhead each. */
  const cost = (tokens: number[]) => tokens.reduce((sum, n) => sum + n + MESSAGE_OVERHEAD_TOKENS, 0);
  const budget = (contextTokens: number, fixedTokens: number, newTokens = newMessageTokens) => ({
    contextTokens,
    fixedTokens,
    newMessageTokens: newTokens,
  });

  it('keeps every earlier turn, oldest first, when all fit', async () => {
    const window = await selectHistory(earlier, budget(10_000, 100));
    expect(window.turns).toEqual(chat([...earlier].reverse()));
    expect(window.truncated).toBe(false);
  });

  it('charges each message its tokens plus the per-message overhead', async () => {
    const [newest] = earlier;
    const exact = cost([newMessageTokens, newest!.tokenCount]);
    expect(exact).toBe(newMessageTokens + newest!.tokenCount + 2 * MESSAGE_OVERHEAD_TOKENS);
    expect(await selectHistory([newest!], budget(exact, 0))).toEqual({ turns: chat([newest!]), truncated: false });
    expect(await selectHistory([newest!], budget(exact - 1, 0))).toEqual({ turns: [], truncated: true });
  });

  it('keeps exactly the newest turns that fit and says it truncated', async () => {
    const fixed = 50;
    const context = fixed + cost([newMessageTokens, earlier[0]!.tokenCount, earlier[1]!.tokenCount]);
    const window = await selectHistory(earlier, budget(context, fixed));
    expect(window.turns).toEqual(chat([earlier[1]!, earlier[0]!]));
    expect(window.truncated).toBe(true);

    const oneShort = await selectHistory(earlier, budget(context - 1, fixed));
    expect(oneShort.turns).toEqual(chat([earlier[0]!]));
    expect(oneShort.truncated).toBe(true);
  });

  it('sends the new message alone when it is over the budget by itself', async () => {
    const long = countTokens('word '.repeat(500));
    expect(await selectHistory(earlier, budget(10, 5, long))).toEqual({ turns: [], truncated: true });
    expect(await selectHistory([], budget(10, 5, long))).toEqual({ turns: [], truncated: false });
  });

  it('keeps no earlier turn when the fixed part alone exceeds the budget', async () => {
    expect(await selectHistory(earlier, budget(100, 500))).toEqual({ turns: [], truncated: true });
  });

  it('never leaves a hole: a small turn older than one that did not fit is left out', async () => {
    const big = assistant('lorem ipsum '.repeat(200));
    const small = user('hi');
    const context = cost([newMessageTokens, small.tokenCount]) + 1;
    const window = await selectHistory([big, small], budget(context, 0));
    expect(window.turns).toEqual([]);
    expect(window.truncated).toBe(true);
  });

  it('returns nothing for no earlier turns', async () => {
    expect(await selectHistory([], budget(1000, 0))).toEqual({ turns: [], truncated: false });
  });

  it('reads the history only as far as the budget goes (the service reads it page by page)', async () => {
    let read = 0;
    async function* pages() {
      for (const turn of earlier) {
        read += 1;
        yield turn;
      }
    }
    const context = cost([newMessageTokens, earlier[0]!.tokenCount]);
    const window = await selectHistory(pages(), budget(context, 0));
    expect(window).toEqual({ turns: chat([earlier[0]!]), truncated: true });
    expect(read).toBe(2);
  });
});
