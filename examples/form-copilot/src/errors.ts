// Errors in words a person understands. The service answers every failure with an HTTP status, a
// message, and for some the field errors or the seconds to wait; this turns them into one sentence
// that says what happened and what to do. The raw message stays available for the details line.
import { TRPCClientError } from '@trpc/client';
import type { AppRouter } from '@ai-threads/server';

export const MAX_MESSAGE_CHARACTERS = 5000;

export interface Problem {
  status: number | undefined;
  /** What the person reads. */
  text: string;
  /** Seconds to wait before trying again (429, a busy thread). */
  retryAfter?: number;
  /** The version the state is at now (412). */
  currentVersion?: number;
}

interface ErrorFacts {
  status: number | undefined;
  message: string;
  retryAfter: number | undefined;
  fields: Record<string, string[]> | undefined;
  currentVersion: number | undefined;
}

function factsOf(error: unknown): ErrorFacts {
  if (error instanceof TRPCClientError) {
    const data = (error as TRPCClientError<AppRouter>).data;
    const extra: Record<string, unknown> = { ...data };
    return {
      status: data?.httpStatus,
      message: error.message,
      retryAfter: typeof extra['retryAfter'] === 'number' ? extra['retryAfter'] : undefined,
      fields: isFieldErrors(extra['errors']) ? extra['errors'] : undefined,
      currentVersion: typeof extra['current_version'] === 'number' ? extra['current_version'] : undefined,
    };
  }
  return {
    status: undefined,
    message: error instanceof Error ? error.message : String(error),
    retryAfter: undefined,
    fields: undefined,
    currentVersion: undefined,
  };
}

function isFieldErrors(value: unknown): value is Record<string, string[]> {
  return typeof value === 'object' && value !== null && Object.values(value).every((v) => Array.isArray(v));
}

const seconds = (n: number) => (n === 1 ? '1 second' : `${n} seconds`);

/** The sentence for a failed call; `content` is the message the person tried to send, if any. */
export function describeError(error: unknown, content?: string): Problem {
  return describeFacts(factsOf(error), content);
}

/** The same for an `error` event of a stream, which carries a status and the service's message. */
export function describeStreamError(event: { status: number; message: string }): Problem {
  return describeFacts({ ...event, retryAfter: undefined, fields: undefined, currentVersion: undefined }, undefined);
}

function describeFacts(facts: ErrorFacts, content: string | undefined): Problem {
  const { status, retryAfter } = facts;
  const base = { status, ...(retryAfter !== undefined ? { retryAfter } : {}) };
  switch (status) {
    case undefined:
      return { ...base, text: 'The service cannot be reached. Check your connection (or that the service is running) and try again.' };
    case 401:
      return { ...base, text: 'You are signed out (your session ended). Sign in again to continue.' };
    case 403:
      return { ...base, text: 'Your account is not allowed to do that.' };
    case 404:
      return { ...base, text: 'This thread or message no longer exists, or it is not yours.' };
    case 409:
      return {
        ...base,
        text:
          retryAfter !== undefined
            ? `The assistant is still answering an earlier message. Try again in ${seconds(retryAfter)}.`
            : `That cannot be done now: ${facts.message}`,
      };
    case 412:
      return {
        ...base,
        ...(facts.currentVersion !== undefined ? { currentVersion: facts.currentVersion } : {}),
        text: 'Someone else changed this form while you were editing it.',
      };
    case 413:
      return { ...base, text: 'That is too large to send. Make it shorter and try again.' };
    case 422:
      return { ...base, text: validationText(facts, content) };
    case 429:
      return {
        ...base,
        text: `Too many requests in a short time. Wait ${seconds(retryAfter ?? 60)} and try again.`,
      };
    case 502:
      return { ...base, text: 'The AI service gave no usable answer. Your message is kept: try again with "Regenerate".' };
    case 504:
      return { ...base, text: 'The AI service took too long to answer. Your message is kept: try again with "Regenerate".' };
    default:
      return status >= 500
        ? { ...base, text: 'Something went wrong on the service. Try again in a moment.' }
        : { ...base, text: facts.message };
  }
}

function validationText(facts: ErrorFacts, content: string | undefined): string {
  const length = content === undefined ? 0 : [...content].length;
  if (facts.fields?.['content'] && length > MAX_MESSAGE_CHARACTERS) {
    return (
      `Your message is too long: ${length.toLocaleString('en')} characters, and the limit is ` +
      `${MAX_MESSAGE_CHARACTERS.toLocaleString('en')}. Shorten it and send it again.`
    );
  }
  const first = facts.fields ? Object.values(facts.fields)[0]?.[0] : undefined;
  return `Please check what you entered: ${first ?? facts.message}`;
}
