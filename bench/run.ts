/**
 * The benchmark suite: `npm run bench` (full, 17–28 minutes here) or `npm run bench -- --quick`
 * (under 3). Each suite runs in its own process; the results go to bench/results.json and
 * bench/results.md (quick: bench/results.quick.*), and the Markdown is printed.
 *   npm run bench -- [--quick] [--only conversion,engine]   (--only keeps the other suites' last results)
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { renderMarkdown, writeReport, type BenchReport, type SuiteResult } from './lib/results';

/** In order: the cost model reads what the others measured. */
export const SUITES = ['cold-start', 'conversion', 'feeds', 'engine', 'resolver', 'skew', 'cost', 'config-scale', 'console'] as const;

const { values } = parseArgs({ options: { quick: { type: 'boolean', default: false }, only: { type: 'string' } } });
const quick = values.quick!;
const only = values.only ? values.only.split(',') : [...SUITES];
const unknown = only.filter((s) => !(SUITES as readonly string[]).includes(s));
if (unknown.length > 0) {
  process.stderr.write(`unknown suite(s): ${unknown.join(', ')}; the suites are ${SUITES.join(', ')}\n`);
  process.exit(2);
}

function runSuite(id: string, out: string, previous: string): Promise<void> {
  const args = ['--import', 'tsx', join(import.meta.dirname, 'suites', `${id}.ts`), '--out', out, '--previous', previous, ...(quick ? ['--quick'] : [])];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'inherit', 'inherit'] });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`suite ${id} exited with code ${code}`))));
  });
}

const started = new Date();
const work = await mkdtemp(join(tmpdir(), 'landfall-bench-run-'));
const suites: SuiteResult[] = [];
try {
  for (const id of SUITES.filter((s) => only.includes(s))) {
    process.stderr.write(`[bench] suite ${id}${quick ? ' (quick)' : ''}\n`);
    const previous = join(work, `previous-${id}.json`);
    await writeFile(previous, JSON.stringify(suites));
    const out = join(work, `${id}.json`);
    await runSuite(id, out, previous);
    suites.push({ ...(JSON.parse(await readFile(out, 'utf8')) as SuiteResult), measuredAt: new Date().toISOString() });
  }
} finally {
  await rm(work, { recursive: true, force: true });
}
const base = join(import.meta.dirname, quick ? 'results.quick' : 'results');
/** With --only, the suites not run keep their last results (marked with when they were measured). */
async function earlierSuites(): Promise<SuiteResult[]> {
  if (!values.only || !existsSync(`${base}.json`)) return [];
  const earlier = JSON.parse(await readFile(`${base}.json`, 'utf8')) as BenchReport;
  return earlier.suites.map((s) => ({ ...s, measuredAt: s.measuredAt ?? earlier.startedAt }));
}
const kept = (await earlierSuites()).filter((s) => !suites.some((r) => r.id === s.id));
const order = (s: SuiteResult) => (SUITES as readonly string[]).indexOf(s.id);
const report: BenchReport = {
  mode: quick ? 'quick' : 'full',
  startedAt: started.toISOString(),
  seconds: (Date.now() - started.getTime()) / 1000,
  machine: { cpus: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.versions.node, platform: `${process.platform}-${process.arch}` },
  suites: [...kept, ...suites].sort((a, b) => order(a) - order(b)),
};
await writeReport(report, `${base}.json`, `${base}.md`);
process.stdout.write(renderMarkdown(report));
process.stderr.write(`[bench] ${report.seconds.toFixed(0)} s; written to ${base}.json and ${base}.md\n`);
