// The OpenAPI 3.1 document, generated from the router (and so from the contracts), then completed
// where trpc-to-openapi cannot: public path-parameter names, success statuses, the error bodies.
import { generateOpenApiDocument, type OpenAPIObject } from 'trpc-to-openapi';
import { ErrorBody, operationNamed, operations, StreamEvent, ValidationErrorBody, type Operation } from '@ai-threads/contracts';
import type { z } from 'zod';
import { createSchema } from 'zod-openapi';
import { appRouter } from '../router.js';

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

/**
 * A schema as a component (through zod-openapi, which knows the contracts' overrides), with the
 * components it refers to added to `schemas`.
 */
function componentSchema(schema: z.ZodType, schemas: Record<string, unknown>, io: 'input' | 'output' = 'output'): Json {
  const result = createSchema(schema, { io, openapiVersion: '3.1.0' });
  for (const [id, definition] of Object.entries(result.components)) schemas[id] ??= definition;
  return result.schema as Json;
}

const IDEMPOTENCY_KEY: Json = {
  name: 'Idempotency-Key',
  in: 'header',
  required: false,
  description: 'Makes a retry safe: the same key and body within 24 hours replays the first answer.',
  schema: { type: 'string', minLength: 1, maxLength: 255 },
};

/**
 * A streamed operation (not served by trpc-to-openapi): its path parameters, JSON body, the
 * Last-Event-ID header, and a `text/event-stream` answer whose events are the contract's output.
 */
function streamOperation(op: Operation, schemas: Record<string, unknown>): Json {
  const input = componentSchema(op.input, schemas, 'input') as Json & { properties?: Record<string, Json>; required?: string[] };
  const hidden = new Set([...Object.keys(op.pathParams), 'lastEventId']);
  const properties = Object.fromEntries(Object.entries(input.properties ?? {}).filter(([name]) => !hidden.has(name)));
  const required = (input.required ?? []).filter((name) => !hidden.has(name));
  const body = { type: 'object', properties, required };
  return {
    operationId: op.name,
    summary: op.summary,
    description: op.description,
    tags: op.tags,
    security: [{ bearerAuth: [] }],
    'x-permission': op.permission,
    parameters: [
      ...Object.values(op.pathParams).map((name) => ({
        name,
        in: 'path',
        required: true,
        schema: { type: 'integer', minimum: 1 },
      })),
      ...(op.idempotent ? [IDEMPOTENCY_KEY] : []),
      {
        name: 'Last-Event-ID',
        in: 'header',
        required: false,
        description: 'Resume a stream: the id of the last event received.',
        schema: { type: 'string' },
      },
    ],
    requestBody: { required: true, content: { 'application/json': { schema: body } } },
    responses: {
      [String(op.successStatus)]: {
        description:
          'Server-sent events. Each event has an `id`, an `event` name and JSON `data`, as in the StreamEvent schema ' +
          '(`event` is the SSE event name, `data` its data line).',
        content: { 'text/event-stream': { schema: { $ref: '#/components/schemas/StreamEvent' } } },
      },
      ...Object.fromEntries(op.errors.map((status) => [String(status), errorResponse(status)])),
    },
  };
}

/**
 * Gives a JSON request body an example built from its properties' examples (the contracts'
 * `.meta({example})`), when every property has one, so readers see a whole body to send.
 */
function addBodyExample(operation: Json, schemas: Record<string, unknown>): void {
  const media = (operation['requestBody'] as { content?: Record<string, Json> } | undefined)?.content?.['application/json'];
  if (!media || 'example' in media || 'examples' in media) return;
  let schema = media['schema'] as Json | undefined;
  const ref = schema?.['$ref'];
  if (typeof ref === 'string') schema = schemas[ref.replace('#/components/schemas/', '')] as Json | undefined;
  const properties = Object.entries((schema?.['properties'] ?? {}) as Record<string, Json>);
  if (properties.length === 0 || !properties.every(([, property]) => 'example' in property)) return;
  media['example'] = Object.fromEntries(properties.map(([name, property]) => [name, property['example']]));
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

  doc.info.license = { name: 'MIT', identifier: 'MIT' };
  const schemas = ((doc.components ??= {}).schemas ??= {});
  // The library's own error bodies ({message, code, issues}) are never sent: the REST face
  // rewrites them, so they are replaced by ours.
  for (const name of Object.keys(schemas)) if (name.startsWith('error.')) delete schemas[name];
  componentSchema(ErrorBody, schemas);
  componentSchema(ValidationErrorBody, schemas);

  const paths: Record<string, Json> = {};
  for (const [routePath, item] of Object.entries(doc.paths ?? {})) {
    let publicPath = routePath;
    for (const [method, value] of Object.entries(item as Json)) {
      const operation = value as Json & { operationId?: string; parameters?: Json[]; responses?: Json };
      const op = operation.operationId ? operationNamed(operation.operationId) : undefined;
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
      if (op.idempotent) operation.parameters = [...(operation.parameters ?? []), IDEMPOTENCY_KEY];
      // Credentials are optional here (sign-out ends the calling session, if any): `{}` says so.
      if (op.auth === 'none') operation['security'] = [{}, { bearerAuth: [] }];
      (item as Json)[method] = operation;
    }
    paths[publicPath] = item as Json;
  }
  componentSchema(StreamEvent, schemas);
  for (const op of operations) {
    if (op.transport === 'sse') (paths[op.path] ??= {})[op.method.toLowerCase()] = streamOperation(op, schemas);
  }
  for (const item of Object.values(paths)) for (const operation of Object.values(item)) addBodyExample(operation as Json, schemas);
  doc.paths = paths as OpenAPIObject['paths'];
  return doc;
}
