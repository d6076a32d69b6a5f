// Preconditions on the state writes (RFC 9110 section 13): without one a 428, with a stale one a 412
// `{message, current_version}` with the current ETag, and nothing stored either way. If-Match on
// REST (`*`, lists, weak tags, garbage), `expected_version` on both faces and the two together; the
// order of the checks (422, 428, 404, 412, 409); and two writers of one version: exactly one wins.
import { describe, expect, it } from 'vitest';
import { harness } from '../support/harness.js';
import { MISSING_ID } from '../support/threads.js';
import { createThread, expect422, expectError, expectUnchanged, FACES, REQUIRED, revisionRows, stateApi, storedState } from './support.js';

const { app, user } = await harness({ model: 'offline' });

const stale = (current: number) => ({
  message: `The state has changed: it is at version ${current}. Read it again (GET .../state) and retry with its version.`,
  current_version: current,
});

/** A thread at version 2: created with {a: 1}, then patched to {a: 2}. */
async function threadAtVersion2() {
  const id = await createThread(app, user, { state: { a: 1 } });
  const res = await stateApi(app, 'rest', user.token).patch(id, { merge_patch: { a: 2 }, expected_version: 1 });
  expect(res.body).toStrictEqual({ state: { a: 2 }, version: 2 });
  return id;
}

describe.each(FACES)('%s', (face) => {
  const api = stateApi(app, face, user.token);

  it('428 without a precondition, on patch and revert, with the exact message; nothing stored', async () => {
    const id = await threadAtVersion2();
    expectError(await expectUnchanged(app, id, () => api.patch(id, { merge_patch: { a: 3 } })), 428, REQUIRED);
    expectError(await expectUnchanged(app, id, () => api.revert(id, { version: 1 })), 428, REQUIRED);
  });

  it('412 for a stale expected_version: the current version in the body (and the ETag); nothing stored', async () => {
    const id = await threadAtVersion2();
    const patched = await expectUnchanged(app, id, () => api.patch(id, { merge_patch: { a: 3 }, expected_version: 1 }));
    expectError(patched, 412, stale(2));
    const reverted = await expectUnchanged(app, id, () => api.revert(id, { version: 1, expected_version: 3 }));
    expectError(reverted, 412, stale(2));
    if (face === 'rest') {
      expect(patched.etag).toBe('"2"');
      expect(reverted.etag).toBe('"2"');
    }
    expect(await storedState(app, id)).toStrictEqual({ state: { a: 2 }, version: 2 });
  });

  it('expected_version 0 is the never-set state', async () => {
    const id = await createThread(app, user);
    expect((await api.patch(id, { merge_patch: { a: 1 }, expected_version: 0 })).body).toStrictEqual({ state: { a: 1 }, version: 1 });
    expectError(await expectUnchanged(app, id, () => api.patch(id, { merge_patch: { a: 2 }, expected_version: 0 })), 412, stale(1));
  });

  it('two writers of one version at once: exactly one 200, the other 412; one revision', async () => {
    const id = await createThread(app, user, { state: { n: 0 } });
    const [first, second] = await Promise.all([
      api.patch(id, { merge_patch: { n: 1, by: 'first' }, expected_version: 1 }),
      api.patch(id, { json_patch: [{ op: 'replace', path: '/n', value: 2 }], expected_version: 1 }),
    ]);
    const statuses = [first.status, second.status].sort();
    expect(statuses, JSON.stringify([first.body, second.body])).toEqual([200, 412]);
    const winner = first.status === 200 ? first : second;
    const loser = first.status === 200 ? second : first;
    expect(winner.body.version).toBe(2);
    expectError(loser, 412, stale(2));
    expect(await storedState(app, id)).toStrictEqual(winner.body);
    expect((await revisionRows(app, id)).map((r) => r.version)).toEqual([1, 2]);
  });

  it('two reverts of one version at once: one 200, one 412', async () => {
    const id = await threadAtVersion2();
    const results = await Promise.all([api.revert(id, { version: 1, expected_version: 2 }), api.revert(id, { version: 1, expected_version: 2 })]);
    expect(results.map((r) => r.status).sort()).toEqual([200, 412]);
    expect((await revisionRows(app, id)).map((r) => r.source)).toEqual(['thread', 'state', 'revert']);
  });

  describe('the order of the checks', () => {
    it('422 (a malformed patch, an invalid field) comes before 428', async () => {
      const id = await threadAtVersion2();
      const malformed = await expectUnchanged(app, id, () => api.patch(id, { json_patch: [{ op: 'jump', path: '/a' }] }));
      expect422(malformed, { 'json_patch.0.op': ['The json_patch.0.op field must be one of add, remove, replace, move, copy, test.'] });
      const badVersion = await expectUnchanged(app, id, () => api.revert(id, { version: 0 }));
      expect(badVersion.status).toBe(422);
      expect(Object.keys(badVersion.body.errors)).toEqual(['version']);
    });

    it('428 comes before 404', async () => {
      expectError(await api.patch(MISSING_ID, { merge_patch: { a: 1 } }), 428, REQUIRED);
      expectError(await api.revert(MISSING_ID, { version: 1 }), 428, REQUIRED);
    });

    it('404 (the thread, the revision to revert to) comes before 412', async () => {
      const id = await threadAtVersion2();
      expectError(await api.patch(MISSING_ID, { merge_patch: { a: 1 }, expected_version: 99 }), 404, { message: 'Thread not found.' });
      const missing = await expectUnchanged(app, id, () => api.revert(id, { version: 9, expected_version: 99 }));
      expectError(missing, 404, { message: 'The thread has no revision with this version.' });
    });

    it('412 comes before 409 (a patch that would not apply to the current state)', async () => {
      const id = await threadAtVersion2();
      const res = await expectUnchanged(app, id, () => api.patch(id, { json_patch: [{ op: 'test', path: '/a', value: 1 }], expected_version: 1 }));
      expectError(res, 412, stale(2));
    });
  });
});

describe('REST: If-Match', () => {
  const api = stateApi(app, 'rest', user.token);
  const ifMatch = (value: string) => ({ headers: { 'if-match': value } });

  it('"<version>" as the ETag sends it; a stale one is a 412 with the current ETag', async () => {
    const id = await threadAtVersion2();
    const current = (await api.get(id)).etag!;
    const ok = await api.patch(id, { merge_patch: { a: 3 } }, ifMatch(current));
    expect({ status: ok.status, body: ok.body, etag: ok.etag }).toStrictEqual({ status: 200, body: { state: { a: 3 }, version: 3 }, etag: '"3"' });
    const refused = await expectUnchanged(app, id, () => api.patch(id, { merge_patch: { a: 4 } }, ifMatch(current)));
    expectError(refused, 412, stale(3));
    expect(refused.etag).toBe('"3"');
    expect(refused.rest!.headers.get('content-type')).toMatch(/^application\/json/);
  });

  it('* matches any version, on patch and revert', async () => {
    const id = await threadAtVersion2();
    expect((await api.patch(id, { merge_patch: { b: 1 } }, ifMatch('*'))).body).toStrictEqual({ state: { a: 2, b: 1 }, version: 3 });
    expect((await api.revert(id, { version: 1 }, ifMatch(' * '))).body).toStrictEqual({ state: { a: 1 }, version: 4 });
  });

  it('* with two writers at once: both apply, one after the other', async () => {
    const id = await createThread(app, user, { state: { list: [] } });
    const add = (value: string) => api.patch(id, { json_patch: [{ op: 'add', path: '/list/-', value }] }, ifMatch('*'));
    const results = await Promise.all([add('x'), add('y')]);
    expect(results.map((r) => r.status)).toEqual([200, 200]);
    expect(results.map((r) => r.body.version).sort()).toEqual([2, 3]);
    expect((await api.get(id)).body.state.list.sort()).toEqual(['x', 'y']);
  });

  it('a list of ETags matches any of them', async () => {
    const id = await threadAtVersion2();
    const res = await api.patch(id, { merge_patch: { a: 3 } }, ifMatch('"1", "2"'));
    expect(res.body).toStrictEqual({ state: { a: 3 }, version: 3 });
    const refused = await expectUnchanged(app, id, () => api.patch(id, { merge_patch: { a: 4 } }, ifMatch('"1","2"')));
    expectError(refused, 412, stale(3));
  });

  it.each([
    ['a weak tag (If-Match compares strongly)', 'W/"2"'],
    ['a strong tag that names no version', '"abc"'],
    ['a version with a sign', '"+2"'],
    ['a version with leading zeros', '"02"'],
  ])('%s matches nothing: 412', async (_label, value) => {
    const id = await threadAtVersion2();
    expectError(await expectUnchanged(app, id, () => api.patch(id, { merge_patch: { a: 3 } }, ifMatch(value))), 412, stale(2));
  });

  it.each([
    ['a bare number', '2'],
    ['an unclosed quote', '"2'],
    ['text', 'latest'],
    ['an empty value', ''],
    ['a star in a list', '*, "2"'],
    ['a very long list', Array.from({ length: 300 }, (_, i) => `"${i}"`).join(', ')],
  ])('%s is a 422 on if_match', async (_label, value) => {
    const id = await threadAtVersion2();
    const res = await expectUnchanged(app, id, () => api.patch(id, { merge_patch: { a: 3 } }, ifMatch(value)));
    expect422(res, { if_match: ['The If-Match header must be the state\'s ETag (such as "3") or *.'] });
  });

  it('expected_version that disagrees with If-Match is a 422 on expected_version; agreeing, or with *, it is used', async () => {
    const id = await threadAtVersion2();
    const disagree = await expectUnchanged(app, id, () => api.patch(id, { merge_patch: { a: 3 }, expected_version: 1 }, ifMatch('"2"')));
    expect422(disagree, { expected_version: ['The expected version field must match the If-Match header.'] });
    const list = await expectUnchanged(app, id, () => api.revert(id, { version: 1, expected_version: 2 }, ifMatch('"1", "2"')));
    expect422(list, { expected_version: ['The expected version field must match the If-Match header.'] });
    const agree = await api.patch(id, { merge_patch: { a: 3 }, expected_version: 2 }, ifMatch('"2"'));
    expect(agree.body).toStrictEqual({ state: { a: 3 }, version: 3 });
    // With *, the body's version is the stricter precondition, and it is stale here.
    expectError(await expectUnchanged(app, id, () => api.patch(id, { merge_patch: { a: 4 }, expected_version: 2 }, ifMatch('*'))), 412, stale(3));
  });

  it('the raw patch types take their precondition from If-Match alone', async () => {
    const id = await threadAtVersion2();
    const send = (headers: Record<string, string>) =>
      app.api('PATCH', `/ai/threads/${id}/state`, {
        token: user.token,
        raw: JSON.stringify({ a: 3 }),
        headers: { 'content-type': 'application/merge-patch+json', ...headers },
      });
    const unconditional = await expectUnchanged(app, id, () => send({}));
    expect({ status: unconditional.status, body: unconditional.body }).toStrictEqual({ status: 428, body: REQUIRED });
    const staleRes = await expectUnchanged(app, id, () => send({ 'if-match': '"1"' }));
    expect({ status: staleRes.status, body: staleRes.body }).toStrictEqual({ status: 412, body: stale(2) });
    expect(staleRes.headers.get('etag')).toBe('"2"');
    expect((await send({ 'if-match': '"2"' })).body).toStrictEqual({ state: { a: 3 }, version: 3 });
  });
});

describe('tRPC: the precondition is expected_version', () => {
  it('an If-Match header on a tRPC call is the transport’s, not a precondition: 428', async () => {
    const id = await threadAtVersion2();
    const api = stateApi(app, 'trpc', user.token);
    const res = await expectUnchanged(app, id, () => api.patch(id, { merge_patch: { a: 3 } }, { headers: { 'if-match': '"2"' } }));
    expectError(res, 428, REQUIRED);
  });
});
