/**
 * The file pipeline before and after a change, side by side in one run: the conversion suite (1–2)
 * of another commit (by default the last one that wrote a validated CSV copy) in a git worktree
 * beside this one, then this tree's, size by size, on the same machine and the same files.
 *   npm run bench:compare -- [--ref <commit>] [--sizes 100,1024]
 * Writes bench/results.before-after.md (and .json) and prints the table.
 */
import { execFileSync, execFile } from 'node:child_process';
import { existsSync, symlinkSync } from 'node:fs';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import type { SuiteResult } from './lib/results';
import type { Summary } from './lib/stats';

const run = promisify(execFile);
const { values } = parseArgs({ options: { ref: { type: 'string', default: 'c65ef07' }, sizes: { type: 'string', default: '100,1024' } } });
const root = join(import.meta.dirname, '..');
const ref = execFileSync('git', ['rev-parse', '--short', values.ref!], { cwd: root, encoding: 'utf8' }).trim();
const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim();
const before = join(tmpdir(), `landfall-before-${ref}`);
if (!existsSync(before)) {
  execFileSync('git', ['worktree', 'add', '--detach', before, ref], { cwd: root, stdio: 'inherit' });
  // the same dependencies: a change of the file pipeline does not change them
  symlinkSync(join(root, 'node_modules'), join(before, 'node_modules'));
}

async function conversion(tree: string, mb: number): Promise<Record<string, any>> {
  const out = join(await mkdtemp(join(tmpdir(), 'landfall-compare-')), 'result.json');
  process.stderr.write(`[compare] ${tree === root ? `this tree (${head})` : `before (${ref})`}, ${mb} MB\n`);
  await run(process.execPath, ['--import', 'tsx', join(tree, 'bench', 'suites', 'conversion.ts'), '--out', out], {
    cwd: tree,
    env: { ...process.env, BENCH_SIZES: String(mb) },
    maxBuffer: 64 * 1024 * 1024,
  });
  const result = JSON.parse(await readFile(out, 'utf8')) as SuiteResult;
  const data = result.data as Record<string, any>;
  return data[Object.keys(data).find((k) => k !== 'memoryMb')!];
}

const median = (s: Summary) => s.median;
const rows: string[][] = [];
const measured: Record<string, unknown> = {};
for (const mb of values.sizes!.split(',').map(Number)) {
  const [b, a] = [await conversion(before, mb), await conversion(root, mb)];
  const label = mb >= 1024 ? `${mb / 1024} GB` : `${mb} MB`;
  const mbps = (d: Record<string, any>) => (d.bytes / 1048576 / (median(d.ms.validate) / 1000)).toFixed(0);
  const ratio = (d: Record<string, any>) => (median(d.ms.perFile) / median(d.ms.floor)).toFixed(2);
  for (const [name, d] of [
    [`before (${ref})`, b],
    [`after (${head})`, a],
  ] as const) {
    rows.push([
      label,
      name,
      median(d.ms.validate).toFixed(0),
      mbps(d),
      median(d.ms.convert).toFixed(0),
      median(d.ms.track).toFixed(0),
      median(d.ms.perFile).toFixed(0),
      median(d.ms.floor).toFixed(0),
      `${ratio(d)}×`,
      `${d.peakRssMb.validate} / ${d.peakRssMb.convert}`,
    ]);
  }
  measured[label] = { before: b, after: a };
}
const header = [
  'file',
  'code',
  'validate ms',
  'validate MB/s',
  'convert ms',
  'track ms',
  'per-file ms',
  'DuckDB floor ms',
  'per-file / floor',
  'peak RSS MB validate / convert',
];
const table = [`| ${header.join(' | ')} |`, `| ${header.map(() => '---').join(' | ')} |`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
const md = `# The file pipeline before and after (${new Date().toISOString()})\n\nMedians of 3 runs per size, each tree's conversion suite run back to back on this machine (\`npm run bench:compare\`).\n\n${table}\n`;
await writeFile(join(import.meta.dirname, 'results.before-after.md'), md);
await writeFile(join(import.meta.dirname, 'results.before-after.json'), JSON.stringify({ ref, head, measured }, null, 2));
process.stdout.write(md);
