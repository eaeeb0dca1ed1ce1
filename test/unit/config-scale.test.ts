import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { generatedPipeline, MEASURED_DATASET, MEASURED_READERS, SMALL_JOBS } from '../../bench/lib/generated-config';
import { loadPipelineFile, resolveLandingKey, type Pipeline } from '../../shared/core/config/load-config';
import type { JobConfig } from '../../shared/core/config/types';
import { batchesForFile, type BatchRef } from '../../shared/core/runs/batches';

// Structure only: timings belong to the benchmark (npm run bench -- --only config-scale).
const root = mkdtempSync(join(tmpdir(), 'landfall-config-scale-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const big = generatedPipeline({ datasets: 200, jobs: 700, dir: join(root, 'jobs-700') });
const small = generatedPipeline({ datasets: 200, jobs: SMALL_JOBS, dir: join(root, 'jobs-7') });
const pipeline = loadPipelineFile(big.file);
const smallPipeline = loadPipelineFile(small.file);
const DATE = '2026-11-23';

/** The listed values of a job's batch key field, found by walking its inputs (not the loader's index). */
function listedBruteForce(p: Pipeline, job: JobConfig, key: string): string[] {
  for (const input of job.inputs.filter((i) => i.match.includes(key))) {
    const listed = input.dataset
      ? p.config.datasets.find((d) => d.name === input.dataset)!.keyFieldValues?.[key]
      : listedBruteForce(p, p.config.jobs.find((j) => j.name === input.job)!, key);
    if (listed) return listed;
  }
  return [];
}

/** Every batch a file of `source` may complete, by scanning every job of the configuration. */
function batchesBruteForce(p: Pipeline, source: string, fields: Record<string, string>): BatchRef[] {
  const batches: BatchRef[] = [];
  for (const job of p.config.jobs) {
    for (const input of job.inputs.filter((i) => i.source === source)) {
      let partial: Array<Record<string, string>> = [{}];
      for (const key of job.batchKey) {
        const values = input.match.includes(key) ? [fields[key]!] : listedBruteForce(p, job, key);
        partial = partial.flatMap((v) => values.map((value) => ({ ...v, [key]: value })));
      }
      for (const values of partial) batches.push({ job: job.name, values });
    }
  }
  return batches;
}

const ordered = (batches: BatchRef[]) => batches.map((b) => `${b.job} ${JSON.stringify(Object.entries(b.values).sort())}`).sort();

describe('a generated configuration of 700 jobs and 200 datasets', () => {
  it('parses and compiles, with the mix the benchmark claims', () => {
    expect(pipeline.config.datasets).toHaveLength(200);
    expect(pipeline.config.jobs).toHaveLength(700);
    expect(big.sqlFiles).toBeGreaterThanOrEqual(700);
    const kinds = new Set(pipeline.config.jobs.flatMap((j) => j.preconditions.map((p) => p.kind)));
    expect([...kinds].sort()).toEqual(['manifest', 'minDistinct', 'minTotalBytes', 'newerThanLastRun', 'present']);
    const counts = pipeline.config.jobs.flatMap((j) => j.preconditions.flatMap((p) => (p.kind === 'minDistinct' ? [p.count] : [])));
    expect(counts.some((c) => typeof c === 'number')).toBe(true);
    expect(counts.some((c) => typeof c === 'object' && c.by === 'region')).toBe(true);
    expect(pipeline.config.datasets.filter((d) => d.members).length).toBeGreaterThan(20);
    expect(pipeline.config.datasets.some((d) => d.manifest?.kind === 'counts') && pipeline.config.datasets.some((d) => d.manifest?.kind === 'lists')).toBe(
      true,
    );
    expect(pipeline.config.jobs.some((j) => j.inputs.some((i) => i.mode === 'cumulative'))).toBe(true);
    // about a third read upstream jobs; chains reach depth 4 and no further
    const withUpstream = pipeline.config.jobs.filter((j) => j.inputs.some((i) => i.job)).length;
    expect(withUpstream / 700).toBeGreaterThan(0.25);
    expect(withUpstream / 700).toBeLessThan(0.45);
    expect(Math.max(...big.depth.values())).toBe(4);
    for (const job of pipeline.config.jobs) {
      expect(job.inputs.length).toBeGreaterThanOrEqual(1);
      expect(job.inputs.filter((i) => i.dataset).length).toBeLessThanOrEqual(3);
      expect(job.inputs.filter((i) => i.job).length).toBeLessThanOrEqual(2);
    }
  });

  it('is deterministic: the same options write the same file', () => {
    const again = generatedPipeline({ datasets: 200, jobs: 700, dir: join(root, 'again') });
    expect(readFileSync(again.file, 'utf8')).toBe(readFileSync(big.file, 'utf8'));
  });

  it('finds, for a file of any dataset or job output, the batches of exactly the jobs that read it (as a scan of all jobs would)', () => {
    let nonEmpty = 0;
    for (const dataset of big.datasets) {
      const { key, fields } = dataset.sampleKey(DATE);
      const resolved = resolveLandingKey(pipeline, key);
      expect(resolved.kind === 'matched' && resolved.dataset.name).toBe(dataset.name);
      const batches = batchesForFile(pipeline, dataset.name, fields);
      const readers = pipeline.config.jobs.filter((j) => j.inputs.some((i) => i.dataset === dataset.name)).map((j) => j.name);
      expect(new Set(batches.map((b) => b.job))).toEqual(new Set(readers));
      expect(ordered(batches)).toEqual(ordered(batchesBruteForce(pipeline, dataset.name, fields)));
      if (batches.length > 0) nonEmpty += 1;
    }
    expect(nonEmpty).toBeGreaterThan(150);
    // an upstream job's partition: only its downstream jobs
    for (const job of pipeline.config.jobs.filter((j) => pipeline.readersOf.has(j.name)).slice(0, 50)) {
      const fields = Object.fromEntries(job.batchKey.map((k) => [k, k === 'date' ? DATE : listedBruteForce(pipeline, job, k)[0]!]));
      const batches = batchesForFile(pipeline, job.name, fields);
      expect(batches.length).toBeGreaterThan(0);
      expect(ordered(batches)).toEqual(ordered(batchesBruteForce(pipeline, job.name, fields)));
    }
  });

  it('has a 7-job variant whose jobs are the first 7, so a file of the measured dataset has the same readers and batches', () => {
    expect(smallPipeline.config.jobs).toEqual(
      pipeline.config.jobs.slice(0, SMALL_JOBS).map((j) => ({ ...j, stages: j.stages.map((s) => ({ ...s, sql: s.sql!.replace(big.dir, small.dir) })) })),
    );
    expect(smallPipeline.config.datasets).toEqual(pipeline.config.datasets);
    const { fields } = big.datasets.find((d) => d.name === MEASURED_DATASET)!.sampleKey(DATE);
    expect(pipeline.readersOf.get(MEASURED_DATASET)!.map((r) => r.job.name)).toEqual(MEASURED_READERS);
    expect(smallPipeline.readersOf.get(MEASURED_DATASET)!.map((r) => r.job.name)).toEqual(MEASURED_READERS);
    expect(batchesForFile(smallPipeline, MEASURED_DATASET, fields)).toEqual(batchesForFile(pipeline, MEASURED_DATASET, fields));
  });
});
