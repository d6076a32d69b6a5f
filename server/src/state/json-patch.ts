// JSON Patch (RFC 6902) with JSON Pointers (RFC 6901): the check of a patch's shape, its atomic
// application, and the diff between two states; the foundation of versioned state, where every
// revision stores the patch from the previous state. Merge patches (RFC 7396) stay in
// ai/merge-patch.ts; applyMergePatch is re-exported here so the state layer has one import.
// Written here rather than wrapped: fast-json-patch 3.1 refuses `__proto__` keys (or, told not to,
// replaces the object's prototype) and its array diffs rewrite every shifted element; rfc6902 5.4
// replaces an object's prototype on `add /__proto__`, keeps the operations before a failed one,
// and its array diff overflows the stack on a few thousand elements.
import { MERGE_PATCH_MAX_DEPTH } from '../ai/merge-patch.js';

export { applyMergePatch } from '../ai/merge-patch.js';

type JsonPatchOperation =
  | { op: 'add'; path: string; value: unknown }
  | { op: 'remove'; path: string }
  | { op: 'replace'; path: string; value: unknown }
  | { op: 'move'; from: string; path: string }
  | { op: 'copy'; from: string; path: string }
  | { op: 'test'; path: string; value: unknown };

export type JsonPatch = JsonPatchOperation[];

export type JsonPatchOp = JsonPatchOperation['op'];

const OPS: readonly JsonPatchOp[] = ['add', 'remove', 'replace', 'move', 'copy', 'test'];
const WITH_VALUE = new Set<JsonPatchOp>(['add', 'replace', 'test']);
const WITH_FROM = new Set<JsonPatchOp>(['move', 'copy']);

/** One reason a patch is malformed: where in the patch (`[2, "path"]`) and a fragment ("must ..."). */
export interface JsonPatchIssue {
  path: Array<string | number>;
  message: string;
}

/** The patch is not a well-formed JSON Patch, whatever document it meets: a 422. */
export class JsonPatchInvalidError extends Error {
  constructor(readonly issues: JsonPatchIssue[]) {
    super(issues.length > 0 ? issues.map(describeIssue).join(' ') : 'The patch is invalid.');
    this.name = 'JsonPatchInvalidError';
  }

  /** The issues as the 422 body's `errors`, under the request field that held the patch. */
  fieldErrors(field: string): Record<string, string[]> {
    const errors: Record<string, string[]> = {};
    for (const issue of this.issues) {
      const name = [field, ...issue.path].join('.');
      (errors[name] ??= []).push(`The ${name} field ${issue.message}.`);
    }
    return errors;
  }
}

function describeIssue({ path: [index, member], message }: JsonPatchIssue): string {
  if (index === undefined) return `The patch ${message}.`;
  return member === undefined ? `Operation ${index} ${message}.` : `Operation ${index}: "${member}" ${message}.`;
}

/** A well-formed patch that does not apply to this document (a failed test, a missing path): a 409. */
export class JsonPatchConflictError extends Error {
  constructor(
    /** The failed operation's place in the patch, from 0. */
    readonly index: number,
    readonly op: JsonPatchOp,
    readonly path: string,
    /** Why it failed, as a sentence fragment ("the path /a/b does not exist"). */
    readonly reason: string,
  ) {
    super(`The patch does not apply: operation ${index} (${op} ${path || '""'}) failed: ${reason}.`);
    this.name = 'JsonPatchConflictError';
  }
}

export interface JsonPatchOptions {
  /** Values nested deeper than this inside an operation are refused as malformed. */
  maxDepth?: number;
  /**
   * Called after each operation with the document as it now is (a private working copy: read it,
   * never keep it), to stop a patch early by throwing (a `copy` that doubles the document, say).
   */
  afterOperation?: (document: unknown, operation: JsonPatch[number], index: number) => void;
}

// ---------------------------------------------------------------------------------------------
// Pointers (RFC 6901)

/** Splits a pointer into its unescaped tokens; throws a TypeError when it is not a pointer. */
export function parsePointer(pointer: string): string[] {
  const problem = pointerProblem(pointer);
  if (problem) throw new TypeError(`${JSON.stringify(pointer)} ${problem}`);
  return pointer === '' ? [] : pointer.slice(1).split('/').map(unescapeToken);
}

/** Builds a pointer from raw tokens, escaping `~` and `/`. */
export function formatPointer(tokens: readonly (string | number)[]): string {
  return tokens.map((token) => `/${String(token).replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');
}

function pointerProblem(pointer: string): string | null {
  if (pointer !== '' && !pointer.startsWith('/')) return 'must be a JSON Pointer: empty or starting with "/"';
  if (/~(?![01])/.test(pointer)) return 'must be a JSON Pointer: "~" must be followed by 0 or 1';
  return null;
}

// `~1` first would turn `~01` into `/` instead of `~1`, as RFC 6901 section 4 warns.
function unescapeToken(token: string): string {
  return token.replace(/~1/g, '/').replace(/~0/g, '~');
}

// ---------------------------------------------------------------------------------------------
// Shape

/**
 * Checks that `input` is a JSON Patch (an array of operations with the members their op needs,
 * valid pointers, JSON values no deeper than `maxDepth`) and returns it typed; members the RFC does
 * not define are ignored, as section 4 says. Throws JsonPatchInvalidError listing every problem.
 */
export function parseJsonPatch(input: unknown, options: JsonPatchOptions = {}): JsonPatch {
  const maxDepth = options.maxDepth ?? MERGE_PATCH_MAX_DEPTH;
  if (!Array.isArray(input)) throw new JsonPatchInvalidError([{ path: [], message: 'must be an array of operations' }]);
  const issues: JsonPatchIssue[] = [];
  const patch: JsonPatch = [];
  input.forEach((raw: unknown, index) => {
    const operation = parseOperation(raw, index, maxDepth, issues);
    if (operation) patch.push(operation);
  });
  if (issues.length > 0) throw new JsonPatchInvalidError(issues);
  return patch;
}

function parseOperation(raw: unknown, index: number, maxDepth: number, issues: JsonPatchIssue[]): JsonPatchOperation | null {
  if (!isPlainObject(raw)) {
    issues.push({ path: [index], message: 'must be an object with an "op" member' });
    return null;
  }
  const before = issues.length;
  const op = own(raw, 'op');
  if (typeof op !== 'string' || !(OPS as readonly string[]).includes(op)) {
    issues.push({ path: [index, 'op'], message: `must be one of ${OPS.join(', ')}` });
    return null;
  }
  const kind = op as JsonPatchOp;
  const path = own(raw, 'path');
  checkPointer(path, [index, 'path'], issues);
  const from = own(raw, 'from');
  if (WITH_FROM.has(kind)) checkPointer(from, [index, 'from'], issues);
  if (WITH_VALUE.has(kind)) {
    if (!Object.hasOwn(raw, 'value')) issues.push({ path: [index, 'value'], message: `is required for ${kind}` });
    else {
      const problem = jsonProblem(raw['value'], maxDepth);
      if (problem) issues.push({ path: [index, 'value'], message: problem });
    }
  }
  if (issues.length > before) return null;
  const target = path as string;
  if (kind === 'move' && target.startsWith(`${from as string}/`)) {
    issues.push({ path: [index, 'path'], message: 'must not be inside "from": a value cannot be moved into itself' });
    return null;
  }
  switch (kind) {
    case 'remove':
      return { op: kind, path: target };
    case 'move':
    case 'copy':
      return { op: kind, from: from as string, path: target };
    default:
      return { op: kind, path: target, value: raw['value'] };
  }
}

function checkPointer(value: unknown, at: Array<string | number>, issues: JsonPatchIssue[]): void {
  if (value === undefined) issues.push({ path: at, message: 'is required' });
  else if (typeof value !== 'string') issues.push({ path: at, message: `must be a string (a JSON Pointer)` });
  else {
    const problem = pointerProblem(value);
    if (problem) issues.push({ path: at, message: problem });
  }
}

/** Why `value` is not plain JSON within `maxDepth` levels, or null; iterative, so any depth is safe. */
function jsonProblem(value: unknown, maxDepth: number): string | null {
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length > 0) {
    const [item, depth] = stack.pop()!;
    if (item === null || typeof item === 'string' || typeof item === 'boolean') continue;
    if (typeof item === 'number') {
      if (!Number.isFinite(item)) return 'must only hold finite numbers';
      continue;
    }
    if (Array.isArray(item)) {
      if (depth > maxDepth) return `must not be nested deeper than ${maxDepth} levels`;
      for (let i = 0; i < item.length; i++) stack.push([item[i], depth + 1]);
      continue;
    }
    if (!isPlainObject(item)) return 'must be a JSON value';
    if (depth > maxDepth) return `must not be nested deeper than ${maxDepth} levels`;
    for (const key of Object.keys(item)) stack.push([item[key], depth + 1]);
  }
  return null;
}

// ---------------------------------------------------------------------------------------------
// Apply

/**
 * Applies a JSON Patch to `document` and returns the new document. All or nothing: `document` is
 * never mutated, and the result shares no object or array with `document` or the patch. `patch`
 * is checked with parseJsonPatch first (JsonPatchInvalidError); an operation that does not apply
 * throws JsonPatchConflictError naming it. Keys such as `__proto__` are plain data keys.
 * The caller checks the result against its own limits (type of the root, size, depth).
 */
export function applyJsonPatch(document: unknown, patch: unknown, options: JsonPatchOptions = {}): unknown {
  const operations = parseJsonPatch(patch, options);
  let root = cloneJson(document);
  operations.forEach((operation, index) => {
    root = applyOperation(root, operation, index);
    options.afterOperation?.(root, operation, index);
  });
  return root;
}

type Container = Record<string, unknown> | unknown[];

function applyOperation(root: unknown, operation: JsonPatchOperation, index: number): unknown {
  const fail = (reason: string): never => {
    throw new JsonPatchConflictError(index, operation.op, operation.path, reason);
  };
  switch (operation.op) {
    case 'add':
      return add(root, operation.path, cloneJson(operation.value), fail);
    case 'remove':
      if (operation.path === '') return fail('the whole document cannot be removed');
      remove(root, operation.path, fail);
      return root;
    case 'replace': {
      if (operation.path === '') return cloneJson(operation.value);
      const { parent, key } = locate(root, operation.path, fail, true);
      setChild(parent, key, cloneJson(operation.value));
      return root;
    }
    case 'move': {
      if (operation.from === operation.path) {
        valueAt(root, operation.from, fail, 'from');
        return root;
      }
      const value = operation.from === '' ? fail('the whole document cannot be moved') : remove(root, operation.from, fail, 'from');
      return add(root, operation.path, value, fail);
    }
    case 'copy':
      return add(root, operation.path, cloneJson(valueAt(root, operation.from, fail, 'from')), fail);
    case 'test': {
      const actual = valueAt(root, operation.path, fail);
      if (!jsonEqual(actual, operation.value)) fail(`the value at ${operation.path || 'the root'} is not equal to the test value`);
      return root;
    }
  }
}

type Fail = (reason: string) => never;

function add(root: unknown, path: string, value: unknown, fail: Fail): unknown {
  if (path === '') return value;
  const { parent, key } = locate(root, path, fail, false);
  if (Array.isArray(parent)) parent.splice(key === '-' ? parent.length : Number(key), 0, value);
  else setChild(parent, key, value);
  return root;
}

function remove(root: unknown, path: string, fail: Fail, member: 'path' | 'from' = 'path'): unknown {
  const { parent, key } = locate(root, path, fail, true, member);
  if (Array.isArray(parent)) return parent.splice(Number(key), 1)[0];
  const value = parent[key];
  delete parent[key];
  return value;
}

function valueAt(root: unknown, path: string, fail: Fail, member: 'path' | 'from' = 'path'): unknown {
  if (path === '') return root;
  const { parent, key } = locate(root, path, fail, true, member);
  return Array.isArray(parent) ? parent[Number(key)] : parent[key];
}

/**
 * Finds the container that holds the pointer's last token. `existing`: the target must already be
 * there (remove, replace, test, from); otherwise it may be new (add: a new key, `-` or an index up
 * to the array's length).
 */
function locate(
  root: unknown,
  path: string,
  fail: Fail,
  existing: boolean,
  member: 'path' | 'from' = 'path',
): { parent: Container; key: string } {
  const tokens = parsePointer(path);
  const name = member === 'from' ? `the "from" path ${path}` : `the path ${path}`;
  let current: unknown = root;
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!;
    const last = i === tokens.length - 1;
    if (typeof current !== 'object' || current === null) {
      return fail(`${name} does not exist: ${formatPointer(tokens.slice(0, i)) || 'the root'} is not an object or array`);
    }
    if (Array.isArray(current)) {
      const isAppend = token === '-' && last && !existing;
      if (!isAppend && !/^(0|[1-9][0-9]*)$/.test(token)) {
        return fail(`${name} does not exist: "${token}" is not an array index`);
      }
      const bound = existing ? current.length - 1 : current.length;
      if (!isAppend && Number(token) > bound) return fail(`${name} does not exist: index ${token} is out of bounds`);
      if (last) return { parent: current, key: token };
      current = current[Number(token)];
      continue;
    }
    const object = current as Record<string, unknown>;
    if (last) {
      if (existing && !Object.hasOwn(object, token)) return fail(`${name} does not exist`);
      return { parent: object, key: token };
    }
    if (!Object.hasOwn(object, token)) return fail(`${name} does not exist`);
    current = object[token];
  }
  // Only the root has no tokens, and every caller handles the root before locating.
  return fail(`${name} points at the whole document`);
}

function setChild(parent: Container, key: string, value: unknown): void {
  if (Array.isArray(parent)) parent[Number(key)] = value;
  else defineKey(parent, key, value);
}

// ---------------------------------------------------------------------------------------------
// Diff

/** Arrays whose differing middles multiply to more than this are diffed position by position. */
const ARRAY_DIFF_MAX_CELLS = 1_000_000;

/**
 * The JSON Patch from `from` to `to`: applyJsonPatch(from, diff(from, to)) deep-equals `to`, and
 * equal values give `[]`. Objects are diffed key by key (remove, then changes, then add), so a
 * change deep inside is one small operation. Arrays: the common head and tail are kept, and the
 * middle is the fewest element inserts, removes and in-place changes (edit distance; an in-place
 * change is diffed recursively). Moved elements are a remove plus an add, never a `move`; when the
 * middles are large (over a million pairs) the middle is diffed index by index instead, which is
 * correct but not minimal. The values in the patch are copies: it shares nothing with `to`.
 */
export function diff(from: unknown, to: unknown): JsonPatch {
  const patch: JsonPatch = [];
  diffInto(from, to, [], patch);
  return patch;
}

function diffInto(from: unknown, to: unknown, at: Array<string | number>, patch: JsonPatch): void {
  if (jsonEqual(from, to)) return;
  if (Array.isArray(from) && Array.isArray(to)) return diffArrays(from, to, at, patch);
  if (isPlainObject(from) && isPlainObject(to)) {
    for (const key of Object.keys(from)) {
      if (!Object.hasOwn(to, key)) patch.push({ op: 'remove', path: formatPointer([...at, key]) });
    }
    for (const key of Object.keys(from)) {
      if (Object.hasOwn(to, key)) diffInto(from[key], to[key], [...at, key], patch);
    }
    for (const key of Object.keys(to)) {
      if (!Object.hasOwn(from, key)) patch.push({ op: 'add', path: formatPointer([...at, key]), value: cloneJson(to[key]) });
    }
    return;
  }
  patch.push({ op: 'replace', path: formatPointer(at), value: cloneJson(to) });
}

function diffArrays(from: unknown[], to: unknown[], at: Array<string | number>, patch: JsonPatch): void {
  let start = 0;
  while (start < from.length && start < to.length && jsonEqual(from[start], to[start])) start++;
  let fromEnd = from.length;
  let toEnd = to.length;
  while (fromEnd > start && toEnd > start && jsonEqual(from[fromEnd - 1], to[toEnd - 1])) {
    fromEnd--;
    toEnd--;
  }
  const n = fromEnd - start;
  const m = toEnd - start;
  const steps = n * m <= ARRAY_DIFF_MAX_CELLS ? editScript(from, to, start, n, m) : positionalScript(n, m);
  // Walking forward, everything before `index` already matches `to`; the rest is still `from`'s.
  let index = start;
  let i = start;
  let j = start;
  for (const step of steps) {
    if (step === 'keep') {
      index++, i++, j++;
    } else if (step === 'change') {
      diffInto(from[i], to[j], [...at, index], patch);
      index++, i++, j++;
    } else if (step === 'remove') {
      patch.push({ op: 'remove', path: formatPointer([...at, index]) });
      i++;
    } else {
      patch.push({ op: 'add', path: formatPointer([...at, index]), value: cloneJson(to[j]) });
      index++, j++;
    }
  }
}

type Step = 'keep' | 'change' | 'remove' | 'add';

/** Levenshtein over the middles (n from `from`, m from `to`, both from `start`), as steps. */
function editScript(from: unknown[], to: unknown[], start: number, n: number, m: number): Step[] {
  // Canonical text makes each of the n*m comparisons a string compare instead of a deep walk.
  const a = from.slice(start, start + n).map(canonical);
  const b = to.slice(start, start + m).map(canonical);
  const width = m + 1;
  const cost = new Uint32Array((n + 1) * width);
  for (let i = 0; i <= n; i++) cost[i * width] = i;
  for (let j = 0; j <= m; j++) cost[j] = j;
  for (let i = 1; i <= n; i++) {
    for (let j = 1; j <= m; j++) {
      const same = a[i - 1] === b[j - 1];
      const diagonal = cost[(i - 1) * width + j - 1]! + (same ? 0 : 1);
      const up = cost[(i - 1) * width + j]! + 1;
      const left = cost[i * width + j - 1]! + 1;
      cost[i * width + j] = Math.min(diagonal, up, left);
    }
  }
  const steps: Step[] = [];
  let i = n;
  let j = m;
  while (i > 0 || j > 0) {
    const here = cost[i * width + j]!;
    if (i > 0 && j > 0) {
      const same = a[i - 1] === b[j - 1];
      if (here === cost[(i - 1) * width + j - 1]! + (same ? 0 : 1)) {
        steps.push(same ? 'keep' : 'change');
        i--, j--;
        continue;
      }
    }
    if (i > 0 && here === cost[(i - 1) * width + j]! + 1) {
      steps.push('remove');
      i--;
    } else {
      steps.push('add');
      j--;
    }
  }
  return steps.reverse();
}

function positionalScript(n: number, m: number): Step[] {
  const steps: Step[] = [];
  for (let k = 0; k < Math.min(n, m); k++) steps.push('change');
  for (let k = m; k < n; k++) steps.push('remove');
  for (let k = n; k < m; k++) steps.push('add');
  return steps;
}

// ---------------------------------------------------------------------------------------------
// JSON values

/** Deep equality of JSON values: arrays in order, objects by their own keys in any order. */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((item, i) => jsonEqual(item, b[i]));
  }
  const left = a as Record<string, unknown>;
  const right = b as Record<string, unknown>;
  const keys = Object.keys(left);
  if (keys.length !== Object.keys(right).length) return false;
  return keys.every((key) => Object.hasOwn(right, key) && jsonEqual(left[key], right[key]));
}

/** A deep copy made of fresh plain objects and arrays. */
function cloneJson(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return value.map(cloneJson);
  const source = value as Record<string, unknown>;
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(source)) defineKey(copy, key, cloneJson(source[key]));
  return copy;
}

/** JSON text with sorted keys: equal JSON values, and only they, give equal text. */
function canonical(value: unknown): string {
  if (typeof value !== 'object' || value === null) return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  const object = value as Record<string, unknown>;
  const keys = Object.keys(object).sort();
  return `{${keys.map((key) => `${JSON.stringify(key)}:${canonical(object[key])}`).join(',')}}`;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function own(object: Record<string, unknown>, key: string): unknown {
  return Object.hasOwn(object, key) ? object[key] : undefined;
}

// Plain assignment of `__proto__` would replace the object's prototype instead of adding a key.
function defineKey(object: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(object, key, { value, writable: true, enumerable: true, configurable: true });
}

// ---------------------------------------------------------------------------------------------
// Overlap

/** Pairs of operations compared before two patches are taken to overlap anyway (the safe answer). */
const OVERLAP_MAX_PAIRS = 100_000;

/**
 * Whether two patches made from the same `base` touch the same place, so that applying one after
 * the other would silently undo or misplace a change: one path at or under another (a value both
 * changed, or one inside a value the other replaced or removed), or two paths inside the same
 * array (an insert or a removal there shifts the other's indexes). Disjoint patches commute.
 */
export function patchesOverlap(base: unknown, a: JsonPatch, b: JsonPatch): boolean {
  if (a.length === 0 || b.length === 0) return false;
  if (a.length * b.length > OVERLAP_MAX_PAIRS) return true;
  const pathsOf = (patch: JsonPatch) =>
    patch.flatMap((operation) => ('from' in operation ? [operation.from, operation.path] : [operation.path])).map(parsePointer);
  const left = pathsOf(a);
  const right = pathsOf(b);
  for (const p of left) {
    for (const q of right) {
      let k = 0;
      while (k < p.length && k < q.length && p[k] === q[k]) k++;
      if (k === p.length || k === q.length) return true;
      if (Array.isArray(lookup(base, p.slice(0, k)))) return true;
    }
  }
  return false;
}

function lookup(document: unknown, tokens: string[]): unknown {
  let value = document;
  for (const token of tokens) {
    if (Array.isArray(value)) value = value[Number(token)];
    else if (isPlainObject(value)) value = own(value, token);
    else return undefined;
  }
  return value;
}
