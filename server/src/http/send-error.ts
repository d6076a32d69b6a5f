// Writes an AppError as the seed's JSON error body, with its headers (Retry-After...).
import type { ServerResponse } from 'node:http';
import type { AppError } from '../errors.js';

export function sendError(res: ServerResponse, error: AppError) {
  res.statusCode = error.status;
  for (const [name, value] of Object.entries(error.headers)) res.setHeader(name, value);
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.end(JSON.stringify(error.fields ? { message: error.message, errors: error.fields } : { message: error.message }));
}
