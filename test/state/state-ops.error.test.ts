// The state operations' refusals, on both faces, each in the seed's format and storing nothing: a
// JSON Patch that does not apply (409, naming the operation), a malformed patch (422 by operation
// member), both or neither patch field, a result over the state limits, hostile patches (deep,
// huge, exponential), missing revisions; and on REST the raw patch media types' own failures (415
// elsewhere, charsets, bytes, size).
import { describe, expect, it } from 'vitest';
import { harness } from '../support/harness.js';
import { MISSING_ID, rawNested } from '../support/threads.js';
import { createThread, expect422, expectError, expectUnchanged, FACES, stateApi } from './support.js';

const { app, user, startApp } = await harness({ model: 'offline' });

/** An app with small state limits: 200 bytes, 4 levels. */
const small = await startApp({ model: 'offline', env: { STATE_MAX_BYTES: '200', STATE_MAX_DEPTH: '4' } });
const smallUser = await small.signUp();

const OPS_MESSAGE = 'The json_patch.0.op field must be one of add, remove, replace, move, copy, test.';

describe.each(FACES)('%s', (face) => {
  const api = stateApi(app, face, user.token);

  describe('409: a well-formed JSON Patch that does not apply', () => {
    const state = { form: { color: 'red' }, list: [1, 2] };
    it.each([
      ['a failed test', [{ op: 'replace', path: '/form/color', value: 'blue' }, { op: 'test', path: '/form/color', value: 'red' }], 1, 'test /form/color', 'the value at /form/color is not equal to the test value'],
      ['a missing path (remove)', [{ op: 'remove', path: '/form/size' }], 0, 'remove /form/size', 'the path /form/size does not exist'],
      ['a missing path (replace)', [{ op: 'replace', path: '/nope/deeper', value: 1 }], 0, 'replace /nope/deeper', 'the path /nope/deeper does not exist'],
      ['a missing parent (add)', [{ op: 'add', path: '/nope/x', value: 1 }], 0, 'add /nope/x', 'the path /nope/x does not exist'],
      ['an index past the end', [{ op: 'add', path: '/list/5', value: 3 }], 0, 'add /list/5', '/list/5'],
      ['a missing from (move)', [{ op: 'move', from: '/gone', path: '/here' }], 0, 'move /here', 'the "from" path /gone does not exist'],
      ['the whole document removed', [{ op: 'remove', path: '' }], 0, 'remove ""', 'the whole document cannot be removed'],
    ])('%s: the message names the operation; nothing stored', async (_label, json_patch, index, operation, reason) => {
      const id = await createThread(app, user, { state });
      const res = await expectUnchanged(app, id, () => api.patch(id, { json_patch, expected_version: 1 }));
      expect(res.status, JSON.stringify(res.body)).toBe(409);
      expect(Object.keys(res.body)).toEqual(['message']);
      expect(res.body.message).toContain(`The patch does not apply: operation ${index} (${operation}) failed: `);
      expect(res.body.message).toContain(reason);
    });
  });

  describe('422: the patch fields', () => {
    it.each([
      ['an unknown op', [{ op: 'jump', path: '/a' }], { 'json_patch.0.op': [OPS_MESSAGE] }],
      ['no op', [{ path: '/a' }], { 'json_patch.0.op': [OPS_MESSAGE] }],
      ['an operation that is not an object', ['add'], { 'json_patch.0': ['The json_patch.0 field must be an object with an "op" member.'] }],
      ['no path', [{ op: 'remove' }], { 'json_patch.0.path': ['The json_patch.0.path field is required.'] }],
      ['a path that is no pointer', [{ op: 'add', path: 'a/b', value: 1 }], { 'json_patch.0.path': ['The json_patch.0.path field must be a JSON Pointer: empty or starting with "/".'] }],
      ['a bad escape', [{ op: 'remove', path: '/a~2' }], { 'json_patch.0.path': ['The json_patch.0.path field must be a JSON Pointer: "~" must be followed by 0 or 1.'] }],
      ['no value', [{ op: 'test', path: '/a' }], { 'json_patch.0.value': ['The json_patch.0.value field is required for test.'] }],
      ['no from', [{ op: 'copy', path: '/a' }], { 'json_patch.0.from': ['The json_patch.0.from field is required.'] }],
      ['a path of the wrong type', [{ op: 'remove', path: 5 }], { 'json_patch.0.path': ['The json_patch.0.path field must be a string (a JSON Pointer).'] }],
      [
        'several operations wrong',
        [{ op: 'add', path: '/ok', value: 1 }, { op: 'remove' }, { op: 'move', path: '/a/b', from: '/a' }],
        {
          'json_patch.1.path': ['The json_patch.1.path field is required.'],
          'json_patch.2.path': ['The json_patch.2.path field must not be inside "from": a value cannot be moved into itself.'],
        },
      ],
    ])('a malformed JSON Patch (%s): field errors by operation', async (_label, json_patch, errors) => {
      const id = await createThread(app, user, { state: { a: 1 } });
      expect422(await expectUnchanged(app, id, () => api.patch(id, { json_patch, expected_version: 1 })), errors);
    });

    it.each([
      ['json_patch not an array', { json_patch: { op: 'add' } }, 'json_patch'],
      ['merge_patch not an object', { merge_patch: [1] }, 'merge_patch'],
      ['merge_patch null', { merge_patch: null }, 'merge_patch'],
      ['both', { merge_patch: { a: 1 }, json_patch: [] }, 'json_patch'],
      ['neither', {}, 'merge_patch'],
    ])('%s: a 422 on %s', async (_label, body, field) => {
      const id = await createThread(app, user, { state: { a: 1 } });
      const res = await expectUnchanged(app, id, () => api.patch(id, { ...body, expected_version: 1 }));
      expect(res.status).toBe(422);
      expect(Object.keys(res.body.errors)).toEqual([field]);
      expect(res.body.message).toBe(res.body.errors[field][0]);
    });

    it('the exact words for both and neither', async () => {
      const id = await createThread(app, user, { state: { a: 1 } });
      expect422(await api.patch(id, { expected_version: 1 }), { merge_patch: ['The merge patch field is required when json patch is not present.'] });
      expect422(await api.patch(id, { merge_patch: {}, json_patch: [], expected_version: 1 }), {
        json_patch: ['The json patch field must not be combined with merge patch.'],
      });
    });

    it('a JSON Patch whose result is not an object is a 422 on json_patch', async () => {
      const id = await createThread(app, user, { state: { a: 1 } });
      const res = await expectUnchanged(app, id, () => api.patch(id, { json_patch: [{ op: 'replace', path: '', value: [1] }], expected_version: 1 }));
      expect422(res, { json_patch: ['The json patch field must leave the state a JSON object.'] });
    });

    it('expected_version must be a whole number from 0', async () => {
      const id = await createThread(app, user, { state: { a: 1 } });
      for (const expected_version of [-1, 1.5, '1', null]) {
        const res = await expectUnchanged(app, id, () => api.patch(id, { merge_patch: { a: 2 }, expected_version }));
        expect(res.status, JSON.stringify(expected_version)).toBe(422);
        expect(Object.keys(res.body.errors)).toEqual(['expected_version']);
      }
    });
  });

  describe('422: over the state limits (STATE_MAX_BYTES=200, STATE_MAX_DEPTH=4)', () => {
    const limited = stateApi(small, face, smallUser.token);

    it('a result over the byte limit, from small patches of either kind', async () => {
      const id = await createThread(small, smallUser, { state: { text: 'x'.repeat(120) } });
      const merge = await expectUnchanged(small, id, () => limited.patch(id, { merge_patch: { more: 'y'.repeat(90) }, expected_version: 1 }));
      expect(merge.status).toBe(422);
      expect(merge.body.errors.merge_patch[0]).toMatch(/^The resulting state must not be larger than 200 bytes as JSON \(it is \d+\)\.$/);
      const json = await expectUnchanged(small, id, () =>
        limited.patch(id, { json_patch: [{ op: 'copy', from: '/text', path: '/again' }], expected_version: 1 }),
      );
      expect(json.status).toBe(422);
      expect(json.body.errors.json_patch[0]).toMatch(/^The resulting state must not be larger than 200 bytes as JSON/);
    });

    it('a result over the depth limit', async () => {
      const id = await createThread(small, smallUser, { state: { a: { b: { c: {} } } } });
      const res = await expectUnchanged(small, id, () =>
        limited.patch(id, { json_patch: [{ op: 'add', path: '/a/b/c/d', value: {} }], expected_version: 1 }),
      );
      expect422(res, { json_patch: ['The resulting state must not be nested deeper than 4 levels.'] });
      const merge = await expectUnchanged(small, id, () => limited.patch(id, { merge_patch: { a: { b: { c: { d: {} } } } }, expected_version: 1 }));
      expect(merge.status).toBe(422);
      expect(Object.keys(merge.body.errors)).toEqual(['merge_patch']);
    });

    it('a revert is never over the limits: the old state was within them', async () => {
      const id = await createThread(small, smallUser, { state: { a: 1 } });
      expect((await limited.patch(id, { merge_patch: { a: 2 }, expected_version: 1 })).status).toBe(200);
      expect((await limited.revert(id, { version: 1, expected_version: 2 })).body).toStrictEqual({ state: { a: 1 }, version: 3 });
    });
  });

  describe('hostile patches', () => {
    it('a JSON Patch that copies the root over and over (exponential growth) is a 422, quickly refused', async () => {
      const id = await createThread(app, user, { state: { seed: 'x'.repeat(100) } });
      const json_patch = Array.from({ length: 64 }, (_, i) => ({ op: 'copy', from: '', path: `/c${i}` }));
      const res = await expectUnchanged(app, id, () => api.patch(id, { json_patch, expected_version: 1 }));
      expect(res.status).toBe(422);
      expect(res.body.errors.json_patch[0]).toMatch(/^The resulting state must not be larger than/);
    });

    it('a JSON Patch of more than 1000 operations is a 422', async () => {
      const id = await createThread(app, user, { state: { a: 1 } });
      const json_patch = Array.from({ length: 1001 }, () => ({ op: 'test', path: '/a', value: 1 }));
      const res = await expectUnchanged(app, id, () => api.patch(id, { json_patch, expected_version: 1 }));
      expect422(res, { json_patch: ['The json patch field must not have more than 1000 operations.'] });
      const fits = await api.patch(id, { json_patch: json_patch.slice(1), expected_version: 1 });
      expect({ status: fits.status, body: fits.body }).toStrictEqual({ status: 200, body: { state: { a: 1 }, version: 1 } });
    });

    it('values nested too deep, in either patch, are a 422 (never a 500)', async () => {
      const id = await createThread(app, user, { state: { a: 1 } });
      const deepValue = JSON.parse(rawNested(200));
      const json = await expectUnchanged(app, id, () => api.patch(id, { json_patch: [{ op: 'add', path: '/deep', value: deepValue }], expected_version: 1 }));
      expect(json.status).toBe(422);
      expect(Object.keys(json.body.errors)).toEqual(['json_patch.0.value']);
      const merge = await expectUnchanged(app, id, () => api.patch(id, { merge_patch: deepValue, expected_version: 1 }));
      expect(merge.status).toBe(422);
      expect(Object.keys(merge.body.errors)).toEqual(['merge_patch']);
    });

    it('`__proto__` as an op member or a pointer token is data, not a prototype', async () => {
      const id = await createThread(app, user, { state: { a: 1 } });
      const json_patch = JSON.parse('[{"op":"add","path":"/__proto__","value":{"admin":true}},{"op":"test","path":"/__proto__/admin","value":true}]');
      const res = await api.patch(id, { json_patch, expected_version: 1 });
      expect(res.status).toBe(200);
      expect(Object.hasOwn(res.body.state, '__proto__')).toBe(true);
      expect(res.body.state.admin).toBeUndefined();
      const inherited = JSON.parse('[{"op":"test","path":"/toString","value":null}]');
      const missing = await expectUnchanged(app, id, () => api.patch(id, { json_patch: inherited, expected_version: 2 }));
      expect(missing.status).toBe(409);
    });
  });

  describe('404', () => {
    it('a revision that does not exist (and a revert to one)', async () => {
      const id = await createThread(app, user, { state: { a: 1 } });
      expectError(await api.revision(id, 2), 404, { message: 'The thread has no revision with this version.' });
      expectError(await api.revision(MISSING_ID, 1), 404, { message: 'Thread not found.' });
      const never = await createThread(app, user);
      expectError(await api.revision(never, 1), 404, { message: 'The thread has no revision with this version.' });
      expectError(await expectUnchanged(app, id, () => api.revert(id, { version: 5, expected_version: 1 })), 404, {
        message: 'The thread has no revision with this version.',
      });
    });

    it('a missing thread on every state operation', async () => {
      const missing = { message: 'Thread not found.' };
      expectError(await api.get(MISSING_ID), 404, missing);
      expectError(await api.revisions(MISSING_ID), 404, missing);
      expectError(await api.patch(MISSING_ID, { merge_patch: {}, expected_version: 0 }), 404, missing);
      expectError(await api.revert(MISSING_ID, { version: 1, expected_version: 0 }), 404, missing);
    });
  });

  describe('422: parameters', () => {
    it.each([
      ['a version that is not a number', 'abc'],
      ['version 0', 0],
    ])('%s', async (_label, version) => {
      const id = await createThread(app, user, { state: { a: 1 } });
      const res = await api.revision(id, version);
      expect(res.status).toBe(422);
      expect(Object.keys(res.body.errors)).toEqual(['version']);
    });

    it('after and before together, or a limit out of range', async () => {
      const id = await createThread(app, user, { state: { a: 1 } });
      const both = await api.revisions(id, { after: 3, before: 1 });
      expect422(both, { before: ['The before field must not be combined with after.'] });
      const limit = await api.revisions(id, { limit: 101 });
      expect(limit.status).toBe(422);
      expect(Object.keys(limit.body.errors)).toEqual(['limit']);
    });
  });
});

describe('REST: the raw patch media types, refused', () => {
  const send = (method: string, path: string, type: string, raw: string | Uint8Array, token = user.token) =>
    app.api(method, path, { token, raw, headers: { 'content-type': type, 'if-match': '*' } });

  it.each([
    ['POST', '/ai/threads', 'application/merge-patch+json'],
    ['PATCH', '/ai/threads/{id}', 'application/merge-patch+json'],
    ['PATCH', '/ai/threads/{id}', 'application/json-patch+json'],
    ['POST', '/ai/threads/{id}/state/revert', 'application/merge-patch+json'],
    ['POST', '/ai/threads/{id}/messages', 'application/json-patch+json'],
    ['POST', '/auth/sign-in', 'application/merge-patch+json'],
  ])('%s %s as %s: 415, nothing stored', async (method, path, type) => {
    const id = await createThread(app, user, { state: { a: 1 } });
    const res = await expectUnchanged(app, id, () => send(method, path.replace('{id}', String(id)), type, '{"title":"x","version":1}'));
    expectError({ status: res.status, body: res.body, etag: null }, 415, {
      message: `Only PATCH /ai/threads/{thread-id}/state takes ${type}; send the request body as application/json.`,
    });
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  });

  it('another charset is a 415 that asks for UTF-8; bytes that are not UTF-8 a 400; bad JSON a 400', async () => {
    const id = await createThread(app, user, { state: { a: 1 } });
    const path = `/ai/threads/${id}/state`;
    const latin1 = await expectUnchanged(app, id, () => send('PATCH', path, 'application/merge-patch+json; charset=latin1', '{"a":2}'));
    expect({ status: latin1.status, body: latin1.body }).toStrictEqual({ status: 415, body: { message: 'Send the request body as UTF-8 JSON.' } });
    const bytes = await expectUnchanged(app, id, () => send('PATCH', path, 'application/json-patch+json', Uint8Array.from([0x5b, 0x22, 0xff, 0x22, 0x5d])));
    expect({ status: bytes.status, body: bytes.body }).toStrictEqual({ status: 400, body: { message: 'The request body is not valid UTF-8.' } });
    const broken = await expectUnchanged(app, id, () => send('PATCH', path, 'application/merge-patch+json', '{"a":'));
    expect({ status: broken.status, body: broken.body }).toStrictEqual({ status: 400, body: { message: 'The request body is not valid JSON.' } });
  });

  it('the size limit applies: 413', async () => {
    const id = await createThread(app, user, { state: { a: 1 } });
    const huge = JSON.stringify({ a: 'x'.repeat(app.config.MAX_BODY_BYTES) });
    const res = await expectUnchanged(app, id, () => send('PATCH', `/ai/threads/${id}/state`, 'application/merge-patch+json', huge));
    expect(res.status).toBe(413);
    expect(Object.keys(res.body)).toEqual(['message']);
  });

  it('a body of the wrong JSON kind for its type is a 422 on the field it stands for', async () => {
    const id = await createThread(app, user, { state: { a: 1 } });
    const path = `/ai/threads/${id}/state`;
    const merge = await expectUnchanged(app, id, () => send('PATCH', path, 'application/merge-patch+json', '[{"op":"remove","path":"/a"}]'));
    expect422({ status: merge.status, body: merge.body, etag: null }, { merge_patch: ['The merge patch field must be a JSON object.'] });
    const json = await expectUnchanged(app, id, () => send('PATCH', path, 'application/json-patch+json', '{"a":2}'));
    expect(json.status).toBe(422);
    expect(Object.keys(json.body.errors)).toEqual(['json_patch']);
    const malformed = await expectUnchanged(app, id, () => send('PATCH', path, 'application/json-patch+json', '[{"op":"jump","path":"/a"}]'));
    expect422({ status: malformed.status, body: malformed.body, etag: null }, { 'json_patch.0.op': [OPS_MESSAGE] });
    const empty = await expectUnchanged(app, id, () => send('PATCH', path, 'application/merge-patch+json', ''));
    expect(empty.status).toBe(422);
  });

  it('a raw JSON Patch 10,000 levels deep is a 422, not a 500', async () => {
    const id = await createThread(app, user, { state: { a: 1 } });
    const deep = `[{"op":"add","path":"/d","value":${rawNested(10_000)}}]`;
    const res = await expectUnchanged(app, id, () => send('PATCH', `/ai/threads/${id}/state`, 'application/json-patch+json', deep));
    expect(res.status).toBe(422);
    expect(Object.keys(res.body.errors)).toEqual(['json_patch.0.value']);
  });
});
