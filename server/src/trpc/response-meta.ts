// Status codes shared by both faces: a contract's success status (201, 204), and each error's
// status from the error table.
import { operationNamed } from '@ai-threads/contracts';
import type { TRPCError } from '@trpc/server';
import { appErrorOf } from '../errors.js';

interface ResponseMetaOptions {
  paths?: readonly string[] | undefined;
  errors: readonly TRPCError[];
  /** The answers of a batch's calls, `{result}` or `{error}` each (empty while streaming). */
  data?: readonly unknown[] | undefined;
}

const succeeded = (item: unknown) => typeof item === 'object' && item !== null && 'result' in item;

/**
 * REST answers with the contract's status; tRPC with 200 for 204 (its client needs a body). An
 * error is JSON on both faces: tRPC would label the errors it raises before any procedure runs (a
 * wrong content type, an unparsable `input`, an undecodable path) `text/plain`.
 */
export function responseMetaFor(face: 'rest' | 'trpc') {
  return (opts: ResponseMetaOptions) => {
    const [error] = opts.errors;
    // A tRPC batch in which some calls succeeded (and may have stored rows) is no refusal: 207, as
    // tRPC itself answers a mixed batch; each item carries its own status.
    if (error && opts.data?.some(succeeded)) return { status: 207, headers: { 'content-type': 'application/json' } };
    if (error) return { status: appErrorOf(error).status, headers: { 'content-type': 'application/json' } };
    if (opts.paths?.length === 1) {
      const op = operationNamed(opts.paths[0]!);
      if (op) return { status: face === 'trpc' && op.successStatus === 204 ? 200 : op.successStatus };
    }
    return {};
  };
}
