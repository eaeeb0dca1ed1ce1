import type { JobConfig, JobInput, PipelineConfig, Precondition } from '../config/types';
import { IN_FLIGHT_STATES, type FileState } from '../state/file-state';
import { newestPerKey } from '../s3/event-records';
import { fingerprintOf, type BatchRef } from './batches';

/** A landed file version as the resolver sees it (from the file-state table). */
export interface CandidateFile {
  key: string;
  versionId: string;
  sequencer: string;
  dataset: string;
  fields: Record<string, string>;
  state: FileState;
  size: number;
  processedKey?: string;
  processedVersionId?: string;
  /** rows validate read (data lines), or the Parquet's rows: what a cumulative file's growth is measured by */
  rows?: number;
}

/** A file the evaluation holds out of use, with the reason recorded as its QUARANTINED state. */
export interface Quarantine {
  file: CandidateFile;
  reason: string;
}

/** What a run reads: exactly these Parquet object versions. */
export interface SelectedFile {
  key: string;
  versionId: string;
  processedKey: string;
  processedVersionId?: string;
}

export interface Evaluation {
  ready: boolean;
  /** landed bytes of the files a run would read (the engine router's measure) */
  inputBytes: number;
  /** the unmet preconditions, for an operator ("2 of 5 stores (missing ON04, ON05)", "item_master") */
  waitingFor: string[];
  inputs: Record<string, SelectedFile[]>;
  /** identifies the input generation: the same files give the same fingerprint */
  fingerprint: string;
  /** cumulative files that shrank: to be recorded QUARANTINED (they are not among `inputs`) */
  quarantine: Quarantine[];
}

/**
 * Cumulative files (`newestPer`/`newestBy`): each member's newest file supersedes the earlier ones,
 * but only if it has at least as many rows as every earlier one. A newer file with fewer rows (a
 * header-only or truncated export) would silently drop data: it is quarantined and the earlier
 * file stays in use.
 */
function newestPerMember(input: JobInput, converted: CandidateFile[]): { chosen: CandidateFile[]; quarantine: Quarantine[] } {
  const groups = new Map<string, CandidateFile[]>();
  for (const f of converted) {
    const group = f.fields[input.newestPer!]!;
    groups.set(group, [...(groups.get(group) ?? []), f]);
  }
  const chosen: CandidateFile[] = [];
  const quarantine: Quarantine[] = [];
  for (const [group, members] of groups) {
    members.sort((a, b) => a.fields[input.newestBy!]!.localeCompare(b.fields[input.newestBy!]!) || a.key.localeCompare(b.key));
    let inUse: CandidateFile | undefined;
    for (const f of members) {
      if (inUse?.rows !== undefined && f.rows !== undefined && f.rows < inUse.rows) {
        const reason = `${f.rows} rows, fewer than the ${inUse.rows} of the earlier file ${inUse.key} of ${input.newestPer} ${group}: not used; the earlier file stays in use`;
        quarantine.push({ file: f, reason });
      } else {
        inUse = f;
      }
    }
    if (inUse) chosen.push(inUse);
  }
  return { chosen, quarantine };
}

function inputFiles(input: JobInput, batch: BatchRef, files: CandidateFile[]) {
  const matching = newestPerKey(files).filter((f) => f.dataset === input.dataset && input.match.every((k) => f.fields[k] === batch.values[k]));
  const inProgress = matching.filter((f) => IN_FLIGHT_STATES.includes(f.state));
  let converted = matching.filter((f) => f.state === 'CONVERTED' && f.processedKey);
  let quarantine: Quarantine[] = [];
  if (input.newestPer && input.newestBy) ({ chosen: converted, quarantine } = newestPerMember(input, converted));
  return { converted: converted.sort((a, b) => a.key.localeCompare(b.key)), inProgress, quarantine };
}

function unmet(precondition: Precondition, selected: Record<string, CandidateFile[]>, config: PipelineConfig, batch: BatchRef): string | null {
  switch (precondition.kind) {
    case 'present':
      return selected[precondition.input]!.length > 0 ? null : `${precondition.input} for ${describeBatch(batch)}`;
    case 'minTotalBytes': {
      const total = selected[precondition.input]!.reduce((sum, f) => sum + f.size, 0);
      return total >= precondition.bytes ? null : `${precondition.input}: ${total} of ${precondition.bytes} bytes`;
    }
    case 'minDistinct': {
      const need = precondition.count === 'provinceStores' ? (config.provinces[batch.values.province!] ?? Infinity) : precondition.count;
      const have = [...new Set(selected[precondition.input]!.map((f) => f.fields[precondition.field]!))].sort();
      return have.length >= need ? null : `${have.length} of ${need} ${precondition.field}s of ${precondition.input} (have ${have.join(', ') || 'none'})`;
    }
    case 'newerThanLastRun':
      return null; // decided against the batch's last run when it is claimed
  }
}

const describeBatch = (batch: BatchRef) => Object.values(batch.values).join(' ');

/**
 * Decides whether a batch may run, from the newest version of each candidate file. Pure: the
 * resolver gathers the files, this says what a run would read and what the batch still waits for.
 */
export function evaluateBatch(config: PipelineConfig, job: JobConfig, batch: BatchRef, files: CandidateFile[], lastSucceededFingerprint?: string): Evaluation {
  const selected: Record<string, CandidateFile[]> = {};
  const waitingFor: string[] = [];
  const quarantine: Quarantine[] = [];
  for (const input of job.inputs) {
    const { converted, inProgress, quarantine: held } = inputFiles(input, batch, files);
    selected[input.relation] = converted;
    quarantine.push(...held);
    if (inProgress.length > 0) waitingFor.push(`${input.relation}: ${inProgress.length} file(s) still being processed (${inProgress.map((f) => f.key).join(', ')})`);
  }
  for (const p of job.preconditions) {
    const problem = unmet(p, selected, config, batch);
    if (problem) waitingFor.push(problem);
  }
  const inputs = Object.fromEntries(
    Object.entries(selected).map(([relation, fs]) => [relation, fs.map((f): SelectedFile => ({ key: f.key, versionId: f.versionId, processedKey: f.processedKey!, ...(f.processedVersionId ? { processedVersionId: f.processedVersionId } : {}) }))]),
  );
  const fingerprint = fingerprintOf({ job: job.name, batch: batch.values, stages: job.stages, inputs: Object.entries(inputs).map(([r, fs]) => [r, fs.map((f) => [f.key, f.versionId])]) });
  if (waitingFor.length === 0 && job.preconditions.some((p) => p.kind === 'newerThanLastRun') && fingerprint === lastSucceededFingerprint) {
    waitingFor.push('an input newer than the last successful run');
  }
  const inputBytes = Object.values(selected).flat().reduce((sum, f) => sum + f.size, 0);
  return { ready: waitingFor.length === 0, waitingFor, inputs, fingerprint, inputBytes, quarantine };
}
