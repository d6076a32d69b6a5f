// The OpenAPI document agrees with the service it describes: which operations need a body, the
// rules the service applies to what it is sent, the range of the numbers it answers, the headers it
// sends, the statuses it can answer, and where it is. Each check reads the live document and, where
// a rule is the service's behaviour, asks the service too.
import { operations as contractOperations, PERMISSIONS } from '@ai-threads/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { operationsOf, type Json } from '../support/openapi.js';
import { startTestApp, type TestApp, type TestUser } from '../support/harness.js';
import { createApiToken, trpc } from '../support/helpers.js';
import { newThread, sendMessage } from '../support/threads.js';


let app: TestApp;
let doc: Json;
beforeAll(async () => {
  app = await startTestApp();
  const res = await app.http('GET', '/api/v1/openapi.json');
  expect(res.status).toBe(200);
  doc = res.body;
});
afterAll(async () => {
  await app?.close();
});

const operations = () => operationsOf(doc);


const schemaOf = (name: string): Json => doc.components.schemas[name];
const resolve = (schema: Json): Json =>
  schema?.['$ref'] ? schemaOf(String(schema['$ref']).replace('#/components/schemas/', '')) : schema;
const bodySchema = (operation: Json): Json => resolve(operation.requestBody?.content?.['application/json']?.schema);
const header = (value: Json): Json =>
  value['$ref'] ? doc.components.headers[String(value['$ref']).replace('#/components/headers/', '')] : value;

describe('request bodies', () => {
  it('are required exactly where the service refuses to go without one', async () => {
    const user: TestUser = await app.signUp();
    const thread = await newThread(app, user);
    const pair = await sendMessage(app, user, thread.id, { content: 'Hi' });
    const apiToken = await createApiToken(app, user.token, { permissions: ['ai_threads.view'] });
    const values: Record<string, number> = {
      'thread-id': thread.id,
      'message-id': pair.createdMessage.id,
      id: apiToken.api_token.id,
    };
    const checked: string[] = [];
    for (const { path, method, operation } of operations()) {
      if (method !== 'post' && method !== 'patch' && method !== 'put') continue;
      const op = contractOperations.find((candidate) => candidate.name === operation.operationId)!;
      const documented = operation.requestBody?.required === true;
      const bodyFields = Object.keys(bodySchema(operation)?.properties ?? {});

      // The contract: the input with the path's ids and nothing else.
      const ids = Object.fromEntries(Object.entries(op.pathParams).map(([field, name]) => [field, values[name]]));
      expect(op.input.safeParse(ids).success, `${operation.operationId}: contract accepts no body`).toBe(!documented);

      // The service: the same request with no body at all (sign-out ends a session of its own).
      const token = operation.operationId === 'auth.signOut' ? (await app.signUp()).token : user.token;
      const url = path.replace(/\{([^}]+)\}/g, (_, name: string) => String(values[name]));
      const res = await app.api(method.toUpperCase(), url, { token });
      const refused = res.status === 422 && Object.keys(res.body.errors ?? {}).some((field) => bodyFields.includes(field));
      expect(refused, `${method} ${path} without a body: ${res.status} ${res.text}`).toBe(documented);
      if (!documented) expect(res.status, `${method} ${path}: ${res.text}`).toBeLessThan(500);
      checked.push(operation.operationId);
    }
    expect(checked).toEqual(expect.arrayContaining(['auth.signOut', 'threads.create', 'threads.update', 'messages.create', 'messages.stream']));
  });

  it('sign-out declares no body, and a new thread an optional one', () => {
    expect(doc.paths['/auth/sign-out'].post.requestBody).toBeUndefined();
    expect(doc.paths['/ai/threads'].post.requestBody.required).toBe(false);
    expect(doc.paths['/ai/threads/{thread-id}/messages'].post.requestBody.required).toBe(true);
  });

  it('state the rules the service applies', () => {
    const message = bodySchema(doc.paths['/ai/threads/{thread-id}/messages'].post);
    expect(message.properties.content).toMatchObject({ type: 'string', minLength: 1, maxLength: 5000, pattern: '\\S' });
    const streamed = bodySchema(doc.paths['/ai/threads/{thread-id}/messages/stream'].post);
    expect(streamed.properties.content).toMatchObject({ minLength: 1, maxLength: 5000, pattern: '\\S' });
    expect(new RegExp(message.properties.content.pattern).test(' \n\t ')).toBe(false);

    const thread = bodySchema(doc.paths['/ai/threads'].post);
    expect(thread.properties.title).toMatchObject({ type: 'string', minLength: 1, maxLength: 200, pattern: '\\S' });
    expect(thread.properties.instructions).toMatchObject({ type: 'string', maxLength: 20000 });
    expect(thread.properties.metadata).toMatchObject({
      maxProperties: 16,
      propertyNames: { minLength: 1, maxLength: 64 },
      additionalProperties: { type: 'string', maxLength: 512 },
    });
    const update = bodySchema(doc.paths['/ai/threads/{thread-id}'].patch);
    expect(JSON.stringify(update.properties.title)).toContain('"maxLength":200');

    const token = bodySchema(doc.paths['/api-tokens'].post);
    expect(token.properties.permissions.items.enum).toEqual([...PERMISSIONS]);
    expect(schemaOf('Me').properties.permissions.items.enum).toEqual([...PERMISSIONS]);
    expect(schemaOf('ApiToken').properties.permissions.items.enum).toEqual([...PERMISSIONS]);
    expect(token.properties.name).toMatchObject({ minLength: 1, maxLength: 100, pattern: '\\S' });
  });
});

describe('answers', () => {
  it('give ids a minimum of 1 and counts, tokens and durations a minimum of 0', () => {
    const message = schemaOf('Message').properties;
    for (const id of [message.id, message.thread_id, schemaOf('Thread').properties.id, schemaOf('User').properties.id]) {
      expect(id).toMatchObject({ type: 'integer', minimum: 1 });
    }
    expect(schemaOf('ApiToken').properties.id).toMatchObject({ minimum: 1 });
    expect(schemaOf('Thread').properties.message_count).toMatchObject({ type: 'integer', minimum: 0 });
    expect(schemaOf('Usage').properties.prompt_tokens).toMatchObject({ minimum: 0 });
    expect(schemaOf('Usage').properties.completion_tokens).toMatchObject({ minimum: 0 });
    expect(JSON.stringify(message.latency_ms)).toContain('"minimum":0');
    expect(JSON.stringify(message.time_to_first_token_ms)).toContain('"minimum":0');
    // Nowhere a negative id, count or cursor: no integer reaches below 0.
    const text = JSON.stringify(doc);
    expect(text).not.toContain('-9007199254740991');
    expect(text).not.toContain('"exclusiveMinimum":0');
    for (const page of ['ThreadPage', 'MessagePage', 'ApiTokenPage']) {
      expect(JSON.stringify(schemaOf(page).properties.next_cursor)).toContain('"minimum":1');
    }
  });

  it('type every timestamp as date-time', () => {
    const message = schemaOf('Message').properties;
    const thread = schemaOf('Thread').properties;
    expect(message.created_at).toMatchObject({ type: 'string', format: 'date-time' });
    for (const field of ['created_at', 'updated_at']) expect(thread[field]).toMatchObject({ format: 'date-time' });
    expect(JSON.stringify(thread.last_message_at)).toContain('"format":"date-time"');
    expect(JSON.stringify(schemaOf('ApiToken').properties.expires_at)).toContain('"format":"date-time"');
  });

  it('declare 415 on every operation that reads a body, and a default error on every operation', () => {
    for (const { path, method, operation } of operations()) {
      expect(operation.responses.default, `${method} ${path}`).toMatchObject({
        content: { 'application/json': { schema: { $ref: '#/components/schemas/ErrorBody' } } },
      });
      if (method === 'post' || method === 'patch') expect(operation.responses['415'], `${method} ${path}`).toBeDefined();
    }
  });

  it('declare the headers the service sends', () => {
    for (const { path, method, operation } of operations()) {
      for (const [status, response] of Object.entries(operation.responses as Json)) {
        const headers = (response as Json).headers ?? {};
        expect(headers['X-Request-Id'], `${method} ${path} ${status}`).toBeDefined();
        if (status === '401') expect(header(headers['WWW-Authenticate']), `${method} ${path}`).toMatchObject({ required: true });
        if (['409', '429', 'default'].includes(status)) expect(headers['Retry-After'], `${method} ${path} ${status}`).toBeDefined();
        if (status.startsWith('2')) {
          expect(header(headers['X-RateLimit-Limit']), `${method} ${path}`).toMatchObject({ required: true });
          expect(header(headers['X-RateLimit-Remaining']), `${method} ${path}`).toMatchObject({ required: true });
        }
      }
    }
    const success = (path: string, method: string) => {
      const responses = doc.paths[path][method].responses;
      return responses[Object.keys(responses).find((status) => status.startsWith('2'))!].headers;
    };
    expect(success('/ai/threads', 'post')['Idempotent-Replayed']).toBeDefined();
    expect(success('/ai/threads/{thread-id}/messages', 'post')['Idempotent-Replayed']).toBeDefined();
    for (const path of ['/auth/sign-up', '/auth/sign-in', '/auth/sign-out']) {
      expect(header(success(path, 'post')['Set-Cookie']), path).toMatchObject({ required: true });
    }
  });

  it('send the headers they declare: X-Request-Id and the rate-limit headers on success, Idempotent-Replayed on a replay', async () => {
    const user = await app.signUp();
    const first = await app.api('POST', '/ai/threads', { token: user.token, body: {}, headers: { 'idempotency-key': 'doc-headers' } });
    const again = await app.api('POST', '/ai/threads', { token: user.token, body: {}, headers: { 'idempotency-key': 'doc-headers' } });
    expect(first.status).toBe(201);
    for (const res of [first, again]) {
      expect(res.headers.get('x-request-id')).toEqual(expect.any(String));
      expect(Number(res.headers.get('x-ratelimit-limit'))).toBeGreaterThan(0);
      expect(Number(res.headers.get('x-ratelimit-remaining'))).toBeGreaterThanOrEqual(0);
    }
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    const signIn = await app.api('POST', '/auth/sign-in', { body: { email: user.email, password: 'correct horse battery' } });
    expect(signIn.headers.get('set-cookie')).toMatch(/^ai_threads_session=/);
  });
});

describe('a 401', () => {
  it('names the Bearer scheme in WWW-Authenticate, on REST and tRPC', async () => {
    const rest = await app.api('GET', '/me');
    expect(rest.status).toBe(401);
    expect(rest.headers.get('www-authenticate')).toBe('Bearer');
    const revoked = await app.api('GET', '/ai/threads', { token: 'not-a-token' });
    expect(revoked.status).toBe(401);
    expect(revoked.headers.get('www-authenticate')).toBe('Bearer');
    const rpc = await trpc(app, 'query', 'me.get');
    expect(rpc.status).toBe(401);
    expect(rpc.headers.get('www-authenticate')).toBe('Bearer');
    const stream = await app.api('POST', '/ai/threads/1/messages/stream', { body: { content: 'Hi' } });
    expect(stream.status).toBe(401);
    expect(stream.headers.get('www-authenticate')).toBe('Bearer');
  });

  it('is declared with WWW-Authenticate on every operation that needs credentials', () => {
    for (const { path, method, operation } of operations()) {
      const needsCredentials = !(operation.security ?? []).some((requirement: Json) => Object.keys(requirement).length === 0);
      if (!needsCredentials) continue;
      expect(operation.responses['401']?.headers?.['WWW-Authenticate'], `${method} ${path}`).toBeDefined();
    }
  });
});

describe('the document', () => {
  it('names an absolute, templated server first, and the relative one after it', () => {
    expect(doc.servers[0]).toMatchObject({ url: '{origin}/api/v1', variables: { origin: { default: 'http://localhost:3000' } } });
    expect(doc.servers.map((server: Json) => server.url)).toContain('/api/v1');
  });

  it('declares its tags, and describes every operation and path parameter', () => {
    const tags = new Set((doc.tags as Json[]).map((tag) => tag.name));
    for (const tag of doc.tags as Json[]) expect(tag.description, tag.name).toEqual(expect.any(String));
    for (const { path, method, operation } of operations()) {
      expect(operation.description, `${method} ${path}`).toEqual(expect.any(String));
      for (const tag of operation.tags) expect(tags.has(tag), `${method} ${path} tag ${tag}`).toBe(true);
      for (const parameter of operation.parameters ?? []) {
        if (parameter.in !== 'path') continue;
        expect(parameter.description, `${method} ${path} {${parameter.name}}`).toEqual(expect.any(String));
        expect(parameter.example, `${method} ${path} {${parameter.name}}`).toEqual(expect.any(Number));
        expect(parameter.schema).toMatchObject({ type: 'integer', minimum: 1 });
      }
    }
  });

  it("describes the stream's data lines, one schema per event with a discriminator on type, and an example", () => {
    const media = doc.paths['/ai/threads/{thread-id}/messages/stream'].post.responses['200'].content['text/event-stream'];
    expect(media.schema).toEqual({ $ref: '#/components/schemas/StreamEventData' });
    const union = schemaOf('StreamEventData');
    expect(union.discriminator.propertyName).toBe('type');
    expect(Object.keys(union.discriminator.mapping).sort()).toEqual(['error', 'message.created', 'response.completed', 'response.delta', 'state.delta']);
    for (const [type, ref] of Object.entries(union.discriminator.mapping as Record<string, string>)) {
      expect(resolve({ $ref: ref }).properties.type.const).toBe(type);
      expect(resolve({ $ref: ref }).required).toContain('type');
    }
    // The example is a stream whose every data line names its event.
    const frames = (media.example as string).split('\n\n').filter(Boolean);
    expect(frames.length).toBeGreaterThan(2);
    for (const frame of frames) {
      const event = /^event: (.+)$/m.exec(frame)![1];
      const data = JSON.parse(/^data: (.+)$/m.exec(frame)![1]!);
      expect(data.type).toBe(event);
    }
  });
});
