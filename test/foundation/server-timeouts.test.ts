// Slow clients (server/src/http/server.ts): a request whose body or headers trickle in is cut once
// REQUEST_TIMEOUT_MS has passed (408, connection closed), instead of holding a connection for
// Node's default five minutes; a streamed answer, whose request arrived whole, stays open however
// long it runs. The timeout is set to one second here; the test waits for the close itself, never
// for a fixed time.
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { harness } from '../support/harness.js';
import { openStream } from '../support/sse.js';

const { app, fake, user } = await harness({ env: { REQUEST_TIMEOUT_MS: '1000' } });

/** Writes `head` on a raw connection, then one more byte of `body` every 100 ms; resolves with what the server answered once it closes. */
function trickle(head: string, body: string): Promise<string> {
  const { port } = new URL(app.url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), '127.0.0.1');
    let answer = '';
    let sent = 0;
    let timer: NodeJS.Timeout | undefined;
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (answer += chunk));
    socket.on('error', () => {});
    socket.on('connect', () => {
      socket.write(head);
      timer = setInterval(() => {
        // Never the whole body: only the server's deadline can end this request.
        if (sent < body.length - 1 && !socket.destroyed) socket.write(body[sent++]!);
      }, 100);
    });
    socket.on('close', () => {
      clearInterval(timer);
      if (sent >= body.length - 1) reject(new Error('the body was sent in full before the server cut it'));
      else resolve(answer);
    });
  });
}

describe('a request that trickles in', () => {
  it('is cut with 408 once the request timeout has passed (body and headers), while a running stream stays open', async () => {
    const thread = await app.api('POST', '/ai/threads', { token: user.token, body: {} });
    let release!: () => void;
    fake.script({ type: 'paced_text', parts: ['Still ', new Promise<void>((resolve) => (release = resolve)), 'here.'] });
    const stream = await openStream(app, thread.body.id, { token: user.token, body: { content: 'Take your time' } });

    const body = JSON.stringify({ title: 'x'.repeat(2000) });
    const head =
      `POST /api/v1/ai/threads HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${user.token}\r\n` +
      `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n`;
    const [bodyCut, headersCut] = await Promise.all([
      trickle(head, body),
      trickle('GET /api/v1/me HTTP/1.1\r\nHost: 127.0.0.1\r\n', `X-Slow: ${'y'.repeat(2000)}\r\n\r\n`),
    ]);
    expect(bodyCut).toMatch(/^HTTP\/1\.1 408 /);
    expect(headersCut).toMatch(/^HTTP\/1\.1 408 /);
    expect(await app.count('threads')).toBe(1);

    // The stream began before both cut requests: it is older than the timeout, and still open.
    release();
    const completed = await stream.until((event) => event.event === 'response.completed');
    expect(completed.data.responseMessage.content).toBe('Still here.');
  });
});
