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
 * A positive integer id, also accepted as a decimal string (path and query parameters). One error
 * a value: the range checks stop the chain, so a huge id is "too large", not also "not an integer".
 */
export const IdParam = z.coerce
  .number<number>({ error: 'must be an integer' })
  .positive({ error: 'must be at least 1', abort: true })
  .max(Number.MAX_SAFE_INTEGER, { error: 'is too large', abort: true })
  .int({ error: 'must be an integer' });

/** The pagination fields, to spread into a list operation's input. */
export const PageFields = {
  limit: z.coerce
    .number<number>()
    .int()
    .min(1)
    .max(100)
    .default(20)
    .meta({ description: 'Page size, 1 to 100.' }),
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

export const Empty = z.void();
