// The offline model: deterministic answers, state commands through JSON Merge Patch, streaming
// in word-sized deltas, and cancellation.
import { describe, expect, it } from 'vitest';
import { createOfflineProvider, parseStateCommands } from '../../server/src/ai/offline-provider.js';
import { AiProviderError, type AiRequest, type JsonObject } from '../../server/src/ai/provider.js';

const provider = createOfflineProvider();

function request(content: string, state: JsonObject | null = null, extra: Partial<AiRequest> = {}): AiRequest {
  return {
    instructions: 'Be brief.',
    history: [
      { role: 'user', content: 'earlier question' },
      { role: 'assistant', content: 'earlier answer' },
      { role: 'user', content },
    ],
    state,
    ...extra,
  };
}

describe('offline provider', () => {
  it('is named offline', () => {
    expect(provider.model).toBe('offline');
  });

  it('echoes a message without a command and leaves the state alone', async () => {
    const state = { form: { color: 'red' } };
    const result = await provider.reply(request('Hello there', state));
    expect(result.content).toBe(
      'Offline model (no AI key configured). You said: "Hello there". Try "set form.color to blue" to change the state.',
    );
    expect(result.state).toEqual(state);
    expect(result.model).toBe('offline');
    expect(result.firstTokenMs).toBeNull();
  });

  it('quotes at most 200 characters, counting code points', async () => {
    const result = await provider.reply(request('😀'.repeat(250)));
    expect(result.content).toContain(`You said: "${'😀'.repeat(200)}…".`);
  });

  it('reports deterministic token usage', async () => {
    const first = await provider.reply(request('Hello there'));
    const second = await provider.reply(request('Hello there'));
    expect(first.usage).toEqual(second.usage);
    expect(first.usage!.prompt_tokens).toBeGreaterThan(10);
    expect(first.usage!.completion_tokens).toBeGreaterThan(10);

    const longer = await provider.reply(request('Hello there, with a much longer message this time'));
    expect(longer.usage!.prompt_tokens).toBeGreaterThan(first.usage!.prompt_tokens);
  });

  it('sets a nested value as a string and keeps the rest of the state', async () => {
    const state = { form: { color: 'red', size: 'M' }, other: [1] };
    const result = await provider.reply(request('set form.color to blue', state));
    expect(result.content).toBe('Offline model: I set form.color to "blue".');
    expect(result.state).toEqual({ form: { color: 'blue', size: 'M' }, other: [1] });
    expect(state.form.color).toBe('red');
  });

  it('parses values as JSON when they parse', async () => {
    const result = await provider.reply(request('set a.b.c to 42\nSet flags = {"on": true}\nset list to [1, 2]', null));
    expect(result.state).toEqual({ a: { b: { c: 42 } }, flags: { on: true }, list: [1, 2] });
    expect(result.content).toBe('Offline model: I set a.b.c to 42, set flags to {"on":true} and set list to [1,2].');
  });

  it('removes a key with unset or remove', async () => {
    const state = { form: { color: 'red', size: 'M' }, keep: true };
    const unset = await provider.reply(request('unset form.color', state));
    expect(unset.state).toEqual({ form: { size: 'M' }, keep: true });
    expect(unset.content).toBe('Offline model: I removed form.color.');

    const removed = await provider.reply(request('remove form', state));
    expect(removed.state).toEqual({ keep: true });
  });

  it('echoes when any line is not a command', async () => {
    const result = await provider.reply(request('set form.color to blue\nand tell me a joke', { a: 1 }));
    expect(result.content).toMatch(/^Offline model \(no AI key configured\)/);
    expect(result.state).toEqual({ a: 1 });
  });

  it('treats __proto__ in a path as a plain key', async () => {
    const result = await provider.reply(request('set __proto__.polluted to true', {}));
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.hasOwn(result.state!, '__proto__')).toBe(true);
    expect(JSON.stringify(result.state)).toBe('{"__proto__":{"polluted":true}}');
  });

  it('explains a change it refuses and keeps the state', async () => {
    const tooDeep = Array.from({ length: 40 }, (_, index) => `k${index}`).join('.');
    const result = await provider.reply(request(`set ${tooDeep} to 1`, { a: 1 }));
    expect(result.content).toMatch(/^Offline model: I could not change the state: JSON nested deeper than 32 levels/);
    expect(result.state).toEqual({ a: 1 });
  });

  it("applies the service's state check to its changes", async () => {
    const strict = createOfflineProvider({
      checkState: (state) => (Object.hasOwn(state, 'forbidden') ? 'must not have a forbidden key' : null),
    });
    const refused = await strict.reply(request('set forbidden to 1', { a: 1 }));
    expect(refused.content).toBe(
      'Offline model: I could not change the state: the resulting state must not have a forbidden key.',
    );
    expect(refused.state).toEqual({ a: 1 });
    expect((await strict.reply(request('set allowed to 1', { a: 1 }))).state).toEqual({ a: 1, allowed: 1 });
  });

  it('streams the reply in word-sized deltas that add up to the content', async () => {
    const deltas: string[] = [];
    const result = await provider.reply(
      request('set form.color to blue', null, { onDelta: (delta) => deltas.push(delta) }),
    );
    expect(deltas.length).toBeGreaterThan(3);
    expect(deltas.join('')).toBe(result.content);
    expect(result.firstTokenMs).toEqual(expect.any(Number));
  });

  it('keeps answering when the delta listener throws', async () => {
    const result = await provider.reply(
      request('Hello', null, {
        onDelta: () => {
          throw new Error('client gone');
        },
      }),
    );
    expect(result.content).toMatch(/You said: "Hello"/);
  });

  it('is cancelled by an aborted signal', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(provider.reply(request('Hello', null, { signal: controller.signal }))).rejects.toMatchObject({
      kind: 'cancelled',
    });
  });

  it('stops streaming when cancelled mid-reply', async () => {
    const controller = new AbortController();
    const deltas: string[] = [];
    const reply = provider.reply(
      request('Hello', null, {
        signal: controller.signal,
        onDelta: (delta) => {
          deltas.push(delta);
          controller.abort();
        },
      }),
    );
    const error: unknown = await reply.catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(AiProviderError);
    expect((error as AiProviderError).kind).toBe('cancelled');
    expect(deltas).toHaveLength(1);
  });
});

describe('parseStateCommands', () => {
  it('reads set, unset, remove and delete commands', () => {
    expect(parseStateCommands('set a.b to "x"\nunset c\nremove d.e\ndelete f')).toEqual([
      { path: ['a', 'b'], value: 'x' },
      { path: ['c'], value: null },
      { path: ['d', 'e'], value: null },
      { path: ['f'], value: null },
    ]);
  });

  it('finds no command in ordinary text', () => {
    expect(parseStateCommands('please set the table')).toEqual([]);
    expect(parseStateCommands('')).toEqual([]);
  });
});

describe('offline provider: front-end tools (AG-UI)', () => {
  const focusField = { name: 'focus_field', description: 'Moves the focus to a field.' };

  it('`call <tool> <json>` calls a tool the client offered: no text, the call', async () => {
    const deltas: string[] = [];
    const result = await provider.reply(
      request('call focus_field {"field": "email"}', null, { tools: [focusField], onDelta: (delta) => deltas.push(delta) }),
    );
    expect(result.content).toBe('');
    expect(deltas).toEqual([]);
    expect(result.toolCalls).toEqual([{ id: 'call_offline_2', name: 'focus_field', arguments: '{"field": "email"}' }]);
  });

  it('a tool the client did not offer is not called: the message is echoed', async () => {
    const result = await provider.reply(request('call focus_field {}', null, { tools: [] }));
    expect(result.toolCalls).toBeUndefined();
    expect(result.content).toContain('You said: "call focus_field {}"');
  });

  it("answers a tool's result with the tool's name and the result", async () => {
    const result = await provider.reply({
      instructions: null,
      state: null,
      tools: [focusField],
      history: [
        { role: 'user', content: 'call focus_field {"field": "email"}' },
        { role: 'assistant', content: '', toolCalls: [{ id: 'call_1', name: 'focus_field', arguments: '{"field": "email"}' }] },
        { role: 'tool', toolCallId: 'call_1', content: 'focused' },
      ],
    });
    expect(result.content).toBe('Offline model: focus_field answered: "focused"');
    expect(result.toolCalls).toBeUndefined();
  });
});
