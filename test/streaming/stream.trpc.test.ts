// The tRPC face of the streamed answer: the `messages.stream` subscription through the typed
// client a TypeScript front end would build (httpSubscriptionLink over server-sent events, the
// `eventsource` package, Bearer credentials in the EventSource's fetch), and `messages.cancel`.
import { createTRPCClient, httpSubscriptionLink, TRPCClientError, type TRPCClient } from '@trpc/client';
import { EventSource } from 'eventsource';
import type { AppRouter } from '@ai-threads/server';
import { describe, expect, it } from 'vitest';
import { harness } from '../support/harness.js';
import { subscriptionClient } from '../support/helpers.js';
import { sequenceOf } from '../support/sse.js';
import { expectStoresNothing, gate, listAll, MISSING_ID, newThread } from '../support/threads.js';

const { app, fake, user } = await harness();

const client = (token: string) => subscriptionClient(app, token);

type StreamInput = Parameters<TRPCClient<AppRouter>['messages']['stream']['subscribe']>[0];
type Tracked = { id: string; data: { event: string; data: any } };

interface Subscription {
  events: Tracked[];
  /** Settles with every event once response.completed or error arrives; rejects on onError. */
  finished: Promise<Tracked[]>;
  /** Resolves once `count` events have arrived. */
  received(count: number): Promise<void>;
  unsubscribe(): void;
}

function subscribe(trpc: TRPCClient<AppRouter>, input: StreamInput): Subscription {
  const events: Tracked[] = [];
  let waiters: Array<{ count: number; resolve: () => void }> = [];
  let finish!: (events: Tracked[]) => void;
  let fail!: (error: unknown) => void;
  const finished = new Promise<Tracked[]>((resolve, reject) => {
    finish = resolve;
    fail = reject;
  });
  const subscription = trpc.messages.stream.subscribe(input, {
    onData(tracked) {
      events.push(tracked as Tracked);
      const ready = waiters.filter((waiter) => events.length >= waiter.count);
      waiters = waiters.filter((waiter) => events.length < waiter.count);
      for (const waiter of ready) waiter.resolve();
      const name = (tracked as Tracked).data.event;
      if (name === 'response.completed' || name === 'error') {
        subscription.unsubscribe();
        finish(events);
      }
    },
    onError(error) {
      subscription.unsubscribe();
      fail(error);
    },
  });
  return {
    events,
    finished,
    received: (count) =>
      events.length >= count ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ count, resolve })),
    unsubscribe: () => subscription.unsubscribe(),
  };
}

const deltas = (events: Tracked[]) =>
  events.filter((tracked) => tracked.data.event === 'response.delta').map((tracked) => tracked.data.data.delta as string);

describe('messages.stream (tRPC subscription)', () => {
  it('delivers message.created, the deltas and response.completed as tracked events', async () => {
    const thread = await newThread(app, user);
    fake.script({ type: 'text', content: 'Typed clients stream too.' });
    const events = await subscribe(client(user.token), { threadId: thread.id, content: 'Stream over tRPC' }).finished;

    const names = events.map((tracked) => tracked.data.event);
    expect(names[0]).toBe('message.created');
    expect(names.at(-1)).toBe('response.completed');
    expect(names.slice(1, -1).every((name) => name === 'response.delta')).toBe(true);
    expect(names.length).toBeGreaterThan(3);

    const created = events[0]!.data.data;
    expect(created).toMatchObject({ thread_id: thread.id, role: 'user', content: 'Stream over tRPC', status: 'pending' });
    expect(events.map((tracked) => tracked.id)).toEqual(events.map((_, index) => `${created.id}:${index}`));

    const text = deltas(events).join('');
    expect(text).toBe('Typed clients stream too.');
    const { createdMessage, responseMessage } = events.at(-1)!.data.data;
    expect(createdMessage).toMatchObject({ id: created.id, status: 'completed' });
    expect(responseMessage).toMatchObject({ role: 'assistant', status: 'completed', content: text });
    expect(responseMessage.time_to_first_token_ms).toEqual(expect.any(Number));
    expect(await listAll(app, user, thread.id)).toEqual([createdMessage, responseMessage]);
    expect(fake.requests.at(-1)!.body.stream).toBe(true);
  });

  it('resumes after input.lastEventId, as the link does on reconnect', async () => {
    const thread = await newThread(app, user);
    const trpc = client(user.token);
    const held = gate();
    fake.script({ type: 'paced_text', parts: ['Before ', held.until, 'and after.'] });
    const first = subscribe(trpc, { threadId: thread.id, content: 'Resume me' });
    await first.received(2);
    first.unsubscribe();
    const lastEventId = first.events.at(-1)!.id;
    expect(first.events.at(-1)!.data).toEqual({ event: 'response.delta', data: { delta: 'Before ' } });

    const second = subscribe(trpc, { threadId: thread.id, content: 'Resume me', lastEventId });
    held.open();
    const rest = await second.finished;
    expect(sequenceOf(rest[0]!.id)).toBe(sequenceOf(lastEventId) + 1);
    const all = [...first.events, ...rest];
    expect(new Set(all.map((tracked) => tracked.id)).size).toBe(all.length);
    expect(deltas(all).join('')).toBe('Before and after.');
    expect(rest.at(-1)!.data.data.responseMessage.content).toBe('Before and after.');
  });

  it('reconnects by itself after a dropped connection and resumes without loss or duplication', async () => {
    const thread = await newThread(app, user);
    const authorization = `Bearer ${user.token}`;
    const connections: Array<Record<string, string>> = [];
    let reconnected!: () => void;
    const secondConnection = new Promise<void>((resolve) => (reconnected = resolve));
    // The first connection drops, as a network would, once a delta has passed through it.
    const dropping = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
      const headers = { ...(init?.headers as Record<string, string>), authorization };
      connections.push(headers);
      const res = await fetch(input, { ...init, headers });
      if (connections.length > 1) {
        reconnected();
        return res;
      }
      const upstream = res.body!.getReader();
      const decoder = new TextDecoder();
      let seen = '';
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          // A short reconnection delay (the EventSource default is 3 s), as a server may ask.
          controller.enqueue(new TextEncoder().encode('retry: 10\n\n'));
        },
        async pull(controller) {
          if (/response\.delta[\s\S]*?\n\n/.test(seen)) {
            await upstream.cancel();
            controller.error(new TypeError('the network dropped the connection'));
            return;
          }
          const { done, value } = await upstream.read();
          if (done) return controller.close();
          seen += decoder.decode(value, { stream: true });
          controller.enqueue(value);
        },
      });
      return new Response(body, { status: res.status, headers: res.headers });
    };
    const trpc = createTRPCClient<AppRouter>({
      links: [httpSubscriptionLink({ url: `${app.url}/trpc`, EventSource, eventSourceOptions: () => ({ fetch: dropping }) })],
    });
    const held = gate();
    fake.script({ type: 'paced_text', parts: ['Before ', held.until, 'the drop and after.'] });
    const sub = subscribe(trpc, { threadId: thread.id, content: 'Survive a drop' });
    await secondConnection;
    held.open();
    const events = await sub.finished;

    expect(connections).toHaveLength(2);
    expect(connections[0]!['Last-Event-ID']).toBeUndefined();
    const lastBeforeDrop = events.find((tracked) => tracked.data.event === 'response.delta')!.id;
    expect(connections[1]!['Last-Event-ID']).toBe(lastBeforeDrop);
    expect(new Set(events.map((tracked) => tracked.id)).size).toBe(events.length);
    expect(events.map((tracked) => tracked.data.event)).toEqual([
      'message.created',
      'response.delta',
      'response.delta',
      'response.completed',
    ]);
    expect(deltas(events)).toEqual(['Before ', 'the drop and after.']);
    expect(fake.requests.filter((request) => request.body?.messages?.at(-1)?.content === 'Survive a drop')).toHaveLength(1);
    expect((await listAll(app, user, thread.id)).map((m) => m.content)).toEqual(['Survive a drop', 'Before the drop and after.']);
  });

  it('is cancelled through messages.cancel', async () => {
    const thread = await newThread(app, user);
    const trpc = client(user.token);
    const held = gate();
    fake.script({ type: 'paced_text', parts: ['So far ', held.until, 'no further.'] });
    const sub = subscribe(trpc, { threadId: thread.id, content: 'Cancel me' });
    await sub.received(2);
    const created = sub.events[0]!.data.data;

    const result = await trpc.messages.cancel.mutate({ threadId: thread.id, messageId: created.id });
    expect(result.createdMessage.status).toBe('cancelled');
    expect(result.responseMessage).toMatchObject({ status: 'cancelled', content: 'So far ' });
    const events = await sub.finished;
    expect(events.at(-1)!.data).toEqual({ event: 'response.completed', data: result });
  });

  it('reports a refusal (404) through onError, storing nothing', async () => {
    const error = await expectStoresNothing(app, () =>
      subscribe(client(user.token), { threadId: MISSING_ID, content: 'Nobody home' }).finished.then(
        () => undefined,
        (reason: unknown) => reason,
      ),
    );
    expect(error).toBeInstanceOf(TRPCClientError);
    const clientError = error as TRPCClientError<AppRouter>;
    expect(clientError.message).toBe('Thread not found.');
    expect(clientError.data).toMatchObject({ code: 'NOT_FOUND', httpStatus: 404 });
  });

  it('reports a 422 with the field errors through onError', async () => {
    const thread = await newThread(app, user);
    const error = (await subscribe(client(user.token), { threadId: thread.id, content: '   ' }).finished.then(
      () => undefined,
      (reason: unknown) => reason,
    )) as TRPCClientError<AppRouter>;
    expect(error).toBeInstanceOf(TRPCClientError);
    expect(error.data).toMatchObject({
      httpStatus: 422,
      errors: { content: ['The content field must not be only whitespace.'] },
    });
  });

  it('reports an AI failure after the start as an `error` event', async () => {
    const thread = await newThread(app, user);
    fake.script({ type: 'error', status: 500 });
    const events = await subscribe(client(user.token), { threadId: thread.id, content: 'Fail' }).finished;
    expect(events.map((tracked) => tracked.data.event)).toEqual(['message.created', 'error']);
    expect(events[1]!.data.data).toEqual({ message: expect.any(String), status: 502 });
  });
});
