// The SDK against the real app (answered by the fake OpenAI-compatible server): every resource,
// pages iterated across cursors, the streamed answer with its typed events and final pair, a
// stream resumed with Last-Event-ID after a dropped connection, and the typed tRPC client.
import { EventSource } from 'eventsource';
import { describe, expect, it } from 'vitest';
import {
  AiThreads,
  AuthenticationError,
  BadGatewayError,
  CursorPage,
  NotFoundError,
  type MessageStreamEvent,
} from '../../client-sdk/src/index.js';
import { createAiThreadsTRPCClient } from '../../client-sdk/src/trpc.js';
import { harness, uniqueEmail } from '../support/harness.js';
import { gate, inFlight, messageRows } from '../support/threads.js';
import { recordingFetch, sdk } from './helpers.js';

const { app, fake } = await harness();

describe('auth and me', () => {
  it('signs up, signs in, reads the caller and signs out', async () => {
    const anonymous = sdk(app);
    const email = uniqueEmail('sdk');
    const session = await anonymous.auth.signUp({ email, password: 'correct horse battery', name: 'Ada' });
    expect(session.user).toMatchObject({ email, name: 'Ada', role: 'member' });

    const client = anonymous.withOptions({ apiKey: session.token });
    const me = await client.me.retrieve();
    expect(me.user.id).toBe(session.user.id);
    expect(me.auth).toEqual({ type: 'session', api_token_id: null });
    expect(me.permissions).toContain('ai_thread_messages.create');

    const again = await anonymous.auth.signIn({ email, password: 'correct horse battery' });
    expect(again.user.id).toBe(session.user.id);

    await expect(client.auth.signOut()).resolves.toBeUndefined();
    await expect(client.me.retrieve()).rejects.toBeInstanceOf(AuthenticationError);
    expect((await anonymous.withOptions({ apiKey: again.token }).me.retrieve()).user.id).toBe(session.user.id);
  });
});

describe('api tokens', () => {
  it('creates, lists, retrieves and revokes a token that then authenticates no more', async () => {
    const user = await app.signUp();
    const client = sdk(app, user);
    const created = await client.apiTokens.create({ name: 'ci', permissions: ['ai_threads.view'] });
    expect(created.api_token).toMatchObject({ name: 'ci', permissions: ['ai_threads.view'] });

    const byToken = sdk(app, created.token);
    expect(await byToken.me.retrieve()).toMatchObject({
      permissions: ['ai_threads.view'],
      auth: { type: 'api_token', api_token_id: created.api_token.id },
    });

    await client.apiTokens.create({ name: 'second', permissions: ['ai_threads.view'] });
    const names: string[] = [];
    for await (const token of client.apiTokens.list({ limit: 1 })) names.push(token.name);
    expect(names).toEqual(['second', 'ci']);
    expect(await client.apiTokens.retrieve(created.api_token.id)).toEqual({
      ...created.api_token,
      last_used_at: expect.any(String),
    });

    await expect(client.apiTokens.revoke(created.api_token.id)).resolves.toBeUndefined();
    await expect(byToken.me.retrieve()).rejects.toBeInstanceOf(AuthenticationError);
    await expect(client.apiTokens.retrieve(created.api_token.id)).rejects.toBeInstanceOf(NotFoundError);
  });
});

describe('threads', () => {
  it('creates, retrieves, updates, lists and deletes, with a baseURL that names /api/v1', async () => {
    const user = await app.signUp();
    const client = new AiThreads({ baseURL: `${app.url}/api/v1/`, apiKey: user.token });
    const thread = await client.threads.create({
      title: 'Form',
      instructions: 'Be brief.',
      metadata: { project: 'sdk' },
      state: { form: { field: 'value' } },
    });
    expect(thread).toMatchObject({ title: 'Form', instructions: 'Be brief.', metadata: { project: 'sdk' }, message_count: 0 });
    expect(await client.threads.retrieve(thread.id)).toEqual(thread);

    const updated = await client.threads.update(thread.id, { title: 'Renamed', instructions: null });
    expect(updated).toMatchObject({ id: thread.id, title: 'Renamed', instructions: null, state: { form: { field: 'value' } } });

    const page = await client.threads.list({ metadata_key: 'project', metadata_value: 'sdk' });
    expect(page.data.map((t) => t.id)).toEqual([thread.id]);

    await expect(client.threads.delete(thread.id)).resolves.toBeUndefined();
    await expect(client.threads.retrieve(thread.id)).rejects.toBeInstanceOf(NotFoundError);
  });

  it('sends one Idempotency-Key per create: the same key replays the same thread', async () => {
    const user = await app.signUp();
    const client = sdk(app, user);
    const first = await client.threads.create({ title: 'Once' }, { idempotencyKey: 'sdk-thread-1' }).withResponse();
    const again = await client.threads.create({ title: 'Once' }, { idempotencyKey: 'sdk-thread-1' }).withResponse();
    expect(again.data).toEqual(first.data);
    expect(again.response.headers.get('idempotent-replayed')).toBe('true');
    expect(first.requestId).toEqual(expect.any(String));
    const all = await client.threads.list();
    expect(all.data).toHaveLength(1);
  });
});

describe('messages', () => {
  it("answers the seed's example and reads the messages back", async () => {
    const user = await app.signUp();
    const client = sdk(app, user);
    const thread = await client.threads.create({ title: 'Form' });
    fake.script({ type: 'text', content: 'Hi! How can I help?' });

    const { createdMessage, responseMessage } = await client.messages.create(thread.id, {
      content: 'Hello!',
      state: { form: { field: 'value' } },
    });
    expect(createdMessage).toMatchObject({ thread_id: thread.id, role: 'user', content: 'Hello!', status: 'completed' });
    expect(responseMessage).toMatchObject({
      role: 'assistant',
      content: 'Hi! How can I help?',
      status: 'completed',
      model: 'fake-model',
      updated_state: { form: { field: 'value' } },
    });

    expect(await client.messages.retrieve(thread.id, responseMessage.id)).toEqual(responseMessage);
    const page = await client.messages.list(thread.id);
    expect(page.data).toEqual([createdMessage, responseMessage]);
    expect(page.hasMore).toBe(false);
    expect(page.nextCursor).toBeNull();
    expect(page.hasNextPage()).toBe(false);
  });

  it('cancels an answer in progress', async () => {
    const user = await app.signUp();
    const client = sdk(app, user);
    const thread = await client.threads.create();
    fake.script({ type: 'hang' });
    const { done } = await inFlight(fake, () => client.messages.create(thread.id, { content: 'Never mind' }));
    const pending = (await client.messages.list(thread.id)).data[0]!;
    expect(pending.status).toBe('pending');

    const cancelled = await client.messages.cancel(thread.id, pending.id);
    expect(cancelled.createdMessage).toMatchObject({ id: pending.id, status: 'cancelled' });
    expect(cancelled.responseMessage).toMatchObject({ role: 'assistant', status: 'cancelled' });
    expect((await done).createdMessage.status).toBe('cancelled');
  });
});

describe('pagination', () => {
  it('iterates every thread across pages, newest first, and pages one by one', async () => {
    const user = await app.signUp();
    const client = sdk(app, user);
    const ids: number[] = [];
    for (let i = 0; i < 5; i += 1) ids.push((await client.threads.create({ title: `t${i}` })).id);

    const first = await client.threads.list({ limit: 2 });
    expect(first).toBeInstanceOf(CursorPage);
    expect(first.data.map((t) => t.id)).toEqual([ids[4], ids[3]]);
    expect(first.hasMore).toBe(true);
    expect(first.nextCursor).toBe(ids[3]);
    const second = await first.getNextPage();
    expect(second.data.map((t) => t.id)).toEqual([ids[2], ids[1]]);

    const seen: number[] = [];
    for await (const thread of client.threads.list({ limit: 2 })) seen.push(thread.id);
    expect(seen).toEqual([...ids].reverse());

    const sizes: number[] = [];
    for await (const page of first.iterPages()) sizes.push(page.data.length);
    expect(sizes).toEqual([2, 2, 1]);

    // With `before`, the pages walk backwards from the cursor, each in list order.
    const backwards: number[][] = [];
    for await (const page of (await client.threads.list({ limit: 2, before: ids[1] })).iterPages()) {
      backwards.push(page.data.map((t) => t.id));
    }
    expect(backwards).toEqual([[ids[3], ids[2]], [ids[4]]]);
  });

  it('iterates messages oldest first across pages', async () => {
    const user = await app.signUp();
    const client = sdk(app, user);
    const thread = await client.threads.create();
    for (const content of ['one', 'two', 'three']) {
      fake.script({ type: 'text', content: `re: ${content}` });
      await client.messages.create(thread.id, { content });
    }
    const contents: string[] = [];
    for await (const message of client.messages.list(thread.id, { limit: 4 })) contents.push(message.content);
    expect(contents).toEqual(['one', 're: one', 'two', 're: two', 'three', 're: three']);
  });
});

describe('streaming', () => {
  it('yields typed events with ids and ends with the stored pair', async () => {
    const user = await app.signUp();
    const client = sdk(app, user);
    const thread = await client.threads.create();
    fake.script({ type: 'text', content: 'Streaming works well.' });

    const stream = client.messages.stream(thread.id, { content: 'Stream it', state: { step: 1 } });
    const events: MessageStreamEvent[] = [];
    for await (const event of stream) events.push(event);
    const pair = await stream.finalMessage();

    expect(events[0]).toMatchObject({ event: 'message.created', data: { role: 'user', content: 'Stream it', state: { step: 1 } } });
    const last = events[events.length - 1]!;
    expect(last.event).toBe('response.completed');
    expect(last.data).toEqual(pair);
    const text = events.flatMap((e) => (e.event === 'response.delta' ? [e.data.delta] : [])).join('');
    expect(text).toBe('Streaming works well.');
    expect(pair.responseMessage).toMatchObject({ content: 'Streaming works well.', status: 'completed', updated_state: { step: 1 } });
    expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
    expect(stream.requestId).toEqual(expect.any(String));
    expect(await messageRows(app, thread.id)).toBe(2);
  });

  it('finalMessage() reads the stream itself', async () => {
    const user = await app.signUp();
    const client = sdk(app, user);
    const thread = await client.threads.create();
    fake.script({ type: 'text', content: 'Just the pair.' });
    const pair = await client.messages.stream(thread.id, { content: 'Quick' }).finalMessage();
    expect(pair.createdMessage.content).toBe('Quick');
    expect(pair.responseMessage.content).toBe('Just the pair.');
  });

  it('ends with an error event when the AI fails; the same key streams the same message again', async () => {
    const user = await app.signUp();
    const client = sdk(app, user);
    const thread = await client.threads.create();
    fake.script({ type: 'error', status: 500 });

    const failing = client.messages.stream(thread.id, { content: 'Try me' }, { idempotencyKey: 'sdk-stream-retry' });
    const names: string[] = [];
    for await (const event of failing) names.push(event.event);
    expect(names).toEqual(['message.created', 'error']);
    const error = await failing.finalMessage().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BadGatewayError);
    expect(error).toMatchObject({ status: 502 });

    fake.script({ type: 'text', content: 'Second time lucky.' });
    const pair = await client.messages.stream(thread.id, { content: 'Try me' }, { idempotencyKey: 'sdk-stream-retry' }).finalMessage();
    expect(pair.responseMessage.content).toBe('Second time lucky.');
    expect(pair.createdMessage.status).toBe('completed');
    const messages = (await client.messages.list(thread.id)).data;
    expect(messages.map((m) => [m.role, m.content, m.status])).toEqual([
      ['user', 'Try me', 'completed'],
      ['assistant', 'Second time lucky.', 'completed'],
    ]);
  });

  it('reconnects with Last-Event-ID after a dropped connection and misses nothing', async () => {
    const user = await app.signUp();
    const held = gate();
    fake.script({ type: 'gate', until: held.until, then: { type: 'text', content: 'Worth the wait.' } });
    let cut = false;
    const recording = recordingFetch((attempt, response) => {
      if (!attempt.path.endsWith('/messages/stream')) return;
      if (attempt.headers.has('last-event-id')) {
        held.open();
        return;
      }
      if (cut || !response.body) return;
      cut = true;
      return dropAfterFirstEvent(response);
    });
    const client = sdk(app, user, { fetch: recording.fetch });
    const thread = await client.threads.create();

    const stream = client.messages.stream(thread.id, { content: 'Hold on' });
    const events: MessageStreamEvent[] = [];
    for await (const event of stream) events.push(event);

    expect(stream.reconnects).toBe(1);
    const streamAttempts = recording.attempts.filter((a) => a.path.endsWith('/messages/stream'));
    expect(streamAttempts).toHaveLength(2);
    expect(streamAttempts[1]!.headers.get('last-event-id')).toBe(events[0]!.id);
    expect(streamAttempts[1]!.headers.get('idempotency-key')).toBe(streamAttempts[0]!.headers.get('idempotency-key'));
    expect(events.filter((e) => e.event === 'message.created')).toHaveLength(1);
    const text = events.flatMap((e) => (e.event === 'response.delta' ? [e.data.delta] : [])).join('');
    expect(text).toBe('Worth the wait.');
    expect((await stream.finalMessage()).responseMessage.content).toBe('Worth the wait.');
    expect(await messageRows(app, thread.id)).toBe(2);
  });
});

/** The same response, whose body breaks right after the first complete event. */
function dropAfterFirstEvent(response: Response): Response {
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let seen = '';
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      const { done, value } = await reader.read();
      if (done) {
        controller.close();
        return;
      }
      controller.enqueue(value);
      seen += decoder.decode(value, { stream: true });
      if (/\nevent: message\.created\ndata: .*\n\n/.test(seen)) {
        await reader.cancel();
        controller.error(new TypeError('terminated'));
      }
    },
  });
  return new Response(body, { status: response.status, headers: response.headers });
}

describe('the tRPC client', () => {
  it('queries, mutates and subscribes to a streamed answer', async () => {
    const user = await app.signUp();
    const trpc = createAiThreadsTRPCClient({ url: app.url, token: user.token, EventSource });
    const thread = await trpc.threads.create.mutate({ title: 'Over tRPC' });
    expect(thread.title).toBe('Over tRPC');
    expect((await trpc.threads.list.query({})).data.map((t) => t.id)).toEqual([thread.id]);

    fake.script({ type: 'text', content: 'Typed all the way.' });
    const pair = await trpc.messages.create.mutate({ threadId: thread.id, content: 'Hello!' });
    expect(pair.responseMessage.content).toBe('Typed all the way.');

    fake.script({ type: 'text', content: 'Subscribed answer.' });
    const names: string[] = [];
    const completed = await new Promise<unknown>((resolve, reject) => {
      const subscription = trpc.messages.stream.subscribe(
        { threadId: thread.id, content: 'Stream over tRPC' },
        {
          onData(envelope) {
            const event = envelope.data;
            names.push(event.event);
            if (event.event === 'response.completed') {
              subscription.unsubscribe();
              resolve(event.data);
            }
          },
          onError: reject,
        },
      );
    });
    expect(names[0]).toBe('message.created');
    expect(names).toContain('response.delta');
    expect(completed).toMatchObject({ responseMessage: { content: 'Subscribed answer.' } });
    expect(await messageRows(app, thread.id)).toBe(4);
  });
});
