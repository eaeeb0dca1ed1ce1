import { cp, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { codeHashOf, jobCodeHash } from '../../shared/core/config/code-hash';
import { compilePipeline, loadPipelineFile, type Pipeline } from '../../shared/core/config/load-config';
import { executionName, legacyRunFingerprint, runFingerprint, sameInputsAs } from '../../shared/core/runs/batches';
import type { BatchItem } from '../../shared/core/runs/job-run-store';
import type { SelectedFile } from '../../shared/core/runs/run-input';
import { evaluateBatch, NOT_NEWER, type CandidateFile } from '../../shared/stages/resolve/evaluate';
import { codeLines, staleCodeOf } from '../../shared/stages/resolve/stale-code';

const METERS = join(import.meta.dirname, '..', 'fixtures', 'meters');

/** A copy of the meters pipeline in a folder of its own, its YAML changed by `edit`, its SQL by `sql`. */
async function copyOfMeters(edit: (config: Record<string, unknown>) => void = () => undefined, sql?: (text: string) => string): Promise<Pipeline> {
  const dir = await mkdtemp(join(tmpdir(), 'landfall-code-'));
  await cp(METERS, dir, { recursive: true });
  const file = join(dir, 'pipeline.yaml');
  const config = parse(await readFile(file, 'utf8')) as Record<string, unknown>;
  delete config.$schema;
  edit(config);
  await writeFile(file, stringify(config));
  if (sql) {
    const sqlFile = join(dir, 'sql', 'region_usage.v1.sql');
    await writeFile(sqlFile, sql(await readFile(sqlFile, 'utf8')));
  }
  return loadPipelineFile(file);
}

const hashOf = (pipeline: Pipeline, job = 'region_usage') => codeHashOf(pipeline.jobsByName.get(job)!);
type Job = Record<string, unknown> & { output: Record<string, unknown>; stages: Array<Record<string, unknown>> };
const jobIn = (config: Record<string, unknown>, name = 'region_usage') => (config.jobs as Job[]).find((j) => j.name === name)!;

describe("a job's code hash", () => {
  it('is the same for the same files and configuration wherever they sit, and whatever their line endings', async () => {
    const original = loadPipelineFile(join(METERS, 'pipeline.yaml'));
    const copy = await copyOfMeters();
    expect(hashOf(copy)).toBe(hashOf(original));
    expect(hashOf(copy)).toMatch(/^[0-9a-f]{64}$/);
    const crlf = await copyOfMeters(undefined, (text) => text.replaceAll('\n', '\r\n'));
    expect(hashOf(crlf)).toBe(hashOf(original));
    // the loaded configuration printed and read back (what a deploy bundles) keeps it
    const effective = compilePipeline(JSON.parse(JSON.stringify(original.config)));
    expect(hashOf(effective)).toBe(hashOf(original));
  });

  it("changes with the SQL's contents, and only for the job that runs it", async () => {
    const original = loadPipelineFile(join(METERS, 'pipeline.yaml'));
    const changed = await copyOfMeters(undefined, (text) => text.replace('count(*) AS readings', 'count(DISTINCT r.reading_ts) AS readings'));
    expect(hashOf(changed)).not.toBe(hashOf(original));
    expect(hashOf(changed, 'grid_daily')).toBe(hashOf(original, 'grid_daily'));
    const comment = await copyOfMeters(undefined, (text) => `${text}\n-- a note\n`);
    expect(hashOf(comment)).not.toBe(hashOf(original));
  });

  it('changes with the configuration that changes results: stages, inputs, output', async () => {
    const base = hashOf(await copyOfMeters());
    const changes: Array<(c: Record<string, unknown>) => void> = [
      (c) => (jobIn(c).output.key = ['meter_id', 'region']),
      (c) => (jobIn(c).output.table = 'usage_by_region'),
      (c) => (jobIn(c).stages[0]!.name = 'priced'),
      (c) => {
        // the tariffs read under another relation name
        (jobIn(c).inputs as Array<Record<string, unknown>>)[2]!.relation = 'rates';
        (jobIn(c).preconditions as Array<Record<string, unknown>>)[1]!.input = 'rates';
      },
    ];
    const hashes = [];
    for (const change of changes) hashes.push(hashOf(await copyOfMeters(change)));
    expect(new Set([base, ...hashes]).size).toBe(changes.length + 1);
  });

  it('does not change with what decides when a batch runs or alerts: settle, cut-off, freshness, preconditions, engine threshold, checks', async () => {
    const base = hashOf(await copyOfMeters());
    const same: Array<(c: Record<string, unknown>) => void> = [
      (c) => (jobIn(c).settleSeconds = 0),
      (c) => (jobIn(c).cutoff = { at: '20:00', timeZone: 'America/Toronto' }),
      (c) => (jobIn(c).freshness = { deadline: '18:00', timeZone: 'America/Toronto' }),
      (c) => (jobIn(c).preconditions = [{ kind: 'present', input: 'tariffs' }]),
      (c) => (jobIn(c).autoThresholdBytes = 1024),
      (c) => (jobIn(c).onCodeChange = 'rerun'),
      (c) => (jobIn(c).checks = [{ notNull: ['meter_id'] }]),
    ];
    for (const change of same) expect(hashOf(await copyOfMeters(change))).toBe(base);
  });

  it('makes the run fingerprint and the execution name differ when only the code differs', () => {
    const pipeline = loadPipelineFile(join(METERS, 'pipeline.yaml'));
    const job = pipeline.jobsByName.get('region_usage')!;
    const batch = { job: job.name, values: { region: 'north', day: '2026-05-01' } };
    const inputs: Record<string, SelectedFile[]> = { readings: [{ key: 'landing/a.csv', versionId: 'v1', processedKey: 'processed/a.parquet' }] };
    const a = runFingerprint(job, batch, 'a'.repeat(64), inputs);
    const b = runFingerprint(job, batch, 'b'.repeat(64), inputs);
    expect(a).not.toBe(b);
    expect(executionName(batch, job, a)).not.toBe(executionName(batch, job, b));
    // the inputs of a success are recognised under the code it ran, and under the former formula
    expect(sameInputsAs({ fingerprint: a, codeHash: 'a'.repeat(64) }, job, batch, inputs, 'b'.repeat(64))).toBe(true);
    expect(sameInputsAs({ fingerprint: legacyRunFingerprint(job, batch, inputs) }, job, batch, inputs, 'b'.repeat(64))).toBe(true);
    const newer = { readings: [{ ...inputs.readings![0]!, versionId: 'v2' }] };
    expect(sameInputsAs({ fingerprint: a, codeHash: 'a'.repeat(64) }, job, batch, newer, 'a'.repeat(64))).toBe(false);
  });

  it('reads the files given (a file the loader did not check still hashes, by its name)', () => {
    const pipeline = loadPipelineFile(join(METERS, 'pipeline.yaml'));
    const job = pipeline.jobsByName.get('region_usage')!;
    const read = (text: string) => () => text;
    expect(jobCodeHash(job, read('SELECT 1'))).not.toBe(jobCodeHash(job, read('SELECT 2')));
    expect(jobCodeHash(job, read('SELECT 1\r\n'))).toBe(jobCodeHash(job, read('SELECT 1\n')));
    const missing = { ...job, stages: [{ name: 'price', sql: '/nowhere/region_usage.v1.sql' }] };
    expect(jobCodeHash(missing)).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('a stale batch', () => {
  const pipeline = loadPipelineFile(join(METERS, 'pipeline.yaml'));
  const job = pipeline.jobsByName.get('region_usage')!;
  const now = codeHashOf(job);
  const item = (fields: Partial<BatchItem>): BatchItem => ({
    pk: 'BATCH#x',
    sk: 'BATCH',
    job: job.name,
    batchId: 'region_usage#region=north#day=2026-05-01',
    values: { region: 'north', day: '2026-05-01' },
    status: 'SUCCEEDED',
    waitingFor: [],
    updatedAt: '2026-05-02T00:00:00Z',
    ...fields,
  });

  it('is one whose last success ran other code; none recorded (before code hashes) or never succeeded is not stale', () => {
    expect(staleCodeOf(item({ lastSucceededFingerprint: 'f', lastSucceededCodeHash: 'c'.repeat(64) }), job)).toEqual({ ran: 'c'.repeat(64), now });
    expect(staleCodeOf(item({ lastSucceededFingerprint: 'f', lastSucceededCodeHash: now }), job)).toBeUndefined();
    expect(staleCodeOf(item({ lastSucceededFingerprint: 'f' }), job)).toBeUndefined();
    expect(staleCodeOf(undefined, job)).toBeUndefined();
  });

  it('is explained with both hash prefixes and what re-runs it', () => {
    const stale = item({ lastSucceededFingerprint: 'f', lastSucceededCodeHash: 'c'.repeat(64) });
    expect(codeLines(stale, job)).toEqual([
      `code: stale: last succeeded with code cccccccc, the job's code is now ${now.slice(0, 8)}; onCodeChange manual: it runs again when new inputs land, or with \`landfall backfill --job region_usage --batch region=north,day=2026-05-01\``,
    ]);
    expect(codeLines(stale, { ...job, onCodeChange: 'rerun' })[0]).toMatch(/onCodeChange rerun: the next resolver pass/);
    expect(codeLines(item({ lastSucceededFingerprint: 'f' }), job)[0]).toMatch(/before code hashes were recorded: not stale/);
  });

  it('waits for newer inputs (newerThanLastRun) unless a re-run of the same inputs is asked', () => {
    const file = (key: string, dataset: string, fields: Record<string, string>): CandidateFile => ({
      key,
      versionId: 'v1',
      sequencer: '01',
      dataset,
      fields,
      state: 'CONVERTED',
      size: 10,
      processedKey: key.replace('landing/', 'processed/'),
    });
    const files = [
      file('landing/meters/north/20260501/manifest.csv', 'readings_manifest', { region: 'north', day: '2026-05-01' }),
      file('landing/tariffs/20260501.jsonl', 'tariffs', { day: '2026-05-01' }),
    ];
    files[0]!.manifest = { parts: [] };
    const batch = { job: job.name, values: { region: 'north', day: '2026-05-01' } };
    const old = 'c'.repeat(64);
    const first = evaluateBatch(pipeline.config, job, batch, files, { codeHash: old });
    expect(first.ready).toBe(true);
    const last = { lastSucceededFingerprint: first.fingerprint, lastSucceededCodeHash: old };
    const later = evaluateBatch(pipeline.config, job, batch, files, { ...last, codeHash: now });
    expect(later).toMatchObject({ ready: false, waitingFor: [NOT_NEWER], sameInputsAsLastSuccess: true });
    expect(later.fingerprint).not.toBe(first.fingerprint);
    expect(evaluateBatch(pipeline.config, job, batch, files, { ...last, codeHash: now, rerunSameInputs: true })).toMatchObject({ ready: true, waitingFor: [] });
    // recorded before code hashes: the former fingerprint of the same inputs is recognised
    const legacy = legacyRunFingerprint(job, batch, first.inputs);
    expect(evaluateBatch(pipeline.config, job, batch, files, { lastSucceededFingerprint: legacy, codeHash: now })).toMatchObject({
      waitingFor: [NOT_NEWER],
      sameInputsAsLastSuccess: true,
    });
  });
});
