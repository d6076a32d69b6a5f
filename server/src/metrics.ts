// Prometheus metrics (prom-client), one registry per app so that several apps in one process (the
// tests) never mix their counts. Served at GET /metrics.
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface Metrics {
  registry: Registry;
  request(labels: { operation: string; method: string; status: number }, seconds: number): void;
  answer(labels: { model: string; outcome: string }, seconds: number): void;
  firstToken(seconds: number): void;
  tokens(prompt: number, completion: number): void;
  busyRefusal(): void;
  rateLimitRefusal(bucket: string): void;
}

export function createMetrics(options: { defaultMetrics?: boolean } = {}): Metrics {
  const registry = new Registry();
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry });
  const requests = new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests by operation, method and status.',
    labelNames: ['operation', 'method', 'status'],
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request latency by operation, method and status.',
    labelNames: ['operation', 'method', 'status'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [registry],
  });
  const answers = new Histogram({
    name: 'ai_answer_duration_seconds',
    help: 'Time the AI took to answer, by model and outcome (completed, failed, cancelled).',
    labelNames: ['model', 'outcome'],
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 40, 80, 160],
    registers: [registry],
  });
  const firstToken = new Histogram({
    name: 'ai_time_to_first_token_seconds',
    help: 'Time from the AI call to the first streamed text.',
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20],
    registers: [registry],
  });
  const tokens = new Counter({
    name: 'ai_tokens_total',
    help: 'Tokens used, by kind (prompt, completion).',
    labelNames: ['kind'],
    registers: [registry],
  });
  const busy = new Counter({
    name: 'thread_busy_refusals_total',
    help: 'Messages refused with 409 because the thread was answering.',
    registers: [registry],
  });
  const limited = new Counter({
    name: 'rate_limit_refusals_total',
    help: 'Requests refused with 429, by bucket.',
    labelNames: ['bucket'],
    registers: [registry],
  });
  return {
    registry,
    request(labels, seconds) {
      const l = { ...labels, status: String(labels.status) };
      requests.inc(l);
      latency.observe(l, seconds);
    },
    answer: (labels, seconds) => answers.observe(labels, seconds),
    firstToken: (seconds) => firstToken.observe(seconds),
    tokens(prompt, completion) {
      tokens.inc({ kind: 'prompt' }, prompt);
      tokens.inc({ kind: 'completion' }, completion);
    },
    busyRefusal: () => busy.inc(),
    rateLimitRefusal: (bucket) => limited.inc({ bucket }),
  };
}
