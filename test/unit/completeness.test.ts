import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compilePipeline } from '../../shared/core/config/load-config';
import { batchesForFile } from '../../shared/core/runs/batches';
import { routeEngine } from '../../shared/stages/resolve/engine-router';
import { evaluateBatch, type CandidateFile } from '../../shared/stages/resolve/evaluate';

const SQL = join(import.meta.dirname, '..', 'fixtures', 'meters', 'sql', 'region_usage.v1.sql');

/** A small pipeline: parts of a region's day, counted by a lookup or by a manifest, and a job reading the regional job. */
const pipeline = compilePipeline({
  lookups: { regions: ['east', 'west'], parts: { east: 2, west: 3 } },
  datasets: [
    {
      name: 'parts',
      keyPattern: 'p/{region}/{day:YYYYMMDD}/{part}.csv',
      format: { kind: 'delimited', delimiter: ',' },
      columns: [{ name: 'v', kind: 'integer' }],
      keyFieldValues: { region: { lookup: 'regions' } },
      partitionBy: ['region'],
      dateField: 'day',
    },
    {
      name: 'counts',
      keyPattern: 'p/{region}/{day:YYYYMMDD}/count.csv',
      format: { kind: 'delimited', delimiter: ',' },
      columns: [{ name: 'n', kind: 'integer' }],
      manifest: { column: 'n', kind: 'counts' },
      partitionBy: ['region'],
      dateField: 'day',
    },
  ],
  jobs: [
    {
      name: 'by_lookup',
      cutoff: { at: '20:00', timeZone: 'America/Toronto' },
      batchKey: ['region', 'day'],
      inputs: [{ relation: 'parts', dataset: 'parts', match: ['region', 'day'] }],
      preconditions: [{ kind: 'minDistinct', input: 'parts', field: 'part', count: { lookup: 'parts', by: 'region' } }],
      stages: [{ name: 's', sql: SQL }],
      output: { table: 'by_lookup', partitionBy: ['region', 'day'], key: ['v'] },
    },
    {
      name: 'by_count',
      engine: 'auto',
      autoThresholdBytes: 1000,
      batchKey: ['region', 'day'],
      inputs: [
        { relation: 'parts', dataset: 'parts', match: ['region', 'day'] },
        { relation: 'count', dataset: 'counts', match: ['region', 'day'] },
      ],
      preconditions: [{ kind: 'manifest', input: 'parts', manifest: 'count', field: 'part' }],
      stages: [{ name: 's', sql: SQL, spark: join(import.meta.dirname, '..', 'fixtures', 'spark_stage.py') }],
      output: { table: 'by_count', partitionBy: ['region', 'day'], key: ['v'] },
    },
    {
      name: 'all_regions',
      batchKey: ['day'],
      inputs: [{ relation: 'regional', job: 'by_lookup', match: ['day'] }],
      preconditions: [{ kind: 'minDistinct', input: 'regional', field: 'region', count: { lookup: 'regions' } }],
      stages: [{ name: 's', sql: SQL }],
      output: { table: 'all_regions', partitionBy: ['day'], key: ['v'] },
    },
  ],
});
const job = (name: string) => pipeline.jobsByName.get(name)!;
const DAY = '2026-05-01';
const part = (region: string, p: string, over: Partial<CandidateFile> = {}): CandidateFile => ({
  key: `landing/p/${region}/20260501/${p}.csv`,
  versionId: `v-${p}`,
  sequencer: '01',
  dataset: 'parts',
  fields: { region, day: DAY, part: p },
  state: 'CONVERTED',
  size: 100,
  processedKey: `processed/parts/${p}.parquet`,
  ...over,
});
const batch = (name: string, values: Record<string, string>) => ({ job: name, values });

describe('completeness', () => {
  it('counts members by a lookup keyed by the batch (east needs 2 parts, west 3)', () => {
    expect(
      evaluateBatch(pipeline.config, job('by_lookup'), batch('by_lookup', { region: 'east', day: DAY }), [part('east', 'a'), part('east', 'b')]).ready,
    ).toBe(true);
    expect(
      evaluateBatch(pipeline.config, job('by_lookup'), batch('by_lookup', { region: 'west', day: DAY }), [part('west', 'a'), part('west', 'b')]).waitingFor,
    ).toEqual(['2 of 3 parts of parts (have a, b)']);
  });

  it('counts every file of an append-only input (no file supersedes another)', () => {
    const evaluation = evaluateBatch(
      pipeline.config,
      job('by_lookup'),
      batch('by_lookup', { region: 'west', day: DAY }),
      ['a', 'b', 'c'].map((p) => part('west', p)),
    );
    expect(evaluation.inputs.parts!.map((f) => f.key)).toHaveLength(3);
  });

  it('runs at the cut-off with what arrived, recording what it ran without; never with a file in flight or with nothing', () => {
    const west = batch('by_lookup', { region: 'west', day: DAY });
    const atCutoff = evaluateBatch(pipeline.config, job('by_lookup'), west, [part('west', 'a')], { pastCutoff: '20:00 America/Toronto' });
    expect(atCutoff).toMatchObject({ ready: true, ranWithout: ['1 of 3 parts of parts (have a) (cut-off 20:00 America/Toronto)'] });
    expect(
      evaluateBatch(pipeline.config, job('by_lookup'), west, [part('west', 'a'), part('west', 'b', { state: 'VALIDATED' })], { pastCutoff: 'x' }).ready,
    ).toBe(false);
    expect(evaluateBatch(pipeline.config, job('by_lookup'), west, [], { pastCutoff: 'x' }).ready).toBe(false);
  });

  it('waits for the manifest, then for the count it holds', () => {
    const east = batch('by_count', { region: 'east', day: DAY });
    const count = (n: number): CandidateFile => ({
      ...part('east', 'count'),
      key: 'landing/p/east/20260501/count.csv',
      dataset: 'counts',
      fields: { region: 'east', day: DAY },
      manifest: { count: n },
    });
    expect(evaluateBatch(pipeline.config, job('by_count'), east, [part('east', 'a')]).waitingFor).toEqual(['count (the manifest) for east 2026-05-01']);
    expect(evaluateBatch(pipeline.config, job('by_count'), east, [part('east', 'a'), count(2)]).waitingFor).toEqual([
      '1 of 2 parts of parts (the count in landing/p/east/20260501/count.csv)',
    ]);
    expect(evaluateBatch(pipeline.config, job('by_count'), east, [part('east', 'a'), part('east', 'b'), count(2)]).ready).toBe(true);
  });

  it('names the upstream partitions a downstream batch waits for', () => {
    const regional = (region: string): CandidateFile => ({
      key: `curated/by_lookup/region=${region}/day=${DAY}/data.parquet`,
      versionId: 'v1',
      sequencer: '01',
      dataset: 'by_lookup',
      fields: { region, day: DAY },
      state: 'CONVERTED',
      size: 10,
      processedKey: `curated/by_lookup/region=${region}/day=${DAY}/data.parquet`,
    });
    const evaluation = evaluateBatch(
      pipeline.config,
      job('all_regions'),
      batch('all_regions', { day: DAY }),
      [regional('east')],
      {},
      { by_lookup: ['region', 'day'] },
    );
    expect(evaluation.waitingFor).toEqual([`by_lookup west ${DAY}`]);
  });

  it('looks only at the jobs that read a source: a regional partition concerns the job reading it', () => {
    expect(batchesForFile(pipeline, 'by_lookup', { region: 'east', day: DAY })).toEqual([{ job: 'all_regions', values: { day: DAY } }]);
    expect(batchesForFile(pipeline, 'parts', { region: 'east', day: DAY, part: 'a' }).map((b) => b.job)).toEqual(['by_lookup', 'by_count']);
  });

  it('routes an auto job by its input size, and the others to their own engine', () => {
    expect(routeEngine(job('by_count'), 1000)).toBe('duckdb');
    expect(routeEngine(job('by_count'), 1001)).toBe('emr');
    expect(routeEngine(job('by_lookup'), 10 ** 15)).toBe('duckdb');
  });
});
