// `node test/bench/profile.mjs`: the built server under load at c=16 on PostgreSQL, with
// `node --cpu-prof`; prints the functions and packages that cost the most self time. The profile
// is kept in .bench-out/ (git-ignored) for Chrome DevTools or speedscope.
// Environment: BENCH_DURATION (default 15), BENCH_WARMUP (default 3), BENCH_CONNECTIONS (default 16),
// BENCH_MESSAGES (messages per seeded thread, default 0), BENCH_KIND (the request: `post`, the
// default; `list`, a page of 20; `patch`, a state patch; see load.mjs), BENCH_SKIP_BUILD=1; extra server env as
// BENCH_SERVER_ENV='{"LOG_LEVEL":"warn"}'; BENCH_TARGET=reference profiles the reference server instead; BENCH_NODE_ARGS adds node flags to the profiled server;
// BENCH_CPU_PROF=0 runs it without --cpu-prof (the measured line only; for `perf record -p`).
// With BENCH_KIND=stream the fake model streams 40 tokens 10 ms apart; FAKE_STREAM_TOKENS and
// FAKE_STREAM_GAP_MS set another shape (passed to fake-openai.mjs).
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatSummary, summarise } from './cpuprofile-summary.mjs';
import {
  cleanupAll,
  createBenchDatabase,
  ensurePostgres,
  log,
  measure,
  nodeArgsFrom,
  postgresCpuMs,
  ROOT,
  runCommand,
  seedPostgres,
  startFake,
  startOurs,
  startReference,
  stopChild,
  tempDir,
} from './lib.mjs';

const DURATION = Number(process.env.BENCH_DURATION ?? 15);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 3);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 16);
const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 0);
const KIND = process.env.BENCH_KIND ?? 'post';
/** `ours` (default) or `reference`: which server is profiled. */
const TARGET = process.env.BENCH_TARGET ?? 'ours';
/** BENCH_CPU_PROF=0: the server runs without the profiler (to measure it, or to profile it with perf). */
const CPU_PROF = process.env.BENCH_CPU_PROF !== '0';

const window = { fromMs: 0, toMs: Infinity };

async function main() {
  const workDir = await tempDir('ai-threads-profile-');
  const outDir = join(ROOT, '.bench-out', `profile-${Date.now()}`);
  mkdirSync(outDir, { recursive: true });
  await ensurePostgres();
  if (process.env.BENCH_SKIP_BUILD !== '1') runCommand(join(ROOT, 'node_modules/.bin/tsc'), ['-b', 'server']);
  const fake = await startFake();
  const db = await createBenchDatabase(`ai_threads_profile_${process.pid}`);
  const profiling = [
    ...(CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${outDir}`] : []),
    ...nodeArgsFrom('BENCH_NODE_ARGS'),
  ];
  let server = await startOurs({
    database: db,
    fakeUrl: fake.url,
    logFile: join(workDir, 'ours.log'),
    nodeArgs: TARGET === 'reference' ? [] : profiling,
    env: JSON.parse(process.env.BENCH_SERVER_ENV ?? '{}'),
  });
  if (TARGET === 'reference') {
    // Ours has migrated the database; the yardstick is profiled on it instead.
    await stopChild(server.child, 30_000);
    server = await startReference({ database: db, fakeUrl: fake.url, logFile: join(workDir, 'reference.log'), nodeArgs: profiling });
  }
  const pools = await seedPostgres(db, {
    users: CONNECTIONS,
    pools: {
      load: { clients: CONNECTIONS, perClient: MESSAGES > 0 ? 1 : Math.ceil(2000 / CONNECTIONS), messages: MESSAGES },
      // Messages no request touches, as the full benchmark's other scenarios leave: the planner
      // then sees a `messages` table of some size (an empty one, analyzed, gets plans that scan it).
      ballast: { clients: 16, perClient: 40, messages: 10 },
    },
  });
  const spawnedAt = performance.now() - server.readyMs;
  // PostgreSQL's CPU around the measured run (this machine's server only), read at its start.
  let postgresBefore = null;
  // The warmup is left out of the summary: samples from when the measured run starts.
  const run = await measure({
    kind: KIND,
    server,
    connections: CONNECTIONS,
    clients: pools.load,
    warmup: WARMUP,
    duration: DURATION,
    workDir,
    onStart: () => {
      window.fromMs = performance.now() - spawnedAt;
      postgresBefore = postgresCpuMs(db);
    },
  });
  window.toMs = performance.now() - spawnedAt;
  const [before, after] = [await postgresBefore, await postgresCpuMs(db)];
  if (before !== null && after !== null) log(`PostgreSQL: ${((after - before) / run.requests).toFixed(2)} ms of CPU per request`);
  log(`${run.rps.toFixed(1)} req/s, p50 ${run.p50_ms} ms, p99 ${run.p99_ms} ms, errors ${run.errors}, cpu ${run.cpu_ms_per_req.toFixed(2)} ms/req`);
  await stopChild(server.child, 30_000);
  if (!CPU_PROF) return;
  const file = readdirSync(outDir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) throw new Error(`no .cpuprofile in ${outDir}`);
  const summary = summarise(JSON.parse(readFileSync(join(outDir, file), 'utf8')), window);
  process.stdout.write(
    `profile: ${join(outDir, file)}; samples from ${(window.fromMs / 1000).toFixed(1)} s to ${(window.toMs / 1000).toFixed(1)} s ` +
      `(${run.requests} requests)\n` +
      `summary again: node test/bench/cpuprofile-summary.mjs ${join(outDir, file)} 40 ${Math.round(window.fromMs)} ${Math.round(window.toMs)}\n` +
      `${formatSummary(summary, 40)}\n`,
  );
}

main()
  .catch((error) => {
    process.exitCode = 1;
    log(`failed: ${error?.stack ?? error}`);
  })
  .finally(() => cleanupAll());
