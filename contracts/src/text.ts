// Text and JSON rules shared by every field that is stored: PostgreSQL text and jsonb refuse NUL
// characters and lone UTF-16 surrogates, so they are refused here with a 422 instead.
import { z } from 'zod';

export type JsonObject = { [key: string]: unknown };

// eslint-disable-next-line no-control-regex
const NUL = /\u0000/;

/** Why a string cannot be stored, or null. */
export function textProblem(value: string): string | null {
  if (NUL.test(value)) return 'must not contain NUL characters';
  if (!value.isWellFormed()) return 'must be valid Unicode text';
  return null;
}

/** Length in Unicode code points (an emoji is one character), as users count. */
export function codePoints(value: string): number {
  let n = 0;
  for (const _ of value) n += 1;
  return n;
}

/**
 * A string of `min`..`max` code points that can be stored; `trim: true` also refuses text that is
 * only whitespace. The length rule counts code points, not UTF-16 units (as JSON Schema's
 * `minLength` and `maxLength` do, which the document states; `pattern` says "not only whitespace").
 */
export function Text(options: { min?: number; max: number; notBlank?: boolean }) {
  const { min = 0, max, notBlank = false } = options;
  const rules = { type: 'string', ...(min > 0 ? { minLength: min } : {}), maxLength: max, ...(notBlank ? { pattern: '\\S' } : {}) };
  return z.string().meta({ override: rules } as Record<string, unknown>).superRefine((value, ctx) => {
    const length = codePoints(value);
    if (length < min) {
      ctx.addIssue({ code: 'custom', message: min <= 1 ? 'is required' : `must be at least ${min} characters` });
      return;
    }
    if (length > max) {
      ctx.addIssue({ code: 'custom', message: `must not be greater than ${max} characters` });
      return;
    }
    if (notBlank && value.trim() === '') {
      ctx.addIssue({ code: 'custom', message: 'must not be only whitespace' });
      return;
    }
    const problem = textProblem(value);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });
}

/**
 * A string field that reaches the database (stored, or compared with what is stored), refusing
 * what PostgreSQL text cannot take: NUL, and lone surrogates it would otherwise get as U+FFFD.
 */
export function storable<T extends z.ZodType<string>>(schema: T): T {
  return schema.superRefine((value, ctx) => {
    const problem = textProblem(value);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  }) as T;
}

/** A JSON object: neither null nor an array. */
export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * An application state: any JSON object. Kept as the very object that was parsed (so keys such as
 * `__proto__` are data, never dropped); its size and depth are bounded by the server's limits.
 */
export const State = z
  .custom<JsonObject>(isJsonObject, { error: 'must be a JSON object' })
  .meta({
    description: 'Any JSON object (bounded in size and nesting depth).',
    override: { type: 'object', additionalProperties: true },
  } as Record<string, unknown>);

/**
 * A small string map for the caller's own use (at most 16 keys). Checked on the very object parsed
 * (as State is), so a key such as `__proto__` is kept as data, never silently dropped.
 */
export const Metadata = z
  .custom<Record<string, string>>((value) => isJsonObject(value), { error: 'must be an object' })
  // The description must be attached before the refinement, or OpenAPI cannot describe the type.
  .meta({
    description: 'Up to 16 string pairs (keys up to 64 characters, values up to 512).',
    override: {
      type: 'object',
      propertyNames: { minLength: 1, maxLength: 64 },
      additionalProperties: { type: 'string', maxLength: 512 },
      maxProperties: 16,
    },
  } as Record<string, unknown>)
  .superRefine((value, ctx) => {
    const entries = Object.entries(value);
    if (entries.length > 16) ctx.addIssue({ code: 'custom', message: 'must not have more than 16 keys' });
    for (const [key, v] of entries) {
      const problem =
        codePoints(key) < 1 || codePoints(key) > 64
          ? 'must have keys of 1 to 64 characters'
          : typeof v !== 'string'
            ? 'must be a string'
            : codePoints(v) > 512
              ? 'must not be greater than 512 characters'
              : (textProblem(key) ?? textProblem(v));
      if (problem) ctx.addIssue({ code: 'custom', message: problem, path: [key] });
    }
  });
