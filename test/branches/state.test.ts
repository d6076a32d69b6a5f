// Branches and the versioned state (SPEC.md part 2): branch moves do not rewind the state; the
// revisions made on a branch carry the message ids (`message`: the user message, `ai`: the
// answer), so a client that wants a branch point's state reverts to that message's revision, and
// the edit posted after it is answered from that state. Both faces for the head and the edit.
import { describe, expect, it } from 'vitest';
import { harness } from '../support/harness.js';
import { trpc } from '../support/helpers.js';
import { newThread, stateSeen } from '../support/threads.js';
import { client, FACES, ok } from './support.js';

const { app, fake, user } = await harness();

const tool = (patch: object) => ({ type: 'tool_calls' as const, calls: [{ name: 'update_state', arguments: { patch } }] });

describe.each(FACES)('a branch point\'s state (%s)', (face) => {
  const c = client(app, face, user.token);
  const revisions = async (id: number) =>
    (await app.api('GET', `/ai/threads/${id}/state/revisions?limit=100`, { token: user.token })).body.data as Array<Record<string, any>>;
  const state = async (id: number) => (await app.api('GET', `/ai/threads/${id}/state`, { token: user.token })).body;

  it('is the revision of the branch point message; the head moves without rewinding the state', async () => {
    const thread = await newThread(app, user, { state: { step: 0 } });
    // Q1 sends a state (a `message` revision of u1); the AI changes it (an `ai` revision of a1).
    fake.script(tool({ step: 1, a: true }), { type: 'text', content: 'A1' });
    const one = ok(await c.send(thread.id, { content: 'Q1', state: { step: 1 } }), face, 201);
    fake.script({ type: 'text', content: 'A2' });
    const two = ok(await c.send(thread.id, { content: 'Q2', state: { step: 2, a: true } }), face, 201);
    expect(await state(thread.id)).toEqual({ state: { step: 2, a: true }, version: 4 });
    expect((await revisions(thread.id)).map((r) => [r.version, r.source, r.message_id])).toEqual([
      [4, 'message', two.createdMessage.id],
      [3, 'ai', one.responseMessage.id],
      [2, 'message', one.createdMessage.id],
      [1, 'thread', null],
    ]);

    // Moving the head does not rewind the state.
    ok(await c.setHead(thread.id, one.createdMessage.id), face);
    expect(await state(thread.id)).toEqual({ state: { step: 2, a: true }, version: 4 });

    // To edit Q2, the client goes back to the state at the branch point (after A1): the revision of a1.
    const point = (await revisions(thread.id)).find((r) => r.message_id === one.responseMessage.id)!;
    expect(point).toMatchObject({ version: 3, source: 'ai' });
    const held = await app.api('GET', `/ai/threads/${thread.id}/state/revisions/${point.version}`, { token: user.token });
    expect(held.body).toMatchObject({ version: 3, message_id: one.responseMessage.id, state: { step: 1, a: true } });
    const reverted =
      face === 'rest'
        ? (await app.api('POST', `/ai/threads/${thread.id}/state/revert`, { token: user.token, headers: { 'if-match': '"4"' }, body: { version: point.version } })).body
        : (await trpc(app, 'mutation', 'threads.state.revert', { threadId: thread.id, version: point.version, expected_version: 4 }, { token: user.token })).body.result.data;
    expect(reverted).toEqual({ state: { step: 1, a: true }, version: 5 });

    // The edit, after a1, is answered from the branch point's state, on the branch point's history.
    fake.script({ type: 'text', content: 'A2 edited' });
    const calls = fake.requests.length;
    const edit = ok(await c.send(thread.id, { content: 'Q2 edited', parent_id: one.responseMessage.id }), face, 201);
    expect(stateSeen(fake.requests[calls])).toEqual({ step: 1, a: true });
    expect(edit.responseMessage).toMatchObject({ updated_state: { step: 1, a: true }, state_version: 5, parent_id: edit.createdMessage.id });
    expect((await revisions(thread.id))[0]).toMatchObject({ version: 5, source: 'revert', message_id: null });
  });

  it('a regenerate carries its `ai` revision on the new answer', async () => {
    const thread = await newThread(app, user, { state: { n: 0 } });
    fake.script(tool({ n: 1 }), { type: 'text', content: 'A1' });
    const one = ok(await c.send(thread.id, { content: 'Q1' }), face, 201);
    fake.script(tool({ n: 2 }), { type: 'text', content: 'A1b' });
    const again = ok(await c.regenerate(thread.id, one.responseMessage.id), face, 201);
    expect(again.responseMessage).toMatchObject({ updated_state: { n: 2 }, state_version: 3 });
    expect((await revisions(thread.id)).map((r) => [r.version, r.source, r.message_id])).toEqual([
      [3, 'ai', again.responseMessage.id],
      [2, 'ai', one.responseMessage.id],
      [1, 'thread', null],
    ]);
  });
});
