// JSON Patch (RFC 6902) and JSON Pointer (RFC 6901) as the state layer applies them: edge cases,
// malformed patches (422) against patches that do not apply (409), atomicity, prototype pollution,
// and diff. The RFC's appendix A and the json-patch-tests suite are json-patch.conformance.test.ts;
// the fast-check properties are json-patch.property.test.ts.
import { describe, expect, it } from 'vitest';
import { deepFreeze } from '../support/helpers.js';
import {
  applyJsonPatch,
  diff,
  formatPointer,
  jsonEqual,
  JsonPatchConflictError,
  JsonPatchInvalidError,
  parseJsonPatch,
  parsePointer,
} from '../../server/src/state/json-patch.js';

function conflictOf(run: () => unknown): JsonPatchConflictError {
  try {
    run();
  } catch (error) {
    if (error instanceof JsonPatchConflictError) return error;
    throw error;
  }
  throw new Error('expected a JsonPatchConflictError');
}

function invalidOf(run: () => unknown): JsonPatchInvalidError {
  try {
    run();
  } catch (error) {
    if (error instanceof JsonPatchInvalidError) return error;
    throw error;
  }
  throw new Error('expected a JsonPatchInvalidError');
}

interface Case {
  name: string;
  doc: unknown;
  patch: unknown;
  expected?: unknown;
  /** The patch does not apply to `doc`: a 409 naming this operation index. */
  conflict?: number;
}

// Edges beyond the public suite (json-patch.conformance.test.ts): what implementations miss.
const edges: Case[] = [
  { name: 'an empty patch leaves the document as it is', doc: { foo: 1 }, patch: [], expected: { foo: 1 } },
  { name: 'add at the root replaces the document', doc: { foo: 1 }, patch: [{ op: 'add', path: '', value: [1] }], expected: [1] },
  { name: 'replace at the root replaces the document', doc: [1, 2], patch: [{ op: 'replace', path: '', value: { baz: 'qux' } }], expected: { baz: 'qux' } },
  { name: 'a document that is a number can be replaced', doc: 1, patch: [{ op: 'replace', path: '', value: null }], expected: null },
  { name: '"/" is the empty-string key', doc: {}, patch: [{ op: 'add', path: '/', value: 1 }], expected: { '': 1 } },
  { name: 'a top-level array takes an insert', doc: [], patch: [{ op: 'add', path: '/0', value: 'foo' }], expected: ['foo'] },
  { name: 'add at index length appends', doc: [1, 2], patch: [{ op: 'add', path: '/2', value: 3 }], expected: [1, 2, 3] },
  { name: 'add past the end is refused', doc: { bar: [1, 2] }, patch: [{ op: 'add', path: '/bar/8', value: 5 }], conflict: 0 },
  { name: 'add at a negative index is refused', doc: { bar: [1, 2] }, patch: [{ op: 'add', path: '/bar/-1', value: 5 }], conflict: 0 },
  { name: 'an index with a leading zero is refused', doc: { foo: [1, 2] }, patch: [{ op: 'add', path: '/foo/01', value: 5 }], conflict: 0 },
  { name: 'an object key that looks like an index is a key', doc: { foo: {} }, patch: [{ op: 'add', path: '/foo/01', value: 5 }], expected: { foo: { '01': 5 } } },
  { name: 'a non-numeric array index is refused', doc: { foo: [1] }, patch: [{ op: 'add', path: '/foo/bar', value: 5 }], conflict: 0 },
  { name: '"-" in an object is an ordinary key', doc: { foo: {} }, patch: [{ op: 'add', path: '/foo/-', value: 1 }], expected: { foo: { '-': 1 } } },
  { name: '"-" names no existing element: test refuses it', doc: { foo: [1] }, patch: [{ op: 'test', path: '/foo/-', value: 1 }], conflict: 0 },
  { name: '"-" names no existing element: remove refuses it', doc: { foo: [1] }, patch: [{ op: 'remove', path: '/foo/-' }], conflict: 0 },
  { name: 'add to an existing key replaces its value', doc: { foo: 1 }, patch: [{ op: 'add', path: '/foo', value: [2] }], expected: { foo: [2] } },
  { name: 'add inside a string is refused', doc: { foo: 'bar' }, patch: [{ op: 'add', path: '/foo/0', value: 'x' }], conflict: 0 },
  { name: 'a null member exists: remove takes it', doc: { foo: null, bar: 1 }, patch: [{ op: 'remove', path: '/foo' }], expected: { bar: 1 } },
  { name: 'a null member exists: test matches it', doc: { foo: null }, patch: [{ op: 'test', path: '/foo', value: null }], expected: { foo: null } },
  { name: 'a value may be null', doc: { foo: 1 }, patch: [{ op: 'replace', path: '/foo', value: null }], expected: { foo: null } },
  { name: 'remove of a missing member is refused', doc: { foo: 1 }, patch: [{ op: 'remove', path: '/bar' }], conflict: 0 },
  { name: 'remove past the end of an array is refused', doc: [1, 2], patch: [{ op: 'remove', path: '/2' }], conflict: 0 },
  { name: 'the whole document cannot be removed', doc: { foo: 1 }, patch: [{ op: 'remove', path: '' }], conflict: 0 },
  { name: 'replace of a missing member is refused', doc: { foo: 1 }, patch: [{ op: 'replace', path: '/bar', value: 2 }], conflict: 0 },
  { name: 'replace of an array element', doc: { foo: [1, 2] }, patch: [{ op: 'replace', path: '/foo/1', value: 'x' }], expected: { foo: [1, 'x'] } },
  {
    name: 'test compares objects without regard to key order',
    doc: { foo: { a: 1, b: [1, { c: 2, d: 3 }] } },
    patch: [{ op: 'test', path: '/foo', value: { b: [1, { d: 3, c: 2 }], a: 1 } }],
    expected: { foo: { a: 1, b: [1, { c: 2, d: 3 }] } },
  },
  { name: 'test compares arrays in order', doc: { foo: [1, 2] }, patch: [{ op: 'test', path: '/foo', value: [2, 1] }], conflict: 0 },
  { name: 'test tells 1 from true and from "1"', doc: { a: 1 }, patch: [{ op: 'test', path: '/a', value: true }], conflict: 0 },
  { name: 'test tells null from a missing member', doc: {}, patch: [{ op: 'test', path: '/a', value: null }], conflict: 0 },
  { name: 'test of the whole document', doc: { foo: 1 }, patch: [{ op: 'test', path: '', value: { foo: 1 } }], expected: { foo: 1 } },
  { name: 'test of a number written 1e0', doc: { foo: 1 }, patch: JSON.parse('[{"op": "test", "path": "/foo", "value": 1e0}]'), expected: { foo: 1 } },
  { name: 'move to the same place changes nothing', doc: { foo: 1 }, patch: [{ op: 'move', from: '/foo', path: '/foo' }], expected: { foo: 1 } },
  { name: 'move from a missing place is refused', doc: { foo: 1 }, patch: [{ op: 'move', from: '/bar', path: '/baz' }], conflict: 0 },
  { name: 'move of an array element to the end', doc: [1, 2, 3], patch: [{ op: 'move', from: '/0', path: '/-' }], expected: [2, 3, 1] },
  { name: 'move into a sibling member', doc: { a: { b: 1 }, c: {} }, patch: [{ op: 'move', from: '/a', path: '/c/a' }], expected: { c: { a: { b: 1 } } } },
  { name: 'copy of a member', doc: { foo: { x: 1 } }, patch: [{ op: 'copy', from: '/foo', path: '/bar' }], expected: { foo: { x: 1 }, bar: { x: 1 } } },
  { name: 'copy into an array', doc: { foo: [1, 2] }, patch: [{ op: 'copy', from: '/foo/0', path: '/foo/1' }], expected: { foo: [1, 1, 2] } },
  { name: 'copy from a missing place is refused', doc: { foo: 1 }, patch: [{ op: 'copy', from: '/bar', path: '/baz' }], conflict: 0 },
  {
    name: 'operations see the results of the ones before them',
    doc: { list: [] },
    patch: [
      { op: 'add', path: '/list/-', value: 'a' },
      { op: 'add', path: '/list/-', value: 'b' },
      { op: 'test', path: '/list/1', value: 'b' },
      { op: 'move', from: '/list/0', path: '/first' },
    ],
    expected: { list: ['b'], first: 'a' },
  },
  {
    name: 'the failing operation is the one named',
    doc: { a: 1 },
    patch: [
      { op: 'replace', path: '/a', value: 2 },
      { op: 'test', path: '/a', value: 2 },
      { op: 'test', path: '/a', value: 1 },
    ],
    conflict: 2,
  },
];

describe('applyJsonPatch conformance', () => {
  for (const { name, doc, patch, expected, conflict } of edges) {
    it(name, () => {
      deepFreeze(doc);
      if (conflict === undefined) {
        expect(applyJsonPatch(doc, patch)).toEqual(expected);
      } else {
        const error = conflictOf(() => applyJsonPatch(doc, patch));
        expect(error.index).toBe(conflict);
        expect(error.op).toBe((patch as Array<{ op: string }>)[conflict]!.op);
        expect(error.message).toMatch(new RegExp(`^The patch does not apply: operation ${conflict} \\(`));
      }
    });
  }
});

describe('a failed operation says which one and why', () => {
  it('names the index, the op, the path and the reason', () => {
    const error = conflictOf(() =>
      applyJsonPatch({ a: { b: 1 } }, [
        { op: 'test', path: '/a/b', value: 1 },
        { op: 'remove', path: '/a/c' },
      ]),
    );
    expect(error).toMatchObject({ index: 1, op: 'remove', path: '/a/c', reason: 'the path /a/c does not exist' });
    expect(error.message).toBe('The patch does not apply: operation 1 (remove /a/c) failed: the path /a/c does not exist.');
  });

  it('a failed test says the value differs without echoing it', () => {
    const error = conflictOf(() => applyJsonPatch({ secret: 'hunter2' }, [{ op: 'test', path: '/secret', value: 'guess' }]));
    expect(error.reason).toBe('the value at /secret is not equal to the test value');
    expect(error.message).not.toContain('hunter2');
  });

  it('a missing "from" is named as the from path', () => {
    const error = conflictOf(() => applyJsonPatch({}, [{ op: 'copy', from: '/x/y', path: '/z' }]));
    expect(error).toMatchObject({ index: 0, op: 'copy', path: '/z', reason: 'the "from" path /x/y does not exist' });
  });
});

describe('malformed patches are refused before anything applies', () => {
  const cases: Array<{ name: string; patch: unknown; issues: Array<{ path: Array<string | number>; message: RegExp }> }> = [
    { name: 'not an array', patch: { op: 'add', path: '/a', value: 1 }, issues: [{ path: [], message: /must be an array/ }] },
    { name: 'null', patch: null, issues: [{ path: [], message: /must be an array/ }] },
    { name: 'an operation that is not an object', patch: ['add'], issues: [{ path: [0], message: /must be an object/ }] },
    { name: 'an operation that is an array', patch: [[]], issues: [{ path: [0], message: /must be an object/ }] },
    { name: 'a missing op', patch: [{ path: '/a', value: 1 }], issues: [{ path: [0, 'op'], message: /must be one of add, remove, replace, move, copy, test/ }] },
    { name: 'an unknown op', patch: [{ op: 'spam', path: '/a' }], issues: [{ path: [0, 'op'], message: /must be one of/ }] },
    { name: 'an op in capitals', patch: [{ op: 'ADD', path: '/a', value: 1 }], issues: [{ path: [0, 'op'], message: /must be one of/ }] },
    { name: 'a missing path', patch: [{ op: 'remove' }], issues: [{ path: [0, 'path'], message: /is required/ }] },
    { name: 'a path that is not a string', patch: [{ op: 'remove', path: 1 }], issues: [{ path: [0, 'path'], message: /must be a string/ }] },
    { name: 'a path without its leading slash', patch: [{ op: 'remove', path: 'a/b' }], issues: [{ path: [0, 'path'], message: /starting with "\/"/ }] },
    { name: 'a path with a bad escape', patch: [{ op: 'remove', path: '/a~2' }], issues: [{ path: [0, 'path'], message: /"~" must be followed by 0 or 1/ }] },
    { name: 'a path ending in a lone ~', patch: [{ op: 'remove', path: '/a~' }], issues: [{ path: [0, 'path'], message: /"~" must be followed/ }] },
    { name: 'add without a value', patch: [{ op: 'add', path: '/a' }], issues: [{ path: [0, 'value'], message: /is required for add/ }] },
    { name: 'replace without a value', patch: [{ op: 'replace', path: '/a' }], issues: [{ path: [0, 'value'], message: /is required for replace/ }] },
    { name: 'test without a value', patch: [{ op: 'test', path: '/a' }], issues: [{ path: [0, 'value'], message: /is required for test/ }] },
    { name: 'a value that is undefined', patch: [{ op: 'add', path: '/a', value: undefined }], issues: [{ path: [0, 'value'], message: /must be a JSON value/ }] },
    { name: 'a value holding a non-finite number', patch: [{ op: 'add', path: '/a', value: [Infinity] }], issues: [{ path: [0, 'value'], message: /finite numbers/ }] },
    { name: 'a value that is not plain JSON', patch: [{ op: 'add', path: '/a', value: new Date(0) }], issues: [{ path: [0, 'value'], message: /must be a JSON value/ }] },
    { name: 'move without from', patch: [{ op: 'move', path: '/a' }], issues: [{ path: [0, 'from'], message: /is required/ }] },
    { name: 'copy with a bad from', patch: [{ op: 'copy', from: 'a', path: '/b' }], issues: [{ path: [0, 'from'], message: /JSON Pointer/ }] },
    { name: 'move into its own child', patch: [{ op: 'move', from: '/a', path: '/a/b' }], issues: [{ path: [0, 'path'], message: /cannot be moved into itself/ }] },
    {
      name: 'every bad operation, each named by its index',
      patch: [{ op: 'add', path: '/ok', value: 1 }, { op: 'nope' }, { op: 'add', path: 'x', value: 1 }],
      issues: [
        { path: [1, 'op'], message: /must be one of/ },
        { path: [2, 'path'], message: /JSON Pointer/ },
      ],
    },
  ];
  for (const { name, patch, issues } of cases) {
    it(name, () => {
      const doc = deepFreeze({ a: { b: 1 } });
      const error = invalidOf(() => applyJsonPatch(doc, patch));
      expect(error.issues).toHaveLength(issues.length);
      issues.forEach((expected, i) => {
        expect(error.issues[i]!.path).toEqual(expected.path);
        expect(error.issues[i]!.message).toMatch(expected.message);
      });
    });
  }

  it('a value nested deeper than the limit is malformed, without overflowing the stack', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 100_000; i++) deep = [deep];
    const error = invalidOf(() => parseJsonPatch([{ op: 'add', path: '/a', value: deep }], { maxDepth: 32 }));
    expect(error.issues).toEqual([{ path: [0, 'value'], message: 'must not be nested deeper than 32 levels' }]);
  });

  it('a move to a sibling whose name starts like "from" is not a move into itself', () => {
    expect(applyJsonPatch({ a: 1 }, [{ op: 'move', from: '/a', path: '/ab' }])).toEqual({ ab: 1 });
  });

  it('the issues become a 422 body under the request field that held the patch', () => {
    const error = invalidOf(() => parseJsonPatch([{ op: 'add', path: 'a' }]));
    expect(error.fieldErrors('json_patch')).toEqual({
      'json_patch.0.path': ['The json_patch.0.path field must be a JSON Pointer: empty or starting with "/".'],
      'json_patch.0.value': ['The json_patch.0.value field is required for add.'],
    });
    expect(invalidOf(() => parseJsonPatch({})).fieldErrors('json_patch')).toEqual({
      json_patch: ['The json_patch field must be an array of operations.'],
    });
    expect(error.message).toBe('Operation 0: "path" must be a JSON Pointer: empty or starting with "/". Operation 0: "value" is required for add.');
  });

  it('parseJsonPatch keeps only the members the RFC defines', () => {
    expect(parseJsonPatch([{ op: 'remove', path: '/a', value: 1, from: '/b', extra: true }])).toEqual([{ op: 'remove', path: '/a' }]);
  });
});

describe('JSON Pointer escaping (RFC 6901)', () => {
  // The document and pointers of RFC 6901 section 5.
  const doc = deepFreeze({ foo: ['bar', 'baz'], '': 0, 'a/b': 1, 'c%d': 2, 'e^f': 3, 'g|h': 4, 'i\\j': 5, 'k"l': 6, ' ': 7, 'm~n': 8 });
  const pointers: Array<[string, unknown]> = [
    ['', doc],
    ['/foo', ['bar', 'baz']],
    ['/foo/0', 'bar'],
    ['/', 0],
    ['/a~1b', 1],
    ['/c%d', 2],
    ['/e^f', 3],
    ['/g|h', 4],
    ['/i\\j', 5],
    ['/k"l', 6],
    ['/ ', 7],
    ['/m~0n', 8],
  ];
  for (const [pointer, value] of pointers) {
    it(`${JSON.stringify(pointer)} points at ${JSON.stringify(value).slice(0, 30)}`, () => {
      expect(applyJsonPatch(doc, [{ op: 'test', path: pointer, value }])).toEqual(doc);
    });
  }

  it('unescapes ~1 before ~0, so ~01 is the key "~1"', () => {
    expect(parsePointer('/~01')).toEqual(['~1']);
    expect(parsePointer('/~10')).toEqual(['/0']);
    expect(parsePointer('/a~1b/m~0n/')).toEqual(['a/b', 'm~n', '']);
    expect(parsePointer('')).toEqual([]);
    expect(() => parsePointer('a')).toThrow(TypeError);
    expect(() => parsePointer('/~')).toThrow(TypeError);
  });

  it('formatPointer escapes what parsePointer unescapes', () => {
    const tokens = ['~1', '/', 'a/b~c', '', '0', '-', '__proto__'];
    expect(formatPointer(tokens)).toBe('/~01/~1/a~1b~0c//0/-/__proto__');
    expect(parsePointer(formatPointer(tokens))).toEqual(tokens);
  });

  it('a key with / and ~ is added and removed by its escaped pointer', () => {
    const added = applyJsonPatch({}, [{ op: 'add', path: '/a~1b~0c', value: 1 }]);
    expect(added).toEqual({ 'a/b~c': 1 });
    expect(applyJsonPatch(added, [{ op: 'remove', path: '/a~1b~0c' }])).toEqual({});
  });
});

describe('atomicity and copies', () => {
  it('a failing third operation leaves the document unchanged', () => {
    const doc = { a: 1, list: [1, 2], nested: { x: true } };
    const before = structuredClone(doc);
    const patch = [
      { op: 'replace', path: '/a', value: 2 },
      { op: 'remove', path: '/list/0' },
      { op: 'test', path: '/nested/x', value: false },
      { op: 'add', path: '/never', value: 1 },
    ];
    const error = conflictOf(() => applyJsonPatch(doc, patch));
    expect(error.index).toBe(2);
    expect(doc).toEqual(before);
  });

  it('a malformed later operation stops the patch before the first one applies', () => {
    const doc = { a: 1 };
    invalidOf(() => applyJsonPatch(doc, [{ op: 'replace', path: '/a', value: 2 }, { op: 'add' }]));
    expect(doc).toEqual({ a: 1 });
  });

  it('applies to a frozen document: the input is never written', () => {
    const doc = deepFreeze({ a: { b: [1, 2] } });
    expect(applyJsonPatch(doc, [{ op: 'add', path: '/a/b/-', value: 3 }, { op: 'move', from: '/a/b', path: '/c' }])).toEqual({
      a: {},
      c: [1, 2, 3],
    });
  });

  it('the result shares no object or array with the document or the patch', () => {
    const doc = { kept: { deep: [1] }, list: [{ x: 1 }] };
    const value = { fresh: [1] };
    const patch = [
      { op: 'add', path: '/added', value },
      { op: 'copy', from: '/kept', path: '/copied' },
    ];
    const result = applyJsonPatch(doc, patch) as Record<string, any>;
    result.kept.deep.push(2);
    result.list[0].x = 2;
    result.added.fresh.push(2);
    result.copied.deep.push(3);
    expect(doc).toEqual({ kept: { deep: [1] }, list: [{ x: 1 }] });
    expect(value).toEqual({ fresh: [1] });
    expect(result.kept.deep).toEqual([1, 2]);
    expect(result.copied.deep).toEqual([1, 3]);
  });

  it('an empty patch still returns a copy', () => {
    const doc = { a: [1] };
    const result = applyJsonPatch(doc, []) as typeof doc;
    expect(result).toEqual(doc);
    expect(result).not.toBe(doc);
    expect(result.a).not.toBe(doc.a);
  });
});

describe('prototype pollution', () => {
  it('add /__proto__ adds a plain key and leaves the prototype alone', () => {
    const result = applyJsonPatch({}, [{ op: 'add', path: '/__proto__', value: { polluted: 1 } }]) as Record<string, unknown>;
    expect(Object.getPrototypeOf(result)).toBe(Object.prototype);
    expect(Object.keys(result)).toEqual(['__proto__']);
    expect(JSON.stringify(result)).toBe('{"__proto__":{"polluted":1}}');
    expect((result as { polluted?: unknown }).polluted).toBeUndefined();
    expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
  });

  it('constructor/prototype is not reachable: those keys do not exist in a plain document', () => {
    for (const path of ['/constructor/prototype/polluted', '/__proto__/polluted', '/a/__proto__/polluted', '/a/constructor/prototype']) {
      const error = conflictOf(() => applyJsonPatch({ a: {} }, [{ op: 'add', path, value: 1 }]));
      expect(error.reason).toMatch(/does not exist/);
    }
    expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty('polluted');
  });

  it('inherited members are missing to test, remove, replace, copy and move', () => {
    const patches = [
      [{ op: 'test', path: '/toString', value: {} }],
      [{ op: 'test', path: '/constructor', value: {} }],
      [{ op: 'remove', path: '/hasOwnProperty' }],
      [{ op: 'replace', path: '/__proto__', value: {} }],
      [{ op: 'copy', from: '/constructor', path: '/c' }],
      [{ op: 'move', from: '/__proto__', path: '/c' }],
      [{ op: 'add', path: '/length/x', value: 1 }],
    ];
    for (const patch of patches) expect(conflictOf(() => applyJsonPatch({}, patch)).index).toBe(0);
    expect(conflictOf(() => applyJsonPatch([1], [{ op: 'test', path: '/length', value: 1 }])).reason).toMatch(/not an array index/);
  });

  it('a __proto__ key sent as data (JSON.parse makes it an own key) is patched as data', () => {
    const doc = JSON.parse('{"__proto__": {"x": 1}, "constructor": {"prototype": {}}}');
    const result = applyJsonPatch(doc, [
      { op: 'replace', path: '/__proto__/x', value: 2 },
      { op: 'add', path: '/constructor/prototype/polluted', value: true },
      { op: 'copy', from: '/__proto__', path: '/copy' },
    ]) as Record<string, unknown>;
    expect(JSON.stringify(result)).toBe('{"__proto__":{"x":2},"constructor":{"prototype":{"polluted":true}},"copy":{"x":2}}');
    expect(Object.getPrototypeOf(result)).toBe(Object.prototype);
    expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
    expect(applyJsonPatch(result, [{ op: 'remove', path: '/__proto__' }])).toEqual(JSON.parse('{"constructor":{"prototype":{"polluted":true}},"copy":{"x":2}}'));
  });

  it('a __proto__ key inside a value stays data in the result', () => {
    const value = JSON.parse('{"__proto__": {"polluted": 1}}');
    const result = applyJsonPatch({}, [{ op: 'add', path: '/v', value }]) as { v: Record<string, unknown> };
    expect(Object.keys(result.v)).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(result.v)).toBe(Object.prototype);
  });

  it('diff sees a __proto__ key as data', () => {
    const from = JSON.parse('{"__proto__": {"a": 1}}');
    const to = JSON.parse('{"__proto__": {"a": 2}, "b": 1}');
    const patch = diff(from, to);
    expect(patch).toEqual([
      { op: 'replace', path: '/__proto__/a', value: 2 },
      { op: 'add', path: '/b', value: 1 },
    ]);
    expect(JSON.stringify(applyJsonPatch(from, patch))).toBe(JSON.stringify(to));
    expect(diff({}, JSON.parse('{"__proto__": 1}'))).toEqual([{ op: 'add', path: '/__proto__', value: 1 }]);
  });
});

describe('diff', () => {
  const cases: Array<{ name: string; from: unknown; to: unknown; patch: unknown[] }> = [
    { name: 'equal values give an empty patch', from: { a: [1, { b: 2 }] }, to: { a: [1, { b: 2 }] }, patch: [] },
    { name: 'key order does not matter', from: { a: 1, b: 2 }, to: { b: 2, a: 1 }, patch: [] },
    { name: 'a deep change is one replace', from: { a: { b: { c: 1, d: 2 } } }, to: { a: { b: { c: 1, d: 3 } } }, patch: [{ op: 'replace', path: '/a/b/d', value: 3 }] },
    {
      name: 'members removed, changed and added',
      from: { gone: 1, kept: 1, changed: 'x' },
      to: { kept: 1, changed: 'y', new: [] },
      patch: [
        { op: 'remove', path: '/gone' },
        { op: 'replace', path: '/changed', value: 'y' },
        { op: 'add', path: '/new', value: [] },
      ],
    },
    { name: 'a change of type is a replace', from: { a: [1] }, to: { a: { 0: 1 } }, patch: [{ op: 'replace', path: '/a', value: { 0: 1 } }] },
    { name: 'a different root is a replace of the root', from: 1, to: 'one', patch: [{ op: 'replace', path: '', value: 'one' }] },
    { name: 'an insert at the head of an array is one add', from: [1, 2, 3, 4], to: [0, 1, 2, 3, 4], patch: [{ op: 'add', path: '/0', value: 0 }] },
    { name: 'a removal from the middle is one remove', from: ['a', 'b', 'c', 'd'], to: ['a', 'c', 'd'], patch: [{ op: 'remove', path: '/1' }] },
    { name: 'an append is one add', from: [1], to: [1, 2], patch: [{ op: 'add', path: '/1', value: 2 }] },
    {
      name: 'a changed element is diffed inside',
      from: [{ id: 1, name: 'a' }, { id: 2, name: 'b' }],
      to: [{ id: 1, name: 'a' }, { id: 2, name: 'B' }],
      patch: [{ op: 'replace', path: '/1/name', value: 'B' }],
    },
    {
      name: 'removes and inserts in one array use the indices of the moment',
      from: ['a', 'x', 'b', 'y', 'c'],
      to: ['a', 'b', 'z', 'c', 'w'],
      patch: [
        { op: 'remove', path: '/1' },
        { op: 'replace', path: '/2', value: 'z' },
        { op: 'add', path: '/4', value: 'w' },
      ],
    },
    { name: 'keys that need escaping are escaped', from: { 'a/b': 1 }, to: { 'a/b': 2, '~': 1 }, patch: [{ op: 'replace', path: '/a~1b', value: 2 }, { op: 'add', path: '/~0', value: 1 }] },
  ];
  for (const { name, from, to, patch } of cases) {
    it(name, () => {
      expect(diff(from, to)).toEqual(patch);
      expect(applyJsonPatch(from, patch)).toEqual(to);
    });
  }

  it('the patch shares nothing with the target', () => {
    const to = { a: { list: [1] } };
    const patch = diff({}, to) as Array<{ value: { list: number[] } }>;
    patch[0]!.value.list.push(2);
    expect(to).toEqual({ a: { list: [1] } });
  });

  it('large arrays stay correct when the middle is too big to align', () => {
    const from = Array.from({ length: 3000 }, (_, i) => i);
    const to = Array.from({ length: 2500 }, (_, i) => i * 2);
    const patch = diff(from, to);
    expect(applyJsonPatch(from, patch)).toEqual(to);
  });

  it('a few thousand elements with one insert stay one add', () => {
    const from = Array.from({ length: 5000 }, (_, i) => ({ id: i }));
    const to = [...from.slice(0, 2500), { id: -1 }, ...from.slice(2500)];
    expect(diff(from, to)).toEqual([{ op: 'add', path: '/2500', value: { id: -1 } }]);
  });
});

describe('jsonEqual', () => {
  it('compares JSON values deeply, objects in any key order, arrays in order', () => {
    expect(jsonEqual({ a: [1, { b: null }], c: 'x' }, { c: 'x', a: [1, { b: null }] })).toBe(true);
    expect(jsonEqual([1, 2], [2, 1])).toBe(false);
    expect(jsonEqual({ a: undefined }, {})).toBe(false);
    expect(jsonEqual({}, [])).toBe(false);
    expect(jsonEqual(1, '1')).toBe(false);
    expect(jsonEqual(null, {})).toBe(false);
  });
});
