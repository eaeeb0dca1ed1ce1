import { cp, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { DuckDBInstance } from '@duckdb/node-api';
import { beforeAll, describe, expect, it } from 'vitest';
import { backfillCommand } from '../ops/backfill';
import { batchTable } from '../ops/reports/job-run-report';
import type { Target } from '../ops/targets';
import { codeHashOf } from '../shared/core/config/code-hash';
import { loadPipeline } from '../shared/core/config/load-config';
import { PREFIX } from '../shared/core/s3/layout';
import { downloadToFile } from '../shared/core/s3/object-io';
import { codeLines, resolveBatch, resolverDepsFromEnv } from '../shared/stages/resolve';
import { reconcile, reconcileDepsFromEnv } from '../shared/stages/reconcile';
import { useLocalStack } from './support/local-stack';
import { stackTarget } from './support/stack-target';
import { DAY, meterFiles, meterReadings } from './support/meters';

/*
 * Code is part of a run's identity (docs/backfill.md), on the local stack with a copy of the meters
 * pipeline: a day runs; its SQL changes (a new configuration folder, as a deploy would bring); the
 * batches show stale and nothing runs; `landfall backfill` lists them, re-runs each once (and the
 * cascade re-runs the jobs reading them), and a second backfill starts nothing; a job with
 * `onCodeChange: rerun` re-runs at the next resolver pass.
 */

const METERS = join(import.meta.dirname, 'fixtures', 'meters');
const dir = await mkdtemp(join(tmpdir(), 'landfall-backfill-'));
await cp(METERS, dir, { recursive: true });
const SQL = join(dir, 'sql', 'region_usage.v1.sql');
const FIRST_SQL = await readFile(SQL, 'utf8');
const YAML = (await readFile(join(dir, 'pipeline.yaml'), 'utf8')).replace('$schema: ../../../shared/core/config/pipeline.schema.json\n', '');

/**
 * A deploy of new code: region_usage's SQL edited in place (each meter's readings count + `extra`)
 * and the configuration under a new file name, so the functions that load it now see the new code
 * (a warm transform reads the SQL file it names when it runs, like a new Lambda version would).
 */
async function deploy(version: number, extra: number, onCodeChange?: 'rerun'): Promise<void> {
  await writeFile(SQL, extra > 0 ? FIRST_SQL.replace('count(*) AS readings', `count(*) + ${extra} AS readings`) : FIRST_SQL);
  const file = join(dir, `pipeline-v${version}.yaml`);
  await writeFile(file, onCodeChange ? YAML.replace('  - name: region_usage\n', `  - name: region_usage\n    onCodeChange: ${onCodeChange}\n`) : YAML);
  process.env.LANDFALL_CONFIG_FILE = file;
}

// the stack's functions (and this file's resolver) load the pipeline LANDFALL_CONFIG_FILE names
await deploy(1, 0);
const stack = useLocalStack();

const ref = (region: string) => ({ job: 'region_usage', values: { region, day: DAY } });
const USAGE = (region: string) => `region_usage#region=${region}#day=${DAY}`;
const GRID = `grid_daily#day=${DAY}`;
const SUMMARY = `grid_summary#day=${DAY}`;

/** The succeeded runs per batch. */
async function succeededRuns(): Promise<Record<string, number>> {
  const { runs } = await stack().jobRuns.listAll();
  const counts: Record<string, number> = {};
  for (const run of runs.filter((r) => r.status === 'SUCCEEDED')) counts[run.batchId] = (counts[run.batchId] ?? 0) + 1;
  return counts;
}

/** Each meter's readings count in a region's curated partition. */
async function readingsOf(region: string): Promise<number[]> {
  const path = join(await mkdtemp(join(tmpdir(), 'landfall-backfill-out-')), 'data.parquet');
  await downloadToFile(stack().s3, stack().deployment.names.lakeBucket, `curated/region_usage/region=${region}/day=${DAY}/data.parquet`, undefined, path);
  const conn = await (await DuckDBInstance.create(':memory:')).connect();
  const rows = (await conn.runAndReadAll('SELECT readings FROM read_parquet($1) ORDER BY meter_id', [path])).getRowObjects();
  conn.closeSync();
  return rows.map((r) => Number(r.readings));
}

/** `landfall backfill` with these options; its output and exit code. */
async function backfill(values: Record<string, string | boolean>): Promise<{ code: number; text: string }> {
  let text = '';
  const code = await backfillCommand({ job: 'region_usage', from: DAY, to: DAY, ...values }, target, {
    out: { write: (t: string) => (text += t) },
    pollMs: 200,
  });
  return { code, text };
}

let target: Target;

beforeAll(async () => {
  // what `landfall up` records, for this process's stack: the command talks to it like the CLI
  const s = stack();
  target = await stackTarget(s);
  for (const [key, body] of Object.entries(meterFiles(meterReadings()))) {
    await s.s3.send(new PutObjectCommand({ Bucket: s.deployment.names.rawBucket, Key: `${PREFIX.landing}${key}`, Body: body }));
  }
  await s.settled(400);
}, 240_000);

describe('code in a run’s identity, and backfills, on the local stack', () => {
  it('runs the day once per batch with the first code, recording its code hash', async () => {
    expect(await succeededRuns()).toEqual({ [USAGE('north')]: 1, [USAGE('south')]: 1, [GRID]: 1, [SUMMARY]: 1 });
    const code = codeHashOf(loadPipeline().jobsByName.get('region_usage')!);
    const north = await stack().jobRuns.getBatch(USAGE('north'));
    expect(north).toMatchObject({ status: 'SUCCEEDED', lastSucceededCodeHash: code, lastRun: { codeHash: code } });
    expect((await stack().jobRuns.getRun(USAGE('north'), north!.lastRun!.executionName))!.codeHash).toBe(code);
    expect((await readingsOf('north')).every((n) => n < 1000)).toBe(true);
  });

  it('after a SQL change shows the batches stale and runs nothing (onCodeChange manual)', { timeout: 120_000 }, async () => {
    const before = loadPipeline().jobsByName.get('region_usage')!;
    await deploy(2, 1000);
    const job = loadPipeline().jobsByName.get('region_usage')!;
    expect(codeHashOf(job)).not.toBe(codeHashOf(before));
    const executions = stack().stepFunctions.executions().length;

    const { batches, runs } = await stack().jobRuns.listAll();
    const table = batchTable(batches, runs, loadPipeline()).split('\n');
    const stale = `stale ${codeHashOf(before).slice(0, 8)} → ${codeHashOf(job).slice(0, 8)}`;
    expect(table.find((l) => l.startsWith(USAGE('north')))).toContain(stale);
    expect(table.find((l) => l.startsWith(GRID))).not.toContain('stale');
    expect(codeLines(await stack().jobRuns.getBatch(USAGE('south')), job)[0]).toContain(
      `code: stale: last succeeded with code ${codeHashOf(before).slice(0, 8)}`,
    );

    // a resolver pass over the batch, and a reconciler pass: neither runs stale code's batches
    expect(await resolveBatch(resolverDepsFromEnv(), ref('north'))).toEqual({
      kind: 'up-to-date',
      batchId: USAGE('north'),
      stale: { ran: codeHashOf(before), now: codeHashOf(job) },
    });
    await reconcile(reconcileDepsFromEnv());
    await stack().settled(400);
    expect(stack().stepFunctions.executions()).toHaveLength(executions);
  });

  it('lists the stale batches and their dependents in a dry run, starting nothing', { timeout: 120_000 }, async () => {
    const executions = stack().stepFunctions.executions().length;
    const { code, text } = await backfill({ 'dry-run': true, downstream: true });
    expect(code).toBe(0);
    const lines = text.split('\n');
    expect(lines[0]).toMatch(/^backfill of region_usage on the local stack \(code [0-9a-f]{8}\), dry run: 2 to run, 0 skipped, 0 up to date, 2 downstream$/);
    for (const region of ['north', 'south']) expect(lines.find((l) => l.startsWith(USAGE(region)))).toMatch(/ run +stale +stale: last succeeded with code/);
    expect(lines.find((l) => l.startsWith(GRID))).toContain(USAGE('north'));
    expect(lines.find((l) => l.startsWith(SUMMARY))).toContain(GRID);
    expect(stack().stepFunctions.executions()).toHaveLength(executions);
  });

  it('re-runs each stale batch once with the new code, then follows the cascade; a second backfill starts nothing', { timeout: 240_000 }, async () => {
    const first = await backfill({ downstream: true, 'max-concurrency': '1' });
    expect(first.code, first.text).toBe(0);
    await stack().settled(400);
    const after = await succeededRuns();
    expect(after).toMatchObject({ [USAGE('north')]: 2, [USAGE('south')]: 2 });
    // the cascade: each dependent batch re-ran once per upstream partition rewritten (one at a time
    // here), at least once, and its last run read both new partitions
    for (const batch of [GRID, SUMMARY]) expect(after[batch]).toBeGreaterThanOrEqual(2);
    expect(after[GRID]).toBeLessThanOrEqual(3);
    const { runs } = await stack().jobRuns.listAll();
    const lastGrid = runs
      .filter((r) => r.batchId === GRID)
      .sort((a, b) => a.claimedAt.localeCompare(b.claimedAt))
      .at(-1)!;
    const partitions = await stack().fileStates.filesOf('region_usage', DAY);
    for (const region of ['north', 'south']) {
      const newest = partitions.filter((p) => p.fields?.region === region).sort((a, b) => b.sequencer.localeCompare(a.sequencer))[0]!;
      expect(lastGrid.inputs.usage!.find((f) => f.key === newest.key)!.versionId).toBe(newest.versionId);
    }
    // the summary: the two batches it started and the two dependents it followed
    expect(first.text.trim().split('\n').at(-1)).toBe('4 SUCCEEDED');
    expect((await readingsOf('north')).every((n) => n > 1000)).toBe(true);
    const code = codeHashOf(loadPipeline().jobsByName.get('region_usage')!);
    expect(await stack().jobRuns.getBatch(USAGE('south'))).toMatchObject({ status: 'SUCCEEDED', lastSucceededCodeHash: code });

    const executions = stack().stepFunctions.executions().length;
    const again = await backfill({ downstream: true });
    expect(again.code).toBe(0);
    expect(again.text.split('\n')[0]).toMatch(/: 0 to run, 0 skipped, 2 up to date$/);
    expect(again.text).toContain('nothing to run');
    await stack().settled(400);
    expect(stack().stepFunctions.executions()).toHaveLength(executions);
  });

  it('with onCodeChange rerun, re-runs a stale batch once at the next resolver pass over it', { timeout: 240_000 }, async () => {
    await deploy(3, 2000, 'rerun');
    const started = await resolveBatch(resolverDepsFromEnv(), ref('north'));
    expect(started.kind).toBe('started');
    await stack().settled(400);
    expect((await readingsOf('north')).every((n) => n > 2000)).toBe(true);
    expect(await resolveBatch(resolverDepsFromEnv(), ref('north'))).toEqual({ kind: 'up-to-date', batchId: USAGE('north') });
    // south was not passed over: it stays stale until a pass or a backfill touches it
    const runs = await succeededRuns();
    expect(runs[USAGE('north')]).toBe(3);
    expect(runs[USAGE('south')]).toBe(2);
    const { batches } = await stack().jobRuns.listAll();
    expect(
      batchTable(batches, [], loadPipeline())
        .split('\n')
        .find((l) => l.startsWith(USAGE('south'))),
    ).toContain('stale');
  });
});
