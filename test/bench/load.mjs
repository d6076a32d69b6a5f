// The load generator, run in its own process by run.mjs: autocannon against one server. Each
// connection has its own user token and its own threads (none shared with another connection), and
// cycles through them, so the one-answer-at-a-time rule never refuses a request.
// Usage: node test/bench/load.mjs <plan.json>; prints one JSON line with the results.
// plan: {url, connections, duration (s), timeout (s), kind, content, clients: [{token, threads: [id...]}]}
// kind: `post` (default: POST .../messages with `content`), `list` (GET .../messages?limit=20, a
// page of 20 of the thread's current branch), `patch` (PATCH .../state with `If-Match: *` and a
// merge patch that changes the state every time, so that each request writes a revision).
import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';

const plan = JSON.parse(readFileSync(process.argv[2], 'utf8'));
if (plan.clients.length < plan.connections) throw new Error('fewer clients than connections');
const body = JSON.stringify({ content: plan.content });
let nextClient = 0;
let patchCounter = 0;

/** The request a connection sends next to `thread`, by the plan's kind. */
const requestOf = {
  post: (thread, headers) => ({ method: 'POST', path: `/api/v1/ai/threads/${thread}/messages`, headers, body }),
  list: (thread, headers) => ({ method: 'GET', path: `/api/v1/ai/threads/${thread}/messages?limit=20`, headers }),
  patch: (thread, headers) => ({
    method: 'PATCH',
    path: `/api/v1/ai/threads/${thread}/state`,
    headers: { ...headers, 'if-match': '*' },
    body: JSON.stringify({ merge_patch: { counter: ++patchCounter, note: 'bench' } }),
  }),
}[plan.kind ?? 'post'];
if (!requestOf) throw new Error(`unknown kind ${plan.kind}`);

const instance = autocannon({
  url: plan.url,
  connections: plan.connections,
  duration: plan.duration,
  timeout: plan.timeout ?? 30,
  // One thread, one request at a time: no pipelining.
  pipelining: 1,
  setupClient(client) {
    const { token, threads } = plan.clients[nextClient++];
    let i = 0;
    const headers = { 'content-type': 'application/json', authorization: `Bearer ${token}` };
    client.setRequests([
      {
        setupRequest: (req) => ({ ...req, ...requestOf(threads[i++ % threads.length], headers) }),
      },
    ]);
  },
});

const statuses = {};
instance.on('response', (_client, statusCode) => {
  statuses[statusCode] = (statuses[statusCode] ?? 0) + 1;
});

instance.on('done', (result) => {
  const ok = result['2xx'];
  process.stdout.write(
    `${JSON.stringify({
      duration_s: result.duration,
      requests: result.requests.total,
      ok,
      non2xx: result.non2xx,
      errors: result.errors,
      timeouts: result.timeouts,
      rps: result.requests.total / result.duration,
      ok_rps: ok / result.duration,
      latency_ms: {
        mean: result.latency.mean,
        p50: result.latency.p50,
        p90: result.latency.p90,
        p99: result.latency.p99,
        max: result.latency.max,
      },
      statuses,
    })}\n`,
  );
});
