// JSON Merge Patch (RFC 7396) as the AI layer applies it: the RFC's examples, no mutation, no
// prototype pollution, and clean refusals of inputs too deep or too large.
import { describe, expect, it } from 'vitest';
import { deepFreeze } from '../support/helpers.js';
import { applyMergePatch, applyStatePatch, MergePatchError } from '../../server/src/ai/merge-patch.js';
import type { JsonObject } from '../../server/src/ai/provider.js';

function nested(levels: number): Record<string, unknown> {
  let value: Record<string, unknown> = {};
  for (let level = 1; level < levels; level++) value = { a: value };
  return value;
}

describe('applyMergePatch', () => {
  // RFC 7396, Appendix A.
  it.each([
    [{ a: 'b' }, { a: 'c' }, { a: 'c' }],
    [{ a: 'b' }, { b: 'c' }, { a: 'b', b: 'c' }],
    [{ a: 'b' }, { a: null }, {}],
    [{ a: 'b', b: 'c' }, { a: null }, { b: 'c' }],
    [{ a: ['b'] }, { a: 'c' }, { a: 'c' }],
    [{ a: 'c' }, { a: ['b'] }, { a: ['b'] }],
    [{ a: { b: 'c' } }, { a: { b: 'd', c: null } }, { a: { b: 'd' } }],
    [{ a: [{ b: 'c' }] }, { a: [1] }, { a: [1] }],
    [['a', 'b'], ['c', 'd'], ['c', 'd']],
    [{ a: 'b' }, ['c'], ['c']],
    [{ a: 'foo' }, null, null],
    [{ a: 'foo' }, 'bar', 'bar'],
    [{ e: null }, { a: 1 }, { e: null, a: 1 }],
    [[1, 2], { a: 'b', c: null }, { a: 'b' }],
    [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
  ])('RFC 7396 example: %j patched with %j gives %j', (target, patch, expected) => {
    expect(applyMergePatch(target, patch)).toEqual(expected);
  });

  it('applies the RFC section 3 example', () => {
    const target = {
      title: 'Goodbye!',
      author: { givenName: 'John', familyName: 'Doe' },
      tags: ['example', 'sample'],
      content: 'This will be unchanged',
    };
    const patch = { title: 'Hello!', phoneNumber: '+01-123-456-7890', author: { familyName: null }, tags: ['example'] };
    expect(applyMergePatch(target, patch)).toEqual({
      title: 'Hello!',
      author: { givenName: 'John' },
      tags: ['example'],
      content: 'This will be unchanged',
      phoneNumber: '+01-123-456-7890',
    });
  });

  it('keeps the order of the target keys and appends new keys', () => {
    const result = applyMergePatch({ b: 1, a: 2, c: 3 }, { a: 20, d: 4, b: null });
    expect(Object.keys(result)).toEqual(['a', 'c', 'd']);
  });

  it('creates an object when the target is null', () => {
    expect(applyMergePatch(null, { form: { color: 'blue' } })).toEqual({ form: { color: 'blue' } });
  });

  it('mutates neither input and shares no objects with them', () => {
    const target = deepFreeze({ form: { color: 'red', sizes: [1, 2] }, untouched: { deep: { x: 1 } } });
    const patch = deepFreeze({ form: { color: 'blue', extra: { y: [3] } } });
    const result = applyMergePatch(target, patch);

    expect(result).toEqual({ form: { color: 'blue', sizes: [1, 2], extra: { y: [3] } }, untouched: { deep: { x: 1 } } });
    const form = result.form as { sizes: number[]; extra: { y: number[] } };
    const untouched = result.untouched as { deep: object };
    expect(form.sizes).not.toBe(target.form.sizes);
    expect(form.extra).not.toBe(patch.form.extra);
    expect(form.extra.y).not.toBe(patch.form.extra.y);
    expect(untouched).not.toBe(target.untouched);
    expect(untouched.deep).not.toBe(target.untouched.deep);
  });

  it('treats __proto__ as a plain data key', () => {
    const patch: JsonObject = JSON.parse('{"__proto__": {"polluted": true}, "nested": {"__proto__": {"polluted": 1}}}');
    const result = applyMergePatch({}, patch);

    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getPrototypeOf(result)).toBe(Object.prototype);
    expect(Object.hasOwn(result, '__proto__')).toBe(true);
    expect((result as Record<string, unknown>).polluted).toBeUndefined();
    expect(JSON.parse(JSON.stringify(result))).toEqual(patch);
    expect(JSON.stringify(result)).toBe('{"__proto__":{"polluted":true},"nested":{"__proto__":{"polluted":1}}}');
  });

  it('merges into an existing __proto__ data key and deletes it with null', () => {
    const target: JsonObject = JSON.parse('{"__proto__": {"a": 1, "b": 2}}');
    const merged = applyMergePatch(target, JSON.parse('{"__proto__": {"b": null, "c": 3}}') as JsonObject);
    expect(JSON.stringify(merged)).toBe('{"__proto__":{"a":1,"c":3}}');

    const removed = applyMergePatch(target, JSON.parse('{"__proto__": null}') as JsonObject);
    expect(Object.keys(removed)).toEqual([]);
    expect(Object.getPrototypeOf(removed)).toBe(Object.prototype);
  });

  it('treats constructor and prototype as plain data keys', () => {
    const result = applyMergePatch({}, { constructor: { prototype: { polluted: true } } });

    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.prototype.constructor).toBe(Object);
    expect(result).toEqual({ constructor: { prototype: { polluted: true } } });
    expect(Object.hasOwn(result, 'constructor')).toBe(true);
  });

  it('ignores properties inherited by the target', () => {
    // `toString` is inherited, not a key of the target: nulling it is a no-op, not a deletion.
    expect(applyMergePatch({ a: 1 }, { toString: null })).toEqual({ a: 1 });
  });

  it('refuses a patch nested 10,000 levels deep with a MergePatchError', () => {
    expect(() => applyMergePatch({}, nested(10_000))).toThrow(MergePatchError);
  });

  it('refuses a target nested 10,000 levels deep with a MergePatchError', () => {
    expect(() => applyMergePatch(nested(10_000), { b: 1 })).toThrow(MergePatchError);
  });

  it('refuses deep arrays too', () => {
    let value: unknown = [];
    for (let level = 0; level < 10_000; level++) value = [value];
    expect(() => applyMergePatch({}, { a: value })).toThrow(MergePatchError);
  });

  it('accepts nesting up to maxDepth and refuses one level more', () => {
    expect(applyMergePatch({}, nested(5), { maxDepth: 5 })).toEqual(nested(5));
    expect(() => applyMergePatch({}, nested(6), { maxDepth: 5 })).toThrow(MergePatchError);
  });
});

describe('applyStatePatch', () => {
  it('returns the patched state within the limits', () => {
    expect(applyStatePatch({ a: 1 }, { b: { c: 2 } }, { maxDepth: 2, maxBytes: 100 })).toEqual({ a: 1, b: { c: 2 } });
  });

  it('refuses a result over the byte limit', () => {
    expect(() => applyStatePatch({}, { text: 'x'.repeat(200) }, { maxDepth: 32, maxBytes: 100 })).toThrow(
      /over the limit of 100/,
    );
  });

  it('refuses a result deeper than the depth limit', () => {
    expect(() => applyStatePatch({ a: {} }, { a: { b: { c: {} } } }, { maxDepth: 3, maxBytes: 1000 })).toThrow(
      MergePatchError,
    );
  });
});
