// The numbers of the resources, as answers carry them: ids start at 1; counts, tokens and
// durations never go below 0. Both bounds are stated, so a schema reader (a mock server, a
// generated validator) knows the real range instead of JavaScript's whole safe-integer range.
import { z } from 'zod';

/** A resource id in an answer. */
export const Id = z.number().int().min(1).max(Number.MAX_SAFE_INTEGER);

/** A count, a number of tokens, or a duration in milliseconds. */
export const Count = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
