// The state size limit at its very edge, measured as the server measures it (the UTF-8 bytes of
// the state's JSON text, server/src/state/limits.ts): STATE_MAX_BYTES (65,536 by default) is
// accepted, one byte more is a 422 that stores nothing — on thread create and on a message, on
// both faces — and the model's update_state patch that would pass the limit is refused to the
// model (an error tool answer), which goes on; the stored state never passes the limit.
import { beforeAll, describe, expect, it } from 'vitest';
import { harness, type ApiResponse } from '../support/harness.js';
import { trpc } from '../support/helpers.js';
import { expectStoresNothing, newThread } from '../support/threads.js';

const LIMIT = 65_536;

/** `{"form":{"note":"é…x…"}}` of exactly `bytes` UTF-8 bytes (1,000 two-byte characters among them). */
function stateOfBytes(bytes: number): { form: { note: string } } {
  const frame = Buffer.byteLength(JSON.stringify({ form: { note: '' } }), 'utf8');
  const state = { form: { note: 'é'.repeat(1_000) + 'x'.repeat(bytes - frame - 2_000) } };
  expect(Buffer.byteLength(JSON.stringify(state), 'utf8')).toBe(bytes);
  return state;
}

const sizeOf = (state: unknown) => Buffer.byteLength(JSON.stringify(state), 'utf8');
const tooLarge = `The state field must not be larger than ${LIMIT} bytes as JSON (it is ${LIMIT + 1}).`;

const { app, fake, user } = await harness();
beforeAll(async () => {
  expect(app.config.STATE_MAX_BYTES).toBe(LIMIT);
});

type Face = 'REST' | 'tRPC';
interface Outcome {
  status: number;
  data: any;
  errors: Record<string, string[]> | undefined;
  message: string | undefined;
}

function outcome(face: Face, res: ApiResponse): Outcome {
  if (face === 'REST') return { status: res.status, data: res.body, errors: res.body?.errors, message: res.body?.message };
  const error = res.body?.error;
  return { status: res.status, data: res.body?.result?.data, errors: error?.data?.errors, message: error?.message };
}

async function createThread(face: Face, body: Record<string, unknown>): Promise<Outcome> {
  const res =
    face === 'REST'
      ? await app.api('POST', '/ai/threads', { token: user.token, body })
      : await trpc(app, 'mutation', 'threads.create', body, { token: user.token });
  return outcome(face, res);
}

async function createMessage(face: Face, threadId: number, body: Record<string, unknown>): Promise<Outcome> {
  const res =
    face === 'REST'
      ? await app.api('POST', `/ai/threads/${threadId}/messages`, { token: user.token, body })
      : await trpc(app, 'mutation', 'messages.create', { threadId, ...body }, { token: user.token });
  return outcome(face, res);
}

async function storedState(threadId: number): Promise<unknown> {
  const res = await app.api('GET', `/ai/threads/${threadId}`, { token: user.token });
  expect(res.status).toBe(200);
  return res.body.state;
}

describe.each<Face>(['REST', 'tRPC'])('%s: a state of exactly the limit', (face) => {
  it(`thread create: ${LIMIT} bytes accepted, ${LIMIT + 1} refused with a 422 on state`, async () => {
    const exact = await createThread(face, { state: stateOfBytes(LIMIT) });
    expect(exact.status).toBe(201);
    expect(sizeOf(await storedState(exact.data.id))).toBe(LIMIT);
    expect(await storedState(exact.data.id)).toStrictEqual(stateOfBytes(LIMIT));

    const over = await expectStoresNothing(app, () => createThread(face, { state: stateOfBytes(LIMIT + 1) }));
    expect(over).toMatchObject({ status: 422, message: tooLarge, errors: { state: [tooLarge] } });
  });

  it(`a message: ${LIMIT} bytes accepted and kept, ${LIMIT + 1} refused with a 422 on state`, async () => {
    const thread = await newThread(app, user, { state: { before: true } });
    const calls = fake.requests.length;
    const over = await expectStoresNothing(app, () => createMessage(face, thread.id, { content: 'hi', state: stateOfBytes(LIMIT + 1) }));
    expect(over).toMatchObject({ status: 422, message: tooLarge, errors: { state: [tooLarge] } });
    expect(fake.requests.length).toBe(calls);
    expect(await storedState(thread.id)).toStrictEqual({ before: true });

    fake.script({ type: 'text', content: 'Noted.' });
    const exact = await createMessage(face, thread.id, { content: 'hi', state: stateOfBytes(LIMIT) });
    expect(exact.status).toBe(201);
    expect(exact.data.createdMessage.state).toStrictEqual(stateOfBytes(LIMIT));
    expect(exact.data.responseMessage.updated_state).toStrictEqual(stateOfBytes(LIMIT));
    expect(sizeOf(await storedState(thread.id))).toBe(LIMIT);
  });

  it(`the model's patch: a result of ${LIMIT} bytes is applied`, async () => {
    const thread = await newThread(app, user);
    fake.script(
      { type: 'tool_calls', calls: [{ arguments: { patch: stateOfBytes(LIMIT) } }] },
      { type: 'text', content: 'Filled in.' },
    );
    const res = await createMessage(face, thread.id, { content: 'fill the form' });
    expect(res.status).toBe(201);
    expect(res.data.responseMessage).toMatchObject({ status: 'completed', content: 'Filled in.' });
    expect(res.data.responseMessage.updated_state).toStrictEqual(stateOfBytes(LIMIT));
    expect(sizeOf(await storedState(thread.id))).toBe(LIMIT);
  });

  it(`the model's patch: a result of ${LIMIT + 1} bytes is refused to the model, which goes on; nothing over the limit is stored`, async () => {
    const thread = await newThread(app, user, { state: { keep: 1 } });
    const seen = fake.requests.length;
    // Onto {"keep":1}: the note's state, one byte over once merged.
    const overBy1 = stateOfBytes(LIMIT + 1 - sizeOf({ keep: 1 }) + 1);
    fake.script(
      { type: 'tool_calls', calls: [{ arguments: { patch: overBy1 } }, { arguments: { patch: { ok: true } } }] },
      { type: 'text', content: 'Part of it was too large.' },
    );
    const res = await createMessage(face, thread.id, { content: 'fill the form' });
    expect(res.status).toBe(201);
    expect(res.data.responseMessage).toMatchObject({ status: 'completed', content: 'Part of it was too large.' });
    expect(res.data.responseMessage.updated_state).toStrictEqual({ keep: 1, ok: true });
    expect(await storedState(thread.id)).toStrictEqual({ keep: 1, ok: true });

    const replies = fake.requests[seen + 1]!.body.messages
      .filter((m: { role: string }) => m.role === 'tool')
      .map((m: { content: string }) => JSON.parse(m.content));
    expect(replies).toStrictEqual([
      { error: `the patch was not applied: the resulting state is ${LIMIT + 1} bytes, over the limit of ${LIMIT}` },
      { keep: 1, ok: true },
    ]);
  });
});
