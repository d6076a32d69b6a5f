// patchesOverlap: whether two patches made from one base touch the same place (then applying one
// after the other could undo or misplace a change), and a property: patches that do not overlap
// commute, so the AI's change can go on top of a person's without losing either.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { applyJsonPatch, diff, patchesOverlap, type JsonPatch } from '../../server/src/state/json-patch.js';

const base = { form: { color: 'red', name: 'x', address: { city: 'Oslo' } }, items: ['a', 'b'], n: 1 };
const op = (path: string, value: unknown = 1): JsonPatch[number] => ({ op: 'replace', path, value });

describe('patchesOverlap', () => {
  it.each([
    ['the same value', [op('/form/color')], [op('/form/color')], true],
    ['a value inside one the other replaced', [op('/form/address/city')], [op('/form/address')], true],
    ['the whole document', [op('')], [op('/n')], true],
    ['two elements of one array', [op('/items/0')], [{ op: 'add', path: '/items/1', value: 'z' }], true],
    ['a move out of what the other changes', [{ op: 'move', from: '/form/name', path: '/n' }], [op('/form/name')], true],
    ['siblings in one object', [op('/form/color')], [op('/form/name')], false],
    ['different branches', [op('/form/address/city')], [op('/n')], false],
    ['an empty patch', [], [op('/n')], false],
  ] as Array<[string, JsonPatch, JsonPatch, boolean]>)('%s', (_name, a, b, expected) => {
    expect(patchesOverlap(base, a, b)).toBe(expected);
    expect(patchesOverlap(base, b, a)).toBe(expected);
  });

  it('patches too large to compare pair by pair are taken to overlap', () => {
    const many = Array.from({ length: 400 }, (_, i) => op(`/k${i}`));
    const others = Array.from({ length: 400 }, (_, i) => op(`/j${i}`));
    expect(patchesOverlap({}, many, others)).toBe(true);
  });

  it('patches that do not overlap commute: either order gives the same state', () => {
    const leaf = fc.oneof(fc.integer(), fc.string(), fc.boolean());
    const state = fc.dictionary(fc.constantFrom('a', 'b', 'c', 'd'), fc.oneof(leaf, fc.dictionary(fc.constantFrom('x', 'y'), leaf)));
    fc.assert(
      fc.property(state, state, state, (start, left, right) => {
        const a = diff(start, left);
        const b = diff(start, right);
        fc.pre(!patchesOverlap(start, a, b));
        const ab = applyJsonPatch(applyJsonPatch(start, a), b);
        const ba = applyJsonPatch(applyJsonPatch(start, b), a);
        expect(ab).toEqual(ba);
      }),
      { numRuns: 300 },
    );
  });
});
