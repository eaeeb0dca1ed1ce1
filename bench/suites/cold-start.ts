/**
 * 5. Cold start: each function's bundle size, its deployment package (zipped and unzipped), and the
 * time to import its handler in a fresh Node process (what Lambda's init phase pays for the code).
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { formatSummary, summarize } from '../lib/stats';
import { log, suiteMain } from '../lib/suite';
import type { Target } from '../lib/results';

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, '..', '..');
const MB = 1024 * 1024;
/** Lambda's limit on a function's unzipped deployment package (code and layers). */
export const LAMBDA_UNZIPPED_LIMIT_BYTES = 250 * MB;
const BUNDLE_TARGET_BYTES = 1 * MB;

async function dirSize(path: string): Promise<number> {
  const info = await stat(path);
  if (!info.isDirectory()) return info.size;
  let total = 0;
  for (const entry of await readdir(path)) total += await dirSize(join(path, entry));
  return total;
}

/** ms to import the bundle in a new process, measured inside it (process start-up excluded). */
async function importMs(bundle: string): Promise<number> {
  const script = `const t = performance.now(); await import(${JSON.stringify(pathToFileURL(bundle).href)}); process.stdout.write(String(performance.now() - t));`;
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, env: { ...process.env, AWS_REGION: 'us-east-1' } });
  return Number(stdout);
}

await suiteMain(async ({ quick }) => {
  log('packaging (esbuild + serverless package)');
  await run('npm', ['run', '--silent', 'package'], { cwd: ROOT, maxBuffer: 64 * MB });
  // the functions' bundles (dist/spark holds the Spark artifacts, not a function)
  const names = (await readdir(join(ROOT, 'dist'))).filter((name) => existsSync(join(ROOT, 'dist', name, 'index.mjs'))).sort();
  const runs = quick ? 3 : 7;
  const rows: Array<Array<string | number>> = [];
  const data: Record<string, unknown> = {};
  const targets: Target[] = [];
  for (const name of names) {
    const bundle = join(ROOT, 'dist', name, 'index.mjs');
    const bundleBytes = (await stat(bundle)).size;
    const unzippedBytes = await dirSize(join(ROOT, 'dist', name));
    const zippedBytes = (await stat(join(ROOT, '.serverless', `${name}.zip`))).size;
    const native = existsSync(join(ROOT, 'dist', name, 'node_modules', '@duckdb'));
    const samples: number[] = [];
    for (let i = 0; i < runs; i += 1) samples.push(await importMs(bundle));
    const imports = summarize(samples);
    log(`${name}: bundle ${(bundleBytes / 1024).toFixed(0)} KB, import ${imports.median.toFixed(0)} ms`);
    data[name] = { bundleBytes, unzippedBytes, zippedBytes, duckdb: native, importMs: imports };
    rows.push([name, (bundleBytes / 1024).toFixed(0), (zippedBytes / MB).toFixed(1), (unzippedBytes / MB).toFixed(1), formatSummary(imports, 0)]);
    targets.push(
      native
        ? {
            metric: `${name} package (DuckDB), unzipped`,
            target: `≤ ${LAMBDA_UNZIPPED_LIMIT_BYTES / MB} MB (Lambda limit)`,
            actual: `${(unzippedBytes / MB).toFixed(1)} MB`,
            met: unzippedBytes <= LAMBDA_UNZIPPED_LIMIT_BYTES,
          }
        : { metric: `${name} bundle, minified`, target: '≤ 1 MB', actual: `${(bundleBytes / 1024).toFixed(0)} KB`, met: bundleBytes <= BUNDLE_TARGET_BYTES },
    );
  }
  return {
    id: 'cold-start',
    title: '5. Cold start: bundles, packages, handler import time',
    tables: [{ header: ['function', 'bundle KB (minified)', 'zip MB', 'unzipped MB', `import ms (${runs} fresh processes)`], rows }],
    targets,
    notes: [
      'Import time is measured inside a fresh Node process (its own start-up excluded): the code part of a Lambda cold start. DuckDB functions ship the native package beside the bundle.',
    ],
    data,
  };
});
