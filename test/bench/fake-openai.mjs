// A minimal, fast OpenAI-compatible server for the benchmark: every POST /v1/chat/completions is
// answered at once with the same short text (non-streaming JSON), or, when the request asks for a
// stream, with `tokens` tokens sent `gapMs` apart, as a model streams. Each streamed token carries
// the moment it was written (`<t:N>`, N = process.hrtime in µs: CLOCK_MONOTONIC, the same clock in
// every process of the machine), so that the streaming client can tell how long the service took
// to pass it on. The stream's shape is set per scenario with POST /bench/stream {tokens, gapMs}
// (default: FAKE_STREAM_TOKENS, FAKE_STREAM_GAP_MS, else 40 tokens 10 ms apart: 100 tokens/s, a
// fast hosted model). It reads the body but does not parse it, so that the model's side costs as
// little CPU as possible. Prints `{"port": N}` on stdout when it listens.
// Usage: node test/bench/fake-openai.mjs [port]
import { createServer } from 'node:http';

const TEXT = 'Hello from the fake model.';
const usage = { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 };
const streamShape = {
  tokens: Number(process.env.FAKE_STREAM_TOKENS ?? 40),
  gapMs: Number(process.env.FAKE_STREAM_GAP_MS ?? 10),
};
let counter = 0;

const micros = () => process.hrtime.bigint() / 1000n;

function completion() {
  counter += 1;
  return JSON.stringify({
    id: `chatcmpl-bench-${counter}`,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model: 'fake-model',
    choices: [{ index: 0, message: { role: 'assistant', content: TEXT, refusal: null }, logprobs: null, finish_reason: 'stop' }],
    usage,
  });
}

/** Streams `tokens` timestamped tokens, `gapMs` apart, then the end of the answer. */
function stream(res) {
  counter += 1;
  const base = { id: `chatcmpl-bench-${counter}`, object: 'chat.completion.chunk', created: Math.floor(Date.now() / 1000), model: 'fake-model' };
  const send = (chunk) => res.write(`data: ${JSON.stringify({ ...base, ...chunk })}\n\n`);
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  const { tokens, gapMs } = streamShape;
  let sent = 0;
  const next = () => {
    if (res.destroyed) return;
    const delta = sent === 0 ? { role: 'assistant', content: '' } : {};
    send({ choices: [{ index: 0, delta: { ...delta, content: `<t:${micros()}> token ${sent} ` }, finish_reason: null }] });
    sent += 1;
    if (sent < tokens) {
      setTimeout(next, gapMs);
      return;
    }
    send({ choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] });
    send({ choices: [], usage });
    res.end('data: [DONE]\n\n');
  };
  next();
}

const server = createServer((req, res) => {
  const parts = [];
  req.on('data', (chunk) => parts.push(chunk));
  req.on('end', () => {
    if (req.method === 'POST' && req.url?.startsWith('/v1/chat/completions')) {
      // A cheap look for `"stream":true` in the raw body, without parsing it.
      const body = Buffer.concat(parts);
      if (body.includes('"stream":true')) {
        stream(res);
        return;
      }
      const text = completion();
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
      res.end(text);
      return;
    }
    if (req.method === 'POST' && req.url === '/bench/stream') {
      const { tokens, gapMs } = JSON.parse(Buffer.concat(parts).toString('utf8'));
      if (!(Number.isInteger(tokens) && tokens > 0 && Number.isFinite(gapMs) && gapMs >= 0)) {
        res.writeHead(400, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { message: 'tokens (a positive integer) and gapMs (≥ 0) are required' } }));
        return;
      }
      Object.assign(streamShape, { tokens, gapMs });
      res.writeHead(204);
      res.end();
      return;
    }
    if (req.method === 'GET' && req.url?.startsWith('/v1/models')) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ object: 'list', data: [{ id: 'fake-model', object: 'model', created: 0, owned_by: 'bench' }] }));
      return;
    }
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: { message: 'not found', type: 'invalid_request_error' } }));
  });
});
server.keepAliveTimeout = 60_000;
server.listen(Number(process.argv[2] ?? 0), '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`);
});
const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
