import { createHash } from 'node:crypto';
import type { Pipeline } from '../config/load-config';
import type { JobConfig } from '../config/types';
import type { SelectedFile } from './run-input';

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
 * A Step Functions execution name that is the same for the same batch, input generation and code
 * (the run's fingerprint covers both), so a repeated StartExecution cannot start a second run, and
 * a run of new code is not refused as a duplicate (1–80 characters of [A-Za-z0-9_-]).
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

/** The files a run reads, per relation: what identifies an input generation. */
const generationOf = (inputs: Record<string, SelectedFile[]>) => Object.entries(inputs).map(([r, fs]) => [r, fs.map((f) => [f.key, f.versionId])]);

/**
 * A run's identity: the batch, the exact input versions and the job's code hash (docs/backfill.md).
 * The same inputs and code give the same fingerprint; a newer input version or a code change, another.
 */
export function runFingerprint(job: JobConfig, batch: BatchRef, codeHash: string, inputs: Record<string, SelectedFile[]>): string {
  return fingerprintOf({ job: job.name, batch: batch.values, code: codeHash, inputs: generationOf(inputs) });
}

/**
 * The fingerprint as it was recorded before code hashes (stage names and SQL/Spark file names in
 * place of the code hash): a batch that last succeeded then has no code hash, and is up to date
 * when its inputs give this one, so an upgrade re-runs nothing.
 */
export function legacyRunFingerprint(job: JobConfig, batch: BatchRef, inputs: Record<string, SelectedFile[]>): string {
  const baseName = (path: string) => path.split('/').pop()!;
  const stages = job.stages.map((s) => ({ name: s.name, ...(s.sql ? { sql: baseName(s.sql) } : {}), ...(s.spark ? { spark: baseName(s.spark) } : {}) }));
  return fingerprintOf({ job: job.name, batch: batch.values, stages, inputs: generationOf(inputs) });
}

/** What a batch's last success ran: its fingerprint and, when recorded (since code hashes), its code hash. */
export interface LastSuccess {
  fingerprint: string;
  codeHash?: string;
}

/**
 * Whether these inputs are those of the batch's last success: its fingerprint recomputed with the
 * code it ran (or, recorded before code hashes, with the former formula).
 */
export function sameInputsAs(last: LastSuccess, job: JobConfig, batch: BatchRef, inputs: Record<string, SelectedFile[]>, codeHash: string): boolean {
  if (last.codeHash !== undefined) return runFingerprint(job, batch, last.codeHash, inputs) === last.fingerprint;
  return runFingerprint(job, batch, codeHash, inputs) === last.fingerprint || legacyRunFingerprint(job, batch, inputs) === last.fingerprint;
}
