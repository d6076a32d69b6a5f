// Property-based hostile input on the REST face (/api/v1): for every operation of the contracts,
// requests generated from its zod input schema — mostly valid, often adversarial (wrong types,
// broken strings, overflowing numbers, deep nesting, prototype keys, stray fields), with hostile
// path parameters, query strings, headers, credentials, methods and content types. Whatever
// arrives, the answer is below 500, an error is the seed's JSON body, a refused request stores no
// row, the process still answers afterwards, and an id or number that is not plain decimal digits
// (" 1", "0x10", "1e3", "+1") never reaches a success.
import fc from 'fast-check';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Operation } from '@ai-threads/contracts';
import {
  authChoice,
  contentType,
  extraHeaders,
  inputFor,
  pathParam,
  queryFor,
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
  fromPool,
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

type Body = { kind: 'json'; value: J } | { kind: 'raw'; value: string | Uint8Array } | { kind: 'none' };

interface RestPlan {
  method: string;
  params: Record<string, string>;
  query: string;
  body: Body;
  contentType: string | undefined;
  auth: AuthChoice;
  headers: Record<string, string>;
}

function planFor(op: Operation): fc.Arbitrary<RestPlan> {
  const hints = hintsFor(fx);
  const pathFields = new Set(Object.keys(op.pathParams));
  const known: Record<string, fc.Arbitrary<number>> = {
    threadId: fc.oneof({ weight: 6, arbitrary: fromPool(fx.threads) }, { weight: 1, arbitrary: fc.constant(fx.foreignThread) }),
    messageId: fromPool(fx.messages),
    id: fromPool(fx.apiTokens),
  };
  const params = fc.record(
    Object.fromEntries(Object.entries(op.pathParams).map(([field, name]) => [name, pathParam(known[field] ?? fc.nat())])),
  ) as fc.Arbitrary<Record<string, string>>;
  const takesBody = op.method === 'POST' || op.method === 'PATCH';
  const json = inputFor(op.input, hints, pathFields).map((value): Body => ({ kind: 'json', value }));
  const raw = rawBody.map((value): Body => ({ kind: 'raw', value }));
  const none = fc.constant<Body>({ kind: 'none' });
  return fc.record({
    method: fc.oneof(
      { weight: 12, arbitrary: fc.constant(op.method) },
      { weight: 1, arbitrary: fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD') },
    ),
    params,
    query:
      op.method === 'GET'
        ? queryFor(op.input, hints, pathFields)
        : fc.oneof({ weight: 6, arbitrary: fc.constant('') }, { weight: 1, arbitrary: queryFor(op.input, hints, pathFields) }),
    body: takesBody
      ? fc.oneof({ weight: 10, arbitrary: json }, { weight: 2, arbitrary: raw }, { weight: 1, arbitrary: none })
      : fc.oneof({ weight: 6, arbitrary: none }, { weight: 1, arbitrary: json }, { weight: 1, arbitrary: raw }),
    contentType,
    auth: authChoice,
    headers: fc.oneof({ weight: 2, arbitrary: fc.constant({}) }, { weight: 1, arbitrary: extraHeaders }),
  }).map(printable);
}

function requestOf(op: Operation, plan: RestPlan): HostileRequest {
  const path = op.path.replace(/\{([^}]+)\}/g, (_, name: string) => plan.params[name] ?? '');
  const headers: Record<string, string> = { ...plan.headers, ...authHeaders(fx, plan.auth) };
  if (plan.contentType !== undefined) headers['content-type'] = plan.contentType;
  const canHaveBody = plan.method !== 'GET' && plan.method !== 'HEAD';
  let body: string | Uint8Array | undefined;
  if (canHaveBody && plan.body.kind === 'json') body = toJson(plan.body.value);
  if (canHaveBody && plan.body.kind === 'raw') body = plan.body.value;
  return { method: plan.method, path: `/api/v1${path}${plan.query}`, headers, body };
}

/** Whether a field's schema takes a number (through optional, default and pipes). */
function takesNumber(schema: unknown): boolean {
  const def = (schema as { _zod: { def: { type: string; innerType?: unknown; in?: unknown } } })._zod.def;
  if (def.innerType !== undefined) return takesNumber(def.innerType);
  if (def.type === 'pipe') return takesNumber(def.in);
  return def.type === 'number';
}

const PLAIN_DECIMAL = /^[1-9][0-9]*$/;

/** Percent-decoded as the server decodes it; undecodable text stays as it is. */
function decoded(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/**
 * The ids and numbers of a request that are not plain decimal digits, as the server reads them:
 * a path segment up to any `?` or `#` (a `.` or `..` segment moves the route instead), and on a
 * GET the query values of the contract's number fields (empty ones are absent). A raw `?` or `#`
 * in a path parameter ends the path there: what follows (the later segments, the plan's query) is
 * the query or the fragment of another route (`/threads/1?x=1/messages/...` is GET /threads/1), so
 * neither is read as this operation's numbers.
 */
function lenientNumbers(op: Operation, plan: RestPlan): string[] {
  const found: string[] = [];
  let pathEnded = false;
  for (const name of Object.values(op.pathParams)) {
    const raw = plan.params[name] ?? '';
    const seen = decoded(raw.split(/[?#]/)[0]!);
    if (seen !== '.' && seen !== '..' && !PLAIN_DECIMAL.test(seen)) found.push(`${name}=${seen}`);
    pathEnded = /[?#]/.test(raw);
    if (pathEnded) break;
  }
  if (op.method === 'GET' && !pathEnded) {
    const shape = shapeOf(op.input);
    const numbers = new Set(Object.keys(shape).filter((field) => !Object.hasOwn(op.pathParams, field) && takesNumber(shape[field])));
    for (const pair of plan.query.replace(/^\?/, '').split('&')) {
      const [key = '', value = ''] = pair.split(/=(.*)/s);
      if (numbers.has(key) && value !== '' && !PLAIN_DECIMAL.test(decoded(value))) found.push(pair);
    }
  }
  return found;
}

describe('REST: hostile requests against every operation', () => {
  it.each(operations().map((op) => [op.name, op] as const))('%s', { timeout: 120_000 }, async (_name, op) => {
    await fc.assert(
      fc.asyncProperty(planFor(op), async (plan) => {
        const res = await sendAndCheck(fx, 'rest', requestOf(op, plan));
        const lenient = plan.method === op.method ? lenientNumbers(op, plan) : [];
        if (res && lenient.length > 0) expect(res.status, `${lenient.join(', ')} was taken as a number`).toBeGreaterThanOrEqual(400);
        await afterCall(fx, plan.method === op.method ? op : undefined, res);
      }),
      fcParams(RUNS_PER_OPERATION),
    );
    await expectAlive(fx);
  });
});
