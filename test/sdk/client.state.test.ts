// The versioned state through the SDK, against the real app: `client.threads.state` (read, merge and
// JSON patch with a precondition in the body or as `ifMatch`), the 412 and 428 as their error
// classes and the recovery a 412 asks for, `state.revisions` paged in both directions, revert, and
// in review mode `client.messages.proposal` (the offline model proposes, a person accepts or
// rejects), the seed endpoint's optional precondition, and the nested procedures of the typed tRPC
// client.
import { describe, expect, it } from 'vitest';
import {
  ConflictError,
  NotFoundError,
  PreconditionFailedError,
  PreconditionRequiredError,
  type AiThreads,
  type StateRevision,
} from '../../client-sdk/src/index.js';
import { createAiThreadsTRPCClient } from '../../client-sdk/src/trpc.js';
import { harness, type TestApp } from '../support/harness.js';
import { expectStoresNothing } from '../support/threads.js';
import { sdk } from './helpers.js';

const { app } = await harness();

/** The rejection of `promise`, which must reject. */
async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => expect.unreachable('the call succeeded'),
    (error: unknown) => error,
  );
}

/** Runs a refused call: no row of any resource and no revision stored, the state as it was. */
async function expectStateKept<T>(app: TestApp, client: AiThreads, threadId: number, call: () => Promise<T>): Promise<T> {
  const state = await client.threads.state.retrieve(threadId);
  const revisions = await app.count('state_revisions');
  const result = await expectStoresNothing(app, call);
  expect(await app.count('state_revisions')).toBe(revisions);
  expect(await client.threads.state.retrieve(threadId)).toEqual(state);
  return result;
}

/** A thread whose state went through `count` merge patches: versions 1 to `count`. */
async function threadWithVersions(client: AiThreads, count: number): Promise<number> {
  const thread = await client.threads.create({ title: 'History' });
  for (let version = 0; version < count; version += 1) {
    await client.threads.state.patch(thread.id, { merge_patch: { step: version + 1 }, expected_version: version });
  }
  return thread.id;
}

describe('client.threads.state', () => {
  it('reads the state and patches it with a merge patch and a JSON patch, each conditional', async () => {
    const user = await app.signUp();
    const client = sdk(app, user);
    const thread = await client.threads.create({ title: 'Form' });
    const initial = await client.threads.state.retrieve(thread.id).withResponse();
    expect(initial.data).toEqual({ state: null, version: 0 });
    expect(initial.response.headers.get('etag')).toBe('"0"');

    const merged = await client.threads.state.patch(thread.id, {
      merge_patch: { form: { field: 'value', color: 'red' } },
      expected_version: 0,
    });
    expect(merged).toEqual({ state: { form: { field: 'value', color: 'red' } }, version: 1 });

    const patched = await client.threads.state
      .patch(
        thread.id,
        {
          json_patch: [
            { op: 'test', path: '/form/color', value: 'red' },
            { op: 'replace', path: '/form/color', value: 'blue' },
            { op: 'remove', path: '/form/field' },
          ],
        },
        { ifMatch: merged.version },
      )
      .withResponse();
    expect(patched.data).toEqual({ state: { form: { color: 'blue' } }, version: 2 });
    expect(patched.response.headers.get('etag')).toBe('"2"');

    const any = await client.threads.state.patch(thread.id, { merge_patch: { done: true } }, { ifMatch: '*' });
    expect(any).toEqual({ state: { form: { color: 'blue' }, done: true }, version: 3 });
    expect(await client.threads.state.retrieve(thread.id)).toEqual(any);
    expect((await client.threads.retrieve(thread.id)).state_version).toBe(3);
  });

  it('412: two editors collide; the second gets PreconditionFailedError with current_version, and recovers', async () => {
    const user = await app.signUp();
    const alice = sdk(app, user);
    const bob = sdk(app, user);
    const thread = await alice.threads.create({ title: 'Shared' });
    await alice.threads.state.patch(thread.id, { merge_patch: { form: { color: 'red' } }, expected_version: 0 });

    const seenByBob = await bob.threads.state.retrieve(thread.id);
    await alice.threads.state.patch(thread.id, { merge_patch: { form: { size: 2 } }, expected_version: seenByBob.version });

    const error = await expectStateKept(app, bob, thread.id, () =>
      rejection(bob.threads.state.patch(thread.id, { merge_patch: { form: { color: 'blue' } }, expected_version: seenByBob.version })),
    );
    expect(error).toBeInstanceOf(PreconditionFailedError);
    const failed = error as PreconditionFailedError;
    expect(failed.status).toBe(412);
    expect(failed.body).toStrictEqual({
      message: 'The state has changed: it is at version 2. Read it again (GET .../state) and retry with its version.',
      current_version: 2,
    });
    expect(failed.currentVersion).toBe(2);
    expect(failed.headers.get('etag')).toBe('"2"');

    // The same with the precondition as If-Match.
    const viaHeader = await rejection(bob.threads.state.patch(thread.id, { merge_patch: { x: 1 } }, { ifMatch: seenByBob.version }));
    expect(viaHeader).toBeInstanceOf(PreconditionFailedError);
    expect((viaHeader as PreconditionFailedError).currentVersion).toBe(2);

    // Recovery: read the state, apply the change again, retry with the version just read.
    const current = await bob.threads.state.retrieve(thread.id);
    expect(current.version).toBe(failed.currentVersion);
    const retried = await bob.threads.state.patch(thread.id, { merge_patch: { form: { color: 'blue' } }, expected_version: current.version });
    expect(retried).toEqual({ state: { form: { color: 'blue', size: 2 } }, version: 3 });
  });

  it('428: a patch without a precondition is PreconditionRequiredError, and nothing is stored', async () => {
    const user = await app.signUp();
    const client = sdk(app, user);
    const thread = await client.threads.create({ title: 'Form' });
    const error = await expectStateKept(app, client, thread.id, () =>
      rejection(client.threads.state.patch(thread.id, { merge_patch: { form: { color: 'blue' } } })),
    );
    expect(error).toBeInstanceOf(PreconditionRequiredError);
    expect((error as PreconditionRequiredError).status).toBe(428);
    expect((error as PreconditionRequiredError).body).toStrictEqual({
      message: "This request must be conditional: send If-Match with the state's ETag.",
    });
  });
});

describe('client.threads.state.revisions', () => {
  it('lists every revision newest first across pages, and walks back with before', async () => {
    const user = await app.signUp();
    const client = sdk(app, user);
    const threadId = await threadWithVersions(client, 5);

    const first = await client.threads.state.revisions.list(threadId, { limit: 2 });
    expect(first.data.map((r) => r.version)).toEqual([5, 4]);
    expect(first.hasNextPage()).toBe(true);

    const all: StateRevision[] = [];
    for await (const revision of client.threads.state.revisions.list(threadId, { limit: 2 })) all.push(revision);
    expect(all.map((r) => r.version)).toEqual([5, 4, 3, 2, 1]);
    expect(all.every((r) => r.source === 'state' && r.message_id === null)).toBe(true);
    // The first change replaces the never-set state (null) as a whole.
    expect(all.at(-1)!.patch).toEqual([{ op: 'replace', path: '', value: { step: 1 } }]);
    expect(all[0]!.patch).toEqual([{ op: 'replace', path: '/step', value: 5 }]);

    // `before` gives the newer versions, a page at a time walking back up the list (each page in
    // list order, newest first): the next page is the one before this page's first version.
    const newer: number[][] = [];
    const back = await client.threads.state.revisions.list(threadId, { limit: 2, before: 1 });
    for await (const page of back.iterPages()) newer.push(page.data.map((r) => r.version));
    expect(newer).toEqual([
      [3, 2],
      [5, 4],
    ]);
  });

  it('retrieves one revision with its whole state', async () => {
    const user = await app.signUp();
    const client = sdk(app, user);
    const threadId = await threadWithVersions(client, 3);
    const revision = await client.threads.state.revisions.retrieve(threadId, 2);
    expect(revision).toMatchObject({
      version: 2,
      source: 'state',
      message_id: null,
      patch: [{ op: 'replace', path: '/step', value: 2 }],
      state: { step: 2 },
    });
  });

  it('reverts to a version as a new revision, conditionally', async () => {
    const user = await app.signUp();
    const client = sdk(app, user);
    const threadId = await threadWithVersions(client, 3);

    const stale = await expectStateKept(app, client, threadId, () =>
      rejection(client.threads.state.revert(threadId, { version: 1, expected_version: 2 })),
    );
    expect(stale).toBeInstanceOf(PreconditionFailedError);
    expect((stale as PreconditionFailedError).currentVersion).toBe(3);

    const reverted = await client.threads.state.revert(threadId, { version: 1, expected_version: 3 });
    expect(reverted).toEqual({ state: { step: 1 }, version: 4 });
    expect(await client.threads.state.revisions.retrieve(threadId, 4)).toMatchObject({
      source: 'revert',
      message_id: null,
      patch: [{ op: 'replace', path: '/step', value: 1 }],
      state: { step: 1 },
    });
    // History is kept: version 3 is still there.
    expect((await client.threads.state.revisions.retrieve(threadId, 3)).state).toEqual({ step: 3 });
  });
});

describe('messages with a precondition', () => {
  it('create and stream refuse a stale expected_state_version or ifMatch with PreconditionFailedError', async () => {
    const user = await app.signUp();
    const client = sdk(app, user);
    const thread = await client.threads.create({ title: 'Form' });
    await client.threads.state.patch(thread.id, { merge_patch: { form: { color: 'red' } }, expected_version: 0 });

    for (const call of [
      () => client.messages.create(thread.id, { content: 'Hello!', expected_state_version: 0 }),
      () => client.messages.create(thread.id, { content: 'Hello!' }, { ifMatch: 0 }),
      () => client.messages.stream(thread.id, { content: 'Hello!', expected_state_version: 0 }).finalMessage(),
    ]) {
      const error = await expectStateKept(app, client, thread.id, () => rejection(call()));
      expect(error).toBeInstanceOf(PreconditionFailedError);
      expect((error as PreconditionFailedError).body).toStrictEqual({
        message: 'The state has changed: it is at version 1. Read it again (GET .../state) and retry with its version.',
        current_version: 1,
      });
    }
  });
});

describe('the typed tRPC client', () => {
  it('calls the nested state procedures', async () => {
    const user = await app.signUp();
    const trpc = createAiThreadsTRPCClient({ url: app.url, token: user.token });
    const thread = await trpc.threads.create.mutate({ title: 'Over tRPC' });
    const merged = await trpc.threads.state.patch.mutate({ threadId: thread.id, merge_patch: { form: {} }, expected_version: 0 });
    const patched = await trpc.threads.state.patch.mutate({
      threadId: thread.id,
      json_patch: [{ op: 'add', path: '/form/color', value: 'blue' }],
      expected_version: merged.version,
    });
    expect(patched).toEqual({ state: { form: { color: 'blue' } }, version: 2 });
    expect(await trpc.threads.state.get.query({ threadId: thread.id })).toEqual(patched);
    const page = await trpc.threads.state.revisions.list.query({ threadId: thread.id });
    expect(page.data.map((r) => [r.version, r.source])).toEqual([
      [2, 'state'],
      [1, 'state'],
    ]);
    expect((await trpc.threads.state.revisions.get.query({ threadId: thread.id, version: 2 })).state).toEqual(patched.state);
  });
});

describe('client.messages.proposal (review mode, offline model)', async () => {
  const { app } = await harness({ model: 'offline' });

  it('accept and reject of a message without a proposal: NotFoundError, nothing stored', async () => {
    const user = await app.signUp();
    const client = sdk(app, user);
    const thread = await client.threads.create({ title: 'Auto', state: { form: { field: 'value' } } });
    const { responseMessage } = await client.messages.create(thread.id, { content: 'Hello!' });
    expect(responseMessage.proposal).toBeNull();
    const { version } = await client.threads.state.retrieve(thread.id);
    for (const call of [
      () => client.messages.proposal.accept(thread.id, responseMessage.id, { expected_version: version }),
      () => client.messages.proposal.reject(thread.id, responseMessage.id),
    ]) {
      const error = await expectStateKept(app, client, thread.id, () => rejection(call()));
      expect(error).toBeInstanceOf(NotFoundError);
      expect((error as NotFoundError).body).toStrictEqual({ message: 'The message has no proposal.' });
    }
  });

  it('proposes the AI’s change; a person accepts part of it, then rejects the next one', async () => {
    const user = await app.signUp();
    const client = sdk(app, user);
    const thread = await client.threads.create({ title: 'Review', state_review: 'review', state: { form: { field: 'value' } } });
    const before = await client.threads.state.retrieve(thread.id);

    const { responseMessage } = await client.messages.create(thread.id, {
      content: 'set form.color to blue\nset form.size to 3',
      expected_state_version: before.version,
    });
    expect(responseMessage.updated_state).toEqual(before.state);
    expect(responseMessage.state_patch).toEqual([]);
    expect(responseMessage.proposal).toMatchObject({
      status: 'pending',
      proposed_state: { form: { field: 'value', color: 'blue', size: 3 } },
    });
    expect(responseMessage.proposal!.patch).toEqual(
      expect.arrayContaining([
        { op: 'add', path: '/form/color', value: 'blue' },
        { op: 'add', path: '/form/size', value: 3 },
      ]),
    );
    expect(await client.threads.state.retrieve(thread.id)).toEqual(before);

    // Only the color: the operations at or under /form/color.
    const accepted = await client.messages.proposal.accept(thread.id, responseMessage.id, {
      paths: ['/form/color'],
      expected_version: before.version,
    });
    expect(accepted).toMatchObject({
      state: { form: { field: 'value', color: 'blue' } },
      version: before.version + 1,
      message: { id: responseMessage.id, proposal: { status: 'accepted' } },
    });
    expect(await client.threads.state.revisions.retrieve(thread.id, accepted.version)).toMatchObject({
      source: 'proposal',
      message_id: responseMessage.id,
      patch: [{ op: 'add', path: '/form/color', value: 'blue' }],
    });
    const again = await rejection(client.messages.proposal.accept(thread.id, responseMessage.id, { expected_version: accepted.version }));
    expect(again).toBeInstanceOf(ConflictError);

    const next = await client.messages.create(thread.id, { content: 'set form.color to red' });
    expect(next.responseMessage.proposal).toMatchObject({ status: 'pending', proposed_state: { form: { field: 'value', color: 'red' } } });
    const rejected = await client.messages.proposal.reject(thread.id, next.responseMessage.id);
    expect(rejected).toMatchObject({ id: next.responseMessage.id, proposal: { status: 'rejected' } });
    expect(await client.threads.state.retrieve(thread.id)).toEqual({ state: accepted.state, version: accepted.version });
  });

  it('accepts a whole proposal with If-Match, and refuses a stale one with PreconditionFailedError', async () => {
    const user = await app.signUp();
    const client = sdk(app, user);
    const thread = await client.threads.create({ title: 'Review', state_review: 'review', state: { form: { field: 'value' } } });
    const { responseMessage } = await client.messages.create(thread.id, { content: 'set form.color to blue' });
    const start = await client.threads.state.retrieve(thread.id);
    await client.threads.state.patch(thread.id, { merge_patch: { note: 'edited meanwhile' }, expected_version: start.version });

    const stale = await expectStateKept(app, client, thread.id, () =>
      rejection(client.messages.proposal.accept(thread.id, responseMessage.id, { expected_version: start.version })),
    );
    expect(stale).toBeInstanceOf(PreconditionFailedError);
    expect((stale as PreconditionFailedError).currentVersion).toBe(start.version + 1);

    const accepted = await client.messages.proposal.accept(thread.id, responseMessage.id, {}, { ifMatch: start.version + 1 });
    expect(accepted).toMatchObject({
      state: { form: { field: 'value', color: 'blue' }, note: 'edited meanwhile' },
      version: start.version + 2,
      message: { proposal: { status: 'accepted' } },
    });
  });
});
