// Instances of the built server (`node server/dist/main.js`) as separate processes, the way they
// run behind a load balancer: each with its own environment, on a port it picks (read from its
// "listening" log line), with its log kept for waits and failure reports. Every process started
// here is killed by stopAll() (the suites' afterAll) and, as a last resort, when the test worker
// exits; runToExit runs a process that must end by itself (a refused start, the CLI). Edit when
// the suites need another way to start or watch an instance.
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { within } from './wait.js';

export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const MAIN = fileURLToPath(new URL('../../../server/dist/main.js', import.meta.url));

interface LogLine {
  level?: number;
  msg?: string;
  [field: string]: unknown;
}

export interface ApiResponse<T = any> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

interface CallOptions {
  token?: string;
  body?: unknown;
  headers?: Record<string, string>;
}

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface Instance {
  name: string;
  pid: number;
  port: number;
  url: string;
  /** Structured log lines printed so far (stdout). */
  logs: LogLine[];
  /** Settles when the process has exited. */
  exited: Promise<Exit>;
  readonly running: boolean;
  /** Any HTTP path. */
  http<T = any>(method: string, path: string, options?: CallOptions): Promise<ApiResponse<T>>;
  /** A path under /api/v1. */
  api<T = any>(method: string, path: string, options?: CallOptions): Promise<ApiResponse<T>>;
  /** Resolves with the first log line (past or future) that matches. */
  waitForLog(match: (line: LogLine) => boolean, what: string, timeoutMs?: number): Promise<LogLine>;
  signal(signal: NodeJS.Signals): void;
  /** SIGKILL unless it already exited; resolves once it has. */
  stop(): Promise<Exit>;
}

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/** The environment every instance shares; a suite adds DATABASE_URL, REDIS_URL and its limits. */
function baseEnv(): Record<string, string> {
  return {
    PATH: process.env['PATH'] ?? '',
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: 'info',
    OPENAI_API_KEY: 'x',
    AI_MODEL: 'fake-model',
    AI_MAX_RETRIES: '0',
  };
}

export async function startInstance(name: string, env: Record<string, string>): Promise<Instance> {
  const child = spawn(process.execPath, [MAIN], {
    cwd: ROOT,
    env: { ...baseEnv(), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  const logs: LogLine[] = [];
  const watchers = new Set<(line: LogLine) => void>();
  let stderr = '';
  const exited = new Promise<Exit>((resolve) => {
    child.once('exit', (code, signal) => {
      live.delete(child);
      resolve({ code, signal });
    });
  });
  let pending = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    pending += chunk;
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const text of lines) {
      if (!text.trim()) continue;
      let line: LogLine;
      try {
        line = JSON.parse(text) as LogLine;
      } catch {
        line = { msg: text };
      }
      logs.push(line);
      for (const watcher of watchers) watcher(line);
    }
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });

  const waitForLog = (match: (line: LogLine) => boolean, what: string, timeoutMs = 15_000) => {
    const seen = logs.find(match);
    if (seen) return Promise.resolve(seen);
    let watcher!: (line: LogLine) => void;
    const found = new Promise<LogLine>((resolve, reject) => {
      watcher = (line) => match(line) && resolve(line);
      watchers.add(watcher);
      void exited.then((exit) =>
        reject(new Error(`${name} exited (${exit.code ?? exit.signal}) before logging ${what}; stderr: ${stderr.slice(-2000)}`)),
      );
    });
    return within(found, timeoutMs, `${name} to log ${what}`).finally(() => watchers.delete(watcher));
  };

  let listening: LogLine;
  try {
    listening = await waitForLog((line) => typeof line.port === 'number' && /listening/.test(line.msg ?? ''), '"listening"', 30_000);
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  const port = listening.port as number;
  const url = `http://127.0.0.1:${port}`;

  async function http<T>(method: string, path: string, options: CallOptions = {}): Promise<ApiResponse<T>> {
    const headers: Record<string, string> = { ...options.headers };
    if (options.token) headers['authorization'] = `Bearer ${options.token}`;
    let body: string | undefined;
    if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers['content-type'] ??= 'application/json';
    }
    const res = await fetch(url + path, { method, headers, body, signal: AbortSignal.timeout(30_000) });
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    return { status: res.status, headers: res.headers, body: parsed as T, text };
  }

  return {
    name,
    pid: child.pid!,
    port,
    url,
    logs,
    exited,
    get running() {
      return child.exitCode === null && child.signalCode === null;
    },
    http,
    api: (method, path, options) => http(method, `/api/v1${path}`, options),
    waitForLog,
    signal(signal) {
      child.kill(signal);
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      return within(exited, 10_000, `${name} to exit`);
    },
  };
}

export interface Run extends Exit {
  stdout: string;
  stderr: string;
}

/**
 * Runs a built entry point to its exit: the server (`main`), for one that must refuse to start,
 * or the operator CLI (`cli`) with its arguments. Killed if it has not exited within `timeoutMs`.
 */
export async function runToExit(entry: 'main' | 'cli', env: Record<string, string>, args: string[] = [], timeoutMs = 60_000): Promise<Run> {
  const child = spawn(process.execPath, [fileURLToPath(new URL(`../../../server/dist/${entry}.js`, import.meta.url)), ...args], {
    cwd: ROOT,
    env: { ...baseEnv(), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<Exit>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  try {
    return { ...(await within(exited, timeoutMs, `${entry} to exit`)), stdout, stderr };
  } finally {
    child.kill('SIGKILL');
    live.delete(child);
  }
}

/** Stops every instance given (those that started), whatever state they are in. */
export async function stopAll(...instances: Array<Instance | undefined>): Promise<void> {
  await Promise.all(instances.map((instance) => instance?.stop()));
}

/** Whether a new TCP connection to the port is accepted now ('refused' once nothing listens). */
export function probeConnection(port: number): Promise<'accepted' | 'refused'> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.setTimeout(5_000);
    socket.once('connect', () => {
      socket.destroy();
      resolve('accepted');
    });
    socket.once('timeout', () => {
      socket.destroy();
      reject(new Error(`connection to port ${port} neither accepted nor refused`));
    });
    socket.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ECONNREFUSED') resolve('refused');
      else reject(error);
    });
  });
}
