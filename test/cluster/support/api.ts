// The calls the cluster suites make on any instance (sign-up, threads, messages) and a reader for
// the Prometheus text of GET /metrics. Edit when a suite needs another call.
import { randomBytes } from 'node:crypto';
import { expect } from 'vitest';
import type { ApiResponse, Instance } from './instances.js';

export interface User {
  id: number;
  email: string;
  token: string;
}

export async function signUp(instance: Instance): Promise<User> {
  const email = `cluster-${randomBytes(5).toString('hex')}@example.com`;
  const res = await instance.api('POST', '/auth/sign-up', { body: { email, password: 'correct horse battery' } });
  expect(res.status, res.text).toBe(201);
  return { id: res.body.user.id, email, token: res.body.token };
}

export async function newThread(instance: Instance, user: User, body: Record<string, unknown> = {}) {
  const res = await instance.api('POST', '/ai/threads', { token: user.token, body });
  expect(res.status, res.text).toBe(201);
  return res.body as { id: number } & Record<string, any>;
}

export function postMessage(
  instance: Instance,
  user: User,
  threadId: number,
  body: Record<string, unknown>,
  idempotencyKey?: string,
): Promise<ApiResponse> {
  return instance.api('POST', `/ai/threads/${threadId}/messages`, {
    token: user.token,
    body,
    ...(idempotencyKey ? { headers: { 'idempotency-key': idempotencyKey } } : {}),
  });
}

export interface StoredMessage {
  id: number;
  role: 'user' | 'assistant';
  content: string;
  status: string;
  error?: string | null;
}

/** Every message of a thread, oldest first (asserts 200). */
export async function listMessages(instance: Instance, user: User, threadId: number): Promise<StoredMessage[]> {
  const res = await instance.api('GET', `/ai/threads/${threadId}/messages?limit=100`, { token: user.token });
  expect(res.status, res.text).toBe(200);
  expect(res.body.has_more).toBe(false);
  return res.body.data as StoredMessage[];
}

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** GET /metrics, parsed into samples (asserts 200). */
export async function metricsOf(instance: Instance): Promise<Sample[]> {
  const res = await instance.http('GET', '/metrics');
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
  const samples: Sample[] = [];
  for (const line of res.text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) continue;
    const labels: Record<string, string> = {};
    for (const pair of (match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[pair[1]!] = pair[2]!;
    samples.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return samples;
}

/** The sum of a metric's samples whose labels include `labels`. */
export function metricValue(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  return samples
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((sum, s) => sum + s.value, 0);
}
