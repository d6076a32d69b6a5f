// fast-check arbitraries for hostile input, generated from the zod contracts: a walk over each
// input schema (`schema._zod.def`) that mixes values the contract accepts with adversarial ones
// (wrong types, huge or broken strings, overflowing numbers, deep nesting, prototype keys...),
// plus path parameters, query strings, headers and content types. Bodies are built as a small JSON
// tree (`J`) and serialised by hand, so they can hold what JSON.stringify never writes: `1e400`,
// `-0`, duplicate keys, `__proto__` as a key, escaped lone surrogates, 10,000-level nesting.
import fc from 'fast-check';
import type { z } from 'zod';

// ---------------------------------------------------------------------------------------------
// The JSON tree and its serialiser

/** A JSON token written as is (`1e400`, `-0`, a pre-built 10,000-level nesting). */
export class Raw {
  constructor(readonly text: string) {}
  [fc.toStringMethod](): string {
    return `Raw(${this.text.length > 80 ? `${this.text.slice(0, 80)}…(${this.text.length} chars)` : this.text})`;
  }
}
/** An object as its entries, in order: keys may repeat and may be `__proto__`. */
export class Obj {
  constructor(readonly entries: ReadonlyArray<readonly [string, J]>) {}
  [fc.toStringMethod](): string {
    const text = toJson(this);
    return `Obj(${text.length > 200 ? `${text.slice(0, 200)}…(${text.length} chars)` : text})`;
  }
}
export type J = null | boolean | number | string | Raw | Obj | J[];

/** A field left out of its object. */
export const OMIT: unique symbol = Symbol('omit');
type Field = J | typeof OMIT;

/** The JSON text of a tree; numbers JSON cannot write (NaN, Infinity) become raw overflows. */
export function toJson(value: J): string {
  if (value === null) return 'null';
  if (typeof value === 'boolean') return String(value);
  if (typeof value === 'number') {
    if (Number.isNaN(value)) return '1e400';
    if (!Number.isFinite(value)) return value > 0 ? '1e400' : '-1e400';
    if (Object.is(value, -0)) return '-0';
    return JSON.stringify(value);
  }
  if (typeof value === 'string') return JSON.stringify(value);
  if (value instanceof Raw) return value.text;
  if (value instanceof Obj) return `{${value.entries.map(([k, v]) => `${JSON.stringify(k)}:${toJson(v)}`).join(',')}}`;
  return `[${value.map(toJson).join(',')}]`;
}

/**
 * encodeURIComponent that does not throw on lone surrogates: they go out as the (invalid) UTF-8
 * bytes of the surrogate code point, `%ED%A0%80`, for the server to cope with.
 */
export function enc(text: string): string {
  let out = '';
  for (const ch of text) {
    const code = ch.codePointAt(0)!;
    if (code >= 0xd800 && code <= 0xdfff) {
      const bytes = [0xe0 | (code >> 12), 0x80 | ((code >> 6) & 0x3f), 0x80 | (code & 0x3f)];
      out += bytes.map((b) => `%${b.toString(16).toUpperCase()}`).join('');
    } else out += encodeURIComponent(ch);
  }
  return out;
}

/** A value as a query-string parameter would carry it. */
function toQueryValue(value: J): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return toJson(value);
  return toJson(value);
}

// ---------------------------------------------------------------------------------------------
// Adversarial building blocks

export const DEEP_ARRAY = (levels: number) => '['.repeat(levels) + ']'.repeat(levels);
export const DEEP_OBJECT = (levels: number) => '{"a":'.repeat(levels) + '1' + '}'.repeat(levels);

/** Numbers at the edges of what JSON, JavaScript and PostgreSQL agree on. */
const hostileNumber: fc.Arbitrary<J> = fc.oneof(
  fc.constantFrom<J>(
    0,
    -0,
    1,
    -1,
    0.5,
    1e308,
    -1e308,
    5e-324,
    Number.MAX_SAFE_INTEGER,
    Number.MAX_SAFE_INTEGER + 1,
    2 ** 31,
    2 ** 53 + 2,
    2 ** 64,
    -(2 ** 63),
    1.7976931348623157e308,
  ),
  fc.constantFrom<J>(
    new Raw('1e400'),
    new Raw('-1e400'),
    new Raw('1e-400'),
    new Raw('-0'),
    new Raw('-0.0'),
    new Raw('1E+2'),
    new Raw('123456789012345678901234567890123456789'),
    new Raw('0.' + '0'.repeat(400) + '1'),
    new Raw('9'.repeat(1000)),
  ),
  fc.integer(),
  fc.double(),
);

/** Strings that break naive text handling: NUL, lone surrogates, BOM, bidi, emoji, blanks. */
const nastyPieces = [
  '\u0000',
  'a\u0000b',
  '\ud800',
  '\udfff',
  'x\ud83d',
  '\ude00y',
  '\u202e',
  '\ufeff',
  '\u200b',
  '\r\n',
  '\t',
  '\u0085',
  '\u2028\u2029',
  '😀',
  '👨‍👩‍👧‍👦',
  'é',
  'e\u0301',
  '\u00a0\u3000',
  '   ',
  '\n\t ',
  '%00',
  '%',
  '../../etc/passwd',
  '<script>alert(1)</script>',
  "' or 1=1 --",
  '"; drop table users; --',
  '${jndi:ldap://x}',
  '{{7*7}}',
  '\\',
  '"',
  '__proto__',
  'constructor',
  'null',
  'undefined',
  'NaN',
  '-1',
  '1e400',
  '0x10',
  '1_000',
  ' 1 ',
];

const nastyString: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(...nastyPieces),
  fc.array(fc.constantFrom(...nastyPieces), { minLength: 1, maxLength: 6 }).map((parts) => parts.join('')),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'binary-ascii', maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  // Around the length limits of the contracts (64, 100, 200, 254, 256, 512, 5000, 20,000).
  fc
    .tuple(fc.constantFrom(64, 65, 100, 101, 200, 201, 255, 257, 513, 5000, 5001, 20_001, 100_000), fc.constantFrom('a', '😀', ' ', 'é', '\u0000'))
    .map(([n, c]) => c.repeat(n)),
);

/** Keys that mean something to JavaScript objects, and keys that cannot be stored. */
const hostileKey: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom('__proto__', 'constructor', 'prototype', 'toJSON', 'then', 'toString', 'valueOf', 'hasOwnProperty', '__defineGetter__', 'length') },
  { weight: 1, arbitrary: fc.constantFrom('', '\u0000', '\ud800', 'a.b', 'a[b]', ' ', '😀', 'k'.repeat(300)) },
  { weight: 2, arbitrary: fc.string({ maxLength: 12 }) },
);

const deepRaw: fc.Arbitrary<J> = fc
  .tuple(fc.constantFrom(33, 100, 1000, 10_000), fc.boolean())
  .map(([levels, array]) => new Raw(array ? DEEP_ARRAY(levels) : DEEP_OBJECT(levels)));

/** Any JSON value at all, hostile on every level (prototype keys, broken strings, overflows). */
const hostileValue: fc.Arbitrary<J> = fc.letrec<{ value: J }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    { weight: 4, arbitrary: fc.oneof(fc.constant(null), fc.boolean(), hostileNumber, nastyString, fc.string({ maxLength: 20 })) },
    { weight: 1, arbitrary: fc.array(tie('value'), { maxLength: 4 }) },
    { weight: 1, arbitrary: fc.array(fc.tuple(fc.oneof(hostileKey, fc.string({ maxLength: 8 })), tie('value')), { maxLength: 4 }).map((e) => new Obj(e)) },
    { weight: 1, arbitrary: deepRaw },
  ),
})).value;

/** A JSON object (an application state) with hostile keys and values. */
const hostileObject: fc.Arbitrary<J> = fc.oneof(
  fc.array(fc.tuple(fc.oneof(hostileKey, fc.string({ maxLength: 8 })), hostileValue), { maxLength: 6 }).map((e) => new Obj(e)),
  fc.constantFrom<J>(
    new Raw('{"__proto__":{"polluted":true}}'),
    new Raw('{"constructor":{"prototype":{"polluted":true}}}'),
    new Raw('{"__proto__":null,"a":1}'),
    new Raw('{"a":1,"a":2}'),
    new Raw(`{"x":${DEEP_OBJECT(10_000)}}`),
    new Raw(`{"x":${DEEP_ARRAY(10_000)}}`),
    new Raw(`{"x":${DEEP_OBJECT(32)}}`),
    new Raw('{"big":"' + 'a'.repeat(70_000) + '"}'),
    new Raw('{"n":1e400}'),
    new Raw('{"s":"\\ud800"}'),
    new Raw('{"s":"\\u0000"}'),
    new Raw('{"\\u0000":1}'),
    new Raw('{"\\udfff":1}'),
  ),
);

// ---------------------------------------------------------------------------------------------
// From a zod schema

export interface SchemaHints {
  /** Valid values to offer for a field, by name (known thread and message ids, say; OMIT: absent). */
  fields?: Record<string, fc.Arbitrary<Field>>;
}

type Def = { type: string; [key: string]: unknown };
const defOf = (schema: unknown): Def => (schema as { _zod: { def: Def } })._zod.def;
const checksOf = (def: Def) => ((def['checks'] as Array<{ _zod: { def: Record<string, unknown> } }> | undefined) ?? []).map((c) => c._zod.def);

function lengthBounds(def: Def): { min: number; max: number } {
  let min = 0;
  let max = 200;
  for (const check of checksOf(def)) {
    if (check['check'] === 'min_length') min = Number(check['minimum']);
    if (check['check'] === 'max_length') max = Number(check['maximum']);
  }
  return { min, max };
}

function numberBounds(def: Def): { min: number; max: number } {
  let min = -1e6;
  let max = 1e6;
  for (const check of checksOf(def)) {
    if (check['check'] === 'greater_than') min = Number(check['value']) + (check['inclusive'] ? 0 : 1);
    if (check['check'] === 'less_than') max = Number(check['value']) - (check['inclusive'] ? 0 : 1);
  }
  return { min, max };
}

/** Mostly text a user would type: letters, spaces, emoji; sometimes an offline-model command. */
const plausibleText = (min: number, max: number): fc.Arbitrary<string> => {
  const hi = Math.max(min, Math.min(max, 60));
  return fc.oneof(
    { weight: 4, arbitrary: fc.string({ unit: 'grapheme', minLength: Math.max(min, 1), maxLength: Math.max(hi, 1) }) },
    { weight: 2, arbitrary: fc.string({ minLength: Math.max(min, 1), maxLength: Math.max(hi, 1) }) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        'set form.color to blue',
        'set __proto__.polluted to true',
        'set constructor.prototype.polluted to 1',
        'set a.b.c to {"__proto__": {"x": 1}}',
        'set n to 1e400',
        'set big to "' + 'x'.repeat(70_000) + '"',
        'unset form',
        'set s to "\\u0000"',
      ),
    },
  );
};

/** A valid-looking string with one nasty piece (NUL, a lone surrogate, a BOM...) slipped in. */
const spiked = (base: fc.Arbitrary<string>): fc.Arbitrary<string> =>
  fc.tuple(base, fc.constantFrom(...nastyPieces.slice(0, 20)), fc.nat()).map(([text, piece, at]) => {
    const i = text.length === 0 ? 0 : at % (text.length + 1);
    return text.slice(0, i) + piece + text.slice(i);
  });

function validString(def: Def): fc.Arbitrary<J> {
  const format = def['format'];
  let base: fc.Arbitrary<string>;
  if (format === 'email') base = fc.emailAddress();
  else if (format === 'datetime') {
    base = fc
      .date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2200-01-01T00:00:00Z'), noInvalidDate: true })
      .map((d) => d.toISOString());
  } else {
    const { min, max } = lengthBounds(def);
    base = plausibleText(min, max);
  }
  return fc.oneof({ weight: 5, arbitrary: base }, { weight: 1, arbitrary: spiked(base) });
}

function validNumber(def: Def): fc.Arbitrary<J> {
  const { min, max } = numberBounds(def);
  const lo = Math.max(min, -1e9);
  const hi = Math.min(max, 1e9);
  const int = fc.integer({ min: Math.ceil(lo), max: Math.floor(hi) });
  // Coerced numbers (ids, page sizes) also arrive as decimal strings.
  return def['coerce'] ? fc.oneof(int, int.map(String)) : int;
}

/** The valid part of a schema's values. */
function validFor(schema: unknown, name: string | undefined, hints: SchemaHints): fc.Arbitrary<Field> {
  const hinted = name !== undefined ? hints.fields?.[name] : undefined;
  const def = defOf(schema);
  switch (def.type) {
    case 'optional':
      return fc.oneof({ weight: 1, arbitrary: fc.constant(OMIT) }, { weight: 2, arbitrary: validFor(def['innerType'], name, hints) });
    case 'default':
      return fc.oneof(fc.constant(OMIT), validFor(def['innerType'], name, hints));
    case 'nullable':
      return fc.oneof({ weight: 1, arbitrary: fc.constant(null) }, { weight: 3, arbitrary: validFor(def['innerType'], name, hints) });
    case 'readonly':
    case 'nonoptional':
    case 'catch':
    case 'prefault':
      return validFor(def['innerType'], name, hints);
    case 'pipe':
      return validFor(def['in'], name, hints);
  }
  if (hinted) return fc.oneof({ weight: 3, arbitrary: hinted }, { weight: 1, arbitrary: validFor0(def, name, hints) });
  return validFor0(def, name, hints);
}

function validFor0(def: Def, name: string | undefined, hints: SchemaHints): fc.Arbitrary<J> {
  switch (def.type) {
    case 'object':
      return objectFor(def, hints);
    case 'string':
      return validString(def);
    case 'number':
    case 'int':
      return validNumber(def);
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'literal':
      return fc.constantFrom(...((def['values'] as J[] | undefined) ?? [null]));
    case 'enum':
      return fc.constantFrom(...(Object.values(def['entries'] as Record<string, J>) as J[]));
    case 'array': {
      const { min, max } = lengthBounds(def);
      return fc.array(fieldFor(def['element'], undefined, hints).filter((v): v is J => v !== OMIT), {
        minLength: min,
        maxLength: Math.min(max, 8),
      });
    }
    case 'record': {
      const key = validFor(def['keyType'], undefined, hints).filter((k): k is string => typeof k === 'string');
      const value = fieldFor(def['valueType'], undefined, hints).filter((v): v is J => v !== OMIT);
      return fc.oneof(
        { weight: 3, arbitrary: fc.array(fc.tuple(key, value), { maxLength: 5 }).map((e) => new Obj(e)) },
        // Over a "small map" bound (16 keys), and hostile keys.
        { weight: 1, arbitrary: fc.array(fc.tuple(fc.oneof(key, hostileKey), value), { minLength: 15, maxLength: 20 }).map((e) => new Obj(e)) },
      );
    }
    case 'union': {
      const options = (def['options'] as unknown[]).map((o) => fieldFor(o, name, hints).filter((v): v is J => v !== OMIT));
      return fc.oneof(...options);
    }
    case 'custom':
      // The contracts' only custom schema is State: any JSON object.
      return fc.oneof(
        { weight: 3, arbitrary: fc.array(fc.tuple(fc.string({ maxLength: 10 }), fc.oneof(fc.string({ maxLength: 20 }), fc.integer(), fc.boolean(), fc.constant(null))), { maxLength: 5 }).map((e) => new Obj(e)) },
        { weight: 2, arbitrary: hostileObject },
      );
    case 'void':
    case 'undefined':
      return fc.constant(null);
    default:
      return hostileValue;
  }
}

/** One field's values: mostly valid, sometimes hostile, sometimes left out. */
function fieldFor(schema: unknown, name: string | undefined, hints: SchemaHints): fc.Arbitrary<Field> {
  return fc.oneof(
    { weight: 8, arbitrary: validFor(schema, name, hints) },
    { weight: 2, arbitrary: hostileValue },
    { weight: 1, arbitrary: fc.constant(OMIT) },
  );
}

function objectFor(def: Def, hints: SchemaHints, skip: ReadonlySet<string> = new Set()): fc.Arbitrary<J> {
  const shape = def['shape'] as Record<string, unknown>;
  const names = Object.keys(shape).filter((n) => !skip.has(n));
  const fields = names.map((n) => fieldFor(shape[n], n, hints));
  const extras = fc.oneof(
    { weight: 4, arbitrary: fc.constant([] as Array<[string, J]>) },
    { weight: 1, arbitrary: fc.array(fc.tuple(hostileKey, hostileValue), { minLength: 1, maxLength: 3 }) },
  );
  return fc.tuple(fc.tuple(...fields), extras).map(([values, extra]) => {
    const entries: Array<[string, J]> = [];
    names.forEach((n, i) => {
      const v = values[i];
      if (v !== OMIT && v !== undefined) entries.push([n, v]);
    });
    return new Obj([...entries, ...extra]);
  });
}

/**
 * The input of an operation as a JSON tree: its object schema's fields (minus `skip`, the path
 * parameters REST sends in the path), mostly valid, sometimes hostile, plus stray keys; or, now
 * and then, a value of another type altogether.
 */
export function inputFor(schema: z.ZodType, hints: SchemaHints = {}, skip: ReadonlySet<string> = new Set()): fc.Arbitrary<J> {
  const def = defOf(schema);
  const body = def.type === 'object' ? objectFor(def, hints, skip) : validFor0(def, undefined, hints);
  return fc.oneof(
    { weight: 12, arbitrary: body },
    { weight: 1, arbitrary: hostileValue },
    { weight: 1, arbitrary: hostileObject },
  );
}

/** The fields of an operation's object schema (empty for other schemas). */
export function shapeOf(schema: z.ZodType): Record<string, unknown> {
  const def = defOf(schema);
  return def.type === 'object' ? (def['shape'] as Record<string, unknown>) : {};
}

// ---------------------------------------------------------------------------------------------
// Path parameters, query strings, headers

/** A path segment for an id: a known one, any number, or something that is no id at all. */
export function pathParam(known: fc.Arbitrary<number>): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 24, arbitrary: known.map(String) },
    { weight: 1, arbitrary: fc.integer({ min: 1, max: 2 ** 31 }).map(String) },
    {
      weight: 4,
      arbitrary: fc.constantFrom(
        '0',
        '-1',
        '1.5',
        '1.0',
        '1e3',
        '1e0',
        '1e400',
        '0x10',
        '+1',
        '%2B1',
        '01',
        ' 1',
        '%201',
        '1%20',
        '%20%201%20%20',
        '1%09',
        '0b1',
        '0o1',
        'NaN',
        'Infinity',
        '-0',
        '9007199254740991',
        '9007199254740992',
        '99999999999999999999999999',
        '9'.repeat(5000),
        'abc',
        '..',
        '.',
        '%2e%2e',
        '..%2f..%2f',
        '%2F',
        '%00',
        '%',
        '%zz',
        '%C0%80',
        '%ED%A0%80',
        '%FF',
        '%F0%9F%98%80',
        '__proto__',
        'constructor',
        'toString',
        '1;drop',
        '1?x=1',
        '1#frag',
        'null',
        'true',
        '[]',
        '{}',
        '%7B%7D',
        'a'.repeat(4000),
      ),
    },
    { weight: 1, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 20 }).map(enc) },
  );
}

/** A query string, `?a=b&...`, from fields and hostile extras; the pairs are written raw. */
export function queryFor(schema: z.ZodType, hints: SchemaHints, skip: ReadonlySet<string>): fc.Arbitrary<string> {
  const shape = shapeOf(schema);
  const names = Object.keys(shape).filter((n) => !skip.has(n));
  const pairs = names.map((n) =>
    fc.oneof(
      { weight: 2, arbitrary: fc.constant([] as string[]) },
      { weight: 4, arbitrary: validFor(shape[n], n, hints).map((v) => (v === OMIT ? [] : [`${n}=${enc(toQueryValue(v))}`])) },
      { weight: 2, arbitrary: hostileValue.map((v) => [`${n}=${enc(toQueryValue(v))}`]) },
      {
        weight: 2,
        arbitrary: fc.constantFrom(
          [`${n}=`],
          [n],
          [`${n}=1`, `${n}=2`],
          [`${n}[]=1`],
          [`${n}[a]=1`],
          [`${n}[__proto__]=1`],
          [`${n}=%`],
          [`${n}=%zz`],
          [`${n}=%00`],
          [`${n}=%ED%A0%80`],
          [`${n}=%C0%80`],
          [`${n}=%FF%FE`],
          [`${n}=${'9'.repeat(400)}`],
          [`${n}=-1`],
          [`${n}=1.5`],
          [`${n}=1e400`],
          [`${n}=0x10`],
          [`${n}=%201`],
          [`${n}=%2B1`],
          [`${n}=1e0`],
          [`${n}=01`],
          [`${n}=${'a'.repeat(3000)}`],
        ),
      },
    ),
  );
  const extras = fc.oneof(
    { weight: 5, arbitrary: fc.constant([] as string[]) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        ['__proto__=1'],
        ['__proto__[polluted]=1'],
        ['constructor[prototype][polluted]=1'],
        ['input=%7B%7D'],
        ['a=' + 'b'.repeat(5000)],
        Array.from({ length: 1000 }, (_, i) => `k${i}=${i}`),
        ['&&&&'],
        ['=', '=='],
      ),
    },
  );
  return fc.tuple(fc.tuple(...pairs), extras).map(([parts, extra]) => {
    const all = [...parts.flat(), ...extra];
    return all.length ? `?${all.join('&')}` : '';
  });
}

/** Header values fetch can send (no CR, LF or NUL; Latin-1 only), some of them hostile. */
const headerValue: fc.Arbitrary<string> = fc.oneof(
  fc.string({ minLength: 1, maxLength: 40 }),
  fc.string({ unit: fc.integer({ min: 0x20, max: 0xff }).filter((c) => c !== 0x7f).map((c) => String.fromCharCode(c)), minLength: 1, maxLength: 40 }),
  fc.constantFrom('a'.repeat(256), 'a'.repeat(4096), 'x'.repeat(12_000), ' ', '\t', '%00', '__proto__', 'é', 'ÿÿÿ', '"quoted"', 'a, b', 'null'),
);

export type AuthChoice =
  | { kind: 'bearer' }
  | { kind: 'api-token' }
  | { kind: 'none' }
  | { kind: 'cookie'; origin: 'same' | 'none' | 'evil' | 'garbage' }
  | { kind: 'header'; value: string };

export const authChoice: fc.Arbitrary<AuthChoice> = fc.oneof(
  { weight: 12, arbitrary: fc.constant<AuthChoice>({ kind: 'bearer' }) },
  { weight: 1, arbitrary: fc.constant<AuthChoice>({ kind: 'api-token' }) },
  { weight: 1, arbitrary: fc.constant<AuthChoice>({ kind: 'none' }) },
  { weight: 1, arbitrary: fc.constantFrom<'same' | 'none' | 'evil' | 'garbage'>('same', 'none', 'evil', 'garbage').map((origin): AuthChoice => ({ kind: 'cookie', origin })) },
  {
    weight: 2,
    arbitrary: fc
      .oneof(
        fc.constantFrom(
          'Bearer',
          'Bearer ',
          'Bearer  ',
          'bearer sess_aaaa.bbbb',
          'Bearer sess_.',
          'Bearer ait_aaaa.bbbb',
          'Bearer sess_' + 'a'.repeat(5000) + '.b',
          'Bearer ' + 'x'.repeat(12_000),
          'Bearer a b',
          'Basic dXNlcjpwYXNz',
          'Bearer __proto__',
          'Bearer sess___proto__.constructor',
          'Bearer %00',
          'Bearer ÿÿÿ',
          'Token abc',
        ),
        headerValue.map((v) => `Bearer ${v}`),
        headerValue,
      )
      .map((value): AuthChoice => ({ kind: 'header', value })),
  },
);

/** Extra headers: idempotency keys, event ids, request ids, odd accepts and encodings. */
export const extraHeaders: fc.Arbitrary<Record<string, string>> = fc
  .record(
    {
      'idempotency-key': fc.oneof(fc.uuid(), fc.constantFrom('k'.repeat(255), 'k'.repeat(256), 'with space', 'é', '\t'), headerValue),
      'last-event-id': fc.oneof(fc.constantFrom('1:0', '1:done', '0:0', '99999999999999999:1', '1:9999999999', 'done', '-1:0', ':', '1:'), headerValue),
      'x-request-id': headerValue,
      accept: fc.constantFrom('*/*', 'text/event-stream', 'application/xml', 'garbage', ''),
      'accept-encoding': fc.constantFrom('gzip', 'br', 'identity;q=0', '*;q=0', 'garbage'),
      cookie: fc.constantFrom('ai_threads_session=', 'ai_threads_session=%', 'ai_threads_session=a; ai_threads_session=b', '=;=;', 'a'.repeat(4000)),
      'x-forwarded-for': fc.constantFrom('1.2.3.4', 'garbage', '::1, 1.1.1.1', ''),
    },
    { requiredKeys: [] },
  )
  .map((headers) => Object.fromEntries(Object.entries(headers).filter(([, v]) => v !== undefined)) as Record<string, string>);

/** Content types: mostly JSON, sometimes not, sometimes JSON with odd parameters. */
export const contentType: fc.Arbitrary<string | undefined> = fc.oneof(
  { weight: 20, arbitrary: fc.constant('application/json') },
  {
    weight: 3,
    arbitrary: fc.constantFrom<string | undefined>(
      undefined,
      'text/plain',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=xyz',
      'application/json; charset=latin1',
      'application/json; charset=utf-16',
      'application/json; charset=utf-8',
      'application/json;charset=UTF-8',
      'APPLICATION/JSON',
      'application/json; boundary=x; charset="utf-8"',
      'application/vnd.api+json',
      'application/merge-patch+json',
      'application/xml',
      'text/event-stream',
      'application/octet-stream',
      'application/json, text/plain',
      '*/*',
      'garbage',
      '',
      ';',
    ),
  },
);

/** A raw body that is not a JSON tree: truncated or broken JSON, invalid UTF-8, nothing at all. */
export const rawBody: fc.Arbitrary<string | Uint8Array> = fc.oneof(
  fc.constantFrom<string | Uint8Array>(
    '',
    ' ',
    '{',
    '{"content":',
    '{"content":"x"',
    '[',
    '"',
    'nul',
    'undefined',
    'NaN',
    "{'a':1}",
    '{"a":1,}',
    '{a:1}',
    '\ufeff{}',
    '{}garbage',
    '{}{}',
    '{"content":"\\ud800"}',
    '{"content":"\\u0000"}',
    '{"content":"\\x00"}',
    '{"content":"a\u0000b"}',
    'content=hello&state=1',
    '--xyz\r\nContent-Disposition: form-data; name="content"\r\n\r\nhi\r\n--xyz--\r\n',
    DEEP_ARRAY(10_000),
    DEEP_OBJECT(10_000),
    '[' + DEEP_ARRAY(10_000),
    DEEP_OBJECT(10_000).slice(0, -1),
    '1e400',
    '-0',
    'null',
    'true',
    '[]',
    '"hello"',
    '42',
    new Uint8Array([0xff, 0xfe, 0xfd]),
    new Uint8Array([0x7b, 0x22, 0x63, 0x6f, 0x6e, 0x74, 0x65, 0x6e, 0x74, 0x22, 0x3a, 0x22, 0xc3, 0x28, 0x22, 0x7d]), // {"content":"\xc3("}
    new Uint8Array([0x7b, 0x22, 0x63, 0x22, 0x3a, 0x22, 0xed, 0xa0, 0x80, 0x22, 0x7d]), // CESU surrogate
    new Uint8Array([0x7b, 0x22, 0x63, 0x22, 0x3a, 0x22, 0xc0, 0x80, 0x22, 0x7d]), // overlong NUL
    new Uint8Array([0xef, 0xbb, 0xbf, 0x7b, 0x7d]), // BOM + {}
    new Uint8Array([0xfe, 0xff, 0x00, 0x7b, 0x00, 0x7d]), // UTF-16 BOM
    new Uint8Array([0x1f, 0x8b, 0x08, 0x00, 0x00]), // a gzip header, truncated
  ),
  fc.uint8Array({ maxLength: 64 }),
  fc.string({ unit: 'binary', maxLength: 64 }),
);
