// AG-UI (SPEC.md part 2, "Agent protocols"): the route driven by AG-UI's own client, @ag-ui/client's
// HttpAgent (1.0, and the 0.0.x line CopilotKit and assistant-ui pin), which checks every event's
// order itself (verifyEvents) and applies the state events to its own copy of the state.
import { HttpAgent, verifyEvents } from '@ag-ui/client';
import type { BaseEvent, Message as AguiMessage } from '@ag-ui/client';
import { HttpAgent as LegacyHttpAgent } from 'agui-client-legacy';
import { from, lastValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { AiThreads } from '@ai-threads/sdk';
import { harness } from '../support/harness.js';
import { expectNothingStored, expectRestError, subscriptionClient } from '../support/helpers.js';

const tool = (name: string, args: object) => ({ type: 'tool_calls' as const, calls: [{ name, arguments: args }] });
const FOCUS_FIELD = {
  name: 'focus_field',
  description: 'Moves the keyboard focus to a field of the form.',
  parameters: { type: 'object', properties: { field: { type: 'string' } }, required: ['field'] },
};

describe('AG-UI: POST /ai/threads/{id}/agui with @ag-ui/client', async () => {
  const { app, fake, user } = await harness();
  const auth = { token: user.token };

  async function newThread(body: object = { state: { form: { color: 'red', email: '' } } }) {
    const res = await app.api('POST', '/ai/threads', { ...auth, body });
    expect(res.status).toBe(201);
    return res.body.id as number;
  }

  function agent(threadId: number, options: { token?: string | null; state?: object; Agent?: typeof HttpAgent } = {}) {
    const token = options.token === undefined ? user.token : options.token;
    const Agent = options.Agent ?? HttpAgent;
    return new Agent({
      url: `${app.url}/api/v1/ai/threads/${threadId}/agui`,
      threadId: String(threadId),
      headers: token === null ? {} : { Authorization: `Bearer ${token}` },
      ...(options.state ? { initialState: options.state } : {}),
    });
  }

  /** Runs the agent and collects every event it received, in order. */
  async function run(a: HttpAgent, params: Parameters<HttpAgent['runAgent']>[0] = {}) {
    const events: BaseEvent[] = [];
    const result = await a.runAgent(params, { onEvent: ({ event }) => void events.push(event) });
    return { events, result, types: events.map((e) => e.type as string) };
  }

  const say = (a: HttpAgent, content: string, id = `u-${Math.random().toString(36).slice(2)}`) =>
    a.addMessage({ id, role: 'user', content } as AguiMessage);
  const threadState = async (id: number) => (await app.api('GET', `/ai/threads/${id}/state`, auth)).body;
  const branch = async (id: number) => (await app.api('GET', `/ai/threads/${id}/messages`, auth)).body.data as Array<Record<string, any>>;

  it('answers and changes the state: valid AG-UI events, and the client ends with the thread\'s state', async () => {
    const id = await newThread();
    fake.script(tool('update_state', { patch: { form: { color: 'blue' } } }), { type: 'text', content: 'The color is blue now.' });
    const a = agent(id);
    say(a, 'set form.color to blue');
    const { events, types } = await run(a);

    expect(types[0]).toBe('RUN_STARTED');
    expect(types.at(-1)).toBe('RUN_FINISHED');
    expect(types).toEqual(expect.arrayContaining(['STATE_SNAPSHOT', 'STATE_DELTA', 'TEXT_MESSAGE_START', 'TEXT_MESSAGE_CONTENT', 'TEXT_MESSAGE_END']));
    // The client's own verifier accepts the whole sequence (runAgent applied it too).
    const verified = await lastValueFrom(from(events).pipe(verifyEvents(false), toArray()));
    expect(verified).toHaveLength(events.length);
    expect(events.find((e) => e.type === 'STATE_SNAPSHOT')).toMatchObject({ snapshot: { form: { color: 'red', email: '' } } });
    expect(events.find((e) => e.type === 'STATE_DELTA')).toMatchObject({ delta: [{ op: 'replace', path: '/form/color', value: 'blue' }] });

    const stored = await threadState(id);
    expect(stored).toEqual({ state: { form: { color: 'blue', email: '' } }, version: 2 });
    expect(a.state).toEqual(stored.state);

    // The text message is the stored reply, under its stored id.
    const [userMessage, reply] = await branch(id);
    expect(userMessage).toMatchObject({ role: 'user', content: 'set form.color to blue' });
    expect(reply).toMatchObject({ role: 'assistant', content: 'The color is blue now.', status: 'completed', tool_calls: null });
    const start = events.find((e) => e.type === 'TEXT_MESSAGE_START') as BaseEvent & { messageId: string };
    expect(start.messageId).toBe(String(reply!.id));
    expect(a.messages.at(-1)).toMatchObject({ id: String(reply!.id), role: 'assistant', content: 'The color is blue now.' });
    const finished = events.at(-1) as BaseEvent & { threadId: string; result: unknown };
    expect(finished).toMatchObject({ threadId: String(id), result: { responseMessage: reply!.id, state_version: 2 } });
  });

  it('a front-end tool: the call ends the run and is stored; the result goes on from there', async () => {
    const id = await newThread();
    fake.script(tool('focus_field', { field: 'email' }));
    const a = agent(id);
    say(a, 'take me to the email field');
    const first = await run(a, { tools: [FOCUS_FIELD] });

    // The model was offered the tool beside update_state.
    const offered = fake.requests.at(-1)!.body.tools.map((t: any) => t.function.name);
    expect(offered).toEqual(['update_state', 'focus_field']);
    expect(first.types).toEqual(expect.arrayContaining(['TOOL_CALL_START', 'TOOL_CALL_ARGS', 'TOOL_CALL_END']));
    expect(first.types.at(-1)).toBe('RUN_FINISHED');
    const callStart = first.events.find((e) => e.type === 'TOOL_CALL_START') as BaseEvent & { toolCallId: string; toolCallName: string };
    expect(callStart.toolCallName).toBe('focus_field');
    const args = first.events.filter((e) => e.type === 'TOOL_CALL_ARGS').map((e) => (e as any).delta).join('');
    expect(JSON.parse(args)).toEqual({ field: 'email' });
    expect((first.events.at(-1) as any).outcome).toEqual({ type: 'success', pendingToolCallIds: [callStart.toolCallId] });

    const [, reply] = await branch(id);
    expect(reply).toMatchObject({ role: 'assistant', status: 'completed', tool_calls: [{ id: callStart.toolCallId, name: 'focus_field' }] });
    expect(JSON.parse(reply!.tool_calls[0].arguments)).toEqual({ field: 'email' });
    // The client holds the call on the assistant message, as AG-UI clients do.
    const held = a.messages.find((m) => m.role === 'assistant') as any;
    expect(held.toolCalls[0]).toMatchObject({ id: callStart.toolCallId, function: { name: 'focus_field' } });

    // The client runs the tool and sends its result: the answer goes on.
    fake.script({ type: 'text', content: 'The email field has the focus.' });
    a.addMessage({ id: 'tool-result-1', role: 'tool', toolCallId: callStart.toolCallId, content: 'focused email' } as AguiMessage);
    const second = await run(a, { tools: [FOCUS_FIELD] });
    expect(second.types.at(-1)).toBe('RUN_FINISHED');
    const sent = fake.requests.at(-1)!.body.messages as any[];
    expect(sent.slice(-3)).toEqual([
      { role: 'user', content: 'take me to the email field' },
      {
        role: 'assistant',
        content: null,
        tool_calls: [{ id: callStart.toolCallId, type: 'function', function: { name: 'focus_field', arguments: reply!.tool_calls[0].arguments } }],
      },
      { role: 'tool', tool_call_id: callStart.toolCallId, content: 'focused email' },
    ]);
    const messages = await branch(id);
    expect(messages.map((m) => [m.role, m.content])).toEqual([
      ['user', 'take me to the email field'],
      ['assistant', ''],
      ['tool', 'focused email'],
      ['assistant', 'The email field has the focus.'],
    ]);
    expect(messages[2]).toMatchObject({ tool_call_id: callStart.toolCallId, status: 'completed', parent_id: reply!.id });

    // Both reach the model on later turns too.
    fake.script({ type: 'text', content: 'Anything else?' });
    say(a, 'thanks');
    await run(a, { tools: [FOCUS_FIELD] });
    const later = fake.requests.at(-1)!.body.messages as any[];
    expect(later.filter((m) => m.role === 'tool')).toHaveLength(1);
    expect(later.find((m) => m.tool_calls)?.tool_calls[0].id).toBe(callStart.toolCallId);
  });

  it('the model sees the stored thread, never the history the client sends', async () => {
    const id = await newThread();
    fake.script({ type: 'text', content: 'First.' }, { type: 'text', content: 'Second.' });
    const a = agent(id);
    say(a, 'the real first message');
    await run(a);
    // A client that rewrote its copy of the conversation: only its newest message is read.
    a.setMessages([
      { id: 'x1', role: 'user', content: 'an invented message' } as AguiMessage,
      { id: 'x2', role: 'assistant', content: 'an invented answer' } as AguiMessage,
      { id: 'x3', role: 'user', content: 'the real second message' } as AguiMessage,
    ]);
    await run(a);
    const sent = (fake.requests.at(-1)!.body.messages as Array<{ role: string; content: string }>).filter((m) => m.role !== 'system');
    expect(sent).toEqual([
      { role: 'user', content: 'the real first message' },
      { role: 'assistant', content: 'First.' },
      { role: 'user', content: 'the real second message' },
    ]);
  });

  it('a tool-result run whose answer failed is answered again by the next run, the results stored once', async () => {
    const id = await newThread();
    fake.script(tool('focus_field', { field: 'email' }));
    const a = agent(id);
    say(a, 'focus the email field');
    const first = await run(a, { tools: [FOCUS_FIELD] });
    const call = first.events.find((e) => e.type === 'TOOL_CALL_START') as BaseEvent & { toolCallId: string };
    a.addMessage({ id: 'result-1', role: 'tool', toolCallId: call.toolCallId, content: 'focused' } as AguiMessage);

    fake.script({ type: 'malformed' });
    const failed: BaseEvent[] = [];
    await a.runAgent({ tools: [FOCUS_FIELD] }, { onEvent: ({ event }) => void failed.push(event) }).catch(() => undefined);
    expect(failed.at(-1)).toMatchObject({ type: 'RUN_ERROR', code: '502' });
    expect((await branch(id)).map((m) => [m.role, m.status])).toEqual([
      ['user', 'completed'],
      ['assistant', 'completed'],
      ['tool', 'failed'],
    ]);

    // The client tries again (a new run, the same messages): the stored result is answered.
    fake.script({ type: 'text', content: 'Focused, thanks.' });
    const retried = await run(a, { tools: [FOCUS_FIELD] });
    expect(retried.types.at(-1)).toBe('RUN_FINISHED');
    expect((await branch(id)).map((m) => [m.role, m.status, m.content])).toEqual([
      ['user', 'completed', 'focus the email field'],
      ['assistant', 'completed', ''],
      ['tool', 'completed', 'focused'],
      ['assistant', 'completed', 'Focused, thanks.'],
    ]);
  });

  it('a tool result must answer an open call of the newest answer (422, nothing stored)', async () => {
    const id = await newThread();
    fake.script({ type: 'text', content: 'Hi.' });
    const a = agent(id);
    say(a, 'hello');
    await run(a);
    a.addMessage({ id: 't-1', role: 'tool', toolCallId: 'call_unknown', content: 'x' } as AguiMessage);
    const requests = fake.requests.length;
    await expectNothingStored(app, async () => {
      await expect(run(a)).rejects.toMatchObject({ status: 422 });
    });
    expect(fake.requests.length).toBe(requests);
  });

  it('review mode: no STATE_DELTA; the proposal is a CUSTOM state.proposal event, accepted over REST', async () => {
    const id = await newThread({ state: { form: { color: 'red' } }, state_review: 'review' });
    fake.script(tool('update_state', { patch: { form: { color: 'green' } } }), { type: 'text', content: 'Proposed green.' });
    const a = agent(id);
    say(a, 'make it green');
    const { events, types } = await run(a);
    expect(types).not.toContain('STATE_DELTA');
    const custom = events.find((e) => e.type === 'CUSTOM') as BaseEvent & { name: string; value: any };
    const [, reply] = await branch(id);
    expect(custom).toMatchObject({
      name: 'state.proposal',
      value: { message_id: reply!.id, patch: [{ op: 'replace', path: '/form/color', value: 'green' }], proposed_state: { form: { color: 'green' } } },
    });
    expect(a.state).toEqual({ form: { color: 'red' } });
    expect(await threadState(id)).toEqual({ state: { form: { color: 'red' } }, version: 1 });

    const accepted = await app.api('POST', `/ai/threads/${id}/messages/${reply!.id}/proposal/accept`, { ...auth, body: { expected_version: 1 } });
    expect(accepted.status).toBe(200);
    expect(await threadState(id)).toEqual({ state: { form: { color: 'green' } }, version: 2 });
  });

  it('refusals surface as the client\'s error, before any event: 401, 422, 409', async () => {
    const id = await newThread();
    const stranger = agent(id, { token: null });
    say(stranger, 'hello');
    await expect(run(stranger)).rejects.toMatchObject({ status: 401 });

    const long = agent(id);
    say(long, 'x'.repeat(5001));
    await expectNothingStored(app, async () => {
      const error = await run(long).then(() => undefined, (e: unknown) => e as { status: number; payload: any });
      expect(error?.status).toBe(422);
      expect(error?.payload.message).toMatch(/5000 characters/);
    });

    // Busy: an answer in flight holds the thread.
    let release!: () => void;
    fake.script({ type: 'gate', until: new Promise<void>((resolve) => (release = resolve)), then: { type: 'text', content: 'Done.' } });
    const first = agent(id);
    say(first, 'first');
    const running = run(first);
    await fake.waitForRequests(fake.requests.length + 1);
    const second = agent(id);
    say(second, 'second');
    await expect(run(second)).rejects.toMatchObject({ status: 409 });
    release();
    await running;
  });

  it('an AI failure after the start ends the run with RUN_ERROR (the 502 of the JSON route)', async () => {
    const id = await newThread();
    fake.script({ type: 'malformed' });
    const a = agent(id);
    say(a, 'hello?');
    const events: BaseEvent[] = [];
    await a.runAgent({}, { onEvent: ({ event }) => void events.push(event) }).catch(() => undefined);
    expect(events[0]?.type).toBe('RUN_STARTED');
    expect(events.at(-1)).toMatchObject({ type: 'RUN_ERROR', code: '502' });
    expect(events.map((e) => e.type)).not.toContain('RUN_FINISHED');
    const [userMessage] = await branch(id);
    expect(userMessage).toMatchObject({ status: 'failed' });
  });

  it('the body\'s threadId must be the path\'s (422)', async () => {
    const id = await newThread();
    const res = await app.api('POST', `/ai/threads/${id}/agui`, {
      ...auth,
      body: { threadId: 'some-other-thread', runId: 'r1', messages: [{ id: 'u1', role: 'user', content: 'hi' }] },
    });
    const message = 'The thread id field must be the thread id of the path.';
    expectRestError(res, 422, { message, errors: { threadId: [message] } });
  });

  it('a dropped connection does not lose the reply', async () => {
    const id = await newThread();
    let release!: () => void;
    fake.script({ type: 'gate', until: new Promise<void>((resolve) => (release = resolve)), then: { type: 'text', content: 'Stored anyway.' } });
    const a = agent(id);
    say(a, 'are you there?');
    const running = run(a).catch(() => undefined);
    await fake.waitForRequests(fake.requests.length + 1);
    a.abortRun();
    await running;
    release();
    let reply: Record<string, any> | undefined;
    for (let i = 0; i < 100 && reply?.status !== 'completed'; i++) {
      reply = (await branch(id))[1];
      if (reply?.status !== 'completed') await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(reply).toMatchObject({ role: 'assistant', content: 'Stored anyway.', status: 'completed' });
  });

  it('the same runId replays the run: the same text, no second AI call, nothing stored twice', async () => {
    const id = await newThread();
    fake.script({ type: 'text', content: 'Once.' });
    const a = agent(id);
    say(a, 'once please', 'u-once');
    const first = await run(a, { runId: 'run-once' });
    const calls = fake.requests.length;
    const b = agent(id);
    say(b, 'once please', 'u-once');
    const again = await run(b, { runId: 'run-once' });
    expect(fake.requests.length).toBe(calls);
    const text = (r: typeof first) => r.events.filter((e) => e.type === 'TEXT_MESSAGE_CONTENT').map((e: any) => e.delta).join('');
    expect(text(again)).toBe(text(first));
    expect(await branch(id)).toHaveLength(2);
    expect(b.state).toEqual((await threadState(id)).state);
  });

  it('the 0.0.x client line (what CopilotKit pins) runs the same route', async () => {
    const id = await newThread();
    fake.script(tool('update_state', { patch: { form: { email: 'ada@example.com' } } }), { type: 'text', content: 'Filled in.' });
    const a = agent(id, { Agent: LegacyHttpAgent as unknown as typeof HttpAgent });
    say(a, 'my email is ada@example.com');
    const { types } = await run(a);
    expect(types[0]).toBe('RUN_STARTED');
    expect(types.at(-1)).toBe('RUN_FINISHED');
    expect(a.state).toEqual((await threadState(id)).state);
    expect(a.state).toEqual({ form: { color: 'red', email: 'ada@example.com' } });
  });

  it('the SDK reads the same events as a DataStream', async () => {
    const id = await newThread();
    fake.script({ type: 'text', content: 'From the SDK.' });
    const client = new AiThreads({ baseURL: app.url, apiKey: user.token, maxRetries: 0 });
    const events = [];
    const stream = client.protocols.agui(id, { runId: 'sdk-run', messages: [{ id: 'sdk-1', role: 'user', content: 'hello from the SDK' }] });
    for await (const event of stream) events.push(event);
    expect(events[0]).toMatchObject({ type: 'RUN_STARTED', threadId: String(id), runId: 'sdk-run' });
    expect(events.at(-1)).toMatchObject({ type: 'RUN_FINISHED' });
    expect(events.filter((e) => e.type === 'TEXT_MESSAGE_CONTENT').map((e) => e['delta']).join('')).toBe('From the SDK.');
  });

  it('the tRPC subscription yields the same events', async () => {
    const id = await newThread();
    fake.script({ type: 'text', content: 'Over tRPC.' });
    const client = subscriptionClient(app, user.token);
    const types = await new Promise<string[]>((resolve, reject) => {
      const seen: string[] = [];
      const subscription = client.protocols.agui.subscribe(
        { threadId: id, runId: 'trpc-run', messages: [{ id: 't-1', role: 'user', content: 'hello over tRPC' }] },
        {
          onData: ({ data }) => {
            seen.push(data.type);
            if (data.type === 'RUN_FINISHED' || data.type === 'RUN_ERROR') {
              subscription.unsubscribe();
              resolve(seen);
            }
          },
          onError: reject,
        },
      );
    });
    expect(types).toEqual(['RUN_STARTED', 'STATE_SNAPSHOT', 'TEXT_MESSAGE_START', 'TEXT_MESSAGE_CONTENT', 'TEXT_MESSAGE_CONTENT', 'TEXT_MESSAGE_END', 'RUN_FINISHED']);
  });
});
