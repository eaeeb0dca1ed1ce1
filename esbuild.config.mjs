// Builds one minified ESM bundle per Lambda: functions/<name>/handler.ts → dist/<name>/index.mjs.
// DuckDB is native, so it stays external; a function whose bundle imports it gets the package (and
// its x86_64 binding) copied into dist/<name>/node_modules, next to the handler, where Lambda's
// Node resolves it. Every function that loads the pipeline gets it beside the handler:
// dist/<name>/pipeline/pipeline.json (the effective configuration, as `landfall config` prints it)
// and the SQL files and Spark modules it names, referenced relative to it. A pipeline with Spark
// stages also gets dist/spark/ (spark/package.sh: the engine, main.py and pipeline.zip).
// Entry: `node esbuild.config.mjs [--pipeline path/to/pipeline.yaml]` (npm run build; default: the
// samples' examples/retail/pipeline.yaml; `serverless package|deploy --param="pipeline=…"` passes it).
import { build } from 'esbuild';
import { cp, mkdir, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { tsImport } from 'tsx/esm/api';

const { sparkPackageRoot } = await tsImport('./shared/core/config/spark-package.ts', import.meta.url);
const { catalogTables } = await tsImport('./shared/stages/catalog/table-schemas.ts', import.meta.url);
const { loadPipelineFile } = await tsImport('./shared/core/config/load-config.ts', import.meta.url);

const root = dirname(fileURLToPath(import.meta.url));
const functionsDir = join(root, 'functions');
const distDir = join(root, 'dist');

/** Externals that are shipped as packages beside the bundle instead of being bundled. */
const DUCKDB = '@duckdb/node-api';
/** What a DuckDB function needs at run time on Lambda (x86_64, glibc). */
const DUCKDB_PACKAGES = ['@duckdb/node-api', '@duckdb/node-bindings', '@duckdb/node-bindings-linux-x64'];

/** The module every function that reads the pipeline imports: those get the pipeline folder. */
const PIPELINE_LOADER = 'shared/core/config/load-config.ts';
const DEFAULT_PIPELINE = join(root, 'examples', 'retail', 'pipeline.yaml');

/**
 * The chosen pipeline as the engine reads it (validated by `landfall config`), with every file it
 * names copied under `pipeline/` and referenced relative to pipeline.json: a file inside the
 * configuration's folder keeps its path there, one outside goes to _outside/<hash>/ (its name kept:
 * a versioned SQL file's name is part of each run's fingerprint).
 */
function bundledPipeline(file) {
  const tsx = join(root, 'node_modules', '.bin', 'tsx');
  const effective = JSON.parse(
    execFileSync(tsx, [join(root, 'ops', 'cli.ts'), 'config', '--config', file], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }),
  );
  const base = dirname(resolve(file));
  const files = new Map();
  const place = (absolute) => {
    const inside = relative(base, absolute);
    const rel =
      !inside.startsWith('..') && !isAbsolute(inside)
        ? inside
        : join('_outside', createHash('sha256').update(dirname(absolute)).digest('hex').slice(0, 12), basename(absolute));
    files.set(absolute, rel);
    return rel.split('\\').join('/');
  };
  delete effective.$schema;
  // read before the paths below become relative: the folder pipeline.zip is built from
  const sparkRoot = sparkPackageRoot(effective);
  for (const job of effective.jobs) {
    for (const stage of job.stages) {
      if (stage.sql) stage.sql = place(stage.sql);
      if (stage.spark) stage.spark = place(stage.spark);
    }
  }
  return { config: effective, files, dir: base, sparkRoot };
}

async function writePipeline(pipeline, into) {
  await mkdir(into, { recursive: true });
  await writeFile(join(into, 'pipeline.json'), `${JSON.stringify(pipeline.config, null, 2)}\n`);
  // the tables' columns as the writers write them (shared/stages/catalog): the warehouse load reads them
  await writeFile(join(into, 'catalog.json'), `${JSON.stringify({ tables: pipeline.catalog }, null, 2)}\n`);
  for (const [from, rel] of pipeline.files) {
    await mkdir(dirname(join(into, rel)), { recursive: true });
    await cp(from, join(into, rel));
  }
}

const banner = "import { createRequire } from 'module'; const require = createRequire(import.meta.url);";

async function functionNames() {
  const entries = await readdir(functionsDir, { withFileTypes: true });
  return entries
    .filter((e) => e.isDirectory() && existsSync(join(functionsDir, e.name, 'handler.ts')))
    .map((e) => e.name)
    .sort();
}

async function dirSize(path) {
  const info = await stat(path);
  if (!info.isDirectory()) return info.size;
  let total = 0;
  for (const entry of await readdir(path)) total += await dirSize(join(path, entry));
  return total;
}

/** True if the bundle's output keeps an import of `pkg` (or a subpath of it) as external. */
function importsExternal(metafile, outfile, pkg) {
  const output = metafile.outputs[relative(root, outfile).split('\\').join('/')];
  if (!output) throw new Error(`esbuild metafile has no output for ${outfile}`);
  return output.imports.some((i) => i.external && (i.path === pkg || i.path.startsWith(`${pkg}/`)));
}

async function main() {
  const started = Date.now();
  const { values } = parseArgs({ options: { pipeline: { type: 'string' } } });
  const pipelineFile = resolve(root, values.pipeline ?? process.env.LANDFALL_PIPELINE ?? DEFAULT_PIPELINE);
  const pipeline = { ...bundledPipeline(pipelineFile), catalog: (await catalogTables(loadPipelineFile(pipelineFile))).tables };
  await rm(distDir, { recursive: true, force: true });
  const names = await functionNames();
  if (names.length === 0) throw new Error(`no functions/<name>/handler.ts under ${functionsDir}`);

  const rows = [];
  for (const name of names) {
    const outfile = join(distDir, name, 'index.mjs');
    const result = await build({
      absWorkingDir: root,
      entryPoints: [join(functionsDir, name, 'handler.ts')],
      outfile,
      bundle: true,
      minify: true,
      sourcemap: true,
      platform: 'node',
      target: 'node24',
      format: 'esm',
      external: [DUCKDB],
      banner: { js: banner },
      metafile: true,
      legalComments: 'none',
      logLevel: 'warning',
    });
    const bundleBytes = (await stat(outfile)).size;
    let nativeBytes;
    if (importsExternal(result.metafile, outfile, DUCKDB)) {
      nativeBytes = 0;
      for (const pkg of DUCKDB_PACKAGES) {
        const from = join(root, 'node_modules', pkg);
        if (!existsSync(from)) throw new Error(`${name} imports ${DUCKDB} but ${from} is missing (npm install?)`);
        const to = join(distDir, name, 'node_modules', pkg);
        await cp(from, to, { recursive: true, dereference: true });
        nativeBytes += await dirSize(to);
      }
    }
    if (Object.keys(result.metafile.inputs).includes(PIPELINE_LOADER)) {
      await writePipeline(pipeline, join(distDir, name, 'pipeline'));
    }
    rows.push({ name, bundleBytes, nativeBytes });
  }

  const kb = (n) => (n / 1024).toFixed(1);
  const mb = (n) => (n / 1024 / 1024).toFixed(1);
  const header = ['function', 'bundle (KB)', 'DuckDB packages (MB)'];
  const table = rows.map((r) => [r.name, kb(r.bundleBytes), r.nativeBytes === undefined ? '-' : mb(r.nativeBytes)]);
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => row[i].length)));
  const line = (cells) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const row of table) console.log(line(row));
  console.log(
    `built ${rows.length} function(s) into ${relative(root, distDir)}/ in ${Date.now() - started} ms, with the pipeline ${relative(root, pipelineFile)} (${pipeline.config.datasets.length} datasets, ${pipeline.config.jobs.length} jobs)`,
  );
  // what EMR runs: the engine and this pipeline's Spark modules (upload dist/spark/ to s3://<lake>/artifacts/spark/)
  const sparkRoot = pipeline.sparkRoot;
  if (sparkRoot) {
    execFileSync('bash', [join(root, 'spark', 'package.sh'), join(distDir, 'spark'), sparkRoot], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
