// The SSE routes' shared rules (server/src/http/sse.ts): a body field named like a path parameter
// must agree with the path (a 422 in the seed's format, after the guards like every validation
// failure), and the default `events` framing is unchanged by the other framings: comment, then
// `id/event/data` frames, no `[DONE]`, no protocol header. The AI SDK framing has its own suites.
import { describe, expect, it } from 'vitest';
import { harness } from '../support/harness.js';
import { UNAUTHENTICATED } from '../support/helpers.js';
import { parseFrame, postStream, refusedStream } from '../support/sse.js';
import { expect422, expectStoresNothing, newThread } from '../support/threads.js';

const { app, fake, user } = await harness();

describe('a body field named like a path parameter', () => {
  it('422 when it names another thread, and nothing is stored', async () => {
    const thread = await newThread(app, user);
    const calls = fake.requests.length;
    for (const threadId of [thread.id + 1, String(thread.id + 1), null, 'abc']) {
      const res = await expectStoresNothing(app, () =>
        refusedStream(app, thread.id, { token: user.token, body: { threadId, content: 'hi' } }),
      );
      expect422(res, { threadId: ['The thread id field must be the thread id of the path.'] });
    }
    expect(fake.requests.length).toBe(calls);
  });

  it('is checked after the guards: without credentials it is a 401', async () => {
    const thread = await newThread(app, user);
    const res = await refusedStream(app, thread.id, { body: { threadId: thread.id + 1, content: 'hi' } });
    expect({ status: res.status, body: res.body }).toStrictEqual({ status: 401, body: UNAUTHENTICATED });
  });

  it('is accepted when it names the path’s thread, as a number or a string', async () => {
    const thread = await newThread(app, user);
    for (const threadId of [thread.id, String(thread.id)]) {
      fake.script({ type: 'text', content: 'Same thread.' });
      const response = await postStream(app, thread.id, { token: user.token, body: { threadId, content: 'hi' } });
      expect(response.status).toBe(200);
      expect(await response.text()).toContain('event: response.completed');
    }
  });
});

describe('the events framing', () => {
  it('writes the opening comment, then id/event/data frames, and nothing after the last', async () => {
    const thread = await newThread(app, user);
    fake.script({ type: 'text', content: 'Two words.' });
    const response = await postStream(app, thread.id, { token: user.token, body: { content: 'hi' } });
    expect(response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(response.headers.get('x-vercel-ai-ui-message-stream')).toBeNull();
    const text = await response.text();
    expect(text.startsWith(': stream open\n\n')).toBe(true);
    expect(text.endsWith('\n\n')).toBe(true);
    expect(text).not.toContain('[DONE]');
    const frames = text.slice(': stream open\n\n'.length, -2).split('\n\n');
    for (const frame of frames) {
      expect(frame).toMatch(/^id: \d+:\d+\nevent: [a-z.]+\ndata: \{.*\}$/);
      const { event } = parseFrame(frame);
      expect(event!.data.type).toBe(event!.event);
    }
    expect(parseFrame(frames.at(-1)!).event!.event).toBe('response.completed');
  });
});
