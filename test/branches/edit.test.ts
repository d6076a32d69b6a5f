// Editing a message (SPEC.md part 2, "Branches"): the new text posted with `parent_id` = the
// edited message's parent makes a sibling user message and its answer, the old branch stays whole
// and listable, the model sees only the new branch, and the head follows the new pair. Then the
// head: POST .../head walks to the newest leaf; the list follows the head, `branch=` and
// `view=all`, paginated. Both faces.
import { describe, expect, it } from 'vitest';
import { harness } from '../support/harness.js';
import { newThread } from '../support/threads.js';
import { client, FACES, ok, pairs, turnsSent } from './support.js';

const { app, fake, user } = await harness();

/** A thread of two answered turns, Q1 → A1 → Q2 → A2, on this face. */
async function twoTurns(c: ReturnType<typeof client>) {
  const thread = await newThread(app, user);
  fake.script({ type: 'text', content: 'A1' }, { type: 'text', content: 'A2' });
  const first = ok(await c.send(thread.id, { content: 'Q1' }), c.face, 201);
  const second = ok(await c.send(thread.id, { content: 'Q2' }), c.face, 201);
  return {
    thread,
    u1: first.createdMessage,
    a1: first.responseMessage,
    u2: second.createdMessage,
    a2: second.responseMessage,
  };
}

describe.each(FACES)('an edit (%s)', (face) => {
  const c = client(app, face, user.token);

  it('makes a sibling user message and its answer after the parent, and keeps the old branch', async () => {
    const { thread, u1, a1, u2, a2 } = await twoTurns(c);
    expect([u1.parent_id, a1.parent_id, u2.parent_id, a2.parent_id]).toEqual([null, u1.id, a1.id, u2.id]);

    fake.script({ type: 'text', content: 'A2 edited' });
    const calls = fake.requests.length;
    const edit = ok(await c.send(thread.id, { content: 'Q2 edited', parent_id: a1.id }), face, 201);
    const { createdMessage: u2b, responseMessage: a2b } = edit;
    expect(u2b).toMatchObject({ role: 'user', content: 'Q2 edited', parent_id: a1.id, sibling_index: 1, sibling_count: 2, status: 'completed' });
    expect(a2b).toMatchObject({ role: 'assistant', content: 'A2 edited', parent_id: u2b.id, sibling_index: 0, sibling_count: 1 });

    // The model saw the new branch only: the first turn and the edited text, never Q2 or A2.
    expect(turnsSent(fake, calls)).toEqual(['user: Q1', 'assistant: A1', 'user: Q2 edited']);

    // The head is the new answer; the list follows it.
    expect(ok(await c.thread(thread.id), face).head_message_id).toBe(a2b.id);
    const current = ok(await c.list(thread.id), face);
    expect(current.data.map((m: any) => m.id)).toEqual([u1.id, a1.id, u2b.id, a2b.id]);
    expect(current.data[2]).toMatchObject({ sibling_index: 1, sibling_count: 2 });

    // The old branch is intact, listed by its leaf; the old user message now counts its sibling.
    const old = ok(await c.list(thread.id, { branch: a2.id }), face);
    expect(pairs(old.data)).toEqual([
      ['user', 'Q1'],
      ['assistant', 'A1'],
      ['user', 'Q2'],
      ['assistant', 'A2'],
    ]);
    expect(old.data[2]).toMatchObject({ id: u2.id, sibling_index: 0, sibling_count: 2, status: 'completed' });
    expect(old.data[3]).toMatchObject({ id: a2.id, sibling_index: 0, sibling_count: 1 });
    expect(ok(await c.message(thread.id, u2.id), face)).toMatchObject({ sibling_index: 0, sibling_count: 2 });

    // The siblings of either user message: both, oldest first.
    for (const id of [u2.id, u2b.id]) {
      const siblings = ok(await c.siblings(thread.id, id), face);
      expect(siblings).toMatchObject({ has_more: false, next_cursor: null });
      expect(siblings.data.map((m: any) => [m.id, m.sibling_index, m.sibling_count])).toEqual([
        [u2.id, 0, 2],
        [u2b.id, 1, 2],
      ]);
    }

    // Every message, by id.
    const all = ok(await c.list(thread.id, { view: 'all' }), face);
    expect(all.data.map((m: any) => m.id)).toEqual([u1.id, a1.id, u2.id, a2.id, u2b.id, a2b.id]);
    expect(ok(await c.thread(thread.id), face).message_count).toBe(6);

    // The next message without parent_id goes on the new branch.
    fake.script({ type: 'text', content: 'A3' });
    const next = ok(await c.send(thread.id, { content: 'Q3' }), face, 201);
    expect(next.createdMessage).toMatchObject({ parent_id: a2b.id, sibling_index: 0, sibling_count: 1 });
    expect(turnsSent(fake, fake.requests.length - 1)).toEqual([
      'user: Q1',
      'assistant: A1',
      'user: Q2 edited',
      'assistant: A2 edited',
      'user: Q3',
    ]);
  });

  it('edits the first message with parent_id null: a new root, a sibling of the first, alone in the model history', async () => {
    const { thread, u1 } = await twoTurns(c);
    fake.script({ type: 'text', content: 'A1 again' });
    const calls = fake.requests.length;
    const edit = ok(await c.send(thread.id, { content: 'Q1 edited', parent_id: null }), face, 201);
    expect(edit.createdMessage).toMatchObject({ parent_id: null, sibling_index: 1, sibling_count: 2 });
    expect(turnsSent(fake, calls)).toEqual(['user: Q1 edited']);
    const roots = ok(await c.siblings(thread.id, u1.id), face);
    expect(roots.data.map((m: any) => [m.content, m.sibling_index, m.sibling_count])).toEqual([
      ['Q1', 0, 2],
      ['Q1 edited', 1, 2],
    ]);
    expect(pairs(ok(await c.list(thread.id), face).data)).toEqual([
      ['user', 'Q1 edited'],
      ['assistant', 'A1 again'],
    ]);
  });
});

describe.each(FACES)('the head (%s)', (face) => {
  const c = client(app, face, user.token);

  it('moves to the newest leaf under a message, and the next message follows it', async () => {
    const { thread, u1, a1, u2, a2 } = await twoTurns(c);
    fake.script({ type: 'text', content: 'A2b' }, { type: 'text', content: 'A3b' });
    ok(await c.send(thread.id, { content: 'Q2b', parent_id: a1.id }), face, 201);
    const b3 = ok(await c.send(thread.id, { content: 'Q3b' }), face, 201);
    const leafB = b3.responseMessage.id;
    expect(ok(await c.thread(thread.id), face).head_message_id).toBe(leafB);

    // From the old user message: its only answer, a leaf.
    const moved = ok(await c.setHead(thread.id, u2.id), face);
    expect(moved).toMatchObject({ id: thread.id, head_message_id: a2.id });
    expect(ok(await c.list(thread.id), face).data.map((m: any) => m.id)).toEqual([u1.id, a1.id, u2.id, a2.id]);

    // From the root: at each step the newest child, so the newer branch's leaf.
    expect(ok(await c.setHead(thread.id, u1.id), face).head_message_id).toBe(leafB);
    // A leaf is its own newest leaf.
    expect(ok(await c.setHead(thread.id, a2.id), face).head_message_id).toBe(a2.id);
    expect(ok(await c.thread(thread.id), face).head_message_id).toBe(a2.id);

    // The next message goes after the head, and the model sees that branch.
    fake.script({ type: 'text', content: 'A3' });
    const calls = fake.requests.length;
    const after = ok(await c.send(thread.id, { content: 'Q3' }), face, 201);
    expect(after.createdMessage).toMatchObject({ parent_id: a2.id });
    expect(turnsSent(fake, calls)).toEqual(['user: Q1', 'assistant: A1', 'user: Q2', 'assistant: A2', 'user: Q3']);
    expect(ok(await c.thread(thread.id), face).head_message_id).toBe(after.responseMessage.id);
  });

  it('lists the current branch, a named branch and every message, paginated', async () => {
    const { thread, u1, a1, u2, a2 } = await twoTurns(c);
    fake.script({ type: 'text', content: 'A2b' }, { type: 'text', content: 'A3b' });
    const b = ok(await c.send(thread.id, { content: 'Q2b', parent_id: a1.id }), face, 201);
    const b3 = ok(await c.send(thread.id, { content: 'Q3b' }), face, 201);
    const branch = [u1.id, a1.id, b.createdMessage.id, b.responseMessage.id, b3.createdMessage.id, b3.responseMessage.id];

    // The current branch, two at a time: the old branch's ids, between, are skipped.
    const seen: number[] = [];
    let page = ok(await c.list(thread.id, { limit: 2 }), face);
    for (;;) {
      seen.push(...page.data.map((m: any) => m.id));
      if (!page.has_more) break;
      expect(page.next_cursor).toBe(page.data.at(-1).id);
      page = ok(await c.list(thread.id, { limit: 2, after: page.next_cursor }), face);
    }
    expect(seen).toEqual(branch);
    expect(page.next_cursor).toBeNull();

    // Backwards from the edited message: the two before it on the branch.
    const before = ok(await c.list(thread.id, { limit: 2, before: b.createdMessage.id }), face);
    expect(before.data.map((m: any) => m.id)).toEqual([u1.id, a1.id]);
    expect(before.has_more).toBe(false);
    const back = ok(await c.list(thread.id, { limit: 1, before: b3.createdMessage.id }), face);
    expect(back.data.map((m: any) => m.id)).toEqual([b.responseMessage.id]);
    expect(back.has_more).toBe(true);

    // A named branch, paginated after the branch point.
    const old = ok(await c.list(thread.id, { branch: a2.id, limit: 1, after: a1.id }), face);
    expect(old.data.map((m: any) => m.id)).toEqual([u2.id]);
    expect(old).toMatchObject({ has_more: true, next_cursor: u2.id });
    const oldRest = ok(await c.list(thread.id, { branch: a2.id, after: u2.id }), face);
    expect(oldRest.data.map((m: any) => m.id)).toEqual([a2.id]);
    expect(oldRest.has_more).toBe(false);
    // A branch that ends mid-way: root to that message.
    expect(ok(await c.list(thread.id, { branch: b.createdMessage.id }), face).data.map((m: any) => m.id)).toEqual([
      u1.id,
      a1.id,
      b.createdMessage.id,
    ]);

    // Every message by id, three at a time.
    const all: number[] = [];
    let allPage = ok(await c.list(thread.id, { view: 'all', limit: 3 }), face);
    all.push(...allPage.data.map((m: any) => m.id));
    while (allPage.has_more) {
      allPage = ok(await c.list(thread.id, { view: 'all', limit: 3, after: allPage.next_cursor }), face);
      all.push(...allPage.data.map((m: any) => m.id));
    }
    expect(all).toEqual([u1.id, a1.id, u2.id, a2.id, ...branch.slice(2)]);
  });
});
