// Preconditions on the state (RFC 9110 section 13): the version a client last saw, as `If-Match`
// (the REST face) or `expected_version` (both faces), and the ETag that names a version. One place
// decides what a precondition is, when one is required (428), and when it fails (412), so that
// every operation that checks one answers the same body and headers.
import type { IncomingHttpHeaders } from 'node:http';
import { MAX_STATE_VERSION } from '@ai-threads/contracts';
import { AppError } from '../errors.js';

/** `*` (any version) or the versions the client accepts (If-Match may list several). */
export type Precondition = { kind: 'any' } | { kind: 'versions'; versions: number[] };

/** The state version as an entity tag: `"7"` (strong). */
export const etagOf = (version: number) => `"${version}"`;

const ETAG_LIST = /^\s*(?:W\/)?"[^"]*"\s*(?:,\s*(?:W\/)?"[^"]*"\s*)*$/;

/**
 * Reads an If-Match value: `*`, or a list of entity tags. Weak tags never match (If-Match uses the
 * strong comparison), and a strong tag that is not one of ours (`"abc"`) matches no version.
 * Undefined when absent; a 422 on `if_match` when it is not an If-Match value at all.
 */
function parseIfMatch(header: string | string[] | undefined): Precondition | undefined {
  if (header === undefined) return undefined;
  const value = Array.isArray(header) ? header.join(', ') : header;
  if (value.trim() === '*') return { kind: 'any' };
  if (value.length > 1024 || !ETAG_LIST.test(value)) {
    throw AppError.field('if_match', 'The If-Match header must be the state\'s ETag (such as "3") or *.');
  }
  const versions: number[] = [];
  for (const match of value.matchAll(/(W\/)?"([^"]*)"/g)) {
    // A tag beyond the largest version names none: it matches nothing (a 412), like any other.
    if (match[1] === undefined && /^(0|[1-9][0-9]{0,9})$/.test(match[2]!) && Number(match[2]) <= MAX_STATE_VERSION) {
      versions.push(Number(match[2]));
    }
  }
  return { kind: 'versions', versions };
}

/**
 * The request's precondition, from `If-Match` (REST only: a tRPC call's headers are the transport's)
 * and the body's expected version. Both given: they must agree (422 on the body field). Undefined
 * when the request has none.
 */
export function preconditionOf(
  request: { face: 'rest' | 'trpc'; headers: IncomingHttpHeaders },
  expected: number | undefined,
  field = 'expected_version',
): Precondition | undefined {
  const header = request.face === 'rest' ? parseIfMatch(request.headers['if-match']) : undefined;
  if (expected === undefined) return header;
  if (header && !(header.kind === 'any' || (header.versions.length === 1 && header.versions[0] === expected))) {
    throw AppError.field(field, `The ${field.replace(/_/g, ' ')} field must match the If-Match header.`);
  }
  return { kind: 'versions', versions: [expected] };
}

/** 428 when the operation needs a precondition and the request has none. */
export function requirePrecondition(precondition: Precondition | undefined): Precondition {
  if (!precondition) throw new AppError('precondition_required');
  return precondition;
}

function preconditionHolds(precondition: Precondition | undefined, currentVersion: number): boolean {
  return !precondition || precondition.kind === 'any' || precondition.versions.includes(currentVersion);
}

/** The one 412: the current version in the body and as the ETag. Nothing was stored. */
export function stateChanged(currentVersion: number): AppError {
  return new AppError('precondition_failed', {
    message: `The state has changed: it is at version ${currentVersion}. Read it again (GET .../state) and retry with its version.`,
    details: { current_version: currentVersion },
    headers: { ETag: etagOf(currentVersion) },
  });
}

/** 412 unless the precondition (if any) holds for the current version. */
export function checkPrecondition(precondition: Precondition | undefined, currentVersion: number): void {
  if (!preconditionHolds(precondition, currentVersion)) throw stateChanged(currentVersion);
}
