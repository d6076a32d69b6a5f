// The history window: which of a thread's turns fit the model's token budget. Edit when the way
// tokens are counted or the window is chosen changes.
import { countTokens as countEncodedTokens } from 'gpt-tokenizer';
import type { ChatTurn } from './provider.js';

/**
 * Tokens each chat message costs beyond its text (role and the separators around it), as
 * OpenAI's chat format counts them; an estimate for other models.
 */
export const MESSAGE_OVERHEAD_TOKENS = 4;

// User text may contain strings such as `<|endoftext|>`: they are counted as plain text, never
// refused (the tokenizer throws on them by default).
const PLAIN_TEXT = { disallowedSpecial: new Set<string>() };

/** Tokens of `text` in the o200k_base encoding (GPT-4o and later); an estimate for other models. */
export function countTokens(text: string): number {
  return countEncodedTokens(text, PLAIN_TEXT);
}

/** Tokens one chat turn costs in the prompt. */
export function countTurnTokens(turn: ChatTurn): number {
  return countTokens(turn.content) + MESSAGE_OVERHEAD_TOKENS;
}

export interface HistoryWindow {
  /** The turns that fit, oldest first. */
  turns: ChatTurn[];
  /** True when a turn given was left out because the budget was spent. */
  truncated: boolean;
}

/**
 * Keeps the newest turns that fit in `budgetTokens - fixedTokens` (fixedTokens: the instructions,
 * the state and anything else sent every time). The newest turn, the user's new message, is
 * always kept, even alone over the budget. Turns are kept contiguously: once one does not fit,
 * every older one is left out, so the model never sees a conversation with holes.
 *
 * Callers that read the history in pages: `truncated: false` means every turn given fitted, so a
 * thread with older turns not yet read needs another page (call again with the longer list).
 */
export function selectHistory(
  turnsNewestFirst: readonly ChatTurn[],
  budgetTokens: number,
  fixedTokens: number,
): HistoryWindow {
  const [newest, ...older] = turnsNewestFirst;
  if (newest === undefined) return { turns: [], truncated: false };
  const kept: ChatTurn[] = [newest];
  let remaining = budgetTokens - fixedTokens - countTurnTokens(newest);
  for (const turn of older) {
    const cost = countTurnTokens(turn);
    if (cost > remaining) return { turns: kept.reverse(), truncated: true };
    kept.push(turn);
    remaining -= cost;
  }
  return { turns: kept.reverse(), truncated: false };
}
