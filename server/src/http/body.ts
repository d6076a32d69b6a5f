// Request bodies for both faces: read with the size limit, and only as UTF-8. JSON must be UTF-8,
// and bytes that are not would otherwise be replaced by U+FFFD without a word, altering what is
// stored; so they are a 400, and another declared charset is a 415, on REST and tRPC alike. The
// REST face also reads the two raw patch media types (RFC 7396, RFC 6902) under the same rules;
// openapi-adapter.ts decides which route takes them.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isUtf8 } from 'node:buffer';
import express, { type ErrorRequestHandler, type RequestHandler } from 'express';
import { AppError, clientErrorOf } from '../errors.js';
import { sendError } from './error-response.js';

function typed(type: string, message: string): Error {
  return Object.assign(new Error(message), { type });
}

/** body-parser's verify hook: refuses other charsets and bytes that are not UTF-8. */
function utf8Only(_req: IncomingMessage, _res: ServerResponse, buf: Buffer, encoding: string) {
  if (encoding && encoding.toLowerCase() !== 'utf-8') throw typed('charset.unsupported', encoding);
  if (!isUtf8(buf)) throw typed('encoding.invalid', 'not UTF-8');
}

/** The error table's words for what body-parser can fail on; undefined for what is no client error. */
function bodyErrorOf(err: unknown): AppError | undefined {
  switch ((err as { type?: string } | null)?.type) {
    case 'entity.parse.failed':
      return new AppError('bad_request', { message: 'The request body is not valid JSON.' });
    case 'encoding.invalid':
      return new AppError('bad_request', { message: 'The request body is not valid UTF-8.' });
    case 'entity.too.large':
      return new AppError('payload_too_large');
    case 'charset.unsupported':
    case 'encoding.unsupported':
      return new AppError('unsupported_media_type', { message: 'Send the request body as UTF-8 JSON.' });
    case 'request.aborted':
    case 'request.size.invalid':
    case 'stream.encoding.set':
      return new AppError('bad_request', { message: 'The request body could not be read.' });
    default: {
      // Anything else body-parser refuses with a 4xx (a compressed body that will not inflate).
      const client = clientErrorOf(err);
      return client?.status === 400 ? new AppError('bad_request', { message: 'The request body could not be read.' }) : client;
    }
  }
}

/** The raw patch media types, and the field of the JSON body each stands for (SPEC.md part 2). */
export const RAW_PATCH_TYPES = {
  'application/merge-patch+json': 'merge_patch',
  'application/json-patch+json': 'json_patch',
} as const;
export type RawPatchType = keyof typeof RAW_PATCH_TYPES;

/** The media type of a request (`application/merge-patch+json`), without its parameters. */
export function mediaTypeOf(req: IncomingMessage): string | undefined {
  const header = req.headers['content-type'];
  return header === undefined ? undefined : header.split(';')[0]!.trim().toLowerCase();
}

/** REST: JSON bodies (the raw patch types too), parsed; failures as the seed's JSON errors. */
export function restBody(limit: number): [RequestHandler, ErrorRequestHandler] {
  return [
    express.json({ limit, strict: false, type: ['application/json', ...Object.keys(RAW_PATCH_TYPES)], verify: utf8Only }),
    (err, _req, res, next) => {
      const app = bodyErrorOf(err);
      if (app) sendError(res, app);
      else next(err);
    },
  ];
}

/**
 * tRPC: bodies read as UTF-8 text with the size limit, and handed to tRPC as the string it
 * parses itself (its adapter takes a string `req.body` as the raw body).
 */
export function trpcBody(limit: number): [RequestHandler, ErrorRequestHandler] {
  return [
    express.text({ limit, type: () => true, verify: utf8Only }),
    (err, _req, res, next) => {
      const app = bodyErrorOf(err);
      if (app) sendError(res, app, 'trpc');
      else next(err);
    },
  ];
}
