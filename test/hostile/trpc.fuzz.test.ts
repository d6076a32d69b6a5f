// Property-based hostile input on the tRPC face (/trpc/<procedure>): queries and subscriptions as
// GET with `?input=<JSON>`, mutations as POST with the JSON body, each input generated from the
// operation's zod schema (path parameters included, as tRPC takes them), mixed with wrong
// methods, batches, broken `input` parameters, raw bodies, content types, credentials and
// headers. The same invariants as on REST: below 500 (in stream events too), a tRPC error shape
// with the HTTP status, no row stored for a refusal, a live process afterwards, and an integer
// field given anything but a JSON integer (`true`, `[1]`, `"1"`, `1.5`) never a success.
import fc from 'fast-check';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Operation } from '@ai-threads/contracts';
import {
  authChoice,
  contentType,
  enc,
  extraHeaders,
  inputFor,
  Obj,
  Raw,
  rawBody,
  shapeOf,
  toJson,
  type AuthChoice,
  type J,
} from './arbitraries.js';
import {
  afterCall,
  authHeaders,
  expectAlive,
  fcParams,
  hintsFor,
  operations,
  printable,
  printStats,
  sendAndCheck,
  startFixture,
  type Fixture,
  type HostileRequest,
} from './support.js';

const RUNS_PER_OPERATION = 100;
const RUNS_OF_ODD_PROCEDURES = 200;

let fx: Fixture;
beforeAll(async () => {
  fx = await startFixture();
});
afterAll(async () => {
  printStats();
  await fx?.app.close();
});
// A failed property leaves its last row counts behind: read them afresh for the next one.
beforeEach(() => {
  if (fx) fx.counts = undefined;
});

type Shape = 'single' | 'batch' | 'batch-mixed';
type Input = { kind: 'json'; value: J } | { kind: 'raw'; value: string | Uint8Array } | { kind: 'query'; value: string } | { kind: 'none' };

interface TrpcPlan {
  shape: Shape;
  wrongMethod: string | null;
  input: Input;
  contentType: string | undefined;
  auth: AuthChoice;
  headers: Record<string, string>;
}

const typeOf = (op: Operation) => (op.transport === 'sse' ? 'subscription' : op.method === 'GET' ? 'query' : 'mutation');

/** Raw `input` query parameters that are not the URL-encoded JSON of an input. */
const oddInputParam = fc.constantFrom(
  '?input=',
  '?input',
  '?input=%',
  '?input=%zz',
  '?input=%ED%A0%80',
  '?input=%7B',
  '?input=undefined',
  '?input=null',
  '?input=%5B%5D',
  '?input=1e400',
  '?input=%22%5Cud800%22',
  `?input=${'%5B'.repeat(10_000)}${'%5D'.repeat(10_000)}`,
  `?input=${enc('{"a":'.repeat(3000) + '1' + '}'.repeat(3000))}`,
  '?input=%7B%7D&input=%7B%7D',
  '?input[a]=1',
  '?batch=1&input=%7B%7D',
  '?batch=1&input=%7B%220%22%3A%7B%7D%2C%22__proto__%22%3A%7B%7D%7D',
  '?batch=1&input=%5B%5D',
  '?batch=1',
  '?batch=0',
  '?batch=true&input=null',
  '?__proto__=1',
  '?connectionParams=1&input=%7B%7D',
  '?connectionParams=%7B%22a%22%3A1%7D',
  '?lastEventId=1%3A0',
);

function planFor(op: Operation): fc.Arbitrary<TrpcPlan> {
  const hints = hintsFor(fx);
  const type = typeOf(op);
  const json = inputFor(op.input, hints).map((value): Input => ({ kind: 'json', value }));
  const input: fc.Arbitrary<Input> =
    type === 'mutation'
      ? fc.oneof(
          { weight: 10, arbitrary: json },
          { weight: 2, arbitrary: rawBody.map((value): Input => ({ kind: 'raw', value })) },
          { weight: 1, arbitrary: fc.constant<Input>({ kind: 'none' }) },
        )
      : fc.oneof(
          { weight: 10, arbitrary: json },
          { weight: 2, arbitrary: oddInputParam.map((value): Input => ({ kind: 'query', value })) },
          { weight: 1, arbitrary: fc.constant<Input>({ kind: 'none' }) },
        );
  return fc.record({
    shape: fc.oneof(
      { weight: 10, arbitrary: fc.constant<Shape>('single') },
      { weight: 1, arbitrary: fc.constantFrom<Shape>('batch', 'batch-mixed') },
    ),
    wrongMethod: fc.oneof(
      { weight: 10, arbitrary: fc.constant(null) },
      { weight: 1, arbitrary: fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD') },
    ),
    input,
    contentType,
    auth: authChoice,
    headers: fc.oneof({ weight: 2, arbitrary: fc.constant({}) }, { weight: 1, arbitrary: extraHeaders }),
  }).map(printable);
}

function requestOf(op: Operation, plan: TrpcPlan): HostileRequest {
  const type = typeOf(op);
  const method = plan.wrongMethod ?? (type === 'mutation' ? 'POST' : 'GET');
  const names =
    plan.shape === 'single' ? op.name : plan.shape === 'batch' ? `${op.name},${op.name}` : `${op.name},me.get,nope.missing`;
  const batch = plan.shape !== 'single';
  const headers: Record<string, string> = { ...plan.headers, ...authHeaders(fx, plan.auth) };
  if (plan.contentType !== undefined) headers['content-type'] = plan.contentType;
  const text =
    plan.input.kind === 'json'
      ? batch
        ? `{"0":${toJson(plan.input.value)},"1":${toJson(plan.input.value)}}`
        : toJson(plan.input.value)
      : undefined;
  let query = batch ? '?batch=1' : '';
  let body: string | Uint8Array | undefined;
  const canHaveBody = method !== 'GET' && method !== 'HEAD';
  if (method === 'GET' || method === 'HEAD' || type !== 'mutation') {
    if (text !== undefined) query += `${query ? '&' : '?'}input=${enc(text)}`;
    if (plan.input.kind === 'query') query = plan.input.value;
  }
  if (canHaveBody && type === 'mutation') {
    if (text !== undefined) body = text;
    if (plan.input.kind === 'raw') body = plan.input.value;
  } else if (canHaveBody && text !== undefined) {
    body = text;
  }
  return { method, path: `/trpc/${names}${query}`, headers, body };
}

/** Whether a field's schema takes a number (through optional, default and pipes). */
function takesNumber(schema: unknown): boolean {
  const def = (schema as { _zod: { def: { type: string; innerType?: unknown; in?: unknown } } })._zod.def;
  if (def.innerType !== undefined) return takesNumber(def.innerType);
  if (def.type === 'pipe') return takesNumber(def.in);
  return def.type === 'number';
}

/** The integer fields of a single call's input that hold something else than a JSON integer. */
function nonIntegers(op: Operation, plan: TrpcPlan): string[] {
  if (plan.shape !== 'single' || plan.wrongMethod !== null || plan.input.kind !== 'json') return [];
  const input = plan.input.value;
  if (!(input instanceof Obj)) return [];
  const shape = shapeOf(op.input);
  const found: string[] = [];
  for (const field of Object.keys(shape).filter((name) => takesNumber(shape[name]))) {
    // JSON.parse keeps the last of repeated keys.
    const entry = input.entries.findLast(([key]) => key === field);
    if (!entry) continue;
    let value: unknown = entry[1];
    if (value instanceof Raw) {
      try {
        value = JSON.parse(value.text);
      } catch {
        continue;
      }
    }
    // A nullable integer field (parent_id: null, a new root) takes null as what it is.
    if (value === null && (shape[field] as { safeParse(v: unknown): { success: boolean } }).safeParse(null).success) continue;
    if (!Number.isInteger(value)) found.push(`${field}=${toJson(entry[1]).slice(0, 40)}`);
  }
  return found;
}

/** Procedure paths that are not procedures: prototype names, traversal, huge batches. */
const oddProcedure = fc.oneof(
  fc.constantFrom(
    '__proto__',
    'constructor',
    'prototype',
    'toString',
    'hasOwnProperty',
    'auth.__proto__',
    'threads.constructor',
    'threads.create.toString',
    'threads.__proto__.create',
    '_def',
    'threads._def',
    'threads._def.procedures',
    'createCaller',
    'getErrorShape',
    '..',
    '../healthz',
    '%2e%2e',
    '%2e%2e%2fhealthz',
    'threads%2Fcreate',
    'threads.create%00',
    '%ED%A0%80',
    '%zz',
    'me.get,',
    ',',
    ',,,,',
    'me.get,,me.get',
    'me.get.',
    '.me.get',
    'ME.GET',
    'me.get/extra',
    'threads.list%2Cme.get',
    'x'.repeat(8000),
    Array.from({ length: 500 }, () => 'me.get').join(','),
    Array.from({ length: 200 }, () => 'threads.list').join(','),
    Array.from({ length: 50 }, () => 'auth.signUp').join(','),
  ),
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 30 }).map(enc),
);

describe('tRPC: hostile calls of every procedure', () => {
  it.each(operations().map((op) => [op.name, op] as const))('%s', { timeout: 120_000 }, async (_name, op) => {
    await fc.assert(
      fc.asyncProperty(planFor(op), async (plan) => {
        const res = await sendAndCheck(fx, 'trpc', requestOf(op, plan));
        // A refused subscription may answer 200 with an error event: sendAndCheck checks those.
        const wrong = op.transport === 'sse' ? [] : nonIntegers(op, plan);
        if (res && wrong.length > 0) expect(res.status, `${wrong.join(', ')} was taken as an integer`).toBeGreaterThanOrEqual(400);
        await afterCall(fx, plan.shape === 'single' && plan.wrongMethod === null ? op : undefined, res);
      }),
      fcParams(RUNS_PER_OPERATION),
    );
    await expectAlive(fx);
  });

  it('procedure paths that are no procedure, and huge batches', { timeout: 120_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(
        oddProcedure,
        fc.constantFrom('GET', 'POST'),
        fc.boolean(),
        fc.constantFrom('', '?batch=1', '?input=%7B%7D', '?batch=1&input=%7B%220%22%3A%7B%7D%7D'),
        async (path, method, authenticated, query) => {
          const headers: Record<string, string> = authenticated ? { authorization: `Bearer ${fx.token}` } : {};
          if (method === 'POST') headers['content-type'] = 'application/json';
          const body = method === 'POST' ? (query.startsWith('?batch') ? '{"0":{}}' : '{}') : undefined;
          await sendAndCheck(fx, 'any', { method, path: `/trpc/${path}${query}`, headers, body });
        },
      ),
      fcParams(RUNS_OF_ODD_PROCEDURES),
    );
    await expectAlive(fx);
  });
});
