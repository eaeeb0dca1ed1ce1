import type { Pipeline } from '../../shared/core/config/load-config';
import type { JobConfig } from '../../shared/core/config/types';
import type { BatchRef } from '../../shared/core/runs/batches';
import { UsageError } from '../commands';

/**
 * A batch as an operator names it, `--job J --batch province=ON,date=2026-11-23` (or the console's
 * `?job=J&batch=…`), checked against the job's batch key: an unknown job or a missing field is a
 * UsageError naming it.
 */
export function batchRefOf(pipeline: Pipeline, job: string | undefined, spec: string | undefined, command: string): { job: JobConfig; batch: BatchRef } {
  if (!job || !spec) throw new UsageError(`${command} needs --job J and --batch field=value,…`);
  const pipelineJob = pipeline.jobsByName.get(job);
  if (!pipelineJob) throw new UsageError(`no job "${job}" in the pipeline configuration (jobs: ${pipeline.config.jobs.map((j) => j.name).join(', ')})`);
  const pairs = spec.split(',').map((pair) => pair.split('='));
  if (pairs.some((p) => p.length !== 2 || !p[0] || !p[1])) throw new UsageError(`--batch must be field=value pairs separated by commas, got "${spec}"`);
  const batchValues = Object.fromEntries(pairs as Array<[string, string]>);
  const missing = pipelineJob.batchKey.filter((k) => !batchValues[k]);
  if (missing.length > 0) throw new UsageError(`--batch needs ${pipelineJob.batchKey.join(', ')} for job ${job} (missing ${missing.join(', ')})`);
  return { job: pipelineJob, batch: { job, values: Object.fromEntries(pipelineJob.batchKey.map((k) => [k, batchValues[k]!])) } };
}

/** The `field=value,…` spelling of a batch's values, in its job's batch key order (what batchRefOf reads back). */
export function batchSpecOf(values: Record<string, string>): string {
  return Object.entries(values)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}
