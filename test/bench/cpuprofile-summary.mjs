// Sums the self time of a V8 .cpuprofile (node --cpu-prof) by function and by file or package.
// Usage: node test/bench/cpuprofile-summary.mjs <file.cpuprofile> [top=30] [fromMs] [toMs]
import { readFileSync } from 'node:fs';

/**
 * `fromMs`/`toMs`: only the samples taken that long after the profile started (to leave out the
 * start-up and the warmup).
 */
export function summarise(profile, { fromMs = 0, toMs = Infinity } = {}) {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const self = new Map();
  // Sample i lasted timeDeltas[i + 1] (the delta to the next sample); the last one is dropped.
  let at = 0;
  for (let i = 0; i < profile.samples.length - 1; i++) {
    at += profile.timeDeltas[i];
    if (at < fromMs * 1000 || at > toMs * 1000) continue;
    const id = profile.samples[i];
    self.set(id, (self.get(id) ?? 0) + profile.timeDeltas[i + 1]);
  }
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const fns = new Map();
  const files = new Map();
  for (const [id, micros] of self) {
    const { functionName, url, lineNumber } = byId.get(id).callFrame;
    const where = shortUrl(url);
    const fnKey = `${functionName || '(anonymous)'}  ${where}${url ? `:${lineNumber + 1}` : ''}`;
    fns.set(fnKey, (fns.get(fnKey) ?? 0) + micros);
    const fileKey = groupOf(url, functionName);
    files.set(fileKey, (files.get(fileKey) ?? 0) + micros);
  }
  const sorted = (map) => [...map.entries()].sort((a, b) => b[1] - a[1]).map(([name, us]) => ({ name, ms: us / 1000, pct: (100 * us) / total }));
  return { totalMs: total / 1000, functions: sorted(fns), groups: sorted(files) };
}

function shortUrl(url) {
  if (!url) return '';
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) return url.slice(nm + 'node_modules/'.length);
  const i = url.indexOf('/server/dist/');
  if (i >= 0) return url.slice(i + 1);
  const j = url.indexOf('/db/dist/');
  if (j >= 0) return url.slice(j + 1);
  return url.replace(/^file:\/\//, '');
}

/** A package (`pino`, `@trpc/server`), one of our files, `node:internal`, or a V8 pseudo-node. */
function groupOf(url, functionName) {
  if (!url) return `(${functionName || 'native'})`;
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 'node_modules/'.length).split('/');
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
  }
  if (url.startsWith('node:')) return url.split('/').slice(0, 2).join('/');
  return shortUrl(url);
}

export function formatSummary(summary, top = 30) {
  const line = (e) => `${e.ms.toFixed(0).padStart(8)} ms ${e.pct.toFixed(1).padStart(5)}%  ${e.name}`;
  return [
    `total sampled: ${summary.totalMs.toFixed(0)} ms`,
    '',
    `top ${top} functions by self time:`,
    ...summary.functions.slice(0, top).map(line),
    '',
    `top ${top} packages / files by self time:`,
    ...summary.groups.slice(0, top).map(line),
  ].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const file = process.argv[2];
  if (!file) {
    process.stderr.write('usage: node test/bench/cpuprofile-summary.mjs <file.cpuprofile> [top]\n');
    process.exit(2);
  }
  const window = { fromMs: Number(process.argv[4] ?? 0), toMs: Number(process.argv[5] ?? Infinity) };
  process.stdout.write(`${formatSummary(summarise(JSON.parse(readFileSync(file, 'utf8')), window), Number(process.argv[3] ?? 30))}\n`);
}
