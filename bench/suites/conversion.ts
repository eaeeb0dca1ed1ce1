/**
 * 1. Conversion overhead and 2. validation throughput. A generated .tdf file of each size lands on
 * the local stack, where validate, convert and track each run in their own process with the memory
 * serverless.yml gives them, from their esbuild bundles (npm run build: the code as deployed, with
 * the pipeline bundled beside it); right after, DuckDB alone converts the same local file (the
 * floor), with the convert function's threads and memory limit. Times are the handler calls (a
 * cold start's import is suite 5). Runs alternate handler/floor, so each ratio is measured side by
 * side. The per-file time is the path from landing to CONVERTED: validate, convert (it fires on
 * validate's verdict) and track recording CONVERTED; track recording VALIDATED (it fires on
 * validate's report) runs beside convert, and the sum of all handler time is reported too.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PREFIX } from '../../shared/core/s3/layout';
import { uploadFile } from '../../shared/core/s3/object-io';
import { startLocalStack } from '../../local/stack';
import { usePipelineFile } from '../../local/pipeline-file';
import { MB, posFileOfSize } from '../lib/data';
import type { Target } from '../lib/results';
import { formatSummary, pairedRatios, summarize, type Summary } from '../lib/stats';
import { log, suiteMain } from '../lib/suite';

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, '..', '..');
const FLOOR = join(ROOT, 'bench', 'floor-convert.ts');
const OVERHEAD_TARGET = 1.5;
/** the whole per-file time (validate + convert + track) against the floor (stretch: 2×) */
const PER_FILE_TARGET = 3;
/** validation throughput at 1 GB, MB/s, with the function's threads */
const VALIDATION_TARGET_MBPS = 150;

async function floor(path: string, memoryMb: number): Promise<{ durationMs: number; peakRssMb: number; rows: number }> {
  const dir = await mkdtemp(join(tmpdir(), 'landfall-floor-'));
  try {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', FLOOR, path, join(dir, 'out.parquet'), String(memoryMb)]);
    return JSON.parse(stdout.trim().split('\n').pop()!) as { durationMs: number; peakRssMb: number; rows: number };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await suiteMain(async ({ quick }) => {
  const sizes = process.env.BENCH_SIZES ? process.env.BENCH_SIZES.split(',').map(Number) : quick ? [10] : [10, 100, 1024];
  const runs = process.env.BENCH_RUNS ? Number(process.env.BENCH_RUNS) : quick ? 2 : 3;
  // the bundles carry the pipeline the stack runs (the samples' unless LANDFALL_CONFIG_FILE names another)
  usePipelineFile(undefined);
  const pipelineFile = process.env.LANDFALL_CONFIG_FILE!;
  log(`building the functions (esbuild) with ${pipelineFile}`);
  await run(process.execPath, [join(ROOT, 'esbuild.config.mjs'), '--pipeline', pipelineFile], { cwd: ROOT, maxBuffer: 64 * MB });
  const stack = await startLocalStack({ isolate: true, bundles: join(ROOT, 'dist'), retryDelaysMs: [] });
  const memory = Object.fromEntries(stack.deployment.functions.map((f) => [f.name, f.memoryMb]));
  const rows: Array<Array<string | number>> = [];
  const validationRows: Array<Array<string | number>> = [];
  const targets: Target[] = [];
  const data: Record<string, unknown> = { memoryMb: { validate: memory.validate, convert: memory.convert, track: memory.track } };
  try {
    for (const [sizeIndex, mb] of sizes.entries()) {
      const path = await posFileOfSize(mb);
      const bytes = (await stat(path)).size;
      const samples = {
        validate: [] as number[],
        convert: [] as number[],
        track: [] as number[],
        floor: [] as number[],
        perFile: [] as number[],
        allHandlers: [] as number[],
      };
      const rss = { validate: 0, convert: 0, floor: 0 };
      for (let i = 0; i < runs; i += 1) {
        // a new key per run: the same bytes under the same key would be a (correct) no-op
        const key = `${PREFIX.landing}pos/ON/ON01_20261123_${String(10 + sizeIndex).padStart(2, '0')}${String(i).padStart(2, '0')}00.tdf`;
        const seen = stack.lambdas.timings.length;
        await uploadFile(stack.s3, stack.deployment.names.rawBucket, key, path, {}, 'text/tab-separated-values');
        await stack.settled(300, 30 * 60_000);
        if (stack.lambdas.failures.length > 0) throw new Error(`pipeline failures: ${JSON.stringify(stack.lambdas.failures)}`);
        const mine = stack.lambdas.timings.slice(seen);
        const of = (fn: string) => mine.filter((r) => r.functionName === fn);
        const [validate] = of('validate');
        const [convert] = of('convert');
        const track = of('track').reduce((sum, r) => sum + r.durationMs, 0);
        // track of the Parquet (processed/) records CONVERTED; track of the report runs beside convert
        const trackConverted = of('track').find((r) => decodeURIComponent(r.s3Key ?? '').startsWith(PREFIX.processed));
        if (!validate || !convert || !trackConverted) throw new Error(`run ${i} of ${mb} MB: validate, convert or track of the Parquet did not run`);
        samples.validate.push(validate.durationMs);
        samples.convert.push(convert.durationMs);
        samples.track.push(track);
        samples.perFile.push(validate.durationMs + convert.durationMs + trackConverted.durationMs);
        samples.allHandlers.push(validate.durationMs + convert.durationMs + track);
        rss.validate = Math.max(rss.validate, validate.peakRssMb ?? 0);
        rss.convert = Math.max(rss.convert, convert.peakRssMb ?? 0);
        const f = await floor(path, memory.convert!);
        samples.floor.push(f.durationMs);
        rss.floor = Math.max(rss.floor, f.peakRssMb);
        log(
          `${mb} MB run ${i + 1}/${runs}: validate ${validate.durationMs.toFixed(0)} ms, convert ${convert.durationMs.toFixed(0)} ms, floor ${f.durationMs.toFixed(0)} ms`,
        );
      }
      const s = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, summarize(v)])) as Record<keyof typeof samples, Summary>;
      const overhead = pairedRatios(samples.convert, samples.floor);
      const perFileRatio = pairedRatios(samples.perFile, samples.floor);
      const allHandlersRatio = pairedRatios(samples.allHandlers, samples.floor);
      const share = pairedRatios(samples.validate, samples.perFile);
      const mbps = (ms: Summary) =>
        formatSummary({ median: bytes / MB / (ms.median / 1000), min: bytes / MB / (ms.max / 1000), max: bytes / MB / (ms.min / 1000), runs: ms.runs }, 0);
      const label = mb >= 1024 ? `${mb / 1024} GB` : `${mb} MB`;
      rows.push([
        label,
        formatSummary(s.convert, 0),
        formatSummary(s.floor, 0),
        formatSummary(overhead, 2),
        mbps(s.convert),
        mbps(s.floor),
        `${rss.convert} / ${rss.floor}`,
      ]);
      validationRows.push([
        label,
        formatSummary(s.validate, 0),
        mbps(s.validate),
        `${(share.median * 100).toFixed(0)} % (${(share.min * 100).toFixed(0)}–${(share.max * 100).toFixed(0)})`,
        formatSummary(s.perFile, 0),
        formatSummary(perFileRatio, 2),
        formatSummary(s.allHandlers, 0),
        formatSummary(allHandlersRatio, 2),
        rss.validate,
      ]);
      data[label] = { bytes, ms: s, overhead, perFileRatio, allHandlersRatio, validateShare: share, peakRssMb: rss };
      if (mb >= 100) {
        targets.push({
          metric: `convert handler / DuckDB floor, ${label}`,
          target: `≤ ${OVERHEAD_TARGET}×`,
          actual: `${overhead.median.toFixed(2)}×`,
          met: overhead.median <= OVERHEAD_TARGET,
        });
        targets.push({
          metric: `per-file time, land → CONVERTED (validate + convert + track) / DuckDB floor, ${label}`,
          target: `≤ ${PER_FILE_TARGET}× (stretch 2×)`,
          actual: `${perFileRatio.median.toFixed(2)}×`,
          met: perFileRatio.median <= PER_FILE_TARGET,
        });
      }
      if (mb >= 1024) {
        const validateMbps = bytes / MB / (s.validate.median / 1000);
        targets.push({
          metric: `validation throughput, ${label}`,
          target: `≥ ${VALIDATION_TARGET_MBPS} MB/s`,
          actual: `${validateMbps.toFixed(0)} MB/s`,
          met: validateMbps >= VALIDATION_TARGET_MBPS,
        });
      }
    }
  } finally {
    await stack.stop();
  }
  return {
    id: 'conversion',
    title: '1–2. Conversion overhead against the DuckDB floor, and validation throughput',
    tables: [
      { header: ['file', 'convert handler ms', 'DuckDB floor ms', 'handler / floor', 'handler MB/s', 'floor MB/s', 'peak RSS MB handler / floor'], rows },
      {
        header: [
          'file',
          'validate ms',
          'validate MB/s',
          'share of per-file time',
          'per-file ms, land → CONVERTED (validate+convert+track)',
          'per-file / floor',
          'all handler ms (+ track of VALIDATED)',
          'all handlers / floor',
          'validate peak RSS MB',
        ],
        rows: validationRows,
      },
    ],
    targets,
    notes: [
      `Functions as deployed: validate ${memory.validate} MB, convert ${memory.convert} MB (DuckDB: ${Math.ceil(memory.convert! / 1769)} threads, ${Math.floor(memory.convert! * 0.4)} MB limit; the floor gets the same), track ${memory.track} MB.`,
      "validate counts the landed object's lines in DuckDB as it streams from S3 (above 32 MB, through a pipe) and writes a verdict; convert streams the same landed object into DuckDB again and writes the rows the verdict calls good (a file of good rows only through the typed CSV reader, as the floor). Both read the object from S3; here S3 is MinIO on the same 2 cores, so every byte moved costs CPU the floor does not spend.",
      'The handler adds, over the floor: reading the landed object from S3, the verdict GET, the HEAD of the Parquet key, the lineage columns, and the upload of the Parquet to S3 (one conditional PutObject up to 32 MiB, multipart above).',
      'Per-file time is land → CONVERTED: validate, then convert (on the verdict), then track recording CONVERTED (on the Parquet). Track recording VALIDATED fires on the report validate writes after the verdict and runs beside convert: it is in the all-handler time, not on the path. Handlers run from their bundles as deployed (the pipeline bundled as JSON beside them).',
    ],
    data,
  };
});
