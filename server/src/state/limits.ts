// The bounds on a JSON state, checked without recursion so that no input (10,000 levels deep, say)
// can overflow the stack, and before anything recursive (JSON.stringify, jsonb) touches it.
import { textProblem, type JsonObject } from '@ai-threads/contracts';
import type { StateLimits } from './default-limits.js';

export { DEFAULT_STATE_LIMITS, type StateLimits } from './default-limits.js';

/** Why the state cannot be accepted, as a Laravel fragment ("must ..."), or null. */
export function stateProblem(state: JsonObject, limits: StateLimits): string | null {
  const stack: Array<[unknown, number]> = [[state, 1]];
  while (stack.length > 0) {
    const [value, depth] = stack.pop()!;
    if (typeof value === 'string') {
      if (textProblem(value)) return 'must only hold valid Unicode strings without NUL characters';
      continue;
    }
    if (typeof value === 'number') {
      if (!Number.isFinite(value)) return 'must only hold finite numbers';
      continue;
    }
    if (value === null || typeof value !== 'object') continue;
    if (depth > limits.maxDepth) return `must not be nested deeper than ${limits.maxDepth} levels`;
    const entries = Array.isArray(value) ? value.map((v) => ['', v] as const) : Object.entries(value);
    for (const [key, child] of entries) {
      if (key && textProblem(key)) return 'must only have valid Unicode keys without NUL characters';
      stack.push([child, depth + 1]);
    }
  }
  const bytes = Buffer.byteLength(JSON.stringify(state), 'utf8');
  if (bytes > limits.maxBytes) return `must not be larger than ${limits.maxBytes} bytes as JSON (it is ${bytes})`;
  return null;
}
