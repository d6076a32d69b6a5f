// Branches through the SDK, against the real app and the fake model: an edit with `parent_id` (and a
// new root with null), `client.messages.regenerate` and `regenerateStream`, `siblings` iterated for a
// "‹ i/n ›" picker, `client.threads.setHead`, and `messages.list` with `branch` and `view`; the
// model is sent only the branch's history; refusals as their error classes, storing nothing.
import { describe, expect, it } from 'vitest';
import { APIError, NotFoundError, ValidationError, type AiThreads, type Message } from '../../client-sdk/src/index.js';
import { harness } from '../support/harness.js';
import { expectStoresNothing, sentMessages } from '../support/threads.js';
import { sdk } from './helpers.js';

const { app, fake } = await harness();

/** The rejection of `promise`, which must reject. */
async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => expect.unreachable('the call succeeded'),
    (error: unknown) => error,
  );
}

/** A refusal: its error class, status and whole body. */
function expectRefused(error: unknown, kind: typeof NotFoundError | typeof ValidationError, body: Record<string, unknown>) {
  expect(error).toBeInstanceOf(kind);
  expect({ status: (error as APIError).status, body: (error as APIError).body }).toEqual({ status: kind === NotFoundError ? 404 : 422, body });
}

/** A 422 on one field. */
const invalid = (field: string, message: string) => ({ message, errors: { [field]: [message] } });

/** The conversation the model was sent last: its user and assistant turns, as "role: content". */
function lastConversation(): string[] {
  return sentMessages(fake.requests.at(-1))
    .filter((m) => m.role === 'user' || m.role === 'assistant')
    .map((m) => `${m.role}: ${String(m.content)}`);
}

/** A thread with two answered turns: [user 1, answer 1, user 2, answer 2]. */
async function twoTurns(client: AiThreads) {
  const thread = await client.threads.create({ title: 'Colours' });
  fake.script({ type: 'text', content: 'Red.' });
  const first = await client.messages.create(thread.id, { content: 'Name a colour.' });
  fake.script({ type: 'text', content: 'Orange.' });
  const second = await client.messages.create(thread.id, { content: 'Make it warmer.' });
  return { thread, u1: first.createdMessage, a1: first.responseMessage, u2: second.createdMessage, a2: second.responseMessage };
}

/** Every message of the thread's current branch, through the SDK's iteration. */
async function branchIds(client: AiThreads, threadId: number, query: { branch?: number } = {}): Promise<number[]> {
  const ids: number[] = [];
  for await (const message of client.messages.list(threadId, { ...query, limit: 2 })) ids.push(message.id);
  return ids;
}

const place = (m: Message) => ({ id: m.id, parent_id: m.parent_id, sibling_index: m.sibling_index, sibling_count: m.sibling_count });

describe('client.messages.create with parent_id', () => {
  it('edits a message: the new text follows the edited one\'s parent, becomes the head, and the model sees only that branch', async () => {
    const client = sdk(app, await app.signUp());
    const { thread, u1, a1, u2, a2 } = await twoTurns(client);
    expect([u1, a1, u2, a2].map(place)).toEqual([
      { id: u1.id, parent_id: null, sibling_index: 0, sibling_count: 1 },
      { id: a1.id, parent_id: u1.id, sibling_index: 0, sibling_count: 1 },
      { id: u2.id, parent_id: a1.id, sibling_index: 0, sibling_count: 1 },
      { id: a2.id, parent_id: u2.id, sibling_index: 0, sibling_count: 1 },
    ]);
    expect((await client.threads.retrieve(thread.id)).head_message_id).toBe(a2.id);

    fake.script({ type: 'text', content: 'Blue.' });
    const edit = await client.messages.create(thread.id, { content: 'Make it cooler.', parent_id: a1.id });
    expect(place(edit.createdMessage)).toEqual({ id: edit.createdMessage.id, parent_id: a1.id, sibling_index: 1, sibling_count: 2 });
    expect(place(edit.responseMessage)).toEqual({ id: edit.responseMessage.id, parent_id: edit.createdMessage.id, sibling_index: 0, sibling_count: 1 });
    expect(edit.responseMessage.content).toBe('Blue.');
    expect(lastConversation()).toEqual(['user: Name a colour.', 'assistant: Red.', 'user: Make it cooler.']);

    const after = await client.threads.retrieve(thread.id);
    expect(after.head_message_id).toBe(edit.responseMessage.id);
    expect(after.message_count).toBe(6);
    expect(await branchIds(client, thread.id)).toEqual([u1.id, a1.id, edit.createdMessage.id, edit.responseMessage.id]);
    // The message it replaced now counts one sibling more.
    expect(place(await client.messages.retrieve(thread.id, u2.id))).toEqual({ id: u2.id, parent_id: a1.id, sibling_index: 0, sibling_count: 2 });
  });

  it('parent_id: null starts a new root, a sibling of the first message, and the model sees no history', async () => {
    const client = sdk(app, await app.signUp());
    const { thread, u1 } = await twoTurns(client);
    fake.script({ type: 'text', content: 'Green.' });
    const root = await client.messages.create(thread.id, { content: 'Start over.', parent_id: null });
    expect(place(root.createdMessage)).toEqual({ id: root.createdMessage.id, parent_id: null, sibling_index: 1, sibling_count: 2 });
    expect(lastConversation()).toEqual(['user: Start over.']);
    expect(await branchIds(client, thread.id)).toEqual([root.createdMessage.id, root.responseMessage.id]);
    const roots = [];
    for await (const message of client.messages.siblings(thread.id, u1.id)) roots.push(message.id);
    expect(roots).toEqual([u1.id, root.createdMessage.id]);
  });

  it('refuses a user message, another thread\'s message or a missing one as parent_id: ValidationError, nothing stored', async () => {
    const client = sdk(app, await app.signUp());
    const { thread, u2 } = await twoTurns(client);
    const other = await twoTurns(client);
    const message = 'The parent id field must be the id of an assistant message of this thread.';
    for (const parentId of [u2.id, other.a2.id, 987_654_321]) {
      const error = await expectStoresNothing(app, () => rejection(client.messages.create(thread.id, { content: 'Nope.', parent_id: parentId })));
      expectRefused(error, ValidationError, invalid('parent_id', message));
    }
    expect((await client.threads.retrieve(thread.id)).head_message_id).toBe((await client.messages.list(thread.id)).data.at(-1)!.id);
  });
});

describe('client.messages.regenerate', () => {
  it('answers the same user message again: a sibling of the old answer, the head; the model never sees the answer replaced', async () => {
    const client = sdk(app, await app.signUp());
    const { thread, u1, a1, u2, a2 } = await twoTurns(client);
    fake.script({ type: 'text', content: 'Amber.' });
    const again = await client.messages.regenerate(thread.id, a2.id);
    expect(again.createdMessage).toMatchObject({ id: u2.id, content: 'Make it warmer.', status: 'completed', sibling_count: 1 });
    expect(place(again.responseMessage)).toEqual({ id: again.responseMessage.id, parent_id: u2.id, sibling_index: 1, sibling_count: 2 });
    expect(again.responseMessage.content).toBe('Amber.');
    expect(lastConversation()).toEqual(['user: Name a colour.', 'assistant: Red.', 'user: Make it warmer.']);
    expect((await client.threads.retrieve(thread.id)).head_message_id).toBe(again.responseMessage.id);
    expect(await branchIds(client, thread.id)).toEqual([u1.id, a1.id, u2.id, again.responseMessage.id]);
    // The old answer stays, and still ends its own branch.
    expect(await branchIds(client, thread.id, { branch: a2.id })).toEqual([u1.id, a1.id, u2.id, a2.id]);
  });

  it('takes a precondition and an idempotency key: the same key replays the same answer, no second one', async () => {
    const client = sdk(app, await app.signUp());
    const { thread, a2 } = await twoTurns(client);
    fake.script({ type: 'text', content: 'Amber.' });
    const first = await client.messages.regenerate(thread.id, a2.id, { expected_state_version: 0 }, { idempotencyKey: 'regen-1' }).withResponse();
    const calls = fake.requests.length;
    const replay = await client.messages.regenerate(thread.id, a2.id, { expected_state_version: 0 }, { idempotencyKey: 'regen-1' }).withResponse();
    expect(replay.data).toEqual(first.data);
    expect(replay.response.headers.get('idempotent-replayed')).toBe('true');
    expect(fake.requests.length).toBe(calls);
    const siblings = (await client.messages.siblings(thread.id, a2.id)).data;
    expect(siblings.map((m) => m.id)).toEqual([a2.id, first.data.responseMessage.id]);
  });

  it('refuses a user message whose answer did not fail, and a missing message, storing nothing', async () => {
    const client = sdk(app, await app.signUp());
    const { thread, u2 } = await twoTurns(client);
    const calls = fake.requests.length;
    const refused = await expectStoresNothing(app, () => rejection(client.messages.regenerate(thread.id, u2.id)));
    expectRefused(refused, ValidationError, invalid('message_id', 'The message id field must be an assistant message, or a user message whose answer failed.'));
    const missing = await expectStoresNothing(app, () => rejection(client.messages.regenerate(thread.id, 987_654_321)));
    expectRefused(missing, NotFoundError, { message: 'Message not found.' });
    expect(fake.requests.length).toBe(calls);
  });
});

describe('client.messages.regenerateStream', () => {
  it('streams the new answer like messages.stream: the user message, the deltas, then the pair', async () => {
    const client = sdk(app, await app.signUp());
    const { thread, u2, a2 } = await twoTurns(client);
    fake.script({ type: 'text', content: 'A warm amber.' });
    const stream = client.messages.regenerateStream(thread.id, a2.id);
    const kinds: string[] = [];
    let text = '';
    for await (const event of stream) {
      kinds.push(event.event);
      if (event.event === 'message.created') expect(event.data).toMatchObject({ id: u2.id, status: 'pending', parent_id: u2.parent_id });
      if (event.event === 'response.delta') text += event.data.delta;
    }
    expect(kinds[0]).toBe('message.created');
    expect(kinds.at(-1)).toBe('response.completed');
    expect(kinds.slice(1, -1).every((kind) => kind === 'response.delta')).toBe(true);
    expect(text).toBe('A warm amber.');
    const { createdMessage, responseMessage } = await stream.finalMessage();
    expect(createdMessage).toMatchObject({ id: u2.id, status: 'completed' });
    expect(place(responseMessage)).toEqual({ id: responseMessage.id, parent_id: u2.id, sibling_index: 1, sibling_count: 2 });
    expect(responseMessage.content).toBe('A warm amber.');
    expect(await client.messages.retrieve(thread.id, responseMessage.id)).toEqual(responseMessage);
    expect((await client.threads.retrieve(thread.id)).head_message_id).toBe(responseMessage.id);
  });
});

describe('client.messages.siblings and client.threads.setHead', () => {
  it('iterates the siblings for a "‹ i/n ›" picker, page by page, and moves the head to the one picked', async () => {
    const client = sdk(app, await app.signUp());
    const { thread, u1, a1, u2, a2 } = await twoTurns(client);
    fake.script({ type: 'text', content: 'Amber.' }, { type: 'text', content: 'Coral.' });
    const b = (await client.messages.regenerate(thread.id, a2.id)).responseMessage;
    const c = (await client.messages.regenerate(thread.id, a2.id)).responseMessage;

    const picker: Array<[number, number, number]> = [];
    for await (const message of client.messages.siblings(thread.id, b.id, { limit: 2 })) {
      picker.push([message.id, message.sibling_index + 1, message.sibling_count]);
    }
    expect(picker).toEqual([
      [a2.id, 1, 3],
      [b.id, 2, 3],
      [c.id, 3, 3],
    ]);
    const page = await client.messages.siblings(thread.id, a2.id, { limit: 2 });
    expect(page.data.map((m) => m.id)).toEqual([a2.id, b.id]);
    expect(page.hasNextPage()).toBe(true);
    expect((await page.getNextPage()).data.map((m) => m.id)).toEqual([c.id]);

    // "‹": back to the first answer; the list follows the head.
    const moved = await client.threads.setHead(thread.id, { message_id: a2.id });
    expect(moved).toMatchObject({ id: thread.id, head_message_id: a2.id, message_count: 6 });
    expect(await branchIds(client, thread.id)).toEqual([u1.id, a1.id, u2.id, a2.id]);
    // The next message goes after the head, and the model sees that branch.
    fake.script({ type: 'text', content: 'Yes.' });
    const next = await client.messages.create(thread.id, { content: 'Is orange warm?' });
    expect(next.createdMessage.parent_id).toBe(a2.id);
    expect(lastConversation()).toEqual(['user: Name a colour.', 'assistant: Red.', 'user: Make it warmer.', 'assistant: Orange.', 'user: Is orange warm?']);

    // A message inside the tree: the head goes down to its newest leaf, at each step the newest child.
    expect((await client.threads.setHead(thread.id, { message_id: u2.id })).head_message_id).toBe(c.id);
    expect((await client.threads.setHead(thread.id, { message_id: u1.id })).head_message_id).toBe(c.id);
    expect((await client.threads.setHead(thread.id, { message_id: a2.id })).head_message_id).toBe(next.responseMessage.id);
  });

  it('lists a branch by its last message, or every message with view: all', async () => {
    const client = sdk(app, await app.signUp());
    const { thread, u1, a1, u2, a2 } = await twoTurns(client);
    fake.script({ type: 'text', content: 'Blue.' });
    const edit = await client.messages.create(thread.id, { content: 'Make it cooler.', parent_id: a1.id });
    const all = [u1.id, a1.id, u2.id, a2.id, edit.createdMessage.id, edit.responseMessage.id];

    expect(await branchIds(client, thread.id)).toEqual([u1.id, a1.id, edit.createdMessage.id, edit.responseMessage.id]);
    expect(await branchIds(client, thread.id, { branch: a2.id })).toEqual([u1.id, a1.id, u2.id, a2.id]);
    expect(await branchIds(client, thread.id, { branch: u2.id })).toEqual([u1.id, a1.id, u2.id]);
    const everything: number[] = [];
    for await (const message of client.messages.list(thread.id, { view: 'all', limit: 4 })) everything.push(message.id);
    expect(everything).toEqual(all);
    const explicit = await client.messages.list(thread.id, { view: 'branch' });
    expect(explicit.data.map((m) => m.id)).toEqual([u1.id, a1.id, edit.createdMessage.id, edit.responseMessage.id]);

    const missing = await expectStoresNothing(app, () => rejection(client.messages.list(thread.id, { branch: 987_654_321 })));
    expectRefused(missing, NotFoundError, { message: 'Message not found.' });
    const both = await expectStoresNothing(app, () => rejection(client.messages.list(thread.id, { branch: a2.id, view: 'all' })));
    expectRefused(both, ValidationError, invalid('branch', 'The branch field must not be combined with view all.'));
  });

  it('refuses a head that is not a message of the thread: ValidationError, the head kept, nothing stored', async () => {
    const client = sdk(app, await app.signUp());
    const { thread, a2 } = await twoTurns(client);
    const other = await twoTurns(client);
    for (const messageId of [other.a1.id, 987_654_321]) {
      const error = await expectStoresNothing(app, () => rejection(client.threads.setHead(thread.id, { message_id: messageId })));
      expectRefused(error, ValidationError, invalid('message_id', 'The message id field must be the id of a message of this thread.'));
    }
    expect((await client.threads.retrieve(thread.id)).head_message_id).toBe(a2.id);
    const stranger = sdk(app, await app.signUp());
    const hidden = await expectStoresNothing(app, () => rejection(stranger.threads.setHead(thread.id, { message_id: a2.id })));
    expectRefused(hidden, NotFoundError, { message: 'Thread not found.' });
    expect((await client.threads.retrieve(thread.id)).head_message_id).toBe(a2.id);
  });
});
