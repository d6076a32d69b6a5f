// The one place that writes an error. Both faces render an AppError (errors.ts: the table) here:
// the REST face as the seed's Laravel-style body, the tRPC face as tRPC's error shape with the same
// message, status and field errors. Edit this file to change what an error looks like on the wire.
import type { ServerResponse } from 'node:http';
import { TRPC_ERROR_CODES_BY_KEY, type TRPC_ERROR_CODE_KEY } from '@trpc/server/rpc';
import { trpcCodeOf, type AppError, type FieldErrors } from '../errors.js';

export type Face = 'rest' | 'trpc';

/** The seed's error body: `{message}`, and `errors` by field on a 422. */
export function restErrorBody(error: AppError): { message: string; errors?: FieldErrors } & Record<string, unknown> {
  return { message: error.message, ...error.details, ...(error.fields ? { errors: error.fields } : {}) };
}

/**
 * tRPC's error shape for an AppError. `code` is the tRPC code the failure had, which can say more
 * than the table's (PARSE_ERROR for the table's 400); the table's own by default.
 */
export function trpcErrorShape(error: AppError, options: { code?: TRPC_ERROR_CODE_KEY; path?: string | undefined } = {}) {
  const code = options.code ?? trpcCodeOf(error.code);
  const retryAfter = error.headers['Retry-After'];
  return {
    message: error.message,
    code: TRPC_ERROR_CODES_BY_KEY[code],
    data: {
      code,
      httpStatus: error.status,
      path: options.path,
      ...error.details,
      ...(error.fields ? { errors: error.fields } : {}),
      ...(retryAfter ? { retryAfter: Number(retryAfter) } : {}),
    },
  };
}

/** Answers a request with an error, its status and headers (Retry-After, WWW-Authenticate...). */
export function sendError(res: ServerResponse, error: AppError, face: Face = 'rest') {
  res.statusCode = error.status;
  for (const [name, value] of Object.entries(error.headers)) res.setHeader(name, value);
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.end(JSON.stringify(face === 'rest' ? restErrorBody(error) : { error: trpcErrorShape(error) }));
}
