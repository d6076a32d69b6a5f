// JSON Merge Patch (RFC 7396): how every state change is applied, whether the patch comes from a
// model's update_state call or the offline model's commands. Edit only to follow the RFC more
// closely or to change the limits a patched state must respect.
import { isJsonObject, type JsonObject } from '@ai-threads/contracts';
import { DEFAULT_STATE_LIMITS, type StateLimits } from '../state/limits.js';

/** Nesting deeper than this is refused: the recursion below stays far from the stack limit. */
export const MERGE_PATCH_MAX_DEPTH = 64;

/** A patch (or target) that cannot be applied: too deep, or a result over the state limits. */
export class MergePatchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MergePatchError';
  }
}

export interface MergePatchOptions {
  /** Containers nested deeper than this (in the target, the patch or the result) are refused. */
  maxDepth?: number;
}

/**
 * Applies `patch` to `target` as RFC 7396 describes and returns a new value; neither input is
 * mutated and the result shares no objects or arrays with them. Keys such as `__proto__` or
 * `constructor` are ordinary data keys here: they never reach an object's prototype.
 */
export function applyMergePatch(target: unknown, patch: JsonObject, options?: MergePatchOptions): JsonObject;
export function applyMergePatch(target: unknown, patch: unknown, options?: MergePatchOptions): unknown;
export function applyMergePatch(target: unknown, patch: unknown, options: MergePatchOptions = {}): unknown {
  const maxDepth = options.maxDepth ?? MERGE_PATCH_MAX_DEPTH;
  if (!Number.isInteger(maxDepth) || maxDepth < 1 || maxDepth > 1000) {
    throw new RangeError('maxDepth must be an integer from 1 to 1000');
  }
  return merge(target, patch, 1, maxDepth);
}

function merge(target: unknown, patch: unknown, depth: number, maxDepth: number): unknown {
  if (!isJsonObject(patch)) return cloneJson(patch, depth, maxDepth);
  checkDepth(depth, maxDepth);
  const base = isJsonObject(target) ? target : undefined;
  const result: JsonObject = {};
  // The target's keys keep their order; keys new to it follow in the patch's order.
  if (base) {
    for (const key of Object.keys(base)) {
      if (!Object.hasOwn(patch, key)) {
        defineKey(result, key, cloneJson(base[key], depth + 1, maxDepth));
        continue;
      }
      const value = patch[key];
      if (value !== null) defineKey(result, key, merge(base[key], value, depth + 1, maxDepth));
    }
  }
  for (const key of Object.keys(patch)) {
    if (base && Object.hasOwn(base, key)) continue;
    const value = patch[key];
    if (value !== null) defineKey(result, key, merge(undefined, value, depth + 1, maxDepth));
  }
  return result;
}

function cloneJson(value: unknown, depth: number, maxDepth: number): unknown {
  if (typeof value !== 'object' || value === null) return value;
  checkDepth(depth, maxDepth);
  if (Array.isArray(value)) return value.map((item: unknown) => cloneJson(item, depth + 1, maxDepth));
  const source = value as JsonObject;
  const copy: JsonObject = {};
  for (const key of Object.keys(source)) defineKey(copy, key, cloneJson(source[key], depth + 1, maxDepth));
  return copy;
}

function checkDepth(depth: number, maxDepth: number): void {
  if (depth > maxDepth) throw new MergePatchError(`JSON nested deeper than ${maxDepth} levels`);
}

// Plain assignment of `__proto__` would replace the object's prototype instead of adding a key.
function defineKey(object: JsonObject, key: string, value: unknown): void {
  Object.defineProperty(object, key, { value, writable: true, enumerable: true, configurable: true });
}

/**
 * The service's own rules for a state (valid Unicode, no NUL, finite numbers...): why the state
 * cannot be accepted, as a fragment such as "must not ...", or null when it can.
 */
export type StateCheck = (state: JsonObject) => string | null;

/**
 * Applies a model's patch to the current state and checks the result against the limits (and the
 * service's check, when given), so a model cannot store a state a client could not have sent.
 */
export function applyStatePatch(
  state: JsonObject | null,
  patch: JsonObject,
  limits: StateLimits = DEFAULT_STATE_LIMITS,
  check?: StateCheck,
): JsonObject {
  const next = applyMergePatch(state, patch, { maxDepth: limits.maxDepth });
  const bytes = Buffer.byteLength(JSON.stringify(next), 'utf8');
  if (bytes > limits.maxBytes) {
    throw new MergePatchError(`the resulting state is ${bytes} bytes, over the limit of ${limits.maxBytes}`);
  }
  const problem = check?.(next);
  if (problem) throw new MergePatchError(`the resulting state ${problem}`);
  return next;
}
