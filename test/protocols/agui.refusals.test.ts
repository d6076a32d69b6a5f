// The AG-UI route passes the same guards, limits and cross-site rules as the seed endpoint, and
// refuses bad input with a JSON error before any event, storing nothing: 401, 403 (permission and
// cross-site cookie), 404, 412, 429, and the 400/413/422 of malformed, huge, deep or hostile
// bodies. After all of it the service still answers a good run.
import { beforeAll, describe, expect, it } from 'vitest';
import { harness, type TestApp, type TestUser } from '../support/harness.js';
import { cookieHeaders, createApiToken, expectNothingStored, FORBIDDEN, TOO_MANY, UNAUTHENTICATED, VIEWER_PERMISSIONS } from '../support/helpers.js';
import { MISSING_ID } from '../support/threads.js';

const { app, user, startApp } = await harness({
  model: 'offline',
  env: { ALLOWED_ORIGINS: 'https://app.example', RATE_LIMIT_MESSAGES_PER_MINUTE: '1000' },
});

let threadId: number;
beforeAll(async () => {
  const res = await app.api('POST', '/ai/threads', { token: user.token, body: { state: { form: { color: 'red' } } } });
  threadId = res.body.id;
});

let runs = 0;
/** A good RunAgentInput, with `extra` spread over it. */
function input(extra: Record<string, unknown> = {}) {
  runs++;
  return { threadId: String(threadId), runId: `run-${runs}`, messages: [{ id: `u-${runs}`, role: 'user', content: 'set form.size to 2' }], ...extra };
}

function post(target: TestApp, body: unknown, options: { token?: string; headers?: Record<string, string>; id?: number | string } = {}) {
  return target.api('POST', `/ai/threads/${options.id ?? threadId}/agui`, {
    ...(options.token === undefined ? { token: user.token } : options.token === '' ? {} : { token: options.token }),
    body,
    headers: options.headers ?? {},
  });
}

/** A refusal: this status and body, JSON, nothing stored. */
async function refused(call: () => ReturnType<typeof post>, status: number, body?: object) {
  const res = await expectNothingStored(app, call);
  expect(res.status, res.text).toBe(status);
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  if (body) expect(res.body).toStrictEqual(body);
  return res;
}

const field = (res: { body: { errors?: Record<string, string[]> } }) => Object.keys(res.body.errors ?? {});

describe('AG-UI route: guards', () => {
  it('401 without credentials', async () => {
    await refused(() => post(app, input(), { token: '' }), 401, UNAUTHENTICATED);
  });

  it('403 for a token without ai_thread_messages.create', async () => {
    const { token } = await createApiToken(app, user.token, { permissions: VIEWER_PERMISSIONS });
    await refused(() => post(app, input(), { token }), 403, FORBIDDEN);
  });

  it('403 for a session cookie sent from another site; an allowed origin is served', async () => {
    const headers = cookieHeaders(user.token, 'https://evil.example');
    await refused(() => post(app, input(), { token: '', headers }), 403, FORBIDDEN);
    const allowed = await post(app, input(), { token: '', headers: cookieHeaders(user.token, 'https://app.example') });
    expect(allowed.status).toBe(200);
    expect(allowed.headers.get('content-type')).toMatch(/^text\/event-stream/);
  });

  it("404 for a missing thread and for another user's, alike", async () => {
    const notFound = { message: 'Thread not found.' };
    await refused(() => post(app, input({ threadId: String(MISSING_ID) }), { id: MISSING_ID }), 404, notFound);
    const stranger: TestUser = await app.signUp();
    await refused(() => post(app, input(), { token: stranger.token }), 404, notFound);
  });

  it('412 for a stale precondition, by If-Match or forwardedProps.expected_state_version', async () => {
    const version = (await app.api('GET', `/ai/threads/${threadId}/state`, { token: user.token })).body.version as number;
    const stale = {
      message: `The state has changed: it is at version ${version}. Read it again (GET .../state) and retry with its version.`,
      current_version: version,
    };
    await refused(() => post(app, input(), { headers: { 'if-match': `"${version + 5}"` } }), 412, stale);
    await refused(() => post(app, input({ forwardedProps: { expected_state_version: version + 5 } })), 412, stale);
    const fresh = await post(app, input({ forwardedProps: { expected_state_version: version } }));
    expect(fresh.status).toBe(200);
  });

  it('429 on the message budget, before 403, 422 and 404', async () => {
    const limited = await startApp({ model: 'offline', env: { RATE_LIMIT_MESSAGES_PER_MINUTE: '1' } });
    const owner = await limited.signUp();
    const thread = (await limited.api('POST', '/ai/threads', { token: owner.token, body: {} })).body.id as number;
    const body = { threadId: String(thread), runId: 'r-1', messages: [{ id: 'u', role: 'user', content: 'hi' }] };
    const ok = await limited.api('POST', `/ai/threads/${thread}/agui`, { token: owner.token, body });
    expect(ok.status).toBe(200);
    const again = await limited.api('POST', `/ai/threads/${thread}/agui`, { token: owner.token, body: { ...body, runId: 'r-2', messages: [] } });
    expect({ status: again.status, body: again.body }).toStrictEqual({ status: 429, body: TOO_MANY });
    expect(Number(again.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  });
});

describe('AG-UI route: bad input is a 4xx in the seed\'s format, nothing stored', () => {
  it('malformed JSON is 400; a body over the limit is 413', async () => {
    const bad = await expectNothingStored(app, () =>
      app.api('POST', `/ai/threads/${threadId}/agui`, { token: user.token, raw: '{"runId": "x", ', headers: { 'content-type': 'application/json' } }),
    );
    expect(bad.status).toBe(400);
    expect(bad.body).toHaveProperty('message');
    const huge = await refused(() => post(app, input({ context: [{ description: 'x', value: 'y'.repeat(5_000_000) }] })), 413);
    expect(huge.body).toHaveProperty('message');
  });

  it.each([
    ['no runId', { runId: undefined }, 'runId'],
    ['an empty runId', { runId: '' }, 'runId'],
    ['messages not a list', { messages: 'hello' }, 'messages'],
    ['no messages at all', { messages: [] }, 'messages'],
    ['an assistant message last', { messages: [{ id: 'a', role: 'assistant', content: 'hi' }] }, 'messages.0.role'],
    ['a message of an unknown role', { messages: [{ id: 'a', role: 'wizard', content: 'hi' }] }, 'messages.0.role'],
    ['a blank user message', { messages: [{ id: 'a', role: 'user', content: '   ' }] }, 'messages.0.content'],
    ['an image part', { messages: [{ id: 'a', role: 'user', content: [{ type: 'image', source: { type: 'url', value: 'https://x/y.png' } }] }] }, 'messages.0.content'],
    ['5001 characters', { messages: [{ id: 'a', role: 'user', content: 'é'.repeat(5001) }] }, 'messages.0.content'],
    ['a NUL in the message', { messages: [{ id: 'a', role: 'user', content: 'hi\u0000there' }] }, 'messages.0.content'],
    ['a lone surrogate in a tool result', { messages: [{ id: 't', role: 'tool', toolCallId: 'call_1', content: 'x\ud800' }] }, 'messages.0.content'],
    ['more than 1000 messages', { messages: Array.from({ length: 1001 }, (_, i) => ({ id: `m${i}`, role: 'user', content: 'hi' })) }, 'messages'],
    ['a state that is a list', { state: [1, 2] }, 'state'],
    ['a state nested 40 deep', { state: JSON.parse('{"a":'.repeat(40) + '1' + '}'.repeat(40)) }, 'state'],
    ['a tool named update_state', { tools: [{ name: 'update_state', description: 'mine' }] }, 'tools.0.name'],
    ['a tool name with spaces', { tools: [{ name: 'focus field', description: 'x' }] }, 'tools.0.name'],
    ['the same tool twice', { tools: [{ name: 'a', description: 'x' }, { name: 'a', description: 'y' }] }, 'tools'],
    ['33 tools', { tools: Array.from({ length: 33 }, (_, i) => ({ name: `t${i}`, description: 'x' })) }, 'tools'],
    ['a thread id that is not the path\'s', { threadId: '999999' }, 'threadId'],
    ['a negative expected_state_version', { forwardedProps: { expected_state_version: -1 } }, 'forwardedProps.expected_state_version'],
    ['a tool result for no call', { messages: [{ id: 't', role: 'tool', toolCallId: 'call_nothing', content: 'x' }] }, 'messages.0.toolCallId'],
  ])('422 for %s', async (_name, extra, name) => {
    const res = await refused(() => post(app, input(extra)), 422);
    expect(field(res)).toContain(name);
    expect(typeof res.body.message).toBe('string');
  });

  it('a user message the thread already holds is not posted again (422)', async () => {
    const first = await app.api('POST', `/ai/threads/${threadId}/messages`, { token: user.token, body: { content: 'hello' } });
    const held = String(first.body.createdMessage.id);
    const res = await refused(() => post(app, input({ messages: [{ id: held, role: 'user', content: 'hello' }] })), 422);
    expect(field(res)).toEqual(['messages.0.id']);
  });

  it('the same runId with another message is the idempotency 422', async () => {
    const body = input();
    expect((await post(app, body)).status).toBe(200);
    const res = await refused(() => post(app, { ...body, messages: [{ id: 'other', role: 'user', content: 'something else' }] }), 422);
    expect(field(res)).toEqual(['idempotency_key']);
  });

  it('after all of that the service answers a good run, offline model included', async () => {
    const res = await post(app, input({ messages: [{ id: 'fine', role: 'user', content: 'set form.size to 3' }] }));
    expect(res.status).toBe(200);
    const events = res.text
      .split('\n')
      .filter((line) => line.startsWith('data: '))
      .map((line) => JSON.parse(line.slice(6)) as { type: string; delta?: unknown });
    expect(events[0]!.type).toBe('RUN_STARTED');
    expect(events.at(-1)!.type).toBe('RUN_FINISHED');
    expect(events.find((e) => e.type === 'STATE_DELTA')?.delta).toEqual([{ op: 'replace', path: '/form/size', value: 3 }]);
    const state = (await app.api('GET', `/ai/threads/${threadId}/state`, { token: user.token })).body.state;
    expect(state.form.size).toBe(3);
  });
});
