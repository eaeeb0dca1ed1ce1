// Builds one minified ESM bundle per Lambda: functions/<name>/handler.ts → dist/<name>/index.mjs.
// DuckDB is native, so it stays external; a function whose bundle imports it gets the package (and
// its x86_64 binding) copied into dist/<name>/node_modules, next to the handler, where Lambda's
// Node resolves it. A bundle that loads versioned SQL files gets shared/transform/sql/ as ./sql/.
// Entry: `node esbuild.config.mjs` (npm run build).
import { build } from 'esbuild';
import { cp, readdir, rm, stat } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(fileURLToPath(import.meta.url));
const functionsDir = join(root, 'functions');
const distDir = join(root, 'dist');

/** Externals that are shipped as packages beside the bundle instead of being bundled. */
const DUCKDB = '@duckdb/node-api';
/** What a DuckDB function needs at run time on Lambda (x86_64, glibc). */
const DUCKDB_PACKAGES = ['@duckdb/node-api', '@duckdb/node-bindings', '@duckdb/node-bindings-linux-x64'];

/** Versioned SQL files, read at run time from ./sql/ beside the module that loads them. */
const SQL_LOADER = 'shared/transform/sql-files.ts';
const SQL_DIR = join(root, 'shared', 'transform', 'sql');

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
    if (Object.keys(result.metafile.inputs).includes(SQL_LOADER)) {
      await cp(SQL_DIR, join(distDir, name, 'sql'), { recursive: true });
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
  console.log(`built ${rows.length} function(s) into ${relative(root, distDir)}/ in ${Date.now() - started} ms`);
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
