// Properties of the state layer's JSON Patch (RFC 6902), found by fast-check over random JSON:
// diff then apply rebuilds the target, a merge patch (RFC 7396) survives the trip through a
// diff, nothing is ever written to a patch's input or shared with its result, and a patch that
// fails on its last operation changes nothing. The states hold the keys that break naive
// implementations (`__proto__`, `~`, `/`, the empty string, index-like keys) and unicode text.
// Edit when json-patch.ts gains an operation or a promise; the table-driven cases live in
// json-patch.test.ts and json-patch.conformance.test.ts.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { deepFreeze } from '../support/helpers.js';
import {
  applyJsonPatch,
  applyMergePatch,
  diff,
  formatPointer,
  jsonEqual,
  JsonPatchConflictError,
  JsonPatchInvalidError,
  parseJsonPatch,
} from '../../server/src/state/json-patch.js';

/** Through JSON text, as every stored state goes: -0 becomes 0, key order stops mattering to toEqual. */
const asJson = (value: unknown): unknown => (value === undefined ? undefined : JSON.parse(JSON.stringify(value)));

/** Equal as JSON, with a readable failure: jsonEqual is the library's own notion, toEqual shows the diff. */
function expectSameJson(actual: unknown, expected: unknown): void {
  expect(asJson(actual)).toEqual(asJson(expected));
  expect(jsonEqual(asJson(actual), asJson(expected))).toBe(true);
}

/** True when some object or array inside `value` (itself included) is frozen: shared with a frozen input. */
function holdsFrozen(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  return Object.isFrozen(value) || Object.values(value).some(holdsFrozen);
}

// ---------------------------------------------------------------------------------------------
// Arbitraries

const trickyKeys = [
  '', '~', '/', '~0', '~1', '~01', '/~', 'a/b', 'm~n', '__proto__', 'constructor', 'prototype', 'toString',
  'hasOwnProperty', 'length', '0', '1', '01', '-', 'a', 'b', 'c', 'é', 'e\u0301', '名前', '🙂', ' ', 'a\u0000b',
];
const key = fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...trickyKeys) }, { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 5 }) });

const text = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom('', 'a', 'b', 'é', '🙂', '👩‍👩‍👧', 'line\nbreak', '"quoted"', '\\', '~1', '/', '\u0000') },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 8 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 4 }) },
);
const number = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(0, 1, 2, -1, 0.5, 1e21, Number.MAX_SAFE_INTEGER) },
  { weight: 1, arbitrary: fc.integer() },
  { weight: 1, arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true }) },
);
const leaf = fc.oneof(fc.constant(null), fc.boolean(), number, text);

// Few distinct leaves and keys dominate, so random pairs share structure and arrays share
// elements: the interesting diffs, not only "replace everything".
const { json } = fc.letrec<{ json: unknown }>((tie) => ({
  json: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    { weight: 3, arbitrary: fc.oneof({ weight: 4, arbitrary: fc.constantFrom(null, true, false, 0, 1, 'a', '') }, { weight: 1, arbitrary: leaf }) },
    { weight: 1, arbitrary: fc.array(tie('json'), { maxLength: 6 }) },
    { weight: 2, arbitrary: fc.dictionary(key, tie('json'), { maxKeys: 5 }) },
  ),
}));

/** A state is an object at the root (SPEC: the state is a JSON object). */
const state = fc.dictionary(key, json, { maxKeys: 6 });

/**
 * `b` made from `a` by a few random edits (keys added, removed, renamed and changed; elements
 * inserted, removed, moved and changed), driven by a list of numbers so fast-check can shrink it.
 */
const related = fc
  .tuple(state, fc.array(fc.nat(), { minLength: 1, maxLength: 40 }), fc.array(json, { minLength: 1, maxLength: 4 }), fc.array(key, { minLength: 1, maxLength: 4 }))
  .map(([a, choices, fresh, freshKeys]) => {
    let at = 0;
    const next = (bound: number): number => choices[at++ % choices.length]! % bound;
    return { a, b: mutate(a, next, fresh, freshKeys, 0) };
  });

function mutate(value: unknown, next: (bound: number) => number, fresh: unknown[], freshKeys: string[], depth: number): unknown {
  const pick = <T>(list: T[]): T => list[next(list.length)]!;
  if (depth > 3 || (depth > 0 && next(5) === 0)) return structuredClone(value);
  if (Array.isArray(value)) {
    const copy = value.map((item) => structuredClone(item));
    for (let edits = next(3) + 1; edits > 0; edits--) {
      const kind = next(4);
      if (kind === 0) copy.splice(next(copy.length + 1), 0, structuredClone(pick(fresh)));
      else if (copy.length === 0) continue;
      else if (kind === 1) copy.splice(next(copy.length), 1);
      else if (kind === 2) copy.splice(next(copy.length), 0, ...copy.splice(next(copy.length), 1));
      else {
        const i = next(copy.length);
        copy[i] = mutate(copy[i], next, fresh, freshKeys, depth + 1);
      }
    }
    return copy;
  }
  if (typeof value === 'object' && value !== null) {
    const copy = JSON.parse(JSON.stringify(value)) as Record<string, unknown>;
    for (let edits = next(3) + 1; edits > 0; edits--) {
      const keys = Object.keys(copy);
      const kind = next(4);
      const define = (k: string, v: unknown) => Object.defineProperty(copy, k, { value: v, writable: true, enumerable: true, configurable: true });
      if (kind === 0 || keys.length === 0) define(pick(freshKeys), structuredClone(pick(fresh)));
      else if (kind === 1) delete copy[pick(keys)];
      else if (kind === 2) {
        const from = pick(keys);
        const moved = copy[from];
        delete copy[from];
        define(pick(freshKeys), moved);
      } else {
        const k = pick(keys);
        define(k, mutate(copy[k], next, fresh, freshKeys, depth + 1));
      }
    }
    return copy;
  }
  return next(2) === 0 ? structuredClone(pick(fresh)) : value;
}

/** Every place in `value`, the root included, with what is there: what a random patch aims at. */
function placesOf(value: unknown, at: Array<string | number> = [], into: Array<[string, unknown]> = []): Array<[string, unknown]> {
  into.push([formatPointer(at), value]);
  if (Array.isArray(value)) value.forEach((item, i) => placesOf(item, [...at, i], into));
  else if (typeof value === 'object' && value !== null) {
    for (const k of Object.keys(value)) placesOf((value as Record<string, unknown>)[k], [...at, k], into);
  }
  return into;
}

/** A random patch against `doc`: any of the six ops, at paths that exist, `-`, or do not exist. */
const randomPatchFor = (doc: unknown) => {
  const places = placesOf(doc);
  const existing = places.map(([pointer]) => pointer);
  const path = fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...existing) },
    { weight: 1, arbitrary: fc.constantFrom(...existing).map((p) => `${p}/-`) },
    { weight: 1, arbitrary: fc.array(key, { maxLength: 3 }).map(formatPointer) },
  );
  // A test value that is there half the time, so tests pass and later operations run.
  const testValue = fc.oneof(json, fc.constantFrom(...places.map(([, value]) => value)));
  const operation = fc.oneof(
    fc.record({ op: fc.constant('add'), path, value: json }),
    fc.record({ op: fc.constant('remove'), path }),
    fc.record({ op: fc.constant('replace'), path, value: json }),
    fc.record({ op: fc.constant('move'), from: path, path }),
    fc.record({ op: fc.constant('copy'), from: path, path }),
    fc.record({ op: fc.constant('test'), path, value: testValue }),
  );
  return fc.array(operation, { maxLength: 6 });
};

/** An operation that cannot apply to `doc`: its path (or `from`) goes through a member `doc` lacks. */
const failingOperationFor = (doc: unknown) => {
  let absent = 'missing';
  while (typeof doc === 'object' && doc !== null && !Array.isArray(doc) && Object.hasOwn(doc, absent)) absent += '~';
  const missing = formatPointer([absent, 'deeper']);
  return fc.constantFrom(
    { op: 'add', path: missing, value: 1 },
    { op: 'remove', path: missing },
    { op: 'replace', path: missing, value: 1 },
    { op: 'move', from: missing, path: '/x' },
    { op: 'copy', from: missing, path: '/x' },
    // Never equal: no finite value equals an array holding it.
    { op: 'test', path: '', value: [doc] },
  );
};

// ---------------------------------------------------------------------------------------------

describe('diff, then apply, gives the target', () => {
  it('for random pairs of states', () => {
    fc.assert(
      fc.property(state, state, (a, b) => {
        const frozen = deepFreeze(a);
        const patch = diff(frozen, b);
        expect(parseJsonPatch(patch)).toEqual(patch);
        expectSameJson(applyJsonPatch(frozen, patch), b);
      }),
      { numRuns: 300 },
    );
  });

  it('for a state and an edited copy of it', () => {
    fc.assert(
      fc.property(related, ({ a, b }) => {
        const frozen = deepFreeze(a);
        const patch = diff(frozen, b);
        expectSameJson(applyJsonPatch(frozen, patch), b);
      }),
      { numRuns: 600 },
    );
  });

  it('for any JSON values at the root, not only objects', () => {
    fc.assert(
      fc.property(json, json, (a, b) => {
        expectSameJson(applyJsonPatch(a, diff(a, b)), b);
      }),
      { numRuns: 300 },
    );
  });

  it("for fast-check's own JSON values (any unicode text, any numbers)", () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), fc.jsonValue({ maxDepth: 4 }), (a, b) => {
        expectSameJson(applyJsonPatch(a, diff(a, b)), b);
      }),
      { numRuns: 200 },
    );
  });

  it('for arrays edited at random, in no more operations than rewriting them', () => {
    const list = fc.array(fc.constantFrom(1, 2, 3, 'x', '🙂', { k: 1 }, [1]), { maxLength: 12 });
    fc.assert(
      fc.property(list, list, (a, b) => {
        const patch = diff(a, b);
        expect(applyJsonPatch(a, patch)).toEqual(b);
        expect(patch.length).toBeLessThanOrEqual(Math.max(a.length, b.length));
      }),
      { numRuns: 400 },
    );
  });
});

describe('diff of equal states', () => {
  it('is [] for a state and itself, and for a copy with its keys in another order', () => {
    fc.assert(
      fc.property(state, (a) => {
        expect(diff(a, a)).toEqual([]);
        const reordered = JSON.parse(JSON.stringify(a, (_, value: unknown) => reverseKeys(value)));
        expect(diff(a, reordered)).toEqual([]);
        expect(diff(reordered, a)).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });
});

function reverseKeys(value: unknown): unknown {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
  const copy: Record<string, unknown> = {};
  for (const k of Object.keys(value).reverse()) {
    Object.defineProperty(copy, k, { value: (value as Record<string, unknown>)[k], writable: true, enumerable: true, configurable: true });
  }
  return copy;
}

describe('merge patches (RFC 7396) and JSON Patch agree', () => {
  it('a merge patch applied, then diffed, round-trips', () => {
    fc.assert(
      fc.property(state, state, (a, m) => {
        const merged = applyMergePatch(deepFreeze(a), deepFreeze(m));
        expectSameJson(applyJsonPatch(a, diff(a, merged)), merged);
      }),
      { numRuns: 400 },
    );
  });

  it('a merge patch with null members (removals) round-trips too', () => {
    const withNulls = fc.dictionary(key, fc.oneof(fc.constant(null), json), { maxKeys: 6 });
    fc.assert(
      fc.property(related, withNulls, ({ a }, m) => {
        const merged = applyMergePatch(a, m);
        for (const k of Object.keys(m)) if (m[k] === null) expect(Object.hasOwn(merged, k)).toBe(false);
        expectSameJson(applyJsonPatch(a, diff(a, merged)), merged);
      }),
      { numRuns: 300 },
    );
  });
});

describe('a patch never writes to its input', () => {
  it('random patches leave the document and the patch as they were, and share nothing with the result', () => {
    fc.assert(
      fc.property(
        state.chain((doc) => fc.tuple(fc.constant(doc), randomPatchFor(doc))),
        ([doc, patch]) => {
          const docText = JSON.stringify(doc);
          const patchText = JSON.stringify(patch);
          deepFreeze(doc);
          deepFreeze(patch);
          let result: unknown;
          try {
            result = applyJsonPatch(doc, patch);
          } catch (error) {
            // A move into its own child is malformed; anything else that fails does not apply.
            if (!(error instanceof JsonPatchConflictError) && !(error instanceof JsonPatchInvalidError)) throw error;
          }
          expect(JSON.stringify(doc)).toBe(docText);
          expect(JSON.stringify(patch)).toBe(patchText);
          expect(holdsFrozen(result)).toBe(false);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('a diff shares nothing with its target', () => {
    fc.assert(
      fc.property(state, state, (a, b) => {
        expect(holdsFrozen(diff(a, deepFreeze(b)))).toBe(false);
      }),
      { numRuns: 200 },
    );
  });
});

describe('a patch applies whole or not at all', () => {
  it('a patch whose last operation fails throws JsonPatchConflictError naming it, and changes nothing', () => {
    fc.assert(
      fc.property(
        related.chain(({ a, b }) => fc.tuple(fc.constant(a), fc.constant(b), failingOperationFor(b))),
        ([a, b, failing]) => {
          const snapshot = JSON.stringify(a);
          deepFreeze(a);
          const patch = [...diff(a, b), failing];
          let thrown: unknown;
          try {
            applyJsonPatch(a, patch);
          } catch (error) {
            thrown = error;
          }
          expect(thrown).toBeInstanceOf(JsonPatchConflictError);
          const conflict = thrown as JsonPatchConflictError;
          expect(conflict.index).toBe(patch.length - 1);
          expect(conflict.op).toBe(failing.op);
          expect(JSON.stringify(a)).toBe(snapshot);
          // The same patch without its last operation still applies: only that one failed.
          expectSameJson(applyJsonPatch(a, patch.slice(0, -1)), b);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('a failing test at the end: the patch applies exactly when the test holds', () => {
    fc.assert(
      fc.property(json, json, json, (a, b, c) => {
        const snapshot = JSON.stringify(a);
        const patch = [...diff(a, b), { op: 'test', path: '', value: c }];
        let thrown: unknown;
        try {
          expectSameJson(applyJsonPatch(a, patch), b);
        } catch (error) {
          thrown = error;
        }
        if (jsonEqual(b, c)) expect(thrown).toBeUndefined();
        else expect(thrown).toBeInstanceOf(JsonPatchConflictError);
        expect(JSON.stringify(a)).toBe(snapshot);
      }),
      { numRuns: 300 },
    );
  });
});
