/**
 * Feeds (issue 25 "Speed and memory"). Orders as a partner sends them land on the local stack, where
 * validate, convert and track run from their bundles in their own processes with the memory
 * serverless.yml gives them (as the conversion suite runs them):
 * - a gzip'd CSV and a gzip'd JSON-lines file (1 GB of text each): per-file time land → CONVERTED
 *   against DuckDB's own conversion of the same .gz (read_csv / read_json with the same column
 *   types → Parquet, the convert function's threads and memory limit), alternating, side by side;
 * - a zip of 100 members of 10 MB: time to UNPACKED, until every member is CONVERTED, per member,
 *   and the peak RSS of the validate that unpacks it.
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { MB } from '../lib/data';
import { csvGzOfSize, FEED_KEYS, jsonlGzOfSize, writeFeedsPipeline, zipOfMembers } from '../lib/feed-data';
import {
  convertedFiles,
  LandingFailed,
  landAndSettle,
  pathToConverted,
  runFloor,
  startBundledStack,
  type FloorRun,
  type TimedInvocation,
} from '../lib/handler-stack';
import type { Target } from '../lib/results';
import { formatSummary, pairedRatios, summarize } from '../lib/stats';
import { log, suiteMain } from '../lib/suite';
import { PREFIX } from '../../shared/core/s3/layout';

const FLOOR = join(import.meta.dirname, '..', 'lib', 'feed-floor.ts');
/** per-file time land → CONVERTED against DuckDB's conversion of the same .gz */
const PER_FILE_TARGET = 3;

type Shape = 'csv' | 'jsonl';
const SHAPES: Record<Shape, { label: string; contentType: string; make: (mb: number) => Promise<string> }> = {
  csv: { label: 'CSV', contentType: 'application/gzip', make: csvGzOfSize },
  jsonl: { label: 'JSON lines', contentType: 'application/gzip', make: jsonlGzOfSize },
};

interface ShapeSamples {
  validate: number[];
  convert: number[];
  perFile: number[];
  floor: number[];
  rss: { validate: number; convert: number; floor: number };
  floorRows: number;
  /** why the pipeline failed the file (then it is not landed again) */
  failed?: string;
  lastFloor: number;
}
const newSamples = (): ShapeSamples => ({
  validate: [],
  convert: [],
  perFile: [],
  floor: [],
  rss: { validate: 0, convert: 0, floor: 0 },
  floorRows: 0,
  lastFloor: 0,
});

const sizeLabel = (mb: number) => (mb >= 1024 ? `${mb / 1024} GB` : `${mb} MB`);
const max = (values: Array<number | undefined>) => Math.max(0, ...values.map((v) => v ?? 0));

await suiteMain(async ({ quick }) => {
  const textMb = process.env.BENCH_FEED_MB ? Number(process.env.BENCH_FEED_MB) : quick ? 20 : 1024;
  const zip = quick ? { members: 10, memberMb: 1 } : { members: 100, memberMb: 10 };
  const runs = process.env.BENCH_RUNS ? Number(process.env.BENCH_RUNS) : quick ? 2 : 3;
  // one zip run lands 100 members: their figures are the spread
  const zipRuns = process.env.BENCH_ZIP_RUNS ? Number(process.env.BENCH_ZIP_RUNS) : 1;
  // inputs first: generating 1 GB must not share the cores with a measurement
  log(`generating (or reusing) ${sizeLabel(textMb)} of CSV and of JSON lines, gzip'd, and a zip of ${zip.members} × ${zip.memberMb} MB`);
  const inputs = { csv: await SHAPES.csv.make(textMb), jsonl: await SHAPES.jsonl.make(textMb) };
  const zipPath = await zipOfMembers(zip.members, zip.memberMb);
  const { stack, memoryMb } = await startBundledStack(await writeFeedsPipeline(), { retries: true });
  const targets: Target[] = [];
  const data: Record<string, unknown> = { memoryMb: { validate: memoryMb.validate, convert: memoryMb.convert, track: memoryMb.track }, textMb, zip };
  const fileRows: Array<Array<string | number>> = [];
  let zipRow: Array<string | number>;
  let zipFailedAttempts = 0;
  try {
    const samples = Object.fromEntries((Object.keys(SHAPES) as Shape[]).map((shape) => [shape, newSamples()])) as Record<Shape, ShapeSamples>;
    for (let i = 0; i < runs; i += 1) {
      for (const shape of Object.keys(SHAPES) as Shape[]) {
        const s = samples[shape];
        // a shape the pipeline failed is not landed again (the floor's figure is still taken once)
        if (s.failed && s.floor.length > 0) continue;
        if (!s.failed) {
          try {
            // a new key per run: the same bytes under the same key would be a (correct) no-op
            const invocations = await landAndSettle(
              stack,
              FEED_KEYS[shape](`r${String(i).padStart(3, '0')}`),
              inputs[shape],
              SHAPES[shape].contentType,
              convertedFiles(1),
            );
            const { validate, convert, trackConverted } = pathToConverted(invocations, `${shape} run ${i}`);
            s.validate.push(validate.durationMs);
            s.convert.push(convert.durationMs);
            s.perFile.push(validate.durationMs + convert.durationMs + trackConverted.durationMs);
            s.rss.validate = max([s.rss.validate, validate.peakRssMb]);
            s.rss.convert = max([s.rss.convert, convert.peakRssMb]);
          } catch (err) {
            if (!(err instanceof LandingFailed)) throw err;
            s.failed = err.message;
            log(`${shape} run ${i + 1}: the pipeline failed: ${err.message}`);
          }
        }
        const floor: FloorRun = await runFloor(FLOOR, [shape, inputs[shape]], memoryMb.convert!);
        if (!s.failed) s.floor.push(floor.durationMs);
        s.lastFloor = floor.durationMs;
        s.rss.floor = max([s.rss.floor, floor.peakRssMb]);
        s.floorRows = floor.rows;
        log(`${shape} run ${i + 1}/${runs}: per-file ${s.failed ? 'failed' : `${s.perFile.at(-1)!.toFixed(0)} ms`}, DuckDB ${floor.durationMs.toFixed(0)} ms`);
      }
    }
    for (const shape of Object.keys(SHAPES) as Shape[]) {
      const s = samples[shape];
      const gzBytes = (await stat(inputs[shape])).size;
      const label = `${sizeLabel(textMb)} ${SHAPES[shape].label}, gzip`;
      const median = (v: number[]) => (v.length > 0 ? formatSummary(summarize(v), 0) : '—');
      const ratio = s.failed ? undefined : pairedRatios(s.perFile, s.floor);
      const perFile = s.failed ? undefined : summarize(s.perFile);
      fileRows.push([
        label,
        (gzBytes / MB).toFixed(0),
        s.floorRows,
        median(s.validate),
        median(s.convert),
        perFile ? formatSummary(perFile, 0) : `failed: ${s.failed}`,
        s.failed ? s.lastFloor.toFixed(0) : median(s.floor),
        ratio ? formatSummary(ratio, 2) : '—',
        perFile ? (textMb / (perFile.median / 1000)).toFixed(0) : '—',
        `${s.failed ? '— / —' : `${s.rss.validate} / ${s.rss.convert}`} / ${s.rss.floor}`,
      ]);
      data[shape] = {
        gzBytes,
        rows: s.floorRows,
        ...(s.failed ? { failed: s.failed, floorMs: s.lastFloor } : {}),
        ms: { validate: s.validate, convert: s.convert, perFile: s.perFile, floor: s.floor },
        ...(ratio ? { perFileRatio: ratio } : {}),
        peakRssMb: s.rss,
      };
      targets.push({
        metric: `feeds: per-file time, land → CONVERTED / DuckDB converting the same .gz, ${label}`,
        target: `≤ ${PER_FILE_TARGET}×`,
        actual: ratio ? `${ratio.median.toFixed(2)}×` : 'failed',
        met: ratio !== undefined && ratio.median <= PER_FILE_TARGET,
        ...(s.failed ? { note: s.failed.slice(0, 160) } : {}),
      });
      targets.push({
        metric: `feeds: peak RSS validate / convert, ${label}`,
        target: `≤ ${memoryMb.validate} / ${memoryMb.convert} MB`,
        actual: s.failed ? 'failed' : `${s.rss.validate} / ${s.rss.convert} MB`,
        met: !s.failed && s.rss.validate <= memoryMb.validate! && s.rss.convert <= memoryMb.convert!,
      });
    }

    const z = {
      unpacked: [] as number[],
      allConverted: [] as number[],
      perMember: [] as number[],
      memberPath: [] as number[],
      memberValidate: [] as number[],
      memberConvert: [] as number[],
      failedAttempts: 0,
      rssArchive: 0,
      rssMembers: { validate: 0, convert: 0 },
    };
    for (let i = 0; i < zipRuns; i += 1) {
      const relative = FEED_KEYS.zip(`z${String(i).padStart(3, '0')}`);
      const invocations = await landAndSettle(stack, relative, zipPath, 'application/zip', convertedFiles(zip.members));
      const archiveKey = `${PREFIX.landing}${relative}`;
      const unpacking = invocations.find((r) => r.ok && r.functionName === 'validate' && r.key === archiveKey);
      if (!unpacking) throw new Error(`zip run ${i}: the archive was not validated`);
      z.failedAttempts += invocations.filter((r) => !r.ok).length;
      const succeeded = invocations.filter((r) => r.ok);
      const converted = succeeded.filter((r) => r.functionName === 'track' && r.key.startsWith(PREFIX.processed));
      if (converted.length !== zip.members) throw new Error(`zip run ${i}: ${converted.length} of ${zip.members} members converted`);
      const memberValidates = succeeded.filter((r) => r.functionName === 'validate' && r.key.startsWith(`${archiveKey}!/`));
      const converts = succeeded.filter((r) => r.functionName === 'convert');
      if (memberValidates.length !== zip.members || converts.length !== zip.members)
        throw new Error(`zip run ${i}: ${memberValidates.length} members validated, ${converts.length} converted`);
      const median = (runs: TimedInvocation[]) => summarize(runs.map((r) => r.durationMs)).median;
      const allConverted = max(converted.map((r) => r.endedMs));
      z.unpacked.push(unpacking.endedMs);
      z.allConverted.push(allConverted);
      z.perMember.push(allConverted / zip.members);
      z.memberPath.push(median(memberValidates) + median(converts) + median(converted));
      z.memberValidate.push(...memberValidates.map((r) => r.durationMs));
      z.memberConvert.push(...converts.map((r) => r.durationMs));
      z.rssArchive = max([z.rssArchive, unpacking.peakRssMb]);
      z.rssMembers = {
        validate: max([z.rssMembers.validate, ...memberValidates.map((r) => r.peakRssMb)]),
        convert: max([z.rssMembers.convert, ...converts.map((r) => r.peakRssMb)]),
      };
      log(`zip run ${i + 1}/${zipRuns}: UNPACKED after ${unpacking.endedMs.toFixed(0)} ms, every member CONVERTED after ${allConverted.toFixed(0)} ms`);
    }
    zipFailedAttempts = z.failedAttempts;
    const zipBytes = (await stat(zipPath)).size;
    const zipLabel = `zip of ${zip.members} × ${zip.memberMb} MB CSV`;
    zipRow = [
      zipLabel,
      (zipBytes / MB).toFixed(0),
      formatSummary(summarize(z.unpacked), 0),
      formatSummary(summarize(z.allConverted), 0),
      formatSummary(summarize(z.perMember), 0),
      formatSummary(summarize(z.memberPath), 0),
      formatSummary(summarize(z.memberValidate), 0),
      formatSummary(summarize(z.memberConvert), 0),
      `${z.rssArchive}`,
      `${z.rssMembers.validate} / ${z.rssMembers.convert}`,
    ];
    data.zip = {
      ...zip,
      zipBytes,
      ms: {
        unpacked: summarize(z.unpacked),
        allConverted: summarize(z.allConverted),
        perMember: summarize(z.perMember),
        memberPath: summarize(z.memberPath),
        memberValidate: summarize(z.memberValidate),
        memberConvert: summarize(z.memberConvert),
      },
      failedAttempts: z.failedAttempts,
      peakRssMb: { unpacking: z.rssArchive, memberValidate: z.rssMembers.validate, memberConvert: z.rssMembers.convert },
    };
    targets.push({
      metric: `feeds: peak RSS of validate unpacking a ${zipLabel} (${zip.members * zip.memberMb} MB unpacked)`,
      target: `≤ ${memoryMb.validate} MB (bounded)`,
      actual: `${z.rssArchive} MB`,
      met: z.rssArchive <= memoryMb.validate!,
    });
  } finally {
    await stack.stop();
  }
  return {
    id: 'feeds',
    title: "Feeds: gzip'd CSV and JSON lines against DuckDB on the same .gz, and a zip of CSV members",
    tables: [
      {
        header: [
          'file',
          'gzip MB',
          'rows',
          'validate ms',
          'convert ms',
          'per-file ms, land → CONVERTED',
          'DuckDB on the .gz ms',
          'per-file / DuckDB',
          'per-file MB/s (text)',
          'peak RSS MB validate / convert / DuckDB',
        ],
        rows: fileRows,
      },
      {
        header: [
          'archive',
          'zip MB',
          'UNPACKED after ms',
          'every member CONVERTED after ms',
          'wall ms per member',
          'per-member path ms (medians: validate + convert + track)',
          'member validate ms',
          'member convert ms',
          'peak RSS MB, validate unpacking',
          'peak RSS MB, members validate / convert',
        ],
        rows: [zipRow],
      },
    ],
    targets,
    notes: [
      `Functions as deployed (from their bundles, the bench pipeline bundled beside them): validate ${memoryMb.validate} MB, convert ${memoryMb.convert} MB, track ${memoryMb.track} MB; DuckDB alone gets convert's threads and memory limit.`,
      "Per-file time is land → CONVERTED (validate, convert, track of the Parquet), as in suites 1–2. validate and convert each read the gzip'd object from S3 and gunzip and decode it in Node as it streams (the compression told from its first bytes); DuckDB reads the local .gz with read_csv / read_json and the same explicit column types.",
      `The zip's times run from its PUT returning: UNPACKED is the end of the validate that verifies it whole and puts its members (each then fires its own validate, convert and track, 4 at a time per function here; a failed invocation is retried twice, as Lambda does: ${zipFailedAttempts} failed attempts in the zip runs); 'wall ms per member' is every member CONVERTED divided by the members; the per-member path is each member's own handler time (they share the 2 cores).`,
    ],
    data,
  };
});
