// Shared pieces of the benchmark (run.mjs) and the profiler (profile.mjs): child processes that are
// always killed, PostgreSQL set-up and seeding, starting the servers, running the load, and reading
// a process's CPU time and memory from /proc.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes, createHash } from 'node:crypto';
import { createWriteStream, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import postgres from 'postgres';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const BENCH_DIR = fileURLToPath(new URL('.', import.meta.url));
/** The PostgreSQL server (no database): BENCH_PG_URL, default the local one. */
export const PG_BASE = (() => {
  const url = new URL(process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432');
  url.pathname = '';
  return url.toString().replace(/\/$/, '');
})();
export const MODEL = 'fake-model';
/** Every message posted: a short, ordinary user question. */
export const CONTENT = 'Could you summarise where we are, and suggest the next step for the plan?';
/** Seeded history turns: about 50 tokens each, so a full 8000-token window holds about 145 turns. */
export const SEED_CONTENT =
  'This is an earlier turn of the conversation, kept in the thread so that the model sees some history. ' +
  'It talks about plans, numbers and the next steps to take, in about fifty tokens.';
export const SEED_TOKENS = 50;

export const log = (...args) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${args.join(' ')}\n`);
export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------------------------------------
// Child processes: every one is tracked and killed at the end, on error, and on Ctrl-C.

const children = new Set();
const cleanups = [];

/** Registers work to do at the end (dropping databases, removing folders), run in reverse. */
export function onCleanup(fn) {
  cleanups.push(fn);
}

export function startChild(name, command, args, { env, cwd = ROOT, logFile } = {}) {
  const proc = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const child = { name, proc, pid: proc.pid, stdout: '', stderr: '', exited: false, code: null };
  const file = logFile ? createWriteStream(logFile, { flags: 'a' }) : null;
  proc.stdout.on('data', (chunk) => {
    if (child.stdout.length < 64 * 1024) child.stdout += chunk;
    file?.write(chunk);
  });
  proc.stderr.on('data', (chunk) => {
    if (child.stderr.length < 64 * 1024) child.stderr += chunk;
    file?.write(chunk);
  });
  child.done = new Promise((resolve) => {
    proc.on('exit', (code, signal) => {
      child.exited = true;
      child.code = code ?? signal;
      children.delete(child);
      file?.end();
      resolve(child.code);
    });
    proc.on('error', (error) => {
      child.exited = true;
      child.code = String(error);
      children.delete(child);
      file?.end();
      resolve(child.code);
    });
  });
  children.add(child);
  return child;
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves when the process is gone. */
export async function stopChild(child, graceMs = 10_000) {
  if (!child || child.exited) return;
  child.proc.kill('SIGTERM');
  const timer = setTimeout(() => !child.exited && child.proc.kill('SIGKILL'), graceMs);
  await child.done;
  clearTimeout(timer);
}

/** Waits for a line of JSON on the child's stdout (`{"port": N}`). */
export async function firstJsonLine(child, timeoutMs = 20_000) {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const line = child.stdout.split('\n').find((l) => l.startsWith('{'));
    if (line) return JSON.parse(line);
    if (child.exited) throw new Error(`${child.name} exited (${child.code}): ${child.stderr.slice(-2000)}`);
    await sleep(20);
  }
  throw new Error(`${child.name} printed nothing in ${timeoutMs} ms`);
}

let cleaningUp;
export function cleanupAll() {
  cleaningUp ??= (async () => {
    await Promise.all([...children].map((child) => stopChild(child, 5_000)));
    for (const fn of cleanups.reverse()) {
      try {
        await fn();
      } catch (error) {
        log(`cleanup: ${error?.message ?? error}`);
      }
    }
  })();
  return cleaningUp;
}

process.on('exit', () => {
  for (const child of children) child.proc.kill('SIGKILL');
});
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    log(`${signal}: stopping everything`);
    cleanupAll().finally(() => process.exit(130));
  });
}

/** Runs a command to completion (build, pg_ctlcluster); throws with its output when it fails. */
export function runCommand(command, args, { cwd = ROOT, timeoutMs = 300_000 } = {}) {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8', timeout: timeoutMs });
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(' ')} failed (${result.status ?? result.signal}):\n${result.stdout}\n${result.stderr}`);
  }
  return result.stdout;
}

export async function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

export async function tempDir(prefix) {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  onCleanup(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

// ---------------------------------------------------------------------------------------------
// /proc: CPU time and memory of a process.

const CLK_TCK = (() => {
  try {
    return Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;
  } catch {
    return 100;
  }
})();

/**
 * The fields of /proc/<pid>/stat after the command name (which may hold spaces): [0] is field 3
 * (state), [1] the parent's pid, [11] utime, [12] stime, [13] cutime, [14] cstime (in ticks).
 */
function statFields(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** utime and stime of the whole process (every thread), in milliseconds. */
export function cpuTimes(pid) {
  const fields = statFields(pid);
  return { user: (Number(fields[11]) * 1000) / CLK_TCK, system: (Number(fields[12]) * 1000) / CLK_TCK };
}

/**
 * The CPU time (ms) the PostgreSQL server at `url` has used so far, when it runs on this machine:
 * its postmaster's own and its reaped children's (cutime, cstime), plus each live child's. Null
 * when it cannot be read (a remote server, another user's processes).
 */
export async function postgresCpuMs(url) {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    const [{ pid }] = await sql`select pg_backend_pid() as pid`;
    const postmaster = Number(statFields(pid)[1]);
    const own = statFields(postmaster);
    let ticks = Number(own[11]) + Number(own[12]) + Number(own[13]) + Number(own[14]);
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry) || Number(entry) === postmaster) continue;
      try {
        const fields = statFields(entry);
        if (Number(fields[1]) === postmaster) ticks += Number(fields[11]) + Number(fields[12]);
      } catch {
        // gone meanwhile
      }
    }
    return (ticks * 1000) / CLK_TCK;
  } catch {
    return null;
  } finally {
    await sql.end({ timeout: 5 });
  }
}

/** utime + stime of the whole process, in milliseconds. */
export function cpuMs(pid) {
  const { user, system } = cpuTimes(pid);
  return user + system;
}

/** {rssMb, hwmMb} from /proc/<pid>/status. */
export function memory(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name) => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? 0);
  return { rssMb: kb('VmRSS') / 1024, hwmMb: kb('VmHWM') / 1024 };
}

/** Polls VmRSS every `everyMs` until stopped; stop() gives the peak in MB. */
export function pollRss(pid, everyMs = 100) {
  let peak = 0;
  const sample = () => {
    try {
      peak = Math.max(peak, memory(pid).rssMb);
    } catch {
      // The process is gone.
    }
  };
  sample();
  const timer = setInterval(sample, everyMs);
  return {
    stop() {
      clearInterval(timer);
      sample();
      return peak;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL

export function pgUrl(database) {
  return `${PG_BASE}/${database}`;
}

/** Checks that PostgreSQL answers (pg_isready), and starts the local cluster if not. */
export async function ensurePostgres() {
  const { hostname, port } = new URL(PG_BASE);
  const ready = () => spawnSync('pg_isready', ['-h', hostname, '-p', port || '5432', '-t', '2'], { encoding: 'utf8' }).status === 0;
  if (ready()) return;
  log('PostgreSQL is not running: starting the local cluster');
  const versions = existsSync('/etc/postgresql') ? readdirSync('/etc/postgresql') : [];
  if (versions.length === 0) throw new Error('PostgreSQL is down and no cluster was found in /etc/postgresql');
  for (const version of versions) {
    spawnSync('pg_ctlcluster', ['--skip-systemctl-redirect', version, 'main', 'start'], { stdio: 'inherit' });
  }
  for (let i = 0; i < 60 && !ready(); i++) await sleep(500);
  if (!ready()) throw new Error('PostgreSQL did not become ready');
}

/** Creates an empty database, dropped at cleanup. */
export async function createBenchDatabase(name) {
  const admin = postgres(pgUrl('postgres'), { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`drop database if exists "${name}" with (force)`);
    await admin.unsafe(`create database "${name}"`);
  } finally {
    await admin.end({ timeout: 5 });
  }
  onCleanup(async () => {
    const again = postgres(pgUrl('postgres'), { max: 1, onnotice: () => {} });
    try {
      await again.unsafe(`drop database if exists "${name}" with (force)`);
    } finally {
      await again.end({ timeout: 5 });
    }
  });
  return pgUrl(name);
}

function base32(bytes) {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz234567';
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += alphabet[(value << (5 - bits)) & 31];
  return out;
}

/** A session token in the service's format (`sess_<id>.<secret>`), with what the table stores. */
export function sessionToken() {
  const id = base32(randomBytes(15));
  const secret = base32(randomBytes(15));
  return { id, secretHash: createHash('sha256').update(secret).digest('hex'), token: `sess_${id}.${secret}` };
}

/**
 * Seeds a migrated database directly with SQL: `users` users (role member) with a session each,
 * and for every pool, `perClient` threads per client holding `messages` completed messages each
 * (roles alternating), linked as the service links them (parent_id, sibling_index, the thread's
 * head_message_id): a straight line, or with `branches` > 0 that many forks (see branchLayout).
 * Returns {pools: {name: [{token, threads}]}} in client order.
 */
export async function seedPostgres(url, { users, pools }) {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    const [role] = await sql`select id from roles where name = 'member'`;
    if (!role) throw new Error('the database is not migrated (no member role)');
    const userRows = await sql`
      insert into users (email, name, password_hash, role_id)
      select 'bench' || g || '@example.com', 'Bench ' || g, '$argon2id$v=19$m=19456,t=2,p=1$bench$bench', ${role.id}
      from generate_series(1, ${users}) g
      order by g
      returning id`;
    const tokens = [];
    for (const user of userRows) {
      const t = sessionToken();
      // 29 days: a 30-day session is renewed only in its second half, so none is renewed here.
      await sql`insert into sessions (id, secret_hash, user_id, expires_at) values (${t.id}, ${t.secretHash}, ${user.id}, now() + interval '29 days')`;
      tokens.push({ userId: Number(user.id), token: t.token });
    }
    const result = {};
    for (const [name, pool] of Object.entries(pools)) {
      const clients = [];
      for (let c = 0; c < pool.clients; c++) {
        const { userId, token } = tokens[c % tokens.length];
        const rows = await sql`
          insert into threads (user_id, title)
          select ${userId}, ${`bench ${name} ${c}`} from generate_series(1, ${pool.perClient}) g
          returning id`;
        const ids = rows.map((r) => Number(r.id));
        if (pool.messages > 0) await seedMessages(sql, ids, pool.messages, pool.branches ?? 0);
        clients.push({ token, threads: ids });
      }
      result[name] = clients;
    }
    await sql`vacuum analyze`;
    return result;
  } finally {
    await sql.end({ timeout: 5 });
  }
}

/**
 * Where each of a thread's `messages` messages goes, by its position g (1-based, creation order):
 * the thread is `branches` units of U = messages / branches positions (one unit when `branches` is
 * 0: a straight line). A unit is M main-line messages followed by a branch of L = 20 (10 turns)
 * that forks off the unit's main-line assistant message at offset F = M / 2: the branch's first
 * message is a user message, the sibling (index 1) of the main line's next one (an edit). The main
 * line runs through every unit; the head is its last message. Ids are the positions offset by the
 * thread's first id, so parents are known without reading anything back.
 */
function branchLayout(messages, branches) {
  if (branches === 0) return { unit: messages, main: messages, fork: 0, head: messages };
  const unit = messages / branches;
  const branchLength = 20;
  const main = unit - branchLength;
  const fork = main / 2;
  if (!Number.isInteger(unit) || main < 2 || main % 2 !== 0 || fork % 2 !== 0) {
    throw new Error(`cannot lay out ${messages} messages in ${branches} branches of ${branchLength}`);
  }
  return { unit, main, fork, head: (branches - 1) * unit + main };
}

/** Inserts the messages of threads `ids` (see branchLayout) with explicit ids, then the heads. */
async function seedMessages(sql, ids, messages, branches) {
  const { unit: U, main: M, fork: F, head } = branchLayout(messages, branches);
  const [{ base }] = await sql`select coalesce(max(id), 0)::bigint as base from messages`;
  const first = Number(base) + 1;
  // o: the thread's 0-based ordinal in `ids`; g: the position; k: the unit; r: the place in it.
  await sql`
    insert into messages (id, thread_id, parent_id, sibling_index, role, content, status, token_count, created_at)
    select ${first} - 1 + o * ${messages} + g,
           t.id,
           ${first} - 1 + o * ${messages} + case
             when g = 1 then null
             when r = 1 then (k - 1) * ${U} + ${M}
             when r = ${M} + 1 then k * ${U} + ${F}
             else g - 1 end,
           case when r = ${M} + 1 then 1 else 0 end,
           case when g % 2 = 1 then 'user' else 'assistant' end, ${SEED_CONTENT}, 'completed', ${SEED_TOKENS},
           now() - interval '1 day' + g * interval '1 second'
    from unnest(${ids}::bigint[]) with ordinality as t(id, n)
    cross join lateral (select n - 1 as o) ord
    cross join generate_series(1, ${messages}) g
    cross join lateral (select (g - 1) / ${U} as k, (g - 1) % ${U} + 1 as r) pos
    order by o, g`;
  await sql`select setval(pg_get_serial_sequence('messages', 'id'), (select max(id) from messages))`;
  await sql`
    update threads t set message_count = ${messages}, last_message_at = now(), updated_at = now(),
           head_message_id = ${first} - 1 + (x.n - 1) * ${messages} + ${head}
    from unnest(${ids}::bigint[]) with ordinality as x(id, n)
    where t.id = x.id`;
}

// ---------------------------------------------------------------------------------------------
// The servers

/** The model server, in its own process. */
export async function startFake() {
  const child = startChild('fake-openai', process.execPath, [join(BENCH_DIR, 'fake-openai.mjs')], {
    env: { ...baseEnv(), ...Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith('FAKE_STREAM_'))) },
  });
  const { port } = await firstJsonLine(child);
  const origin = `http://127.0.0.1:${port}`;
  return {
    child,
    url: `${origin}/v1`,
    /** Sets how the fake model streams from now on: `tokens` tokens, `gapMs` apart. */
    async setStream({ tokens, gapMs }) {
      const res = await fetch(`${origin}/bench/stream`, { method: 'POST', body: JSON.stringify({ tokens, gapMs }) });
      if (res.status !== 204) throw new Error(`fake model refused the stream shape: ${res.status} ${await res.text()}`);
    },
  };
}

function baseEnv() {
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp' };
  if (process.env.TMPDIR) env.TMPDIR = process.env.TMPDIR;
  return env;
}

/**
 * The service as it runs in production: `node server/dist/main.js`, NODE_ENV=production, logs at
 * info to a file. Rate limits are raised so that they refuse nothing (they still run).
 * `database`: a postgres:// URL, or {pgliteDir}. Resolves once /readyz answers 200, with readyMs.
 */
/** Node flags given in an environment variable, space-separated (`BENCH_OURS_NODE_ARGS="--a --b"`). */
export const nodeArgsFrom = (name) => (process.env[name] ?? '').split(' ').filter(Boolean);

export async function startOurs({ database, fakeUrl, logFile, nodeArgs = [], env: extra = {}, entry = join(ROOT, 'server/dist/main.js') }) {
  const port = await freePort();
  const env = {
    ...baseEnv(),
    NODE_ENV: 'production',
    HOST: '127.0.0.1',
    PORT: String(port),
    OPENAI_API_KEY: 'bench-key',
    OPENAI_BASE_URL: fakeUrl,
    AI_MODEL: MODEL,
    RATE_LIMIT_MESSAGES_PER_MINUTE: '1000000000',
    RATE_LIMIT_REQUESTS_PER_MINUTE: '1000000000',
    SIGN_IN_ATTEMPTS_PER_MINUTE_PER_IP: '1000000',
    ...(typeof database === 'string' ? { DATABASE_URL: database } : { PGLITE_DIR: database.pgliteDir }),
    ...extra,
  };
  const started = performance.now();
  const child = startChild('ours', process.execPath, [...nodeArgsFrom('BENCH_OURS_NODE_ARGS'), ...nodeArgs, entry], { env, logFile });
  const url = `http://127.0.0.1:${port}`;
  await waitReady(child, url);
  return { child, url, pid: child.pid, readyMs: performance.now() - started };
}

export async function startReference({ database, fakeUrl, logFile, nodeArgs = [] }) {
  const port = await freePort();
  const env = { ...baseEnv(), NODE_ENV: 'production', PORT: String(port), DATABASE_URL: database, OPENAI_BASE_URL: fakeUrl, AI_MODEL: MODEL };
  const started = performance.now();
  const child = startChild('reference', process.execPath, [...nodeArgs, join(BENCH_DIR, 'reference-server.mjs')], { env, logFile });
  const url = `http://127.0.0.1:${port}`;
  await waitReady(child, url);
  return { child, url, pid: child.pid, readyMs: performance.now() - started };
}

async function waitReady(child, url, timeoutMs = 180_000) {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (child.exited) throw new Error(`${child.name} exited (${child.code}) before it was ready:\n${child.stderr.slice(-3000)}`);
    try {
      const res = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      if (res.status === 200) return;
    } catch {
      // Not listening yet.
    }
    await sleep(25);
  }
  throw new Error(`${child.name} was not ready within ${timeoutMs} ms`);
}

/** Users and threads through the API (PGlite: nothing else can reach its one connection). */
export async function seedThroughApi(url, { users, pools }) {
  const post = async (path, body, token) => {
    const res = await fetch(`${url}/api/v1${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
    });
    const json = await res.json();
    if (res.status >= 300) throw new Error(`POST ${path}: ${res.status} ${JSON.stringify(json)}`);
    return json;
  };
  const tokens = [];
  for (let u = 0; u < users; u++) {
    const { token } = await post('/auth/sign-up', { email: `bench${u}@example.com`, password: 'bench password 123', name: `Bench ${u}` });
    tokens.push(token);
  }
  const result = {};
  for (const [name, pool] of Object.entries(pools)) {
    const clients = [];
    for (let c = 0; c < pool.clients; c++) {
      const token = tokens[c % tokens.length];
      const threads = [];
      for (let i = 0; i < pool.perClient; i++) threads.push((await post('/ai/threads', { title: `bench ${name} ${c}` }, token)).id);
      clients.push({ token, threads });
    }
    result[name] = clients;
  }
  return result;
}

// ---------------------------------------------------------------------------------------------
// Load

let planCounter = 0;

/** Runs autocannon in its own process for `duration` seconds; resolves with its result JSON. */
export async function runLoad({ url, connections, duration, clients, workDir, kind = 'post' }) {
  const planFile = join(workDir, `plan-${++planCounter}.json`);
  writeFileSync(planFile, JSON.stringify({ url, connections, duration, timeout: 30, kind, content: CONTENT, clients: clients.slice(0, connections) }));
  // The streaming client is its own script (autocannon does not read events as they arrive).
  const script = kind === 'stream' ? 'stream-load.mjs' : 'load.mjs';
  const child = startChild('load', process.execPath, [join(BENCH_DIR, script), planFile], { env: baseEnv() });
  const timer = setTimeout(() => {
    log(`load generator overran ${duration + 60} s: killing it`);
    child.proc.kill('SIGKILL');
  }, (duration + 60) * 1000);
  await child.done;
  clearTimeout(timer);
  const line = child.stdout.split('\n').find((l) => l.startsWith('{'));
  if (!line) throw new Error(`load generator failed (${child.code}): ${child.stderr.slice(-2000)}`);
  return JSON.parse(line);
}

/**
 * One measurement: a warmup, then a fixed-duration run with the server's CPU time and peak RSS
 * read around it.
 */
export async function measure({ server, connections, clients, warmup, duration, workDir, onStart, kind = 'post' }) {
  if (warmup > 0) await runLoad({ url: server.url, connections, duration: warmup, clients, workDir, kind });
  onStart?.();
  const cpuBefore = cpuTimes(server.pid);
  const rss = pollRss(server.pid);
  const load = await runLoad({ url: server.url, connections, duration, clients, workDir, kind });
  const peakRssMb = rss.stop();
  const cpuAfter = cpuTimes(server.pid);
  const cpu = cpuAfter.user + cpuAfter.system - cpuBefore.user - cpuBefore.system;
  const systemShare = cpu > 0 ? (cpuAfter.system - cpuBefore.system) / cpu : null;
  return {
    connections,
    rps: load.rps,
    ok_rps: load.ok_rps,
    requests: load.requests,
    p50_ms: load.latency_ms.p50,
    p90_ms: load.latency_ms.p90,
    p99_ms: load.latency_ms.p99,
    mean_ms: load.latency_ms.mean,
    errors: load.non2xx + load.errors + load.timeouts,
    non2xx: load.non2xx,
    socket_errors: load.errors,
    timeouts: load.timeouts,
    statuses: load.statuses,
    peak_rss_mb: peakRssMb,
    cpu_ms_per_req: load.requests > 0 ? cpu / load.requests : null,
    cpu_system_share: systemShare,
    duration_s: load.duration_s,
    ...(load.deltas ? { deltas: load.deltas } : {}),
  };
}
