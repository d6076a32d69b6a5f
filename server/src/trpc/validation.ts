// Turns zod issues into Laravel-style field errors ("The content field is required."), so a 422
// reads the same whichever rule failed. Contract messages that are sentence fragments ("must ...")
// are kept; zod's generic messages are replaced by Laravel's wording. Also turns the REST face's
// path and query strings into the integers the contracts expect.
import type { z } from 'zod';
import type { Operation } from '@ai-threads/contracts';
import type { FieldErrors } from '../errors.js';

type Issue = z.core.$ZodIssue;

const TYPE_NAMES: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'an integer',
  boolean: 'true or false',
  object: 'an object',
  array: 'an array',
  record: 'an object',
  date: 'a date',
};

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let value = input;
  for (const key of path) {
    if (value === null || typeof value !== 'object') return undefined;
    if (!Object.prototype.hasOwnProperty.call(value, key)) return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}

function fragment(issue: Issue, input: unknown): string {
  // A missing field is "required" even where the contract words its other failures itself.
  const missing = issue.code === 'invalid_type' && valueAt(input, issue.path) == null;
  if (missing) return 'is required';
  if (/^(must|may|is|has|does) /.test(issue.message)) return issue.message;
  switch (issue.code) {
    case 'invalid_type':
      return `must be ${TYPE_NAMES[issue.expected] ?? `a valid ${issue.expected}`}`;
    case 'too_small': {
      const min = Number(issue.minimum);
      if (issue.origin === 'string') return min <= 1 ? 'is required' : `must be at least ${min} characters`;
      if (issue.origin === 'array' || issue.origin === 'set') return `must have at least ${min} item${min === 1 ? '' : 's'}`;
      return `must be at least ${min}`;
    }
    case 'too_big': {
      const max = Number(issue.maximum);
      if (issue.origin === 'string') return `must not be greater than ${max} characters`;
      if (issue.origin === 'array' || issue.origin === 'set') return `must not have more than ${max} items`;
      return `must not be greater than ${max}`;
    }
    case 'invalid_format':
      if (issue.format === 'email') return 'must be a valid email address';
      if (issue.format === 'datetime') return 'must be a valid ISO-8601 date and time';
      return `must be a valid ${issue.format}`;
    case 'invalid_value':
      return 'is invalid';
    case 'not_multiple_of':
      return `must be a multiple of ${String(issue.divisor)}`;
    default:
      return 'is invalid';
  }
}

/**
 * @param aliases input field → public name (path parameters: `threadId` → `thread-id`).
 */
export function fieldErrorsFromIssues(
  issues: readonly Issue[],
  input: unknown,
  aliases: Record<string, string> = {},
): FieldErrors {
  const fields: FieldErrors = {};
  for (const issue of issues) {
    const [head, ...rest] = issue.path.map(String);
    const key = [head === undefined ? 'body' : (aliases[head] ?? head), ...rest].join('.');
    const label = key.replace(/[_.-]+/g, ' ');
    const message = `The ${label} field ${fragment(issue, input)}.`;
    const list = (fields[key] ??= []);
    if (!list.includes(message)) list.push(message);
  }
  return fields;
}

/**
 * A decimal integer as REST writes one in a path or a query: digits without a leading zero, a
 * plus, spaces, a fraction or an exponent. A minus is let through only so that "-1" reads "must
 * be at least 1"; everything else ("0x10", " 12 ", "1e1", "+1", "012", "1.0") stays a string for
 * the contract to refuse as "must be an integer".
 */
const DECIMAL_INTEGER = /^-?(?:0|[1-9][0-9]*)$/;

type Def = { type: string; innerType?: unknown; in?: unknown; shape?: Record<string, unknown> };
const defOf = (schema: unknown): Def => (schema as { _zod: { def: Def } })._zod.def;

/** Whether a field's schema takes a number (through optional, default, nullable and pipes). */
function takesNumber(schema: unknown): boolean {
  let def = defOf(schema);
  for (;;) {
    if (def.innerType !== undefined) def = defOf(def.innerType);
    else if (def.type === 'pipe') def = defOf(def.in);
    else return def.type === 'number';
  }
}

const restIntegerFields = new WeakMap<Operation, readonly string[]>();

/**
 * The fields REST sends as strings and the contract wants as integers: the path parameters, and
 * on a GET or DELETE (no body: every field is in the query) every integer field. A JSON body's
 * values are JSON, as on tRPC: there a string stays a string.
 */
function integerFieldsOf(op: Operation): readonly string[] {
  let fields = restIntegerFields.get(op);
  if (!fields) {
    const shape = defOf(op.input).shape ?? {};
    const inQuery = op.method === 'GET' || op.method === 'DELETE';
    fields = Object.keys(shape).filter((name) => (inQuery || Object.hasOwn(op.pathParams, name)) && takesNumber(shape[name]));
    restIntegerFields.set(op, fields);
  }
  return fields;
}

/**
 * The REST face's input as the contract takes it: each plain decimal string of an integer field
 * made a number. The contracts never coerce (see `Integer` in contracts/src/common.ts), so the
 * tRPC face takes JSON numbers only, and REST takes exactly what a URL can say plainly.
 */
export function restInput(op: Operation, raw: unknown): unknown {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return raw;
  let input: Record<string, unknown> | undefined;
  for (const field of integerFieldsOf(op)) {
    const value: unknown = Object.hasOwn(raw, field) ? (raw as Record<string, unknown>)[field] : undefined;
    if (typeof value !== 'string' || !DECIMAL_INTEGER.test(value)) continue;
    input ??= { ...raw };
    input[field] = Number(value);
  }
  return input ?? raw;
}

/**
 * Where the REST face's SSE routes (http/sse.ts) put the field errors of body fields that contradict
 * the path (field → messages). A symbol, so no JSON input can carry it; the procedure answers it
 * as a 422 after its guards, where every validation failure is answered.
 */
export const PATH_CONFLICTS = Symbol('body fields that contradict the path');

/** The path conflicts the REST face recorded on an input, if any. */
export function pathConflictsOf(raw: unknown): FieldErrors | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  return (raw as { [PATH_CONFLICTS]?: FieldErrors })[PATH_CONFLICTS];
}
