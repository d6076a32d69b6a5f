// Review mode (SPEC.md part 2, "Review"): the AI's change is a pending proposal on the reply; a
// person accepts it (whole or by JSON Pointer paths) or rejects it; a newer proposal supersedes
// the older; accept and reject are race-safe (two at once: one wins, the other 409 or 412).
import { describe, expect, it } from 'vitest';
import { harness } from '../support/harness.js';
import { createApiToken, expectNothingStored, expectRestError, expectTrpcError, trpc, VIEWER_PERMISSIONS } from '../support/helpers.js';
import { openStream } from '../support/sse.js';
import { applyJsonPatch } from '../../server/src/state/json-patch.js';

const tool = (patch: object) => ({ type: 'tool_calls' as const, calls: [{ name: 'update_state', arguments: { patch } }] });

describe('review mode', async () => {
  const { app, fake, user, startApp } = await harness();
  const auth = { token: user.token };

  async function reviewThread(state: object = { form: { color: 'red', size: 1, name: 'x' } }) {
    const res = await app.api('POST', '/ai/threads', { ...auth, body: { state, state_review: 'review' } });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ state_review: 'review', state_version: 1 });
    return res.body.id as number;
  }

  async function propose(id: number, patch: object = { form: { color: 'blue', size: 2 } }) {
    fake.script(tool(patch), { type: 'text', content: 'Proposed.' });
    const res = await app.api('POST', `/ai/threads/${id}/messages`, { ...auth, body: { content: 'change it' } });
    expect(res.status).toBe(201);
    return res.body.responseMessage as Record<string, any>;
  }

  const state = async (id: number) => (await app.api('GET', `/ai/threads/${id}/state`, auth)).body;
  const accept = (id: number, messageId: number, body: object, headers: Record<string, string> = {}) =>
    app.api('POST', `/ai/threads/${id}/messages/${messageId}/proposal/accept`, { ...auth, headers, body });

  it('the reply carries a pending proposal; the state stays', async () => {
    const id = await reviewThread();
    const reply = await propose(id);
    expect(reply).toMatchObject({
      updated_state: { form: { color: 'red', size: 1, name: 'x' } },
      state_version: 1,
      state_patch: [],
      proposal: { status: 'pending', proposed_state: { form: { color: 'blue', size: 2, name: 'x' } } },
    });
    // Object keys come back from the database in its order (jsonb's), so the operations' order may vary.
    expect(reply.proposal.patch).toHaveLength(2);
    expect(reply.proposal.patch).toEqual(
      expect.arrayContaining([
        { op: 'replace', path: '/form/color', value: 'blue' },
        { op: 'replace', path: '/form/size', value: 2 },
      ]),
    );
    expect(await state(id)).toEqual({ state: { form: { color: 'red', size: 1, name: 'x' } }, version: 1 });
    const listed = await app.api('GET', `/ai/threads/${id}/messages/${reply.id}`, auth);
    expect(listed.body.proposal.status).toBe('pending');
  });

  it('accept all: a `proposal` revision, the message accepted, ETag on REST', async () => {
    const id = await reviewThread();
    const reply = await propose(id);
    const res = await accept(id, reply.id, {}, { 'if-match': '"1"' });
    expect(res.status).toBe(200);
    expect(res.headers.get('etag')).toBe('"2"');
    expect(res.body).toMatchObject({
      state: { form: { color: 'blue', size: 2, name: 'x' } },
      version: 2,
      message: { id: reply.id, proposal: { status: 'accepted' } },
    });
    const revisions = await app.api('GET', `/ai/threads/${id}/state/revisions`, auth);
    expect(revisions.body.data[0]).toMatchObject({ version: 2, source: 'proposal', message_id: reply.id, patch: reply.proposal.patch });
  });

  it('accept by paths applies only the operations at or under them', async () => {
    const id = await reviewThread();
    const reply = await propose(id);
    const res = await accept(id, reply.id, { paths: ['/form/size'], expected_version: 1 });
    expect(res.status).toBe(200);
    expect(res.body.state).toEqual({ form: { color: 'red', size: 2, name: 'x' } });
    const again = await accept(id, reply.id, { expected_version: 2 });
    expectRestError(again, 409, { message: 'The proposal is accepted, not pending.' });
  });

  it('paths that match no operation are a 422; a malformed pointer too', async () => {
    const id = await reviewThread();
    const reply = await propose(id);
    const none = await expectNothingStored(app, () => accept(id, reply.id, { paths: ['/other'], expected_version: 1 }));
    expectRestError(none, 422, {
      message: 'The paths field must name at least one path the proposal changes.',
      errors: { paths: ['The paths field must name at least one path the proposal changes.'] },
    });
    const bad = await accept(id, reply.id, { paths: ['form'], expected_version: 1 });
    expect(bad.status).toBe(422);
    expect(Object.keys(bad.body.errors)).toEqual(['paths.0']);
  });

  it('reject leaves the state; accept or reject afterwards is a 409', async () => {
    const id = await reviewThread();
    const reply = await propose(id);
    const res = await app.api('POST', `/ai/threads/${id}/messages/${reply.id}/proposal/reject`, auth);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: reply.id, proposal: { status: 'rejected' } });
    expect(await state(id)).toEqual({ state: { form: { color: 'red', size: 1, name: 'x' } }, version: 1 });
    expectRestError(await accept(id, reply.id, { expected_version: 1 }), 409, { message: 'The proposal is rejected, not pending.' });
    const again = await app.api('POST', `/ai/threads/${id}/messages/${reply.id}/proposal/reject`, auth);
    expectRestError(again, 409, { message: 'The proposal is rejected, not pending.' });
  });

  it('a newer proposal supersedes the older pending one', async () => {
    const id = await reviewThread();
    const first = await propose(id, { form: { color: 'blue' } });
    const second = await propose(id, { form: { color: 'green' } });
    const older = await app.api('GET', `/ai/threads/${id}/messages/${first.id}`, auth);
    expect(older.body.proposal.status).toBe('superseded');
    expect(second.proposal.status).toBe('pending');
    expectRestError(await accept(id, first.id, { expected_version: 1 }), 409, { message: 'The proposal is superseded, not pending.' });
    expect((await accept(id, second.id, { expected_version: 1 })).status).toBe(200);
  });

  it('428 without a precondition; 412 with a stale one; nothing stored', async () => {
    const id = await reviewThread();
    const reply = await propose(id);
    const missing = await expectNothingStored(app, () => accept(id, reply.id, {}));
    expectRestError(missing, 428, { message: "This request must be conditional: send If-Match with the state's ETag." });
    const stale = await expectNothingStored(app, () => accept(id, reply.id, { expected_version: 0 }));
    expect(stale.status).toBe(412);
    expect(stale.body.current_version).toBe(1);
    expect(stale.headers.get('etag')).toBe('"1"');
    expect((await app.api('GET', `/ai/threads/${id}/messages/${reply.id}`, auth)).body.proposal.status).toBe('pending');
  });

  it('a proposal that no longer applies to the current state is a 409', async () => {
    const id = await reviewThread();
    const reply = await propose(id);
    const edit = await app.api('PATCH', `/ai/threads/${id}/state`, {
      ...auth,
      headers: { 'if-match': '"1"' },
      body: { json_patch: [{ op: 'remove', path: '/form' }] },
    });
    expect(edit.status).toBe(200);
    const res = await expectNothingStored(app, () => accept(id, reply.id, { expected_version: 2 }));
    expect(res.status).toBe(409);
    expect(res.body.message).toMatch(
      /^The proposal no longer applies to the current state: operation 0 \(replace \/form\/(color|size)\) failed: the path \/form\/(color|size) does not exist\.$/,
    );
  });

  it('404 for a message without a proposal, a missing message, another user\'s thread', async () => {
    const id = await reviewThread();
    fake.script({ type: 'text', content: 'No change.' });
    const plain = await app.api('POST', `/ai/threads/${id}/messages`, { ...auth, body: { content: 'hi' } });
    expect(plain.body.responseMessage.proposal).toBeNull();
    expectRestError(await accept(id, plain.body.responseMessage.id, { expected_version: 1 }), 404, { message: 'The message has no proposal.' });
    expectRestError(await accept(id, 999_999, { expected_version: 1 }), 404, { message: 'Message not found.' });
    const reply = await propose(id);
    const other = await app.signUp();
    const res = await app.api('POST', `/ai/threads/${id}/messages/${reply.id}/proposal/accept`, {
      token: other.token,
      body: { expected_version: 1 },
    });
    expectRestError(res, 404, { message: 'Thread not found.' });
    const rejected = await app.api('POST', `/ai/threads/${id}/messages/${reply.id}/proposal/reject`, { token: other.token });
    expectRestError(rejected, 404, { message: 'Thread not found.' });
  });

  it('two accepts at once: one wins, the other is a 409 or 412, one revision', async () => {
    const id = await reviewThread();
    const reply = await propose(id);
    const results = await Promise.all([accept(id, reply.id, { expected_version: 1 }), accept(id, reply.id, { expected_version: 1 })]);
    const statuses = results.map((res) => res.status).sort();
    expect(statuses[0]).toBe(200);
    expect([409, 412]).toContain(statuses[1]);
    const revisions = await app.api('GET', `/ai/threads/${id}/state/revisions`, auth);
    expect(revisions.body.data.map((r: { source: string }) => r.source)).toEqual(['proposal', 'thread']);
  });

  it('two instances on one database: accepts at once on each, one wins', async () => {
    const second = await startApp({ shareDatabaseOf: app });
    const id = await reviewThread();
    const reply = await propose(id);
    const path = `/ai/threads/${id}/messages/${reply.id}/proposal/accept`;
    const results = await Promise.all([
      app.api('POST', path, { ...auth, body: { expected_version: 1 } }),
      second.api('POST', path, { ...auth, body: { expected_version: 1 } }),
      app.api('POST', path, { ...auth, body: { expected_version: 1 } }),
      second.api('POST', path, { ...auth, body: { expected_version: 1 } }),
    ]);
    const statuses = results.map((res) => res.status).sort();
    expect(statuses[0]).toBe(200);
    for (const status of statuses.slice(1)) expect([409, 412]).toContain(status);
    expect((await state(id)).version).toBe(2);
  });

  it('accept and reject race: exactly one of them takes the proposal', async () => {
    const id = await reviewThread();
    const reply = await propose(id);
    const [accepted, rejected] = await Promise.all([
      accept(id, reply.id, { expected_version: 1 }),
      app.api('POST', `/ai/threads/${id}/messages/${reply.id}/proposal/reject`, auth),
    ]);
    expect([accepted.status, rejected.status].filter((status) => status === 200)).toHaveLength(1);
    const final = (await app.api('GET', `/ai/threads/${id}/messages/${reply.id}`, auth)).body.proposal.status;
    expect(final).toBe(accepted.status === 200 ? 'accepted' : 'rejected');
    expect((await state(id)).version).toBe(accepted.status === 200 ? 2 : 1);
  });

  it('the tRPC face: accept and reject, with the same errors', async () => {
    const id = await reviewThread();
    const reply = await propose(id);
    const missing = await trpc(app, 'mutation', 'messages.proposal.accept', { threadId: id, messageId: reply.id }, auth);
    expectTrpcError(missing, 428, "This request must be conditional: send If-Match with the state's ETag.");
    const res = await trpc(app, 'mutation', 'messages.proposal.accept', { threadId: id, messageId: reply.id, expected_version: 1 }, auth);
    expect(res.status).toBe(200);
    expect(res.body.result.data).toMatchObject({ version: 2, message: { proposal: { status: 'accepted' } } });
    const next = await propose(id, { form: { color: 'green' } });
    const rejected = await trpc(app, 'mutation', 'messages.proposal.reject', { threadId: id, messageId: next.id }, auth);
    expect(rejected.body.result.data.proposal.status).toBe('rejected');
    const again = await trpc(app, 'mutation', 'messages.proposal.reject', { threadId: id, messageId: next.id }, auth);
    expectTrpcError(again, 409, 'The proposal is rejected, not pending.');
  });

  it('permissions: a viewer token cannot accept or reject (403)', async () => {
    const id = await reviewThread();
    const reply = await propose(id);
    const viewer = await createApiToken(app, user.token, { permissions: VIEWER_PERMISSIONS });
    const res = await app.api('POST', `/ai/threads/${id}/messages/${reply.id}/proposal/accept`, {
      token: viewer.token,
      body: { expected_version: 1 },
    });
    expectRestError(res, 403, { message: 'This action is unauthorized.' });
    const rejected = await app.api('POST', `/ai/threads/${id}/messages/${reply.id}/proposal/reject`, { token: viewer.token });
    expectRestError(rejected, 403, { message: 'This action is unauthorized.' });
  });

  it('the stream: state.delta events are proposed; applied in order they give proposed_state', async () => {
    const id = await reviewThread({ form: { color: 'red' } });
    fake.script(tool({ form: { color: 'blue' } }), tool({ form: { size: 3 } }), { type: 'text', content: 'Proposed.' });
    const events = await (await openStream(app, id, { token: user.token, body: { content: 'go' } })).all();
    const deltas = events.filter((event) => event.event === 'state.delta');
    expect(deltas.map((event) => event.data.proposed)).toEqual([true, true]);
    let proposed: unknown = { form: { color: 'red' } };
    for (const event of deltas) proposed = applyJsonPatch(proposed, event.data.patch);
    const reply = events.find((event) => event.event === 'response.completed')!.data.responseMessage;
    expect(proposed).toEqual(reply.proposal.proposed_state);
    expect(reply).toMatchObject({ state_version: 1, state_patch: [], updated_state: { form: { color: 'red' } } });
  });

  it('versions beyond the largest one are refused or never match: never a server error', async () => {
    const id = await reviewThread();
    const revision = await app.api('GET', `/ai/threads/${id}/state/revisions/3000000000`, auth);
    expect(revision.status).toBe(422);
    expect(Object.keys(revision.body.errors)).toEqual(['version']);
    const list = await app.api('GET', `/ai/threads/${id}/state/revisions?after=3000000000`, auth);
    expect(list.status).toBe(422);
    const revert = await app.api('POST', `/ai/threads/${id}/state/revert`, { ...auth, body: { version: 3000000000, expected_version: 1 } });
    expect(revert.status).toBe(422);
    const seed = await expectNothingStored(app, () =>
      app.api('POST', `/ai/threads/${id}/messages`, { ...auth, headers: { 'if-match': '"3000000000"' }, body: { content: 'hi' } }),
    );
    expect(seed.status).toBe(412);
    const body = await app.api('POST', `/ai/threads/${id}/messages`, { ...auth, body: { content: 'hi', expected_state_version: 3000000000 } });
    expect(body.status).toBe(422);
    expect(Object.keys(body.body.errors)).toEqual(['expected_state_version']);
  });

  it('review mode can be switched on and off with PATCH of the thread', async () => {
    const created = await app.api('POST', '/ai/threads', { ...auth, body: { state: { a: 1 } } });
    expect(created.body.state_review).toBe('auto');
    const updated = await app.api('PATCH', `/ai/threads/${created.body.id}`, { ...auth, body: { state_review: 'review' } });
    expect(updated.body.state_review).toBe('review');
    const reply = await propose(created.body.id, { a: 2 });
    expect(reply.proposal).toMatchObject({ status: 'pending', proposed_state: { a: 2 } });
    const bad = await app.api('PATCH', `/ai/threads/${created.body.id}`, { ...auth, body: { state_review: 'manual' } });
    expect(bad.status).toBe(422);
    expect(Object.keys(bad.body.errors)).toEqual(['state_review']);
  });
});
