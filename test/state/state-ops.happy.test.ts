// The state operations as a client uses them, on both faces: read the state and its version (the
// ETag on REST), patch it with a merge patch or a JSON Patch (every operation; pointers with ~0/~1),
// the raw patch media types of the REST face, a write that changes nothing, the revisions (newest
// first, both cursors, the full state of an old version) and revert.
import { describe, expect, it } from 'vitest';
import { harness } from '../support/harness.js';
import { ISO_UTC } from '../support/threads.js';
import { createThread, FACES, revisionRows, stateApi, storedState } from './support.js';

const { app, user } = await harness({ model: 'offline' });

describe.each(FACES)('%s', (face) => {
  const api = stateApi(app, face, user.token);
  /** The precondition of this face: If-Match on REST, expected_version on tRPC (both work on REST). */
  const at = (version: number) => (face === 'rest' ? { headers: { 'if-match': `"${version}"` } } : undefined);
  const expecting = (version: number) => (face === 'rest' ? {} : { expected_version: version });

  describe('GET .../state', () => {
    it('a thread without state: null at version 0 (ETag "0"), and no revision', async () => {
      const id = await createThread(app, user);
      const res = await api.get(id);
      expect({ status: res.status, body: res.body }).toStrictEqual({ status: 200, body: { state: null, version: 0 } });
      if (face === 'rest') expect(res.etag).toBe('"0"');
      expect(await revisionRows(app, id)).toEqual([]);
    });

    it('a thread created with a state: version 1, made by a `thread` revision', async () => {
      const state = { form: { color: 'red', sizes: [1, 2] } };
      const id = await createThread(app, user, { state });
      const res = await api.get(id);
      expect({ status: res.status, body: res.body }).toStrictEqual({ status: 200, body: { state, version: 1 } });
      if (face === 'rest') expect(res.etag).toBe('"1"');
      const thread = await app.api('GET', `/ai/threads/${id}`, { token: user.token });
      expect(thread.body).toMatchObject({ state, state_version: 1 });
      const [revision, ...more] = (await api.revisions(id)).body.data;
      expect(more).toEqual([]);
      expect(revision).toStrictEqual({
        version: 1,
        source: 'thread',
        message_id: null,
        patch: [{ op: 'replace', path: '', value: state }],
        created_at: expect.stringMatching(ISO_UTC),
      });
    });
  });

  describe('PATCH .../state', () => {
    it('a merge patch: sets, replaces and removes (null) keys; a `state` revision; version + 1 and its ETag', async () => {
      const id = await createThread(app, user, { state: { form: { color: 'red', size: 'M' }, keep: true } });
      const res = await api.patch(id, { merge_patch: { form: { color: 'blue', size: null }, added: [1] }, ...expecting(1) }, at(1));
      const state = { form: { color: 'blue' }, keep: true, added: [1] };
      expect({ status: res.status, body: res.body }).toStrictEqual({ status: 200, body: { state, version: 2 } });
      if (face === 'rest') expect(res.etag).toBe('"2"');
      expect(await storedState(app, id)).toStrictEqual({ state, version: 2 });
      const revision = (await api.revisions(id)).body.data[0];
      expect(revision).toMatchObject({ version: 2, source: 'state', message_id: null });
      expect((await api.revision(id, 2)).body.state).toStrictEqual(state);
    });

    it('a merge patch on a never-set state makes it (version 1)', async () => {
      const id = await createThread(app, user);
      const res = await api.patch(id, { merge_patch: { a: 1 }, ...expecting(0) }, at(0));
      expect(res.body).toStrictEqual({ state: { a: 1 }, version: 1 });
      expect((await revisionRows(app, id)).map((r) => r.source)).toEqual(['state']);
    });

    it('a JSON Patch with all six operations, applied in order', async () => {
      const id = await createThread(app, user, { state: { form: { color: 'red', tags: ['a', 'b'] }, old: 1 } });
      const json_patch = [
        { op: 'test', path: '/form/color', value: 'red' },
        { op: 'replace', path: '/form/color', value: 'blue' },
        { op: 'add', path: '/form/tags/-', value: 'c' },
        { op: 'add', path: '/form/tags/0', value: 'z' },
        { op: 'remove', path: '/form/tags/1' },
        { op: 'copy', from: '/form/color', path: '/copied' },
        { op: 'move', from: '/old', path: '/moved' },
      ];
      const res = await api.patch(id, { json_patch, ...expecting(1) }, at(1));
      const state = { form: { color: 'blue', tags: ['z', 'b', 'c'] }, copied: 'blue', moved: 1 };
      expect({ status: res.status, body: res.body }).toStrictEqual({ status: 200, body: { state, version: 2 } });
      expect(await storedState(app, id)).toStrictEqual({ state, version: 2 });
      // The revision's patch leads from version 1's state to version 2's.
      const revision = (await api.revision(id, 2)).body;
      expect(revision).toMatchObject({ version: 2, source: 'state', state });
      expect(revision.patch.length).toBeGreaterThan(0);
    });

    it('pointers with ~0 and ~1 name keys holding ~ and /', async () => {
      const id = await createThread(app, user, { state: { 'a/b': 1, 'm~n': 2 } });
      const json_patch = [
        { op: 'test', path: '/a~1b', value: 1 },
        { op: 'replace', path: '/m~0n', value: 3 },
        { op: 'add', path: '/x~1y~0z', value: true },
        { op: 'move', from: '/a~1b', path: '/c~0d' },
      ];
      const res = await api.patch(id, { json_patch, ...expecting(1) }, at(1));
      expect(res.body).toStrictEqual({ state: { 'm~n': 3, 'x/y~z': true, 'c~d': 1 }, version: 2 });
      const patch = (await api.revision(id, 2)).body.patch as Array<{ path: string }>;
      expect(patch.map((operation) => operation.path).sort()).toEqual(expect.arrayContaining(['/m~0n', '/x~1y~0z']));
    });

    it('a write that leaves the state equal makes no revision and keeps the version', async () => {
      const state = { form: { color: 'red' }, list: [1, { a: null }] };
      const id = await createThread(app, user, { state });
      const cases: Array<Record<string, unknown>> = [
        { merge_patch: { form: { color: 'red' } } },
        { merge_patch: {} },
        { merge_patch: { absent: null } },
        { json_patch: [] },
        { json_patch: [{ op: 'test', path: '/list/1/a', value: null }] },
        { json_patch: [{ op: 'replace', path: '/form', value: { color: 'red' } }] },
        { json_patch: [{ op: 'add', path: '/x', value: 1 }, { op: 'remove', path: '/x' }] },
      ];
      for (const body of cases) {
        const res = await api.patch(id, { ...body, ...expecting(1) }, at(1));
        expect({ status: res.status, body: res.body }, JSON.stringify(body)).toStrictEqual({ status: 200, body: { state, version: 1 } });
        if (face === 'rest') expect(res.etag).toBe('"1"');
      }
      expect((await revisionRows(app, id)).map((r) => r.version)).toEqual([1]);
      expect(await storedState(app, id)).toStrictEqual({ state, version: 1 });
    });

    it('keeps `__proto__` and `constructor` keys as data', async () => {
      const id = await createThread(app, user);
      const merge = JSON.parse('{"__proto__": {"polluted": true}, "constructor": {"prototype": 1}}');
      const res = await api.patch(id, { merge_patch: merge, ...expecting(0) }, at(0));
      expect(res.status).toBe(200);
      expect(Object.keys(res.body.state).sort()).toEqual(['__proto__', 'constructor']);
      const json_patch = [{ op: 'add', path: '/__proto__/x', value: 1 }, { op: 'copy', from: '/__proto__', path: '/copy' }];
      const next = await api.patch(id, { json_patch, ...expecting(1) }, at(1));
      expect(next.status).toBe(200);
      const stored = (await api.get(id)).body.state;
      expect(Object.hasOwn(stored, '__proto__')).toBe(true);
      expect(Object.entries(stored).sort(([a], [b]) => a.localeCompare(b))).toStrictEqual([
        ['__proto__', { polluted: true, x: 1 }],
        ['constructor', { prototype: 1 }],
        ['copy', { polluted: true, x: 1 }],
      ]);
      expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    });
  });

  describe('revisions', () => {
    /** A thread at version 1 + `changes`, each change setting n. */
    async function threadWithVersions(changes: number) {
      const id = await createThread(app, user, { state: { n: 0 } });
      for (let n = 1; n <= changes; n++) {
        const res = await api.patch(id, { merge_patch: { n }, ...expecting(n) }, at(n));
        expect(res.body.version).toBe(n + 1);
      }
      return id;
    }

    it('list newest first; next_cursor continues with older ones, before gives newer ones', async () => {
      const id = await threadWithVersions(4);
      const all = await api.revisions(id);
      expect(all.status).toBe(200);
      expect(all.body.data.map((r: { version: number }) => r.version)).toEqual([5, 4, 3, 2, 1]);
      expect(all.body).toMatchObject({ has_more: false, next_cursor: null });
      expect(all.body.data.map((r: { source: string }) => r.source)).toEqual(['state', 'state', 'state', 'state', 'thread']);

      const first = await api.revisions(id, { limit: 2 });
      expect(first.body.data.map((r: { version: number }) => r.version)).toEqual([5, 4]);
      expect(first.body).toMatchObject({ has_more: true, next_cursor: 4 });
      const second = await api.revisions(id, { limit: 2, after: first.body.next_cursor });
      expect(second.body.data.map((r: { version: number }) => r.version)).toEqual([3, 2]);
      expect(second.body).toMatchObject({ has_more: true, next_cursor: 2 });
      const last = await api.revisions(id, { limit: 2, after: second.body.next_cursor });
      expect(last.body.data.map((r: { version: number }) => r.version)).toEqual([1]);
      expect(last.body).toMatchObject({ has_more: false, next_cursor: null });

      const newer = await api.revisions(id, { before: 2 });
      expect(newer.body.data.map((r: { version: number }) => r.version)).toEqual([5, 4, 3]);
      const closest = await api.revisions(id, { before: 2, limit: 2 });
      expect(closest.body.data.map((r: { version: number }) => r.version)).toEqual([4, 3]);
    });

    it("a revision carries its version's whole state, as it was then", async () => {
      const id = await threadWithVersions(3);
      for (let version = 1; version <= 4; version++) {
        const res = await api.revision(id, version);
        expect(res.status).toBe(200);
        expect(res.body).toStrictEqual({
          version,
          source: version === 1 ? 'thread' : 'state',
          message_id: null,
          patch: version === 1 ? [{ op: 'replace', path: '', value: { n: 0 } }] : [{ op: 'replace', path: '/n', value: version - 1 }],
          created_at: expect.stringMatching(ISO_UTC),
          state: { n: version - 1 },
        });
      }
    });
  });

  describe('POST .../state/revert', () => {
    it('makes the old state current again as a new `revert` revision', async () => {
      const id = await createThread(app, user, { state: { a: 1 } });
      await api.patch(id, { merge_patch: { a: 2, b: true }, ...expecting(1) }, at(1));
      const res = await api.revert(id, { version: 1, ...expecting(2) }, at(2));
      expect({ status: res.status, body: res.body }).toStrictEqual({ status: 200, body: { state: { a: 1 }, version: 3 } });
      if (face === 'rest') expect(res.etag).toBe('"3"');
      expect((await revisionRows(app, id)).map((r) => [r.version, r.source])).toEqual([
        [1, 'thread'],
        [2, 'state'],
        [3, 'revert'],
      ]);
      expect((await api.revision(id, 3)).body).toMatchObject({ source: 'revert', message_id: null, state: { a: 1 } });
      // History is kept: version 2 still reads as it was.
      expect((await api.revision(id, 2)).body.state).toStrictEqual({ a: 2, b: true });
    });

    it('to a state equal to the current one: 200 with the current version, no revision', async () => {
      const id = await createThread(app, user, { state: { a: 1 } });
      await api.patch(id, { merge_patch: { a: 2 }, ...expecting(1) }, at(1));
      await api.patch(id, { merge_patch: { a: 1 }, ...expecting(2) }, at(2));
      const res = await api.revert(id, { version: 1, ...expecting(3) }, at(3));
      expect({ status: res.status, body: res.body }).toStrictEqual({ status: 200, body: { state: { a: 1 }, version: 3 } });
      if (face === 'rest') expect(res.etag).toBe('"3"');
      expect((await revisionRows(app, id)).length).toBe(3);
    });
  });
});

describe('REST: the raw patch media types', () => {
  const api = stateApi(app, 'rest', user.token);
  const raw = (id: number, type: string, body: string, version: number) =>
    app.api('PATCH', `/ai/threads/${id}/state`, { token: user.token, raw: body, headers: { 'content-type': type, 'if-match': `"${version}"` } });

  it('application/merge-patch+json: the body is the merge patch', async () => {
    const id = await createThread(app, user, { state: { form: { color: 'red', size: 'M' } } });
    const res = await raw(id, 'application/merge-patch+json', JSON.stringify({ form: { color: 'blue', size: null } }), 1);
    expect({ status: res.status, body: res.body }).toStrictEqual({ status: 200, body: { state: { form: { color: 'blue' } }, version: 2 } });
    expect(res.headers.get('etag')).toBe('"2"');
    expect(await storedState(app, id)).toStrictEqual({ state: { form: { color: 'blue' } }, version: 2 });
  });

  it('application/json-patch+json: the body is the JSON Patch array', async () => {
    const id = await createThread(app, user, { state: { list: [1] } });
    const patch = [
      { op: 'test', path: '/list/0', value: 1 },
      { op: 'add', path: '/list/-', value: 2 },
    ];
    const res = await raw(id, 'application/json-patch+json; charset=utf-8', JSON.stringify(patch), 1);
    expect({ status: res.status, body: res.body }).toStrictEqual({ status: 200, body: { state: { list: [1, 2] }, version: 2 } });
    expect((await api.revision(id, 2)).body).toMatchObject({ source: 'state', state: { list: [1, 2] } });
  });

  it('a raw merge patch whose keys look like the JSON body’s fields is still only a patch', async () => {
    const id = await createThread(app, user, { state: { a: 1 } });
    const body = { expected_version: 99, json_patch: [{ op: 'remove', path: '/a' }], merge_patch: { a: 2 } };
    const res = await raw(id, 'APPLICATION/MERGE-PATCH+JSON', JSON.stringify(body), 1);
    expect(res.status, res.text).toBe(200);
    expect(res.body).toStrictEqual({ state: { a: 1, ...body }, version: 2 });
  });
});
