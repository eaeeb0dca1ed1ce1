import { createHash } from 'node:crypto';
import type { Pipeline } from '../config/load-config';
import type { JobConfig } from '../config/types';

/** One batch of a job: the job and its batch key's values (e.g. province ON, date 2026-11-23). */
export interface BatchRef {
  job: string;
  values: Record<string, string>;
}

/** `pos_daily_sales#province=ON#date=2026-11-23`: the batch's identity in the job-runs table. */
export function batchId(batch: BatchRef, job: JobConfig): string {
  return [batch.job, ...job.batchKey.map((k) => `${k}=${batch.values[k]}`)].join('#');
}

/**
 * The batches a file of `source` (a dataset, or an upstream job's partition) with these key fields
 * can complete: only the jobs that read `source` are looked at. Batch key fields the input does not
 * match (the item master has no province) are enumerated from their listed values.
 */
export function batchesForFile(pipeline: Pipeline, source: string, fields: Record<string, string>): BatchRef[] {
  const batches: BatchRef[] = [];
  for (const { job, input } of pipeline.readersOf.get(source) ?? []) {
    let partial: Array<Record<string, string>> = [{}];
    for (const key of job.batchKey) {
      const values = input.match.includes(key) ? [fields[key]!] : enumerableValues(pipeline, job, key);
      partial = partial.flatMap((p) => values.map((v) => ({ ...p, [key]: v })));
    }
    for (const values of partial) {
      if (!batches.some((b) => b.job === job.name && sameValues(b.values, values))) batches.push({ job: job.name, values });
    }
  }
  return batches;
}

/** The listed values of a batch key field (a dataset's keyFieldValues, through upstream jobs too). */
export function enumerableValues(pipeline: Pipeline, job: JobConfig, key: string): string[] {
  return pipeline.listed.get(job.name)?.[key] ?? [];
}

const sameValues = (a: Record<string, string>, b: Record<string, string>) =>
  Object.keys(a).length === Object.keys(b).length && Object.entries(a).every(([k, v]) => b[k] === v);

/**
 * A Step Functions execution name that is the same for the same batch and input generation, so a
 * repeated StartExecution cannot start a second run (1–80 characters of [A-Za-z0-9_-]).
 */
export function executionName(batch: BatchRef, job: JobConfig, fingerprint: string, attempt = 0): string {
  const values = job.batchKey.map((k) => (batch.values[k] ?? '').replace(/[^A-Za-z0-9_-]/g, '_'));
  const suffix = `${fingerprint.slice(0, 12)}${attempt > 0 ? `-r${attempt}` : ''}`;
  const head = [batch.job, ...values].join('-').slice(0, 80 - suffix.length - 1);
  return `${head}-${suffix}`;
}

/** The attempt an execution name stands for: 1 for `…-<fingerprint>`, N + 1 for `…-<fingerprint>-rN`. */
export const attemptOf = (executionName: string) => Number(/-r(\d+)$/.exec(executionName)?.[1] ?? 0) + 1;

export function fingerprintOf(parts: unknown): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex');
}
