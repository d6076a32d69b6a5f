// POST /api/v1/ai/threads/{thread-id}/ui-stream refused or failing. Every refusal (401, 403, 404,
// 409, 412, 422, 429) is a JSON answer before any part, stores nothing and calls no model; the AI
// SDK's transport rejects with the server's answer. A failure after the start is an `error` part
// (the reader throws it), then `[DONE]`; the user's message is kept as `failed`.
import { describe, expect, it } from 'vitest';
import { UI_STREAM_MAX_MESSAGES } from '@ai-threads/contracts';
import type { UIMessage } from 'ai';
import { harness } from '../support/harness.js';
import { cookieHeaders, createApiToken, FORBIDDEN, TOO_MANY, UNAUTHENTICATED } from '../support/helpers.js';
import { openStream } from '../support/sse.js';
import { expectNothingStored } from '../support/helpers.js';
import { expect422, gate, listAll, MISSING_ID, newThread, sendMessage } from '../support/threads.js';
import { chat, postUiStream, sendChat, userText } from '../support/ui-stream.js';

const { app, fake, user, startApp } = await harness();
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** A refusal: this status and exactly this body, as JSON, nothing stored, no model call. */
async function expectRefused(threadId: number | string, body: unknown, headers: Record<string, string>, status: number, expected: unknown) {
  const calls = fake.requests.length;
  const res = await expectNothingStored(app, () => postUiStream(app, threadId, body, headers));
  expect({ status: res.status, body: res.body }).toStrictEqual({ status, body: expected });
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  expect(fake.requests.length).toBe(calls);
  return res;
}

const submit = (text = 'hi') => ({ messages: [userText(text)] });

describe('refusals, as JSON before any part', () => {
  it('401 without credentials or with an unknown token; the transport rejects with the answer', async () => {
    const thread = await newThread(app, user);
    await expectRefused(thread.id, submit(), {}, 401, UNAUTHENTICATED);
    await expectRefused(thread.id, submit(), bearer('ait_nosuchtoken.secret'), 401, UNAUTHENTICATED);
    const refused = await sendChat(app, thread.id, { messages: [userText('hi')] }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(Error);
    expect(JSON.parse((refused as Error).message)).toEqual(UNAUTHENTICATED);
  });

  it('403 for an API token without ai_thread_messages.create', async () => {
    const thread = await newThread(app, user);
    const { token } = await createApiToken(app, user.token, { permissions: ['ai_threads.view', 'ai_thread_messages.view'] });
    await expectRefused(thread.id, submit(), bearer(token), 403, FORBIDDEN);
  });

  it('403 for a session cookie sent from another site; streamed from this one', async () => {
    const thread = await newThread(app, user);
    await expectRefused(
      thread.id,
      submit(),
      { ...cookieHeaders(user.token, 'https://evil.example'), 'sec-fetch-site': 'cross-site' },
      403,
      FORBIDDEN,
    );
    await expectRefused(thread.id, submit(), cookieHeaders(user.token), 403, FORBIDDEN);
    fake.script({ type: 'text', content: 'Same site.' });
    const res = await postUiStream(app, thread.id, submit(), cookieHeaders(user.token, app.url));
    expect(res.status).toBe(200);
    expect(res.text).toContain('"type":"finish"');
  });

  it('404 for a missing thread and for another user’s thread', async () => {
    const other = await app.signUp();
    const theirs = await newThread(app, other);
    await expectRefused(MISSING_ID, submit(), bearer(user.token), 404, { message: 'Thread not found.' });
    await expectRefused(theirs.id, submit(), bearer(user.token), 404, { message: 'Thread not found.' });
  });

  it('409 with Retry-After while the thread answers another message', async () => {
    const thread = await newThread(app, user);
    const held = gate();
    const calls = fake.requests.length;
    fake.script({ type: 'gate', until: held.until, then: { type: 'text', content: 'First done.' } });
    const first = await openStream(app, thread.id, { token: user.token, body: { content: 'First' } });
    expect((await first.next())!.event).toBe('message.created');
    await fake.waitForRequests(calls + 1);

    const busy = await expectRefused(thread.id, submit('Second'), bearer(user.token), 409, {
      message: 'The thread is still answering an earlier message; retry when it is done.',
    });
    expect(busy.headers.get('retry-after')).toMatch(/^\d+$/);
    held.open();
    expect((await first.all()).at(-1)!.event).toBe('response.completed');
  });

  it('412 for a stale expected_state_version or If-Match, with the current version', async () => {
    const thread = await newThread(app, user, { state: { a: 1 } });
    const stale = {
      message: 'The state has changed: it is at version 1. Read it again (GET .../state) and retry with its version.',
      current_version: 1,
    };
    const res = await expectRefused(thread.id, { ...submit(), expected_state_version: 0 }, bearer(user.token), 412, stale);
    expect(res.headers.get('etag')).toBe('"1"');
    await expectRefused(thread.id, submit(), { ...bearer(user.token), 'if-match': '"7"' }, 412, stale);
  });

  it('429 with the rate-limit headers once the message budget is spent', async () => {
    const limited = await startApp({ env: { RATE_LIMIT_MESSAGES_PER_MINUTE: '1' } });
    const owner = await limited.signUp();
    const thread = await newThread(limited, owner);
    fake.script({ type: 'text', content: 'Only one.' });
    await chat(limited, thread.id, { token: owner.token, messages: [userText('One')] });
    const calls = fake.requests.length;
    const res = await expectNothingStored(limited, () => postUiStream(limited, thread.id, submit('Two'), bearer(owner.token)));
    expect({ status: res.status, body: res.body }).toStrictEqual({ status: 429, body: TOO_MANY });
    expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(res.headers.get('x-ratelimit-remaining')).toBe('0');
    expect(fake.requests.length).toBe(calls);
  });
});

describe('422: what cannot be posted', () => {
  const END_WITH_USER = 'The messages field must end with a user message.';
  const TEXT_ONLY =
    'The messages field must end with a user message of text parts only (files and other parts cannot be posted here).';
  const file = { type: 'file', mediaType: 'image/png', url: 'data:image/png;base64,AAAA' };
  const assistant: UIMessage = { id: 'a1', role: 'assistant', parts: [{ type: 'text', text: 'I am last' }] };

  it.each([
    ['an assistant message last', { messages: [userText('q'), assistant] }, { messages: [END_WITH_USER] }],
    ['a file part', { messages: [{ id: 'u1', role: 'user', parts: [{ type: 'text', text: 'see' }, file] }] }, { messages: [TEXT_ONLY] }],
    ['no parts', { messages: [{ id: 'u1', role: 'user', parts: [] }] }, { messages: ['The messages field must end with a user message whose text is not empty.'] }],
    [
      'only whitespace',
      { messages: [userText(' \n ')] },
      { messages: ['The messages field must end with a user message whose text must not be only whitespace.'] },
    ],
    [
      'a text over 5000 characters',
      { messages: [userText('x'.repeat(5001))] },
      { messages: ['The messages field must end with a user message whose text must not be greater than 5000 characters.'] },
    ],
    ['no messages', { messages: [] }, { messages: ['The messages field must have at least 1 item.'] }],
    ['messages missing', {}, { messages: ['The messages field is required.'] }],
    [
      'too many messages',
      { messages: Array.from({ length: UI_STREAM_MAX_MESSAGES + 1 }, (_, i) => ({ id: `m${i}`, role: 'user', parts: [] })) },
      { messages: [`The messages field must not have more than ${UI_STREAM_MAX_MESSAGES} items.`] },
    ],
    [
      'an edit (submit-message with messageId)',
      { ...submit(), messageId: 'client-1' },
      { messageId: ['The messageId field must be absent: editing a message is not supported on this route.'] },
    ],
    [
      'regenerate-message without messageId',
      { ...submit(), trigger: 'regenerate-message' },
      { messageId: ['The messageId field is required to regenerate.'] },
    ],
    [
      'regenerate-message with a client id',
      { ...submit(), trigger: 'regenerate-message', messageId: 'msg-abc' },
      { messageId: ['The messageId field must be the id of an assistant message of this thread.'] },
    ],
    ['an unknown trigger', { ...submit(), trigger: 'resume-stream' }, { trigger: ['The trigger field is invalid.'] }],
  ])('for %s', async (_label, body, errors) => {
    const thread = await newThread(app, user);
    const res = await expectNothingStored(app, () => postUiStream(app, thread.id, body, bearer(user.token)));
    expect422(res, errors);
  });

  it('regenerate-message for a user message, or a message of another thread', async () => {
    const thread = await newThread(app, user);
    fake.script({ type: 'text', content: 'Answer.' });
    const { createdMessage } = await sendMessage(app, user, thread.id, { content: 'Q' });
    const elsewhere = await newThread(app, user);
    fake.script({ type: 'text', content: 'Elsewhere.' });
    const { responseMessage } = await sendMessage(app, user, elsewhere.id, { content: 'Q2' });
    for (const messageId of [String(createdMessage.id), String(responseMessage.id), String(MISSING_ID)]) {
      const res = await expectNothingStored(app, () =>
        postUiStream(app, thread.id, { ...submit(), trigger: 'regenerate-message', messageId }, bearer(user.token)),
      );
      expect422(res, { messageId: ['The messageId field must be the id of an assistant message of this thread.'] });
    }
  });

  it('a resume (Last-Event-ID): this stream cannot be resumed', async () => {
    const thread = await newThread(app, user);
    const res = await expectNothingStored(app, () =>
      postUiStream(app, thread.id, submit(), { ...bearer(user.token), 'last-event-id': '41:3' }),
    );
    expect422(res, { last_event_id: ['The last event id field must be absent: this stream cannot be resumed (.../messages/stream can).'] });
  });
});

describe('the AI failing after the stream began', () => {
  it('ends with an error part, then [DONE]; the reader throws it and the message is kept as failed', async () => {
    const thread = await newThread(app, user);
    fake.script({ type: 'stream_error_after', deltas: ['Partial ', 'answer'] });
    const raw = await postUiStream(app, thread.id, submit('Break'), bearer(user.token));
    expect(raw.status).toBe(200);
    const lines = raw.text.split('\n').filter((line) => line.startsWith('data: '));
    expect(lines.at(-1)).toBe('data: [DONE]');
    expect(JSON.parse(lines.at(-2)!.slice(6))).toEqual({ type: 'error', errorText: expect.any(String) });

    fake.script({ type: 'error', status: 500 });
    const failure = await chat(app, thread.id, { token: user.token, messages: [userText('Fail')] }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(Error);
    expect((failure as Error).message).toMatch(/\S/);
    const messages = await listAll(app, user, thread.id);
    expect(messages.map((m) => [m.role, m.content, m.status])).toEqual([
      ['user', 'Break', 'failed'],
      ['user', 'Fail', 'failed'],
    ]);
  });
});
