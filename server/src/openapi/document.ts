// The OpenAPI 3.1 document, generated from the router (and so from the contracts), then completed
// where trpc-to-openapi cannot: public path-parameter names, success statuses, the error bodies.
import { generateOpenApiDocument, type OpenAPIObject } from 'trpc-to-openapi';
import { ErrorBody, ValidationErrorBody } from '@ai-threads/contracts';
import { z } from 'zod';
import { appRouter } from '../router.js';
import { operationByName } from '../trpc/response-meta.js';

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: 'The body is not valid JSON.',
  401: 'No, unknown, expired or revoked credentials.',
  403: 'The caller or its token lacks the permission.',
  404: 'No such resource for this caller.',
  409: 'Busy: the thread is answering an earlier message, or the idempotency key is in flight.',
  413: 'The body is over the size limit.',
  422: 'Validation failed.',
  429: 'Rate limit exceeded.',
  502: 'The AI provider failed.',
  503: 'Temporarily unavailable.',
  504: 'The AI provider timed out.',
};

type Json = Record<string, unknown>;

const rateLimitHeaders = {
  'X-RateLimit-Limit': { description: 'Requests allowed per minute.', schema: { type: 'integer' } },
  'X-RateLimit-Remaining': { description: 'Requests left in this minute.', schema: { type: 'integer' } },
};
const retryAfter = { 'Retry-After': { description: 'Seconds to wait before retrying.', schema: { type: 'integer' } } };

function errorResponse(status: number): Json {
  const schema = status === 422 ? 'ValidationErrorBody' : 'ErrorBody';
  return {
    description: ERROR_DESCRIPTIONS[status] ?? 'Error.',
    ...(status === 429 || status === 409 || status === 503
      ? { headers: { ...retryAfter, ...(status === 429 ? rateLimitHeaders : {}) } }
      : {}),
    content: { 'application/json': { schema: { $ref: `#/components/schemas/${schema}` } } },
  };
}

export function openApiDocument(): OpenAPIObject {
  const doc = generateOpenApiDocument(appRouter, {
    title: 'ai-threads API',
    version: '1.0.0',
    description:
      'AI conversation threads. Every operation is also a tRPC procedure at /trpc. Errors use the Laravel style: ' +
      '`{"message": "..."}`, and for 422 `{"message", "errors": {field: [messages]}}`.',
    baseUrl: '/api/v1',
    securitySchemes: {
      bearerAuth: { type: 'http', scheme: 'bearer', description: 'A session token or a personal API token.' },
    },
  });

  const schemas = ((doc.components ??= {}).schemas ??= {});
  schemas['ErrorBody'] = z.toJSONSchema(ErrorBody, { target: 'draft-2020-12' }) as Json;
  schemas['ValidationErrorBody'] = z.toJSONSchema(ValidationErrorBody, { target: 'draft-2020-12' }) as Json;
  for (const schema of Object.values(schemas) as Json[]) delete schema['$schema'];

  const paths: Record<string, Json> = {};
  for (const [routePath, item] of Object.entries(doc.paths ?? {})) {
    let publicPath = routePath;
    for (const [method, value] of Object.entries(item as Json)) {
      const operation = value as Json & { operationId?: string; parameters?: Json[]; responses?: Json };
      const op = operation.operationId ? operationByName(operation.operationId) : undefined;
      if (!op) continue;
      for (const [field, name] of Object.entries(op.pathParams)) {
        publicPath = publicPath.replace(`{${field}}`, `{${name}}`);
        for (const parameter of operation.parameters ?? []) {
          if (parameter['in'] === 'path' && parameter['name'] === field) parameter['name'] = name;
        }
      }
      const responses: Json = {};
      const success = (operation.responses ?? {})['200'] as Json | undefined;
      if (op.successStatus === 204) responses['204'] = { description: 'No content.' };
      else responses[String(op.successStatus)] = { ...success, description: success?.['description'] ?? 'Success.' };
      for (const status of op.errors) responses[String(status)] = errorResponse(status);
      operation.responses = responses;
      if (op.permission) operation['x-permission'] = op.permission;
      (item as Json)[method] = operation;
    }
    paths[publicPath] = item as Json;
  }
  doc.paths = paths as OpenAPIObject['paths'];
  return doc;
}
