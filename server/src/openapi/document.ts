// The OpenAPI 3.1 document, generated from the router (and so from the contracts), then completed
// where trpc-to-openapi cannot: public path-parameter names, success statuses, the error bodies,
// the headers each answer carries, request bodies that are optional, and the streamed operation;
// and for the versioned state: the ETag, the If-Match precondition, the 412 body, and the raw patch
// media types of PATCH .../state.
import { generateOpenApiDocument, type OpenAPIObject } from 'trpc-to-openapi';
import {
  contracts,
  ErrorBody,
  operationNamed,
  operations,
  StateVersion,
  StreamEventData,
  ValidationErrorBody,
  type Operation,
  type StreamFraming,
} from '@ai-threads/contracts';
import type { z } from 'zod';
import { createSchema } from 'zod-openapi';
import { appRouter } from '../router.js';

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: 'The body is not valid JSON.',
  401: 'No, unknown, expired or revoked credentials.',
  403: 'The caller or its token lacks the permission.',
  404: 'No such resource for this caller.',
  409: 'Busy: the thread is answering an earlier message, or the idempotency key is in flight.',
  412:
    'The state has changed since the version sent (`If-Match` or the expected version): the body and the `ETag` name ' +
    'the current version. Nothing was stored.',
  413: 'The body is over the size limit.',
  415: 'The body is not UTF-8 JSON (send `Content-Type: application/json`).',
  422: 'Validation failed.',
  428: "The request must be conditional: send `If-Match` with the state's ETag (or the expected version in the body).",
  429: 'Rate limit exceeded.',
  502: 'The AI provider failed.',
  503: 'Temporarily unavailable.',
  504: 'The AI provider timed out.',
};

/** The 409 of the state operations: a change that no longer fits the state, not a busy thread. */
const STATE_CONFLICT =
  'The change does not apply to the current state (a JSON Patch with a failed `test` or a missing path; the message ' +
  'names the operation), or the proposal is not pending. Nothing was stored.';

/** The 412 body: the seed's `{message}` and the version the state is at now. */
const PreconditionFailedBody = ErrorBody.extend({
  current_version: StateVersion.meta({ description: 'The version the state is at now (also the `ETag`): read it again and retry.' }),
}).meta({ id: 'PreconditionFailedBody', description: 'A precondition failed: the state changed since the version you sent.' });

/** The operations that answer with the state's version, and so with its ETag. */
const WITH_ETAG = new Set<Operation>([
  contracts.threads.state.get,
  contracts.threads.state.patch,
  contracts.threads.state.revert,
  contracts.messages.proposal.accept,
]);

/** Every tag an operation uses, described; an operation with another tag fails the document. */
const TAGS = [
  { name: 'Auth', description: 'Accounts and sessions: sign up, sign in, sign out, and who is calling.' },
  { name: 'API tokens', description: 'Personal API tokens, for scripts and servers; each holds a subset of your permissions.' },
  { name: 'Threads', description: 'AI conversation threads: instructions, metadata and the state the AI shares with your UI.' },
  { name: 'Messages', description: "The messages of a thread and the AI's answers, as JSON or streamed as server-sent events." },
  {
    name: 'Protocols',
    description:
      "Front-end ecosystems' own streaming protocols over a thread (the AI SDK's UI message stream): the same answer as " +
      '.../messages/stream, told in the protocol each client library reads.',
  },
  {
    name: 'State',
    description:
      "A thread's versioned state: read it, patch it with a precondition (If-Match), its revisions, revert, and review of the AI's proposals.",
  },
];

/** Path parameters by their public name. */
const PATH_PARAMETERS: Record<string, { description: string; example: number }> = {
  'thread-id': { description: 'The id of one of your AI threads.', example: 1 },
  'message-id': { description: 'The id of a message of that thread.', example: 2 },
  id: { description: 'The id of one of your API tokens.', example: 1 },
  version: { description: 'A state version of that thread (a revision).', example: 3 },
};

/**
 * Absolute first: several tools (generators, mock servers, proxies) cannot resolve a relative
 * server URL. The relative entry is the service that served this document (the /docs page).
 */
const SERVERS = [
  {
    url: '{origin}/api/v1',
    description: 'A running ai-threads service; `origin` is its scheme, host and port.',
    // No `description` on the variable: swagger-parser's 3.1 schema refuses one.
    variables: { origin: { default: 'http://localhost:3000' } },
  },
  { url: '/api/v1', description: 'The service that served this document.' },
];

type Json = Record<string, unknown>;

const header = (name: string) => ({ $ref: `#/components/headers/${name}` });
const HEADERS: Record<string, Json> = {
  'X-Request-Id': {
    description: 'The id of this request in the logs: the `X-Request-Id` sent, when it is 1 to 128 of `[A-Za-z0-9_.:-]`, else a new one.',
    required: true,
    schema: { type: 'string', minLength: 1, maxLength: 128, example: '5b0f2c9e-4d0c-4b8e-9a53-0c2f4a3e1d77' },
  },
  'X-RateLimit-Limit': { description: 'Requests allowed per minute in this bucket.', schema: { type: 'integer', minimum: 0 } },
  'X-RateLimit-Remaining': { description: 'Requests left in this minute.', schema: { type: 'integer', minimum: 0 } },
  'Retry-After': { description: 'Seconds to wait before retrying.', schema: { type: 'integer', minimum: 0 } },
  'WWW-Authenticate': {
    description: 'The scheme to authenticate with: `Bearer` (a session token or a personal API token).',
    required: true,
    schema: { type: 'string', example: 'Bearer' },
  },
  'Idempotent-Replayed': {
    description: '`true` when this is the stored answer to an earlier request with the same `Idempotency-Key`.',
    schema: { type: 'string', enum: ['true'] },
  },
  'Set-Cookie-Session': {
    description: 'The session cookie (`ai_threads_session`, HttpOnly, SameSite=Lax), holding the same token as the body.',
    required: true,
    schema: { type: 'string' },
  },
  'Set-Cookie-Cleared': {
    description: 'Clears the session cookie.',
    required: true,
    schema: { type: 'string' },
  },
  'Set-Cookie-Renewed': {
    description: 'The session cookie with a later expiry, when the call authenticated with a cookie and renewed its session.',
    schema: { type: 'string' },
  },
  'X-Vercel-AI-UI-Message-Stream': {
    description: "`v1`: the body is the AI SDK's UI message stream, protocol version 1.",
    required: true,
    schema: { type: 'string', enum: ['v1'] },
  },
  ETag: {
    description: 'The state version as a strong entity tag, `"<version>"`: send it back as `If-Match` to change the state.',
    required: true,
    schema: { type: 'string', pattern: '^"(0|[1-9][0-9]*)"$', example: '"3"' },
  },
};

/** The rate-limit headers: sent once the limiter has counted the call (after 401, before 403). */
const rateLimited = (required: boolean): Json =>
  required
    ? {
        'X-RateLimit-Limit': { ...HEADERS['X-RateLimit-Limit'], required: true },
        'X-RateLimit-Remaining': { ...HEADERS['X-RateLimit-Remaining'], required: true },
      }
    : { 'X-RateLimit-Limit': header('X-RateLimit-Limit'), 'X-RateLimit-Remaining': header('X-RateLimit-Remaining') };

/** Statuses answered before the limiter counts the call: they carry no rate-limit headers. */
const BEFORE_LIMITER = new Set([400, 401, 413, 415]);
const BODY_METHODS = new Set(['post', 'patch', 'put']);

function errorResponse(status: number, op: Operation): Json {
  const schema = status === 422 ? 'ValidationErrorBody' : status === 412 ? 'PreconditionFailedBody' : 'ErrorBody';
  const headers: Json = { 'X-Request-Id': header('X-Request-Id') };
  if (status === 412) headers['ETag'] = header('ETag');
  if (status === 401) headers['WWW-Authenticate'] = header('WWW-Authenticate');
  if (status === 429) Object.assign(headers, rateLimited(true));
  else if (!BEFORE_LIMITER.has(status)) Object.assign(headers, rateLimited(false));
  if (status === 429 || status === 409 || status === 503) headers['Retry-After'] = header('Retry-After');
  const stateConflict = status === 409 && op.tags.includes('State');
  return {
    description: stateConflict ? STATE_CONFLICT : (ERROR_DESCRIPTIONS[status] ?? 'Error.'),
    headers,
    content: { 'application/json': { schema: { $ref: `#/components/schemas/${schema}` } } },
  };
}

const DEFAULT_ERROR: Json = {
  description: 'Any other error, in the same shape: 500, or 503 (with `Retry-After`) while the database is unavailable.',
  headers: { 'X-Request-Id': header('X-Request-Id'), 'Retry-After': header('Retry-After') },
  content: { 'application/json': { schema: { $ref: '#/components/schemas/ErrorBody' } } },
};

/** The error statuses an operation answers: its contract's, and a body's own failures. */
function errorStatuses(op: Operation): number[] {
  const statuses = new Set(op.errors);
  if (BODY_METHODS.has(op.method.toLowerCase())) for (const status of [400, 413, 415]) statuses.add(status);
  return [...statuses].sort((a, b) => a - b);
}

/** The headers of an operation's success answer. */
function successHeaders(op: Operation): Json {
  const headers: Json = { 'X-Request-Id': header('X-Request-Id'), ...rateLimited(true) };
  if (WITH_ETAG.has(op)) headers['ETag'] = header('ETag');
  if (op.framing === 'ui-message-stream') headers['X-Vercel-AI-UI-Message-Stream'] = header('X-Vercel-AI-UI-Message-Stream');
  if (op.idempotent && op.transport !== 'sse') headers['Idempotent-Replayed'] = header('Idempotent-Replayed');
  if (op.name === 'auth.signUp' || op.name === 'auth.signIn') headers['Set-Cookie'] = header('Set-Cookie-Session');
  else if (op.name === 'auth.signOut') headers['Set-Cookie'] = header('Set-Cookie-Cleared');
  else if (op.auth === 'required') headers['Set-Cookie'] = header('Set-Cookie-Renewed');
  return headers;
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
  example: '8e03978e-40d5-43e8-bc93-6894a57f9324',
};

/**
 * The If-Match precondition (RFC 9110) of an operation that answers 412: required (or the body's
 * expected version) where it also answers 428, else optional.
 */
function ifMatch(op: Operation): Json | undefined {
  if (!op.errors.includes(412)) return undefined;
  const required = op.errors.includes(428);
  return {
    name: 'If-Match',
    in: 'header',
    required: false,
    description:
      "The state's ETag as you last read it (`\"3\"`), or `*` for any version. " +
      (required
        ? 'This or the expected version in the body is required (428 without either); '
        : 'Optional: without it (or the expected version in the body) the state is not checked; ') +
      'a stale one is a 412 and nothing is stored. Weak tags never match.',
    schema: { type: 'string', minLength: 1, maxLength: 1024 },
    example: '"3"',
  };
}

/**
 * PATCH .../state: the body is required (exactly one of the patch fields), and the REST face also
 * takes the raw patch as its own media type, `application/merge-patch+json` or
 * `application/json-patch+json` (the field's schema; the precondition is then If-Match alone).
 */
function rawPatchBodies(operation: Json): void {
  const body = operation['requestBody'] as { content: Record<string, Json & { schema: Json }> };
  const json = body.content['application/json']!;
  const fields = json.schema['properties'] as Record<string, Json>;
  const mergePatch = { form: { color: 'blue', size: null } };
  const jsonPatch = [
    { op: 'test', path: '/form/color', value: 'red' },
    { op: 'replace', path: '/form/color', value: 'blue' },
  ];
  json['examples'] = {
    merge_patch: { summary: 'A JSON Merge Patch', value: { merge_patch: mergePatch, expected_version: 3 } },
    json_patch: { summary: 'A JSON Patch', value: { json_patch: jsonPatch, expected_version: 3 } },
  };
  body.content['application/merge-patch+json'] = { schema: fields['merge_patch']!, example: mergePatch };
  body.content['application/json-patch+json'] = { schema: fields['json_patch']!, example: jsonPatch };
  operation['requestBody'] = { ...body, required: true };
}

/** A path parameter of a public path, described. */
function pathParameter(name: string, schema: Json = { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER }): Json {
  const known = PATH_PARAMETERS[name];
  if (!known) throw new Error(`The path parameter {${name}} has no description in the OpenAPI document.`);
  return { name, in: 'path', required: true, description: known.description, schema, example: known.example };
}

/** An example of the stream: what a client reads, event by event. */
function streamExample(): string {
  const at = '2026-01-31T12:00:00.000Z';
  const user = {
    id: 41,
    thread_id: 1,
    role: 'user',
    content: 'Make the form blue.',
    state: { form: { color: 'red' } },
    updated_state: null,
    status: 'completed',
    model: null,
    usage: null,
    latency_ms: null,
    time_to_first_token_ms: null,
    context_truncated: false,
    error: null,
    created_at: at,
  };
  const reply = {
    ...user,
    id: 42,
    role: 'assistant',
    content: 'Done: the form is blue.',
    state: null,
    updated_state: { form: { color: 'blue' } },
    model: 'gpt-4o-mini',
    usage: { prompt_tokens: 52, completion_tokens: 7 },
    latency_ms: 840,
    time_to_first_token_ms: 310,
  };
  const events: Array<[string, Json]> = [
    ['message.created', { type: 'message.created', ...user, status: 'pending' }],
    ['response.delta', { type: 'response.delta', delta: 'Done: ' }],
    ['response.delta', { type: 'response.delta', delta: 'the form is blue.' }],
    ['response.completed', { type: 'response.completed', createdMessage: user, responseMessage: reply }],
  ];
  return events.map(([event, data], seq) => `id: 41:${seq}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`).join('');
}

/** An example of the UI message stream: its `data:` lines, then `[DONE]`. */
function uiStreamExample(): string {
  const parts: Json[] = [
    { type: 'start' },
    { type: 'data-state', id: 'state', data: { form: { color: 'blue' } } },
    { type: 'text-start', id: 'text-41' },
    { type: 'text-delta', id: 'text-41', delta: 'Done: ' },
    { type: 'text-delta', id: 'text-41', delta: 'the form is blue.' },
    { type: 'text-end', id: 'text-41' },
    { type: 'finish', finishReason: 'stop', messageMetadata: { created_message_id: 41, response_message_id: 42, state_version: 4 } },
  ];
  return `${parts.map((part) => `data: ${JSON.stringify(part)}\n\n`).join('')}data: [DONE]\n\n`;
}

function aguiExample(): string {
  const events: Json[] = [
    { type: 'RUN_STARTED', threadId: '7', runId: 'run-1' },
    { type: 'STATE_SNAPSHOT', snapshot: { form: { color: 'red' } } },
    { type: 'STATE_DELTA', delta: [{ op: 'replace', path: '/form/color', value: 'blue' }] },
    { type: 'TEXT_MESSAGE_START', messageId: '42', role: 'assistant' },
    { type: 'TEXT_MESSAGE_CONTENT', messageId: '42', delta: 'The form is blue.' },
    { type: 'TEXT_MESSAGE_END', messageId: '42' },
    {
      type: 'RUN_FINISHED',
      threadId: '7',
      runId: 'run-1',
      result: { createdMessage: 41, responseMessage: 42, state_version: 4 },
      outcome: { type: 'success' },
    },
  ];
  return events.map((event) => `data: ${JSON.stringify(event)}\n\n`).join('');
}

/** What the document says of each framing's answer; the schema is always what one `data:` line holds. */
const FRAMING_ANSWERS: Record<StreamFraming, { description: string; example?: () => string }> = {
  events: {
    description:
      'Server-sent events, each with an `id`, an `event` name and one `data:` line of JSON: the schema is what a ' +
      "`data:` line holds, the event's data with its name in `type` (StreamEventData).",
    example: streamExample,
  },
  'ag-ui': {
    description: 'Server-sent events of the AG-UI protocol: each `data:` line is one AG-UI event, named by its `type`.',
    example: aguiExample,
  },
  'ui-message-stream': {
    description:
      "The AI SDK's UI message stream (v1): each `data:` line is one part, named by its `type`, and the last line is " +
      '`data: [DONE]`. Lines starting with `:` are comments (keep-alives).',
    example: uiStreamExample,
  },
};

/**
 * The data of a stream's events, one component per event, in a union on `type`. The union is
 * `anyOf` and its members leave out `type: object`, so that the schema holds under both readings
 * tools give a 3.1 `text/event-stream` schema: generators (hey-api, openapi-typescript) apply it to
 * each `data:` line, an object, and infer the object from `properties`; validating proxies (Prism)
 * apply it to the whole body, text, which `properties` and `required` do not constrain.
 */
function streamDataSchema(schemas: Record<string, unknown>, data: z.ZodType): Json {
  const union = componentSchema(data, schemas) as Json & { $ref?: string };
  const id = String(union.$ref ?? '').replace('#/components/schemas/', '');
  const definition = schemas[id] as (Json & { oneOf?: Json[]; anyOf?: Json[] }) | undefined;
  if (!definition) throw new Error(`A stream's data must be a named schema (.meta({ id })), not ${JSON.stringify(union)}`);
  delete definition['type'];
  if (definition.oneOf) {
    definition.anyOf = definition.oneOf;
    delete definition.oneOf;
  }
  for (const member of definition.anyOf ?? []) {
    const ref = member['$ref'];
    const target = typeof ref === 'string' ? (schemas[ref.replace('#/components/schemas/', '')] as Json) : member;
    delete target['type'];
  }
  return union;
}

const LAST_EVENT_ID: Json = {
  name: 'Last-Event-ID',
  in: 'header',
  required: false,
  description: 'Resume a stream: the id of the last event received.',
  schema: { type: 'string', maxLength: 64 },
  example: '41:1',
};

/**
 * A streamed operation (not served by trpc-to-openapi): its path parameters, JSON body, the
 * Last-Event-ID header (for `events` streams, the resumable ones), and a `text/event-stream`
 * answer whose `data:` lines are the framing's: StreamEventData, or the contract's output.
 */
function streamOperation(op: Operation, schemas: Record<string, unknown>): Json {
  const input = componentSchema(op.input, schemas, 'input') as Json & { properties?: Record<string, Json>; required?: string[] };
  const hidden = new Set([...Object.keys(op.pathParams), 'lastEventId']);
  const properties = Object.fromEntries(Object.entries(input.properties ?? {}).filter(([name]) => !hidden.has(name)));
  const required = (input.required ?? []).filter((name) => !hidden.has(name));
  const body = { type: 'object', properties, required };
  const framing = op.framing ?? 'events';
  const answer = FRAMING_ANSWERS[framing];
  return {
    operationId: op.name,
    summary: op.summary,
    description: op.description,
    tags: op.tags,
    security: [{ bearerAuth: [] }],
    'x-permission': op.permission,
    parameters: [
      ...Object.values(op.pathParams).map((name) => pathParameter(name)),
      ...(op.idempotent ? [IDEMPOTENCY_KEY] : []),
      ...(framing === 'events' ? [LAST_EVENT_ID] : []),
    ],
    requestBody: { required: required.length > 0, content: { 'application/json': { schema: body } } },
    responses: {
      [String(op.successStatus)]: {
        description: answer.description,
        headers: successHeaders(op),
        content: {
          'text/event-stream': {
            schema: streamDataSchema(schemas, framing === 'events' ? StreamEventData : op.output),
            ...(answer.example ? { example: answer.example() } : {}),
          },
        },
      },
      ...Object.fromEntries(errorStatuses(op).map((status) => [String(status), errorResponse(status, op)])),
      default: DEFAULT_ERROR,
    },
  };
}

/**
 * Gives a JSON request body an example built from its properties' examples (the contracts'
 * `.meta({example})`), when every required property has one, so readers see a whole body to send;
 * an optional property without one (a precondition such as `expected_state_version`) is left out.
 */
function addBodyExample(operation: Json, schemas: Record<string, unknown>): void {
  const media = (operation['requestBody'] as { content?: Record<string, Json> } | undefined)?.content?.['application/json'];
  if (!media || 'example' in media || 'examples' in media) return;
  let schema = media['schema'] as Json | undefined;
  const ref = schema?.['$ref'];
  if (typeof ref === 'string') schema = schemas[ref.replace('#/components/schemas/', '')] as Json | undefined;
  const properties = Object.entries((schema?.['properties'] ?? {}) as Record<string, Json>);
  const required = new Set((schema?.['required'] ?? []) as string[]);
  const given = properties.filter(([, property]) => 'example' in property);
  if (given.length === 0 || properties.some(([name, property]) => required.has(name) && !('example' in property))) return;
  media['example'] = Object.fromEntries(given.map(([name, property]) => [name, property['example']]));
}

/**
 * A body is required when the operation refuses to go without one; an operation whose input has
 * no body field (sign-out, cancel) takes none. The REST face reads a missing body as `{}`.
 */
function fitRequestBody(operation: Json): void {
  const body = operation['requestBody'] as { content?: Record<string, { schema?: Json }> } | undefined;
  if (!body) return;
  const schema = body.content?.['application/json']?.schema as { properties?: Json; required?: string[] } | undefined;
  if (!schema || Object.keys(schema.properties ?? {}).length === 0) {
    delete operation['requestBody'];
    return;
  }
  operation['requestBody'] = { ...body, required: (schema.required ?? []).length > 0 };
}

/** `exclusiveMinimum: 0` on an integer is `minimum: 1`, which more tools read right. */
function integerMinimums(node: unknown): void {
  if (Array.isArray(node)) return node.forEach(integerMinimums);
  if (typeof node !== 'object' || node === null) return;
  const schema = node as Json;
  if (schema['type'] === 'integer' && schema['exclusiveMinimum'] === 0 && !('minimum' in schema)) {
    delete schema['exclusiveMinimum'];
    schema['minimum'] = 1;
  }
  for (const value of Object.values(schema)) integerMinimums(value);
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
  doc.servers = SERVERS;
  doc.tags = TAGS;
  const components = (doc.components ??= {});
  const schemas = (components.schemas ??= {});
  (components as Json)['headers'] = HEADERS;
  // The library's own error bodies ({message, code, issues}) are never sent: the REST face
  // rewrites them, so they are replaced by ours.
  for (const name of Object.keys(schemas)) if (name.startsWith('error.')) delete schemas[name];
  componentSchema(ErrorBody, schemas);
  componentSchema(ValidationErrorBody, schemas);
  componentSchema(PreconditionFailedBody, schemas);

  const paths: Record<string, Json> = {};
  for (const [routePath, item] of Object.entries(doc.paths ?? {})) {
    let publicPath = routePath;
    for (const [method, value] of Object.entries(item as Json)) {
      const operation = value as Json & { operationId?: string; parameters?: Json[]; responses?: Json };
      const op = operation.operationId ? operationNamed(operation.operationId) : undefined;
      if (!op) continue;
      for (const [field, name] of Object.entries(op.pathParams)) {
        publicPath = publicPath.replace(`{${field}}`, `{${name}}`);
        operation.parameters = (operation.parameters ?? []).map((parameter) =>
          parameter['in'] === 'path' && parameter['name'] === field ? pathParameter(name, parameter['schema'] as Json) : parameter,
        );
      }
      const responses: Json = {};
      const success = (operation.responses ?? {})['200'] as Json | undefined;
      const description = op.successStatus === 204 ? 'No content.' : 'Success.';
      responses[String(op.successStatus)] = {
        description,
        headers: successHeaders(op),
        ...(op.successStatus === 204 ? {} : { content: success?.['content'] }),
      };
      for (const status of errorStatuses(op)) responses[String(status)] = errorResponse(status, op);
      responses['default'] = DEFAULT_ERROR;
      operation.responses = responses;
      if (op.permission) operation['x-permission'] = op.permission;
      if (op.idempotent) operation.parameters = [...(operation.parameters ?? []), IDEMPOTENCY_KEY];
      // Credentials are optional here (sign-out ends the calling session, if any): `{}` says so.
      if (op.auth === 'none') operation['security'] = [{}, { bearerAuth: [] }];
      fitRequestBody(operation);
      if (op === contracts.threads.state.patch) rawPatchBodies(operation);
      (item as Json)[method] = operation;
    }
    paths[publicPath] = item as Json;
  }
  for (const op of operations) {
    if (op.transport === 'sse') (paths[op.path] ??= {})[op.method.toLowerCase()] = streamOperation(op, schemas);
  }
  const tagNames = new Set(TAGS.map((tag) => tag.name));
  for (const item of Object.values(paths)) {
    for (const operation of Object.values(item) as Json[]) {
      const op = operationNamed(String(operation['operationId']));
      const precondition = op && ifMatch(op);
      if (precondition) operation['parameters'] = [...((operation['parameters'] ?? []) as Json[]), precondition];
      addBodyExample(operation, schemas);
      for (const tag of (operation['tags'] ?? []) as string[]) {
        if (!tagNames.has(tag)) throw new Error(`The tag "${tag}" of ${String(operation['operationId'])} has no description.`);
      }
    }
  }
  integerMinimums(paths);
  integerMinimums(schemas);
  doc.paths = paths as OpenAPIObject['paths'];
  return doc;
}
