// The history window: which of a thread's earlier turns fit the model's token budget. Edit when the
// way tokens are counted or the window is chosen changes.
import { countO200kTokens } from './o200k.js';
import type { ChatTurn } from './provider.js';

/**
 * Tokens each chat message costs beyond its text (role and the separators around it), as
 * OpenAI's chat format counts them; an estimate for other models.
 */
export const MESSAGE_OVERHEAD_TOKENS = 4;

/**
 * Tokens of `text` in the o200k_base encoding (GPT-4o and later); an estimate for other models.
 * User text may contain strings such as `<|endoftext|>`: they are counted as plain text.
 */
export function countTokens(text: string): number {
  const known = recentCounts.get(text);
  if (known !== undefined) return known;
  const count = countO200kTokens(text);
  if (text.length <= REMEMBERED_TEXT_MAX) {
    if (recentCounts.size >= REMEMBERED_MAX) recentCounts.delete(recentCounts.keys().next().value!);
    recentCounts.set(text, count);
  }
  return count;
}

/**
 * Counts of recent texts: a prompt repeats some on every request (the state message of a thread
 * without state, a thread's instructions), which were 3% of a POST's CPU counted again each
 * time (profiled). Bounded: at most 256 texts of up to 8,192 characters, the oldest forgotten first.
 */
const recentCounts = new Map<string, number>();
const REMEMBERED_MAX = 256;
const REMEMBERED_TEXT_MAX = 8_192;

/** A turn as stored: its text was counted once (countTokens), when the message was stored. */
export type StoredTurn = ChatTurn & { tokenCount: number };

/** The turn the model sees of a stored message. */
export function turnOf(stored: StoredTurn): ChatTurn {
  if (stored.role === 'tool') return { role: 'tool', content: stored.content, toolCallId: stored.toolCallId };
  if (stored.role === 'assistant') {
    return stored.toolCalls?.length ? { role: 'assistant', content: stored.content, toolCalls: stored.toolCalls } : { role: 'assistant', content: stored.content };
  }
  return { role: 'user', content: stored.content };
}

export interface HistoryBudget {
  /** The model's context, in tokens (AI_CONTEXT_TOKENS). */
  contextTokens: number;
  /** What every prompt sends besides the conversation: the instructions, the state, the tool. */
  fixedTokens: number;
  /** The new user message's text; it is always sent, even alone over the budget. */
  newMessageTokens: number;
}

export interface HistoryWindow {
  /** The earlier turns that fit, oldest first; the new message follows them. */
  turns: ChatTurn[];
  /** True when an earlier turn was left out because the budget was spent. */
  truncated: boolean;
}

/**
 * Keeps the newest earlier turns that fit in what the budget leaves after the fixed part and the
 * new message; each turn costs its tokens plus MESSAGE_OVERHEAD_TOKENS. Turns are kept
 * contiguously: once one does not fit, every older one is left out, so the model never sees a
 * conversation with holes. The turns are read only as far as needed, so a caller can hand in
 * a thread's history read page by page.
 */
export async function selectHistory(
  earlierNewestFirst: Iterable<StoredTurn> | AsyncIterable<StoredTurn>,
  budget: HistoryBudget,
): Promise<HistoryWindow> {
  let remaining = budget.contextTokens - budget.fixedTokens - (budget.newMessageTokens + MESSAGE_OVERHEAD_TOKENS);
  const kept: ChatTurn[] = [];
  for await (const stored of earlierNewestFirst) {
    const cost = stored.tokenCount + MESSAGE_OVERHEAD_TOKENS;
    if (cost > remaining) return { turns: kept.reverse(), truncated: true };
    kept.push(turnOf(stored));
    remaining -= cost;
  }
  return { turns: kept.reverse(), truncated: false };
}
