// Regenerate (SPEC.md part 2, "Branches"): a new answer to the same user message, a sibling of the
// old ones, becomes the head; `createdMessage` is the existing user message; the model sees the
// branch up to the user message, never the answers being replaced; the siblings route lists them.
// A failed user message can be answered again; a regenerate that fails keeps what was there. Both
// faces.
import { describe, expect, it } from 'vitest';
import { harness } from '../support/harness.js';
import { expectNothingStored } from '../support/helpers.js';
import { newThread } from '../support/threads.js';
import { client, expectError, FACES, ok, pairs, turnsSent } from './support.js';

const { app, fake, user } = await harness();

const FAILED = 'The AI provider failed to answer (an error).';

describe.each(FACES)('regenerating an answer (%s)', (face) => {
  const c = client(app, face, user.token);

  it('makes siblings 1/3..3/3 of the same user message, the newest the head, listed oldest first', async () => {
    const thread = await newThread(app, user);
    const start = fake.requests.length;
    fake.script({ type: 'text', content: 'A0' }, { type: 'text', content: 'first' });
    ok(await c.send(thread.id, { content: 'Q0' }), face, 201);
    const { createdMessage: u1, responseMessage: a1 } = ok(await c.send(thread.id, { content: 'Q1' }), face, 201);

    const answers = [a1];
    for (const content of ['second', 'third']) {
      fake.script({ type: 'text', content });
      const calls = fake.requests.length;
      const res = ok(await c.regenerate(thread.id, answers.at(-1)!.id), face, 201);
      // The existing user message, answered again; the user message is sent to the model once,
      // after the branch before it, without the answers it replaces.
      expect(res.createdMessage).toMatchObject({ id: u1.id, content: 'Q1', role: 'user', status: 'completed', parent_id: u1.parent_id });
      expect(res.responseMessage).toMatchObject({
        role: 'assistant',
        content,
        parent_id: u1.id,
        sibling_index: answers.length,
        sibling_count: answers.length + 1,
      });
      expect(turnsSent(fake, calls)).toEqual(['user: Q0', 'assistant: A0', 'user: Q1']);
      answers.push(res.responseMessage);
    }
    expect(fake.requests.length).toBe(start + 4);

    const newest = answers.at(-1)!;
    expect(ok(await c.thread(thread.id), face)).toMatchObject({ head_message_id: newest.id, message_count: 6 });
    const current = ok(await c.list(thread.id), face);
    expect(pairs(current.data)).toEqual([
      ['user', 'Q0'],
      ['assistant', 'A0'],
      ['user', 'Q1'],
      ['assistant', 'third'],
    ]);
    expect(ok(await c.list(thread.id, { branch: a1.id }), face).data.at(-1)).toMatchObject({ id: a1.id, content: 'first' });

    // The siblings, oldest first, two a page.
    const first = ok(await c.siblings(thread.id, newest.id, { limit: 2 }), face);
    expect(first.data.map((m: any) => [m.content, m.sibling_index, m.sibling_count])).toEqual([
      ['first', 0, 3],
      ['second', 1, 3],
    ]);
    expect(first).toMatchObject({ has_more: true, next_cursor: answers[1].id });
    const rest = ok(await c.siblings(thread.id, a1.id, { limit: 2, after: first.next_cursor }), face);
    expect(rest.data.map((m: any) => [m.content, m.sibling_index, m.sibling_count])).toEqual([['third', 2, 3]]);
    expect(rest).toMatchObject({ has_more: false, next_cursor: null });
    const back = ok(await c.siblings(thread.id, a1.id, { limit: 1, before: newest.id }), face);
    expect(back.data.map((m: any) => m.content)).toEqual(['second']);
    expect(back.has_more).toBe(true);
  });

  it('regenerates an answer mid-branch: the later turns stay on the old branch, the model never sees them', async () => {
    const thread = await newThread(app, user);
    fake.script({ type: 'text', content: 'A1' }, { type: 'text', content: 'A2' }, { type: 'text', content: 'A1 again' });
    const one = ok(await c.send(thread.id, { content: 'Q1' }), face, 201);
    const two = ok(await c.send(thread.id, { content: 'Q2' }), face, 201);
    const calls = fake.requests.length;
    const res = ok(await c.regenerate(thread.id, one.responseMessage.id), face, 201);
    expect(turnsSent(fake, calls)).toEqual(['user: Q1']);
    expect(res.responseMessage).toMatchObject({ parent_id: one.createdMessage.id, sibling_index: 1, sibling_count: 2 });
    expect(pairs(ok(await c.list(thread.id), face).data)).toEqual([
      ['user', 'Q1'],
      ['assistant', 'A1 again'],
    ]);
    expect(pairs(ok(await c.list(thread.id, { branch: two.responseMessage.id }), face).data)).toEqual([
      ['user', 'Q1'],
      ['assistant', 'A1'],
      ['user', 'Q2'],
      ['assistant', 'A2'],
    ]);
    // Back to the old branch by its first answer: the head walks down to its leaf.
    expect(ok(await c.setHead(thread.id, one.responseMessage.id), face).head_message_id).toBe(two.responseMessage.id);
  });

  it('answers a failed user message again: 201, the message now completed, its answer the head', async () => {
    const thread = await newThread(app, user);
    fake.script({ type: 'text', content: 'A0' }, { type: 'error', status: 500 });
    ok(await c.send(thread.id, { content: 'Q0' }), face, 201);
    const failed = await c.send(thread.id, { content: 'Q1' });
    expectError(failed, face, 502, FAILED);
    const [, , u1] = ok(await c.list(thread.id), face).data;
    expect(u1).toMatchObject({ content: 'Q1', status: 'failed', sibling_count: 1 });
    // A new user message is the head at once, so a failed one stays on the current branch.
    expect(ok(await c.thread(thread.id), face).head_message_id).toBe(u1.id);

    fake.script({ type: 'text', content: 'A1' });
    const calls = fake.requests.length;
    const res = ok(await c.regenerate(thread.id, u1.id), face, 201);
    expect(res.createdMessage).toMatchObject({ id: u1.id, status: 'completed', error: null });
    expect(res.responseMessage).toMatchObject({ content: 'A1', parent_id: u1.id, sibling_index: 0, sibling_count: 1 });
    expect(turnsSent(fake, calls)).toEqual(['user: Q0', 'assistant: A0', 'user: Q1']);
    expect(ok(await c.message(thread.id, u1.id), face)).toMatchObject({ status: 'completed', error: null });
    expect(ok(await c.thread(thread.id), face)).toMatchObject({ head_message_id: res.responseMessage.id, message_count: 4 });
  });

  it('that fails (502) puts the user message back to completed, keeps the old answer and the head', async () => {
    const thread = await newThread(app, user);
    fake.script({ type: 'text', content: 'A1' });
    const { createdMessage: u1, responseMessage: a1 } = ok(await c.send(thread.id, { content: 'Q1' }), face, 201);
    fake.script({ type: 'error', status: 500 });
    const calls = fake.requests.length;
    const res = await expectNothingStored(app, () => c.regenerate(thread.id, a1.id));
    expectError(res, face, 502, FAILED);
    expect(fake.requests.length).toBe(calls + 1);
    expect(ok(await c.message(thread.id, u1.id), face)).toMatchObject({ status: 'completed', error: null });
    expect(ok(await c.siblings(thread.id, a1.id), face).data.map((m: any) => [m.id, m.content])).toEqual([[a1.id, 'A1']]);
    expect(ok(await c.thread(thread.id), face)).toMatchObject({ head_message_id: a1.id, message_count: 2 });
    expect(pairs(ok(await c.list(thread.id), face).data)).toEqual([
      ['user', 'Q1'],
      ['assistant', 'A1'],
    ]);
  });
});

describe('regenerate over REST', () => {
  it('takes no body at all', async () => {
    const thread = await newThread(app, user);
    fake.script({ type: 'text', content: 'A1' }, { type: 'text', content: 'A1b' });
    const c = client(app, 'rest', user.token);
    const { responseMessage } = ok(await c.send(thread.id, { content: 'Q1' }), 'rest', 201);
    const res = await app.api('POST', `/ai/threads/${thread.id}/messages/${responseMessage.id}/regenerate`, { token: user.token });
    expect(res.status, res.text).toBe(201);
    expect(res.body.responseMessage).toMatchObject({ content: 'A1b', sibling_index: 1 });
  });
});
