// Schemas shared by many operations: error bodies, pagination, timestamps and ids.
import { z } from 'zod';

/** Every error answer: `{"message": "..."}` (the seed's Laravel style). */
export const ErrorBody = z
  .object({ message: z.string() })
  .meta({ id: 'ErrorBody', description: 'An error: a human-readable message.' });
export type ErrorBody = z.infer<typeof ErrorBody>;

/** 422: the first error, `(and N more errors)`, and every field's messages. */
export const ValidationErrorBody = z
  .object({
    message: z.string(),
    errors: z.record(z.string(), z.array(z.string())),
  })
  .meta({
    id: 'ValidationErrorBody',
    description: 'Validation failed: `message` repeats the first error; `errors` lists every field.',
  });
export type ValidationErrorBody = z.infer<typeof ValidationErrorBody>;

export const Timestamp = z
  .string()
  .meta({ description: 'ISO-8601 UTC timestamp', format: 'date-time', example: '2026-01-31T12:00:00.000Z' });

/**
 * An integer from `min` to `max`, as a JSON number and nothing else: `true`, `[1]`, `"12"` and
 * `1.5` are refused ("must be an integer"), never coerced. The REST face, whose path and query
 * values are strings, turns a plain decimal such as "12" into the number before this schema sees
 * it, and leaves anything else ("0x10", " 12 ", "1e1", "+1") for it to refuse
 * (server/src/trpc/validation.ts, `restInput`). One error a value: the range checks stop the
 * chain, so a huge id is "too large", not also "not an integer".
 *
 * The pipe is there for trpc-to-openapi: on its first REST request it sets `coerce` on every bare
 * number schema of an input's shape (`Number(value)`: `true` → 1, `"0x10"` → 16), and since the
 * schemas are shared, on the tRPC face too. It leaves a pipe alone; OpenAPI still reads the
 * number (`type: integer` with its bounds).
 */
export function Integer(min: number, max: number) {
  return z
    .number({ error: 'must be an integer' })
    .min(min, { error: `must be at least ${min}`, abort: true })
    .max(max, { error: max === Number.MAX_SAFE_INTEGER ? 'is too large' : `must not be greater than ${max}`, abort: true })
    .int({ error: 'must be an integer' })
    .pipe(z.number());
}

/** A positive integer id (path and query parameters, and ids in bodies). */
export const IdParam = Integer(1, Number.MAX_SAFE_INTEGER);

/** The pagination fields, to spread into a list operation's input. */
export const PageFields = {
  limit: Integer(1, 100).default(20).meta({ description: 'Page size, 1 to 100.' }),
  after: IdParam.optional().meta({ description: 'Return items after this id (in list order).' }),
  before: IdParam.optional().meta({ description: 'Return items before this id (in list order).' }),
};

/** `after` and `before` cannot be combined. */
export function pageRules(value: { after?: number | undefined; before?: number | undefined }, ctx: z.RefinementCtx) {
  if (value.after !== undefined && value.before !== undefined) {
    ctx.addIssue({ code: 'custom', path: ['before'], message: 'must not be combined with after' });
  }
}

export const PageQuery = z.object(PageFields).superRefine(pageRules);
export type PageQuery = z.infer<typeof PageQuery>;

export function Page<T extends z.ZodType>(item: T) {
  return z.object({
    data: z.array(item),
    has_more: z.boolean(),
    next_cursor: z
      .number()
      .int()
      .min(1)
      .nullable()
      .meta({
        description:
          'The next page in the same direction: pass it as `after` (or as `before` when paging with `before`); null at the end.',
      }),
  });
}
