import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { JobConfig } from './types';

/**
 * A job's code hash: a digest of what changes the results of its runs (docs/backfill.md), part of
 * each run's identity. It covers:
 * - each stage's name and files: a SQL file's and a Spark module's name and contents (line endings
 *   normalised), so a new version of the SQL, or an edit in place, is new code;
 * - the batch key and the inputs (relation, source, match, mode, newestPer, newestBy): what a run reads;
 * - the output (table, partitionBy, key, tables, columns): what it writes.
 * It leaves out what decides only when or where a batch runs, or what happens to its result, not
 * the result itself: preconditions, settleSeconds, cutoff, freshness, the engine and its
 * thresholds, Spark resources, warehouse loads and output checks (a check decides whether an output
 * is published, never what it holds). Paths are reduced to file names, keys sorted: the same files
 * and configuration give the same hash on every machine, from the sources or from the deploy's bundle.
 * A Spark stage's module is hashed, not the sibling modules it may import from the pipeline's package.
 */
export function jobCodeHash(job: JobConfig, read: (file: string) => string = (file) => readFileSync(file, 'utf8')): string {
  const file = (path: string) => {
    const name = path.split(/[\\/]/).pop()!;
    let text: string | null;
    try {
      text = read(path).replace(/\r\n?/g, '\n');
    } catch {
      // a loaded configuration's files exist (the loader checks them); a hand-built one may name none
      text = null;
    }
    return { name, text };
  };
  const identity = {
    version: 1,
    job: job.name,
    batchKey: job.batchKey,
    inputs: job.inputs.map((i) => ({
      relation: i.relation,
      source: i.source,
      from: i.job ? 'job' : 'dataset',
      match: i.match,
      mode: i.mode,
      newestPer: i.newestPer ?? null,
      newestBy: i.newestBy ?? null,
    })),
    stages: job.stages.map((s) => ({ name: s.name, sql: s.sql ? file(s.sql) : null, spark: s.spark ? file(s.spark) : null })),
    output: job.output,
  };
  return createHash('sha256').update(canonicalJson(identity)).digest('hex');
}

/** JSON with every object's keys sorted: the same value gives the same text whatever the order it was built in. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

const hashes = new WeakMap<JobConfig, string>();

/**
 * The job's code hash, computed once per loaded job (compilePipeline computes it when the
 * configuration loads; the files are read then, not at each resolve).
 */
export function codeHashOf(job: JobConfig): string {
  let hash = hashes.get(job);
  if (hash === undefined) {
    hash = jobCodeHash(job);
    hashes.set(job, hash);
  }
  return hash;
}

/** The first characters of a code hash, as status and explain show it. */
export const shortCodeHash = (hash: string) => hash.slice(0, 8);
