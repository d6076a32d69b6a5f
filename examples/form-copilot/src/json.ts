// The JSON the app handles on its side: reading a value at a JSON Pointer, the merge patch that sets
// one, and applying the AI's JSON Patches to the state on screen while an answer streams. The
// service stays the source of truth: after each answer the app reads the state again.
import type { JsonPatch, State } from './api';

type Json = unknown;

export function isObject(value: Json): value is Record<string, Json> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `/form/address/city` → `['form', 'address', 'city']` (RFC 6901 unescaping). */
function tokensOf(pointer: string): string[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((token) => token.replace(/~1/g, '/').replace(/~0/g, '~'));
}

export function valueAt(document: Json, pointer: string): Json {
  let node = document;
  for (const token of tokensOf(pointer)) {
    if (Array.isArray(node)) node = node[Number(token)];
    else if (isObject(node)) node = node[token];
    else return undefined;
  }
  return node;
}

/** The merge patch (RFC 7396) that sets the value at an object path: `{form: {color: 'blue'}}`. */
export function mergePatchAt(pointer: string, value: Json): State {
  const tokens = tokensOf(pointer);
  let patch: Json = value === undefined ? null : value;
  for (const token of tokens.reverse()) patch = { [token]: patch };
  return isObject(patch) ? patch : {};
}

/** RFC 7396: merges `patch` into `target` (null removes a key). */
export function applyMergePatch(target: Json, patch: Json): Json {
  if (!isObject(patch)) return patch;
  const result: Record<string, Json> = isObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = applyMergePatch(result[key], value);
  }
  return result;
}

export function jsonEqual(a: Json, b: Json): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function setAt(document: Json, tokens: string[], value: Json, insert: boolean): Json {
  if (tokens.length === 0) return value;
  const [head, ...rest] = tokens as [string, ...string[]];
  if (Array.isArray(document)) {
    const copy = [...document];
    const index = head === '-' ? copy.length : Number(head);
    if (rest.length > 0) copy[index] = setAt(copy[index], rest, value, insert);
    else if (insert) copy.splice(index, 0, value);
    else copy[index] = value;
    return copy;
  }
  const copy: Record<string, Json> = isObject(document) ? { ...document } : {};
  copy[head] = rest.length > 0 ? setAt(copy[head], rest, value, insert) : value;
  return copy;
}

function removeAt(document: Json, tokens: string[]): Json {
  if (tokens.length === 0) return undefined;
  const [head, ...rest] = tokens as [string, ...string[]];
  if (Array.isArray(document)) {
    const copy = [...document];
    if (rest.length > 0) copy[Number(head)] = removeAt(copy[Number(head)], rest);
    else copy.splice(Number(head), 1);
    return copy;
  }
  if (!isObject(document)) return document;
  const copy = { ...document };
  if (rest.length > 0) copy[head] = removeAt(copy[head], rest);
  else delete copy[head];
  return copy;
}

/** Applies a JSON Patch (RFC 6902) as the service does, for the screen; `test` is not checked. */
export function applyJsonPatch(document: Json, patch: JsonPatch): Json {
  let result = document;
  for (const op of patch) {
    const path = tokensOf(op.path);
    if (op.op === 'add') result = setAt(result, path, op.value, true);
    else if (op.op === 'replace') result = setAt(result, path, op.value, false);
    else if (op.op === 'remove') result = removeAt(result, path);
    else if (op.op === 'copy' || op.op === 'move') {
      const value = valueAt(result, op.from ?? '');
      if (op.op === 'move') result = removeAt(result, tokensOf(op.from ?? ''));
      result = setAt(result, path, value, true);
    }
  }
  return result;
}

/** Whether a change at `changed` touches the field at `field` (the same place, inside it, or around it). */
export function touches(changed: string, field: string): boolean {
  return changed === field || changed.startsWith(`${field}/`) || field.startsWith(`${changed}/`);
}
