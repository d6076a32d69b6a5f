// One test per trpc-to-openapi workaround of server/src/http/openapi-adapter.ts (numbered as there):
// each fails if its workaround is taken out. Then the routes it answers without the library, which
// must match a path as the library would.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp, type TestUser } from '../support/harness.js';
import { trpc } from '../support/helpers.js';

let app: TestApp;
let user: TestUser;
beforeAll(async () => {
  app = await startTestApp();
  user = await app.signUp();
});
afterAll(async () => {
  await app?.close();
});

const nested = (depth: number) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;

describe('the REST face over trpc-to-openapi', () => {
  it('1. answers errors in the seed shape, never the library’s {code, issues, data}', async () => {
    const invalid = await app.api('POST', '/ai/threads', { token: user.token, body: { title: '' } });
    expect(invalid.status).toBe(422);
    expect(Object.keys(invalid.body).sort()).toEqual(['errors', 'message']);
    const missing = await app.api('GET', '/ai/threads/987654321', { token: user.token });
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual({ message: 'Thread not found.' });
  });

  it('2. sends a 204 with no body and no content type', async () => {
    const thread = await app.api('POST', '/ai/threads', { token: user.token, body: {} });
    const deleted = await app.api('DELETE', `/ai/threads/${thread.body.id}`, { token: user.token });
    expect(deleted.status).toBe(204);
    expect(deleted.text).toBe('');
    expect(deleted.headers.get('content-type')).toBeNull();
  });

  it('3. takes a POST without a body (and without a content type) as {}', async () => {
    const created = await app.http('POST', '/api/v1/ai/threads', { token: user.token });
    expect(created.status, created.text).toBe(201);
    expect(created.body).toMatchObject({ title: null, state: null });
  });

  it('4. refuses a JSON body that is not an object with the tRPC face’s 422; null is no input', async () => {
    const list = await app.http('POST', '/api/v1/ai/threads', { token: user.token, raw: '[{"title":"x"}]', headers: { 'content-type': 'application/json' } });
    expect(list.status).toBe(422);
    expect(list.body).toEqual({ message: 'The body field must be an object.', errors: { body: ['The body field must be an object.'] } });
    const none = await app.http('POST', '/api/v1/ai/threads', { token: user.token, raw: 'null', headers: { 'content-type': 'application/json' } });
    expect(none.status, none.text).toBe(201);
  });

  it('5. refuses a body 10,000 levels deep with a 422 (the library’s re-serialisation overflowed), a toJSON key too', async () => {
    const deep = await app.http('POST', '/api/v1/ai/threads', {
      token: user.token,
      raw: `{"state":${nested(10_000)}}`,
      headers: { 'content-type': 'application/json' },
    });
    expect(deep.status, deep.text).toBe(422);
    const sneaky = await app.http('POST', '/api/v1/ai/threads', {
      token: user.token,
      raw: `{"toJSON":1,"state":${nested(10_000)}}`,
      headers: { 'content-type': 'application/json' },
    });
    expect(sneaky.status, sneaky.text).toBe(422);
  });

  it('6. reads a body sent as application/json; charset=utf-8 (the library would drop it)', async () => {
    const created = await app.http('POST', '/api/v1/ai/threads', {
      token: user.token,
      raw: JSON.stringify({ title: 'With a charset' }),
      headers: { 'content-type': 'application/json; charset=utf-8' },
    });
    expect(created.status, created.text).toBe(201);
    expect(created.body.title).toBe('With a charset');
  });

  it('7. converts decimal strings on REST only: tRPC still takes JSON numbers alone after a REST call', async () => {
    const rest = await app.api('GET', '/ai/threads?limit=5', { token: user.token });
    expect(rest.status, rest.text).toBe(200);
    const refused = await trpc(app, 'query', 'threads.list', { limit: '5' }, { token: user.token });
    expect(refused.status).toBe(422);
    const taken = await trpc(app, 'query', 'threads.list', { limit: 5 }, { token: user.token });
    expect(taken.status).toBe(200);
  });

  it('8. serves the stream on REST as server-sent events, before the library (which cannot)', async () => {
    const thread = await app.api('POST', '/ai/threads', { token: user.token, body: {} });
    const refused = await app.api('POST', `/ai/threads/${thread.body.id}/messages/stream`, { token: user.token, body: {} });
    // The stream route answered (a 422 in the seed's shape from the same procedure), not a 404/405.
    expect(refused.status).toBe(422);
    expect(refused.body.errors).toHaveProperty('content');
  });

  it('9. documents the public parameter names and the success statuses the library cannot', async () => {
    const doc = (await app.http('GET', '/api/v1/openapi.json')).body;
    const item = doc.paths['/ai/threads/{thread-id}'];
    expect(item.get.parameters.map((p: { name: string }) => p.name)).toContain('thread-id');
    expect(Object.keys(doc.paths['/ai/threads'].post.responses)).toContain('201');
    expect(doc.paths['/ai/threads/{thread-id}/messages/stream'].post.responses['200'].content).toHaveProperty('text/event-stream');
  });

  it('10. takes a raw patch (merge-patch+json, json-patch+json) on PATCH .../state as its field, and refuses it elsewhere (415)', async () => {
    const thread = await app.api('POST', '/ai/threads', { token: user.token, body: { state: { list: [1] } } });
    const patch = (type: string, raw: string, path = `/ai/threads/${thread.body.id}/state`) =>
      app.api('PATCH', path, { token: user.token, raw, headers: { 'content-type': type, 'if-match': '*' } });
    const merged = await patch('application/merge-patch+json', '{"title":"data, not a field"}');
    expect(merged.status, merged.text).toBe(200);
    expect(merged.body.state).toEqual({ list: [1], title: 'data, not a field' });
    const patched = await patch('application/json-patch+json', '[{"op":"add","path":"/list/-","value":2}]');
    expect(patched.status, patched.text).toBe(200);
    expect(patched.body.state.list).toEqual([1, 2]);
    const elsewhere = await patch('application/merge-patch+json', '{"title":"x"}', `/ai/threads/${thread.body.id}`);
    expect(elsewhere.status).toBe(415);
    expect(Object.keys(elsewhere.body)).toEqual(['message']);
  });
});

describe('the routes answered without the library', () => {
  it('match a path as the library does (any case, one trailing slash), and an empty segment matches nothing', async () => {
    const thread = await app.api('POST', '/AI/Threads/', { token: user.token, body: { state: { n: 1 } } });
    expect(thread.status, thread.text).toBe(201);
    const id = thread.body.id as number;
    const patched = await app.api('PATCH', `/ai/THREADS/${id}/State/`, { token: user.token, body: { merge_patch: { n: 2 } }, headers: { 'if-match': '*' } });
    expect(patched.status, patched.text).toBe(200);
    expect(patched.body.state).toEqual({ n: 2 });
    const page = await app.api('GET', `/ai/threads/${id}/messages/?limit=5`, { token: user.token });
    expect(page.status, page.text).toBe(200);
    expect(page.body).toMatchObject({ data: [], has_more: false });
    for (const path of [`/ai/threads//state`, `/ai/threads/${id}//state`, `/ai/threads/${id}/state//`]) {
      const empty = await app.api('PATCH', path, { token: user.token, body: { merge_patch: { n: 3 } }, headers: { 'if-match': '*' } });
      expect(empty.status, path).toBe(404);
    }
    const state = await app.api('GET', `/ai/threads/${id}/state`, { token: user.token });
    expect(state.body.state).toEqual({ n: 2 });
  });
});
