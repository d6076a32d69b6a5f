// `npm run bench`: the message endpoint (POST /api/v1/ai/threads/{id}/messages) measured as it runs
// in production, beside a minimal reference implementation of the same endpoint, interleaved.
//
//   build (tsc -b server) → a fake OpenAI server (own process) → two fresh PostgreSQL databases
//   (migrated by the real server) seeded with the same users, sessions, threads and messages →
//   the built server and the reference server → autocannon (own process) at concurrency 1, 16, 64,
//   and on threads of 10 and 10,000 messages, ours and reference in turns → ours alone on 10,000-message
//   threads with 100 branches and on straight ones, in turns → PGlite (embedded) at 1 and 16 →
//   start-to-ready times → results/latest.json and results/latest.md.
//
// Environment: BENCH_DURATION (s, default 10), BENCH_WARMUP (s, default 3), BENCH_ROUNDS (default 2:
// ours then reference, then reference then ours), BENCH_PG_URL (default postgres://postgres@127.0.0.1:5432),
// BENCH_SKIP_BUILD=1, BENCH_SKIP_PGLITE=1, BENCH_ONLY (comma-separated scenario names or groups:
// `postgres`, `branches`, `pglite`; e.g. BENCH_ONLY=branches). A run with BENCH_ONLY writes
// results/partial.json and partial.md instead (latest.* and the README keep the full run).
// `npm run bench -- --readme` also refreshes README.md's table.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import {
  BENCH_DIR,
  cleanupAll,
  createBenchDatabase,
  ensurePostgres,
  log,
  measure,
  memory,
  ROOT,
  runCommand,
  seedPostgres,
  seedThroughApi,
  startFake,
  startOurs,
  startReference,
  stopChild,
  tempDir,
} from './lib.mjs';

const DURATION = Number(process.env.BENCH_DURATION ?? 10);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 3);
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 2));
const UPDATE_README = process.argv.includes('--readme');
const RESULTS = join(BENCH_DIR, 'results');

/** Thread pools: each client (connection) has threads of its own, so none is ever busy. */
const PG_SCENARIOS = [
  { name: 'c1', label: 'new threads, c=1', connections: 1, perClient: 2000, messages: 0 },
  { name: 'c16', label: 'new threads, c=16', connections: 16, perClient: 125, messages: 0 },
  { name: 'c64', label: 'new threads, c=64', connections: 64, perClient: 32, messages: 0 },
  { name: 'm10', label: '10-message threads, c=16', connections: 16, perClient: 125, messages: 10 },
  // Same history window as 10,000 (the 8000-token budget holds ~145 seeded turns): tells a cost of
  // the window (the prompt sent) from a cost of the thread's length.
  { name: 'm1k', label: '1,000-message threads, c=16', connections: 16, perClient: 1, messages: 1_000 },
  { name: 'm10k', label: '10,000-message threads, c=16', connections: 16, perClient: 1, messages: 10_000 },
];
/**
 * Ours alone, in turns: a post to a 10,000-message thread with 100 branches (forks off the main
 * line, each 20 messages; the head at the main line's leaf) against a straight one of 10,000.
 */
const BRANCH_SCENARIOS = [
  { name: 'b10k_straight', label: 'straight 10,000-message threads, c=16', connections: 16, perClient: 1, messages: 10_000, branches: 0 },
  { name: 'b10k_branched', label: '10,000-message threads, 100 branches, c=16', connections: 16, perClient: 1, messages: 10_000, branches: 100 },
];
const PGLITE_SCENARIOS = [
  { name: 'pglite_c1', label: 'PGlite, new threads, c=1', connections: 1, perClient: 100, messages: 0 },
  { name: 'pglite_c16', label: 'PGlite, new threads, c=16', connections: 16, perClient: 20, messages: 0 },
];

const GROUPS = {
  postgres: PG_SCENARIOS.map((s) => s.name),
  branches: BRANCH_SCENARIOS.map((s) => s.name),
  pglite: PGLITE_SCENARIOS.map((s) => s.name),
};
const ONLY = process.env.BENCH_ONLY
  ? new Set(
      process.env.BENCH_ONLY.split(',')
        .map((name) => name.trim())
        .filter(Boolean)
        .flatMap((name) => GROUPS[name] ?? [name]),
    )
  : null;
if (ONLY) {
  const known = new Set(Object.values(GROUPS).flat());
  const unknown = [...ONLY].filter((name) => !known.has(name));
  if (unknown.length > 0) throw new Error(`BENCH_ONLY: unknown scenario(s) ${unknown.join(', ')}; known: ${[...Object.keys(GROUPS), ...known].join(', ')}`);
}
const chosen = (scenario) => !ONLY || ONLY.has(scenario.name);

const round1 = (n) => (n === null || n === undefined || Number.isNaN(n) ? null : Math.round(n * 10) / 10);
const round2 = (n) => (n === null || n === undefined || Number.isNaN(n) ? null : Math.round(n * 100) / 100);

/** Rounds of one server on one scenario → one row: means of rates and latencies, sums of errors. */
function aggregate(runs) {
  const mean = (key) => runs.reduce((sum, r) => sum + r[key], 0) / runs.length;
  const requests = runs.reduce((sum, r) => sum + r.requests, 0);
  const cpu = runs.reduce((sum, r) => sum + (r.cpu_ms_per_req ?? 0) * r.requests, 0);
  return {
    connections: runs[0].connections,
    rps: round1(mean('rps')),
    p50_ms: round1(mean('p50_ms')),
    p90_ms: round1(mean('p90_ms')),
    p99_ms: round1(mean('p99_ms')),
    errors: runs.reduce((sum, r) => sum + r.errors, 0),
    requests,
    peak_rss_mb: round1(Math.max(...runs.map((r) => r.peak_rss_mb))),
    cpu_ms_per_req: requests > 0 ? round2(cpu / requests) : null,
    rounds: runs.map((r) => ({ ...r, rps: round1(r.rps), peak_rss_mb: round1(r.peak_rss_mb), cpu_ms_per_req: round2(r.cpu_ms_per_req) })),
  };
}

async function main() {
  const startedAt = new Date();
  const t0 = performance.now();
  const workDir = await tempDir('ai-threads-bench-');
  mkdirSync(RESULTS, { recursive: true });

  await ensurePostgres();
  if (process.env.BENCH_SKIP_BUILD !== '1') {
    log('building the server (tsc -b server)');
    runCommand(join(ROOT, 'node_modules/.bin/tsc'), ['-b', 'server']);
  }

  const fake = await startFake();
  log(`fake OpenAI server at ${fake.url}`);

  const pgScenarios = PG_SCENARIOS.filter(chosen);
  const branchScenarios = BRANCH_SCENARIOS.filter(chosen);
  const withReference = pgScenarios.length > 0;
  const tag = `${process.pid}_${Date.now().toString(36)}`;
  const oursDb = await createBenchDatabase(`ai_threads_bench_${tag}_ours`);
  const refDb = withReference ? await createBenchDatabase(`ai_threads_bench_${tag}_ref`) : null;
  const ready = {};

  // The reference's copy of the schema: our migrations, applied by our server starting on it.
  let ours;
  if (refDb) {
    ours = await startOurs({ database: refDb, fakeUrl: fake.url, logFile: join(workDir, 'ours-migrate-ref.log') });
    await stopChild(ours.child);
  }
  ours = await startOurs({ database: oursDb, fakeUrl: fake.url, logFile: join(workDir, 'ours.log') });
  ready.postgres_fresh_ms = round1(ours.readyMs);
  log(`ours ready on a fresh PostgreSQL database in ${ready.postgres_fresh_ms} ms (migrations included)`);

  const poolsOf = (scenarios) =>
    Object.fromEntries(
      scenarios.map((s) => [s.name, { clients: s.connections, perClient: s.perClient, messages: s.messages, branches: s.branches ?? 0 }]),
    );
  const pools = poolsOf(pgScenarios);
  log(`seeding ${refDb ? 'both databases' : 'the database'} (users, sessions, threads, messages)`);
  const [oursPools, refPools] = await Promise.all([
    seedPostgres(oursDb, { users: 64, pools: { ...pools, ...poolsOf(branchScenarios) } }),
    refDb ? seedPostgres(refDb, { users: 64, pools }) : null,
  ]);

  const reference = refDb ? await startReference({ database: refDb, fakeUrl: fake.url, logFile: join(workDir, 'reference.log') }) : null;
  if (reference) log(`reference ready in ${round1(reference.readyMs)} ms`);

  const results = {};
  for (const scenario of pgScenarios) {
    const runs = { ours: [], reference: [] };
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 === 0 ? ['ours', 'reference'] : ['reference', 'ours'];
      for (const who of order) {
        const server = who === 'ours' ? ours : reference;
        const clients = (who === 'ours' ? oursPools : refPools)[scenario.name];
        const run = await measure({ server, connections: scenario.connections, clients, warmup: WARMUP, duration: DURATION, workDir });
        runs[who].push(run);
        log(
          `${scenario.name} round ${round + 1} ${who.padEnd(9)} ${run.rps.toFixed(1)} req/s p50 ${run.p50_ms} p99 ${run.p99_ms} ms, ` +
            `errors ${run.errors}, rss ${run.peak_rss_mb.toFixed(0)} MB, cpu ${run.cpu_ms_per_req?.toFixed(2)} ms/req`,
        );
      }
    }
    const oursRow = aggregate(runs.ours);
    const refRow = aggregate(runs.reference);
    const perRound = runs.ours.map((r, i) => round2(r.rps / runs.reference[i].rps));
    results[scenario.name] = {
      label: scenario.label,
      ours: oursRow,
      reference: refRow,
      ratio: {
        rps: round2(oursRow.rps / refRow.rps),
        rps_by_round: perRound,
        p50: round2(oursRow.p50_ms / refRow.p50_ms),
        p99: round2(oursRow.p99_ms / refRow.p99_ms),
        cpu_per_req: round2(oursRow.cpu_ms_per_req / refRow.cpu_ms_per_req),
      },
    };
  }
  // Branched against straight, ours alone, in turns (straight first, then branched first).
  if (branchScenarios.length > 0) {
    const runs = Object.fromEntries(branchScenarios.map((s) => [s.name, []]));
    // One unmeasured pass over each first: whichever ran first would otherwise also warm the
    // server (JIT, prepared statements, caches), alone when BENCH_ONLY=branches.
    for (const scenario of branchScenarios) {
      await measure({ server: ours, connections: scenario.connections, clients: oursPools[scenario.name], warmup: 0, duration: WARMUP, workDir });
    }
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 === 0 ? branchScenarios : [...branchScenarios].reverse();
      for (const scenario of order) {
        const run = await measure({
          server: ours,
          connections: scenario.connections,
          clients: oursPools[scenario.name],
          warmup: WARMUP,
          duration: DURATION,
          workDir,
        });
        runs[scenario.name].push(run);
        log(
          `${scenario.name} round ${round + 1} ${run.rps.toFixed(1)} req/s p50 ${run.p50_ms} p99 ${run.p99_ms} ms, ` +
            `errors ${run.errors}, rss ${run.peak_rss_mb.toFixed(0)} MB, cpu ${run.cpu_ms_per_req?.toFixed(2)} ms/req`,
        );
      }
    }
    for (const scenario of branchScenarios) results[scenario.name] = { label: scenario.label, ours: aggregate(runs[scenario.name]), reference: null, ratio: null };
    const straight = runs.b10k_straight;
    const branched = runs.b10k_branched;
    if (straight && branched) {
      const s = results.b10k_straight.ours;
      const b = results.b10k_branched.ours;
      // Against the straight thread: branched/straight (req/s below 1, latencies and CPU above 1 cost more).
      results.b10k_branched.ratio = {
        against: 'b10k_straight',
        rps: round2(b.rps / s.rps),
        rps_by_round: branched.map((r, i) => round2(r.rps / straight[i].rps)),
        p50: round2(b.p50_ms / s.p50_ms),
        p99: round2(b.p99_ms / s.p99_ms),
        cpu_per_req: round2(b.cpu_ms_per_req / s.cpu_ms_per_req),
      };
    }
  }

  const oursHwm = memory(ours.pid).hwmMb;
  await stopChild(ours.child);
  if (reference) await stopChild(reference.child);

  ours = await startOurs({ database: oursDb, fakeUrl: fake.url, logFile: join(workDir, 'ours-restart.log') });
  ready.postgres_existing_ms = round1(ours.readyMs);
  await stopChild(ours.child);

  const pgliteScenarios = PGLITE_SCENARIOS.filter(chosen);
  if (process.env.BENCH_SKIP_PGLITE !== '1' && pgliteScenarios.length > 0) {
    const pgliteDir = join(workDir, 'pglite');
    const embedded = await startOurs({ database: { pgliteDir }, fakeUrl: fake.url, logFile: join(workDir, 'ours-pglite.log') });
    ready.pglite_fresh_ms = round1(embedded.readyMs);
    log(`ours ready on a fresh PGlite folder in ${ready.pglite_fresh_ms} ms`);
    const apiPools = Object.fromEntries(pgliteScenarios.map((s) => [s.name, { clients: s.connections, perClient: s.perClient }]));
    const pglitePools = await seedThroughApi(embedded.url, { users: 16, pools: apiPools });
    for (const scenario of pgliteScenarios) {
      const run = await measure({
        server: embedded,
        connections: scenario.connections,
        clients: pglitePools[scenario.name],
        warmup: WARMUP,
        duration: DURATION,
        workDir,
      });
      log(`${scenario.name} ours ${run.rps.toFixed(1)} req/s p50 ${run.p50_ms} p99 ${run.p99_ms} ms, errors ${run.errors}, rss ${run.peak_rss_mb.toFixed(0)} MB`);
      results[scenario.name] = { label: scenario.label, ours: aggregate([run]), reference: null, ratio: null };
    }
    await stopChild(embedded.child);
    const again = await startOurs({ database: { pgliteDir }, fakeUrl: fake.url, logFile: join(workDir, 'ours-pglite-restart.log') });
    ready.pglite_existing_ms = round1(again.readyMs);
    await stopChild(again.child);
  }

  const targets = evaluateTargets(results);
  const report = {
    started_at: startedAt.toISOString(),
    total_s: round1((performance.now() - t0) / 1000),
    settings: { duration_s: DURATION, warmup_s: WARMUP, rounds: ROUNDS, database_pool_size: 10, context_tokens: 8000, only: ONLY ? [...ONLY] : null },
    machine: { cpus: cpus().length, cpu_model: cpus()[0]?.model, mem_gb: round1(totalmem() / 2 ** 30), loadavg_at_end: loadavg().map(round2), node: process.version },
    results,
    ours_lifetime_peak_rss_mb_postgres: round1(oursHwm),
    ready_ms: ready,
    targets,
  };
  const out = ONLY ? 'partial' : 'latest';
  writeFileSync(join(RESULTS, `${out}.json`), `${JSON.stringify(report, null, 2)}\n`);
  const markdown = toMarkdown(report);
  writeFileSync(join(RESULTS, `${out}.md`), markdown);
  if (UPDATE_README && ONLY) log('BENCH_ONLY: README.md not updated (it shows a full run)');
  else if (UPDATE_README) updateReadme(markdown);
  process.stdout.write(`\n${markdown}\n`);
}

/** The targets whose scenarios ran (all of them unless BENCH_ONLY). */
function evaluateTargets(results) {
  const list = [];
  if (results.c16 && results.m10 && results.m10k && results.m1k) list.push(...postgresTargets(results));
  const branched = results.b10k_branched;
  if (branched?.ratio) {
    // Straight req/s over branched req/s: above 1, the branched thread costs more.
    const cost = round2(results.b10k_straight.ours.rps / branched.ours.rps);
    list.push({
      name: 'posting to a 10,000-message thread with 100 branches costs no more than to a straight one (straight/branched req/s ≤ 1.1)',
      value: cost,
      detail: `p50 ${branched.ratio.p50}×, CPU/req ${branched.ratio.cpu_per_req}× straight; by round ${branched.ratio.rps_by_round.map((r) => round2(1 / r)).join(', ')}`,
      holds: cost <= 1.1,
    });
  }
  return list;
}

function postgresTargets(results) {
  const c16 = results.c16;
  const m10 = results.m10;
  const m10k = results.m10k;
  const pgPeak = Math.max(...PG_SCENARIOS.map((s) => results[s.name].ours.peak_rss_mb));
  const list = [
    {
      name: 'throughput at c=16 ≥ 0.8× reference',
      value: c16.ratio.rps,
      holds: c16.ratio.rps >= 0.8,
    },
    {
      name: 'p99 at c=16 ≤ 1.5× reference',
      value: c16.ratio.p99,
      holds: c16.ratio.p99 <= 1.5,
    },
    {
      name: '10,000-message thread within 1.1× of a 10-message one (req/s)',
      value: round2(m10.ours.rps / m10k.ours.rps),
      reference_value: round2(m10.reference.rps / m10k.reference.rps),
      holds: m10.ours.rps / m10k.ours.rps <= 1.1,
    },
    {
      name: '10,000-message thread within 1.1× of a 1,000-message one (req/s; same history window)',
      value: round2(results.m1k.ours.rps / m10k.ours.rps),
      reference_value: round2(results.m1k.reference.rps / m10k.reference.rps),
      holds: results.m1k.ours.rps / m10k.ours.rps <= 1.1,
      informative: true,
    },
    {
      name: 'peak RSS under load ≤ 250 MB (PostgreSQL)',
      value: round1(pgPeak),
      holds: pgPeak <= 250,
    },
  ];
  return list;
}

function toMarkdown(report) {
  const lines = [];
  const { settings, machine } = report;
  lines.push(
    `Measured ${report.started_at.slice(0, 16).replace('T', ' ')} UTC on ${machine.cpus} CPUs (load average ${machine.loadavg_at_end[0]} at the end), Node ${machine.node}; ` +
      `${settings.warmup_s} s warmup + ${settings.duration_s} s per run, ${settings.rounds} interleaved round(s) per PostgreSQL row. ` +
      'Latencies in ms; errors = non-2xx + socket errors + timeouts; CPU = server process only (user + system) per request; ' +
      'RSS = peak resident set of the server process during the run.',
  );
  lines.push('');
  lines.push('| scenario | server | req/s | p50 | p90 | p99 | errors | peak RSS MB | CPU ms/req | ours/ref req/s (branched: ÷ straight) |');
  lines.push('|---|---|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const result of Object.values(report.results)) {
    const row = (who, r, ratio) =>
      `| ${result.label} | ${who} | ${r.rps} | ${r.p50_ms} | ${r.p90_ms} | ${r.p99_ms} | ${r.errors} | ${r.peak_rss_mb} | ${r.cpu_ms_per_req ?? '–'} | ${ratio} |`;
    const ratio = !result.ratio ? '' : result.ratio.against ? `**${result.ratio.rps}** (÷ straight)` : `**${result.ratio.rps}**`;
    lines.push(row('ours', result.ours, ratio));
    if (result.reference) lines.push(row('reference', result.reference, ''));
  }
  lines.push('');
  const r = report.ready_ms;
  lines.push(
    `Start to ready (spawn → \`/readyz\` 200): PostgreSQL ${r.postgres_fresh_ms} ms on a fresh database (migrations), ${r.postgres_existing_ms} ms on an existing one; ` +
      `PGlite ${r.pglite_fresh_ms ?? '–'} ms on a fresh folder, ${r.pglite_existing_ms ?? '–'} ms on an existing one.`,
  );
  lines.push('');
  lines.push('| target | value | holds |');
  lines.push('|---|---:|:---:|');
  for (const t of report.targets) {
    const extra = t.reference_value !== undefined ? ` (reference: ${t.reference_value})` : t.detail ? ` (${t.detail})` : '';
    lines.push(`| ${t.name}${t.informative ? ' (diagnostic, not a target)' : ''} | ${t.value}${extra} | ${t.holds ? 'yes' : 'no'} |`);
  }
  return `${lines.join('\n')}\n`;
}

const README_START = '<!-- bench:start -->';
const README_END = '<!-- bench:end -->';

function updateReadme(markdown) {
  const file = join(ROOT, 'README.md');
  const text = readFileSync(file, 'utf8');
  const start = text.indexOf(README_START);
  const end = text.indexOf(README_END);
  if (start < 0 || end < start) {
    log('README.md has no bench markers: not updated');
    return;
  }
  writeFileSync(file, `${text.slice(0, start + README_START.length)}\n${markdown}${text.slice(end)}`);
  log('README.md benchmark table refreshed');
}

main()
  .catch((error) => {
    process.exitCode = 1;
    log(`failed: ${error?.stack ?? error}`);
  })
  .finally(() => cleanupAll());
