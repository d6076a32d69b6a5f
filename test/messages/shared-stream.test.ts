// Two instances (two apps on one database and one Redis): a client that reconnects to the other
// instance with Last-Event-ID gets every delta it missed, then the rest live, from the shared log.
import { Redis } from 'ioredis';
import { beforeAll, describe, expect, it } from 'vitest';
import { harness, type TestApp } from '../support/harness.js';

const REDIS_URL = process.env['REDIS_TEST_URL'] ?? 'redis://127.0.0.1:6379/6';

interface Frame {
  id: string;
  event: string;
  data: any;
}

/** Reads SSE frames from a response until `stop` says so; returns them and leaves the body open. */
async function readFrames(res: Response, stop: (frame: Frame) => boolean): Promise<Frame[]> {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  const frames: Frame[] = [];
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return frames;
    buffer += decoder.decode(value, { stream: true });
    let end: number;
    while ((end = buffer.indexOf('\n\n')) !== -1) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const fields = Object.fromEntries(
        block
          .split('\n')
          .filter((line) => !line.startsWith(':') && line.includes(': '))
          .map((line) => [line.slice(0, line.indexOf(': ')), line.slice(line.indexOf(': ') + 2)]),
      );
      if (!fields['event']) continue;
      const frame: Frame = { id: fields['id'] ?? '', event: fields['event'], data: JSON.parse(fields['data'] ?? 'null') };
      frames.push(frame);
      if (stop(frame)) {
        await reader.cancel();
        return frames;
      }
    }
  }
}

describe('stream resumption across instances (Redis)', async () => {
  const { fake, startApp } = await harness({ app: false });
  let a: TestApp;
  let b: TestApp;
  beforeAll(async () => {
    const flush = new Redis(REDIS_URL);
    await flush.flushdb();
    flush.disconnect();
    a = await startApp({ redis: new Redis(REDIS_URL) });
    b = await startApp({ redis: new Redis(REDIS_URL), shareDatabaseOf: a });
  });

  it('replays the missed deltas on the other instance, then follows the answer live', async () => {
    const user = await a.signUp();
    const thread = await a.api('POST', '/ai/threads', { token: user.token, body: {} });
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    fake.script({ type: 'paced_text', parts: ['One ', 'two ', gate, 'three ', 'four.'] });
    const body = JSON.stringify({ content: 'Count to four' });
    const headers = { authorization: `Bearer ${user.token}`, 'content-type': 'application/json' };
    const path = `/api/v1/ai/threads/${thread.body.id}/messages/stream`;

    const first = await readFrames(await fetch(a.url + path, { method: 'POST', headers, body }), (frame) =>
      frame.event === 'response.delta' && frame.data.delta === 'two ',
    );
    // The client left after "two "; while it reconnects to B, the answer goes on on A.
    const resumed = fetch(b.url + path, { method: 'POST', headers: { ...headers, 'last-event-id': first[1]!.id }, body });
    release();
    const rest = await readFrames(await resumed, (frame) => frame.event === 'response.completed');

    expect(rest.map((f) => f.id)).not.toContain(first[1]!.id);
    expect(rest[0]!.data.delta).toBe('two ');
    const deltas = [...first.slice(0, 2), ...rest].filter((f) => f.event === 'response.delta').map((f) => f.data.delta);
    expect(deltas.join('')).toBe('One two three four.');
    expect(new Set([...first.slice(0, 2), ...rest].map((f) => f.id)).size).toBe(first.slice(0, 2).length + rest.length);
    const completed = rest.at(-1)!;
    expect(completed.event).toBe('response.completed');
    expect(completed.data.responseMessage.content).toBe('One two three four.');
  });
});
