// The seed endpoint and versioned state (SPEC.md part 2): the `message` and `ai` revisions, the
// reply's state_version and state_patch, the optional precondition (If-Match or
// expected_state_version: 412 after 404, before the busy 409, nothing stored, no AI call), the
// `state.delta` stream events, and an edit made while the AI answers (its change goes on top).
import { describe, expect, it } from 'vitest';
import { harness } from '../support/harness.js';
import { expectNothingStored, expectRestError, expectTrpcError, trpc } from '../support/helpers.js';
import { openStream, refusedStream } from '../support/sse.js';
import { applyJsonPatch } from '../../server/src/state/json-patch.js';

const tool = (patch: object) => ({ type: 'tool_calls' as const, calls: [{ name: 'update_state', arguments: { patch } }] });

describe('the seed endpoint makes revisions', async () => {
  const { app, fake, user } = await harness();

  async function thread(body: object = {}) {
    const res = await app.api('POST', '/ai/threads', { token: user.token, body });
    expect(res.status).toBe(201);
    return res.body as { id: number; state_version: number };
  }
  const revisions = async (id: number) =>
    (await app.api('GET', `/ai/threads/${id}/state/revisions?limit=100`, { token: user.token })).body.data as Array<Record<string, any>>;

  it('a state sent with the message is a `message` revision; the AI change an `ai` revision', async () => {
    const t = await thread({ state: { form: { color: 'red' } } });
    expect(t.state_version).toBe(1);
    fake.script(tool({ form: { color: 'blue', size: 2 } }), { type: 'text', content: 'Done.' });
    const res = await app.api('POST', `/ai/threads/${t.id}/messages`, {
      token: user.token,
      body: { content: 'Make it blue', state: { form: { color: 'green' } } },
    });
    expect(res.status).toBe(201);
    const { createdMessage, responseMessage } = res.body;
    expect(createdMessage).toMatchObject({ state_version: null, state_patch: null, proposal: null });
    expect(responseMessage).toMatchObject({
      updated_state: { form: { color: 'blue', size: 2 } },
      state_version: 3,
      state_patch: [
        { op: 'replace', path: '/form/color', value: 'blue' },
        { op: 'add', path: '/form/size', value: 2 },
      ],
      proposal: null,
    });
    expect(await revisions(t.id)).toMatchObject([
      { version: 3, source: 'ai', message_id: responseMessage.id, patch: responseMessage.state_patch },
      { version: 2, source: 'message', message_id: createdMessage.id, patch: [{ op: 'replace', path: '/form/color', value: 'green' }] },
      { version: 1, source: 'thread', message_id: null },
    ]);
    const state = await app.api('GET', `/ai/threads/${t.id}/state`, { token: user.token });
    expect(state.body).toEqual({ state: { form: { color: 'blue', size: 2 } }, version: 3 });
    expect(state.headers.get('etag')).toBe('"3"');
  });

  it('no revision when neither the message nor the AI changes the state', async () => {
    const t = await thread({ state: { a: 1 } });
    fake.script({ type: 'text', content: 'Nothing to change.' });
    const res = await app.api('POST', `/ai/threads/${t.id}/messages`, { token: user.token, body: { content: 'hi', state: { a: 1 } } });
    expect(res.status).toBe(201);
    expect(res.body.responseMessage).toMatchObject({ updated_state: { a: 1 }, state_version: 1, state_patch: [] });
    expect(await revisions(t.id)).toHaveLength(1);
  });

  it('a failed answer keeps the user message and the state it sent, and makes no `ai` revision', async () => {
    const t = await thread({ state: { a: 1 } });
    fake.script({ type: 'error', status: 500 });
    const res = await app.api('POST', `/ai/threads/${t.id}/messages`, { token: user.token, body: { content: 'hi', state: { a: 2 } } });
    expect(res.status).toBe(502);
    expect((await revisions(t.id)).map((r) => r.source)).toEqual(['message', 'thread']);
    expect((await app.api('GET', `/ai/threads/${t.id}/state`, { token: user.token })).body).toEqual({ state: { a: 2 }, version: 2 });
  });
});

describe('the seed endpoint precondition', async () => {
  const { app, fake, user } = await harness();

  async function thread() {
    const res = await app.api('POST', '/ai/threads', { token: user.token, body: { state: { n: 0 } } });
    return res.body.id as number;
  }

  it('a stale If-Match is a 412 with the current version: no message stored, no AI call', async () => {
    const id = await thread();
    const calls = fake.requests.length;
    const res = await expectNothingStored(app, () =>
      app.api('POST', `/ai/threads/${id}/messages`, { token: user.token, headers: { 'if-match': '"7"' }, body: { content: 'hi' } }),
    );
    expect(res.status).toBe(412);
    expect(res.body).toStrictEqual({ message: expect.stringContaining('version 1'), current_version: 1 });
    expect(res.headers.get('etag')).toBe('"1"');
    expect(fake.requests.length).toBe(calls);
  });

  it('a stale expected_state_version is the same 412, on both faces', async () => {
    const id = await thread();
    const rest = await expectNothingStored(app, () =>
      app.api('POST', `/ai/threads/${id}/messages`, { token: user.token, body: { content: 'hi', expected_state_version: 0 } }),
    );
    expect(rest.status).toBe(412);
    expect(rest.body.current_version).toBe(1);
    const viaTrpc = await expectNothingStored(app, () =>
      trpc(app, 'mutation', 'messages.create', { threadId: id, content: 'hi', expected_state_version: 0 }, { token: user.token }),
    );
    expectTrpcError(viaTrpc, 412, rest.body.message);
    expect(viaTrpc.body.error.data.current_version).toBe(1);
  });

  it('a current precondition answers as usual', async () => {
    const id = await thread();
    fake.script({ type: 'text', content: 'ok' });
    const res = await app.api('POST', `/ai/threads/${id}/messages`, { token: user.token, headers: { 'if-match': '"1"' }, body: { content: 'hi' } });
    expect(res.status).toBe(201);
    fake.script({ type: 'text', content: 'ok' });
    const any = await app.api('POST', `/ai/threads/${id}/messages`, { token: user.token, headers: { 'if-match': '*' }, body: { content: 'hi' } });
    expect(any.status).toBe(201);
  });

  it('a retry with the same Idempotency-Key replays, though the version has moved on', async () => {
    const id = await thread();
    fake.script(tool({ n: 1 }), { type: 'text', content: 'ok' });
    const request = { token: user.token, headers: { 'idempotency-key': `k-${id}` }, body: { content: 'hi', expected_state_version: 1 } };
    const first = await app.api('POST', `/ai/threads/${id}/messages`, request);
    expect(first.status).toBe(201);
    expect(first.body.responseMessage.state_version).toBe(2);
    const calls = fake.requests.length;
    const again = await app.api('POST', `/ai/threads/${id}/messages`, request);
    expect(again.status).toBe(201);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body).toEqual(first.body);
    expect(fake.requests.length).toBe(calls);
    const other = await app.api('POST', `/ai/threads/${id}/messages`, { ...request, body: { content: 'hi', expected_state_version: 2 } });
    expect(other.status).toBe(422);
  });

  it('If-Match and expected_state_version that disagree are a 422', async () => {
    const id = await thread();
    const res = await expectNothingStored(app, () =>
      app.api('POST', `/ai/threads/${id}/messages`, {
        token: user.token,
        headers: { 'if-match': '"1"' },
        body: { content: 'hi', expected_state_version: 2 },
      }),
    );
    expectRestError(res, 422, {
      message: 'The expected state version field must match the If-Match header.',
      errors: { expected_state_version: ['The expected state version field must match the If-Match header.'] },
    });
  });

  it('404 before 412: another user\'s thread is not found whatever the version', async () => {
    const id = await thread();
    const other = await app.signUp();
    const res = await app.api('POST', `/ai/threads/${id}/messages`, { token: other.token, headers: { 'if-match': '"9"' }, body: { content: 'hi' } });
    expectRestError(res, 404, { message: 'Thread not found.' });
  });

  it('412 before the busy 409, and the stream refuses the same way before any event', async () => {
    const id = await thread();
    let open!: () => void;
    fake.script({ type: 'gate', until: new Promise<void>((resolve) => (open = resolve)), then: { type: 'text', content: 'late' } });
    const first = app.api('POST', `/ai/threads/${id}/messages`, { token: user.token, body: { content: 'first' } });
    await fake.waitForRequests(fake.requests.length + 1);
    const stale = await app.api('POST', `/ai/threads/${id}/messages`, { token: user.token, body: { content: 'x', expected_state_version: 5 } });
    expect(stale.status).toBe(412);
    const busy = await app.api('POST', `/ai/threads/${id}/messages`, { token: user.token, body: { content: 'x', expected_state_version: 1 } });
    expect(busy.status).toBe(409);
    const streamed = await refusedStream(app, id, { token: user.token, body: { content: 'x' }, headers: { 'if-match': '"5"' } });
    expect(streamed.status).toBe(412);
    expect(streamed.body.current_version).toBe(1);
    open();
    expect((await first).status).toBe(201);
  });
});

describe('state.delta on the stream', async () => {
  const { app, fake, user } = await harness();

  it('each update_state call is one event; applied in order to the starting state they give updated_state', async () => {
    const t = await app.api('POST', '/ai/threads', { token: user.token, body: { state: { form: { color: 'red', items: [1] } } } });
    fake.script(tool({ form: { color: 'blue' } }), tool({ form: { items: [1, 2], note: 'x' } }), { type: 'text', content: 'Done.' });
    const reader = await openStream(app, t.body.id, { token: user.token, body: { content: 'change it' } });
    const events = await reader.all();
    const deltas = events.filter((event) => event.event === 'state.delta');
    expect(deltas).toHaveLength(2);
    expect(deltas.map((event) => event.data)).toEqual([
      { type: 'state.delta', patch: [{ op: 'replace', path: '/form/color', value: 'blue' }], proposed: false },
      { type: 'state.delta', patch: expect.any(Array), proposed: false },
    ]);
    let state: unknown = { form: { color: 'red', items: [1] } };
    for (const event of deltas) state = applyJsonPatch(state, event.data.patch);
    const completed = events.find((event) => event.event === 'response.completed')!;
    expect(state).toEqual(completed.data.responseMessage.updated_state);
    expect(completed.data.responseMessage.state_version).toBe(2);
  });

  it('the offline model streams its state changes too', async () => {
    const offline = await (await harness({ app: false })).startApp({ model: 'offline' });
    const u = await offline.signUp();
    const t = await offline.api('POST', '/ai/threads', { token: u.token, body: {} });
    const reader = await openStream(offline, t.body.id, { token: u.token, body: { content: 'set form.color to blue', state: { form: {} } } });
    const events = await reader.all();
    const delta = events.find((event) => event.event === 'state.delta');
    expect(delta?.data).toEqual({ type: 'state.delta', patch: [{ op: 'add', path: '/form/color', value: 'blue' }], proposed: false });
    const completed = events.find((event) => event.event === 'response.completed')!;
    expect(completed.data.responseMessage).toMatchObject({ updated_state: { form: { color: 'blue' } }, state_version: 2 });
  });
});

describe('an edit while the AI answers', async () => {
  const { app, fake, user } = await harness();

  it("the AI's patch goes on top of the person's change: neither is lost", async () => {
    const t = await app.api('POST', '/ai/threads', { token: user.token, body: { state: { form: { color: 'red', name: '' } } } });
    let open!: () => void;
    fake.script(tool({ form: { color: 'blue' } }), {
      type: 'gate',
      until: new Promise<void>((resolve) => (open = resolve)),
      then: { type: 'text', content: 'Blue it is.' },
    });
    const answer = app.api('POST', `/ai/threads/${t.body.id}/messages`, { token: user.token, body: { content: 'blue please' } });
    await fake.waitForRequests(fake.requests.length + 2);
    const edit = await app.api('PATCH', `/ai/threads/${t.body.id}/state`, {
      token: user.token,
      headers: { 'if-match': '"1"' },
      body: { merge_patch: { form: { name: 'Ada' } } },
    });
    expect(edit.status).toBe(200);
    expect(edit.body.version).toBe(2);
    open();
    const res = await answer;
    expect(res.status).toBe(201);
    expect(res.body.responseMessage).toMatchObject({
      updated_state: { form: { color: 'blue', name: 'Ada' } },
      state_version: 3,
      state_patch: [{ op: 'replace', path: '/form/color', value: 'blue' }],
      proposal: null,
    });
    const state = await app.api('GET', `/ai/threads/${t.body.id}/state`, { token: user.token });
    expect(state.body).toEqual({ state: { form: { color: 'blue', name: 'Ada' } }, version: 3 });
  });

  async function answerAround(id: number, aiPatch: object, edit: object) {
    let open!: () => void;
    fake.script(tool(aiPatch), {
      type: 'gate',
      until: new Promise<void>((resolve) => (open = resolve)),
      then: { type: 'text', content: 'Changed.' },
    });
    const answer = app.api('POST', `/ai/threads/${id}/messages`, { token: user.token, body: { content: 'change it' } });
    await fake.waitForRequests(fake.requests.length + 2);
    const edited = await app.api('PATCH', `/ai/threads/${id}/state`, { token: user.token, headers: { 'if-match': '*' }, body: edit });
    expect(edited.status).toBe(200);
    open();
    const res = await answer;
    expect(res.status).toBe(201);
    return { reply: res.body.responseMessage, edited: edited.body };
  }

  it('when both change the same value, the person keeps theirs and the AI change is a proposal', async () => {
    const t = await app.api('POST', '/ai/threads', { token: user.token, body: { state: { title: 'A' } } });
    const { reply, edited } = await answerAround(t.body.id, { title: 'B' }, { merge_patch: { title: 'C' } });
    expect(reply).toMatchObject({ state_patch: [], proposal: { status: 'pending', proposed_state: { title: 'B' } } });
    expect((await app.api('GET', `/ai/threads/${t.body.id}/state`, { token: user.token })).body).toEqual(edited);
    expect(edited.state).toEqual({ title: 'C' });
  });

  it('when both change the same list, the AI change is a proposal (an insert would shift its indexes)', async () => {
    const t = await app.api('POST', '/ai/threads', { token: user.token, body: { state: { items: ['a', 'b', 'c'] } } });
    const { reply, edited } = await answerAround(t.body.id, { items: ['a', 'b', 'C'] }, {
      json_patch: [{ op: 'add', path: '/items/0', value: 'x' }],
    });
    expect(reply.proposal).toMatchObject({ status: 'pending', proposed_state: { items: ['a', 'b', 'C'] } });
    expect((await app.api('GET', `/ai/threads/${t.body.id}/state`, { token: user.token })).body).toEqual(edited);
    expect(edited.state).toEqual({ items: ['x', 'a', 'b', 'c'] });
  });

  it('when the AI patch no longer applies, it becomes a pending proposal instead of overwriting', async () => {
    const t = await app.api('POST', '/ai/threads', { token: user.token, body: { state: { form: { color: 'red' } } } });
    let open!: () => void;
    fake.script(tool({ form: { color: 'blue' } }), {
      type: 'gate',
      until: new Promise<void>((resolve) => (open = resolve)),
      then: { type: 'text', content: 'Blue.' },
    });
    const answer = app.api('POST', `/ai/threads/${t.body.id}/messages`, { token: user.token, body: { content: 'blue' } });
    await fake.waitForRequests(fake.requests.length + 2);
    const edit = await app.api('PATCH', `/ai/threads/${t.body.id}/state`, {
      token: user.token,
      headers: { 'if-match': '"1"' },
      body: { json_patch: [{ op: 'remove', path: '/form' }] },
    });
    expect(edit.status).toBe(200);
    open();
    const res = await answer;
    expect(res.status).toBe(201);
    expect(res.body.responseMessage).toMatchObject({
      updated_state: { form: { color: 'red' } },
      state_version: 2,
      state_patch: [],
      proposal: { status: 'pending', patch: [{ op: 'replace', path: '/form/color', value: 'blue' }], proposed_state: { form: { color: 'blue' } } },
    });
    expect((await app.api('GET', `/ai/threads/${t.body.id}/state`, { token: user.token })).body).toEqual({ state: {}, version: 2 });
  });
});
