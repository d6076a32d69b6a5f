// The seed endpoint's request example, answered by the offline model and by an OpenAI-compatible
// server (the fake one, through the real openai SDK).
import { describe, expect, it } from 'vitest';
import { harness } from '../support/harness.js';

describe('POST /api/v1/ai/threads/{thread-id}/messages (offline model)', async () => {
  const { app } = await harness({ model: 'offline' });

  it("answers the seed's request example with the seed's response shape", async () => {
    const user = await app.signUp();
    const thread = await app.api('POST', '/ai/threads', { token: user.token, body: { title: 'Form' } });
    expect(thread.status).toBe(201);
    const res = await app.api('POST', `/ai/threads/${thread.body.id}/messages`, {
      token: user.token,
      body: { content: 'Hello!', state: { form: { field: 'value' } } },
    });
    expect(res.status).toBe(201);
    expect(Object.keys(res.body).sort()).toEqual(['createdMessage', 'responseMessage']);
    expect(res.body.createdMessage).toMatchObject({
      thread_id: thread.body.id,
      role: 'user',
      content: 'Hello!',
      state: { form: { field: 'value' } },
      status: 'completed',
    });
    expect(res.body.responseMessage).toMatchObject({
      role: 'assistant',
      status: 'completed',
      model: 'offline',
      updated_state: { form: { field: 'value' } },
      context_truncated: false,
    });
    const set = await app.api('POST', `/ai/threads/${thread.body.id}/messages`, {
      token: user.token,
      body: { content: 'set form.color to blue' },
    });
    expect(set.status).toBe(201);
    expect(set.body.responseMessage.updated_state).toEqual({ form: { field: 'value', color: 'blue' } });
    const after = await app.api('GET', `/ai/threads/${thread.body.id}`, { token: user.token });
    expect(after.body.state).toEqual({ form: { field: 'value', color: 'blue' } });
    expect(after.body.message_count).toBe(4);
  });
});

describe('POST /api/v1/ai/threads/{thread-id}/messages (OpenAI-compatible server)', async () => {
  const { app, fake } = await harness();

  it('applies update_state patches and keeps the history', async () => {
    const user = await app.signUp();
    const thread = await app.api('POST', '/ai/threads', { token: user.token, body: { instructions: 'Be brief.' } });
    fake.script(
      { type: 'tool_calls', calls: [{ name: 'update_state', arguments: { patch: { form: { color: 'blue', field: null } } } }] },
      { type: 'text', content: 'Done.' },
    );
    const res = await app.api('POST', `/ai/threads/${thread.body.id}/messages`, {
      token: user.token,
      body: { content: 'Make it blue', state: { form: { field: 'value', size: 2 } } },
    });
    expect(res.status).toBe(201);
    expect(res.body.responseMessage.content).toBe('Done.');
    expect(res.body.responseMessage.updated_state).toEqual({ form: { color: 'blue', size: 2 } });
    expect(res.body.responseMessage.model).toBeTruthy();
  });
});
