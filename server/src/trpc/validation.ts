// Turns zod issues into Laravel-style field errors ("The content field is required."), so a 422
// reads the same whichever rule failed. Contract messages that are sentence fragments ("must ...")
// are kept; zod's generic messages are replaced by Laravel's wording.
import type { z } from 'zod';
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
