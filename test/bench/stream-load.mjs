// The streaming load generator, run in its own process by run.mjs (kind `stream`): `connections`
// clients, each posting to POST .../messages/stream on threads of its own, one answer at a time,
// reading the server-sent events as they arrive. The fake model (fake-openai.mjs) writes into each
// token the moment it sent it (`<t:N>`, process.hrtime in µs: CLOCK_MONOTONIC, one clock for every
// process of the machine); each `response.delta` is timed against it on arrival:
//   first_ms  the fake model's first token → the client's first response.delta (per answer);
//   later_ms  each later token → the response.delta that carries it: what the service adds to it.
// Usage: node test/bench/stream-load.mjs <plan.json>; prints one JSON line, shaped as load.mjs's,
// with `deltas: {answers, first_ms: {p50, p90, p99}, later_ms: {...}}`.
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';

const plan = JSON.parse(readFileSync(process.argv[2], 'utf8'));
if (plan.clients.length < plan.connections) throw new Error('fewer clients than connections');
const agent = new Agent({ keepAlive: true, maxSockets: plan.connections });
const body = JSON.stringify({ content: plan.content });
const micros = () => process.hrtime.bigint() / 1000n;
const STAMP = /<t:(\d+)>/;

const latencies = [];
const firstDelta = [];
const laterDelta = [];
const statuses = {};
let errors = 0;
let timeouts = 0;

/** One answer: resolves when the stream ends; records the request's latency and its deltas' timing. */
function streamOnce(thread, token) {
  return new Promise((resolve) => {
    const started = performance.now();
    const req = request(
      `${plan.url}/api/v1/ai/threads/${thread}/messages/stream`,
      {
        method: 'POST',
        agent,
        timeout: (plan.timeout ?? 30) * 1000,
        headers: {
          'content-type': 'application/json',
          accept: 'text/event-stream',
          authorization: `Bearer ${token}`,
          'content-length': Buffer.byteLength(body),
        },
      },
      (res) => {
        statuses[res.statusCode] = (statuses[res.statusCode] ?? 0) + 1;
        let buffered = '';
        let seen = 0;
        res.setEncoding('utf8');
        res.on('data', (chunk) => {
          const arrived = micros();
          buffered += chunk;
          let end;
          while ((end = buffered.indexOf('\n\n')) >= 0) {
            const frame = buffered.slice(0, end);
            buffered = buffered.slice(end + 2);
            if (!frame.includes('event: response.delta')) continue;
            const stamp = STAMP.exec(frame);
            if (!stamp) continue;
            const ms = Number(arrived - BigInt(stamp[1])) / 1000;
            (seen++ === 0 ? firstDelta : laterDelta).push(ms);
          }
        });
        res.on('end', () => {
          latencies.push(performance.now() - started);
          resolve(res.statusCode >= 200 && res.statusCode < 300);
        });
        res.on('error', () => {
          errors += 1;
          resolve(false);
        });
      },
    );
    req.on('timeout', () => {
      timeouts += 1;
      req.destroy();
    });
    req.on('error', () => {
      errors += 1;
      resolve(false);
    });
    req.end(body);
  });
}

async function client({ token, threads }, until) {
  let i = 0;
  let ok = 0;
  while (performance.now() < until) {
    if (await streamOnce(threads[i++ % threads.length], token)) ok += 1;
  }
  return ok;
}

const quantile = (values, q) => {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return Math.round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] * 100) / 100;
};
const summary = (values) => ({ p50: quantile(values, 0.5), p90: quantile(values, 0.9), p99: quantile(values, 0.99) });

const started = performance.now();
const until = started + plan.duration * 1000;
const oks = await Promise.all(plan.clients.slice(0, plan.connections).map((c) => client(c, until)));
const duration = (performance.now() - started) / 1000;
agent.destroy();
const ok = oks.reduce((a, b) => a + b, 0);
const requests = latencies.length + errors + timeouts;
const mean = latencies.length > 0 ? latencies.reduce((a, b) => a + b, 0) / latencies.length : null;
process.stdout.write(
  `${JSON.stringify({
    duration_s: duration,
    requests,
    ok,
    non2xx: latencies.length - ok,
    errors,
    timeouts,
    rps: requests / duration,
    ok_rps: ok / duration,
    latency_ms: { mean, ...summary(latencies), max: quantile(latencies, 1) },
    statuses,
    deltas: { answers: firstDelta.length, first_ms: summary(firstDelta), later_ms: summary(laterDelta) },
  })}\n`,
);
