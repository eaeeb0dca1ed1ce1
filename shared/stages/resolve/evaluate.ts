import type { JobConfig, JobInput, PipelineConfig, Precondition } from '../../core/config/types';
import { expectedValues, requiredCount } from '../../core/config/lookups';
import { IN_FLIGHT_STATES, type FileState } from '../../core/state/file-state';
import { newestPerKey } from '../../core/s3/event-records';
import { runFingerprint, sameInputsAs, type BatchRef } from '../../core/runs/batches';
import { codeHashOf } from '../../core/config/code-hash';
import type { SelectedFile } from '../../core/runs/run-input';

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
  /** a manifest file's parts (or their count), as validate read them */
  manifest?: ManifestSummary;
}

/** What a batch whose inputs are those of its last success waits for (newerThanLastRun). */
export const NOT_NEWER = 'an input newer than the last successful run';

export type ManifestSummary = { parts: string[] } | { count: number };

/** A file the evaluation holds out of use, with the reason recorded as its QUARANTINED state. */
export interface Quarantine {
  file: CandidateFile;
  reason: string;
}

export interface Evaluation {
  ready: boolean;
  /** landed bytes of the files a run would read (the engine router's measure) */
  inputBytes: number;
  /** the unmet preconditions, for an operator ("2 of 5 stores (missing ON04, ON05)", "item_master") */
  waitingFor: string[];
  inputs: Record<string, SelectedFile[]>;
  /** identifies the run: the same files and the same code give the same fingerprint (runFingerprint) */
  fingerprint: string;
  /** the code hash the fingerprint was made with */
  codeHash: string;
  /** the inputs are exactly those of the batch's last successful run (whatever code it ran) */
  sameInputsAsLastSuccess: boolean;
  /** cumulative files that shrank: to be recorded QUARANTINED (they are not among `inputs`) */
  quarantine: Quarantine[];
  /** ready at the job's cut-off without these preconditions: the run records them */
  ranWithout?: string[];
}

export interface EvaluateOptions {
  /** the fingerprint of the batch's last successful run (for newerThanLastRun) */
  lastSucceededFingerprint?: string;
  /** the code hash that run ran with; absent for a run recorded before code hashes (or for the current code) */
  lastSucceededCodeHash?: string;
  /** the job's code hash now (default: computed from the job's files, once per loaded job) */
  codeHash?: string;
  /**
   * The inputs of the last success may run again: its code is stale and the job re-runs on a code
   * change (`onCodeChange: rerun`), or a backfill asks. newerThanLastRun then holds nothing back.
   */
  rerunSameInputs?: boolean;
  /** the batch is past its cut-off (e.g. "20:00 America/Toronto"): run with what has arrived */
  pastCutoff?: string;
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
  const matching = newestPerKey(files).filter((f) => f.dataset === input.source && input.match.every((k) => f.fields[k] === batch.values[k]));
  const inProgress = matching.filter((f) => IN_FLIGHT_STATES.includes(f.state));
  let converted = matching.filter((f) => f.state === 'CONVERTED' && f.processedKey);
  let quarantine: Quarantine[] = [];
  if (input.mode === 'cumulative') ({ chosen: converted, quarantine } = newestPerMember(input, converted));
  return { converted: converted.sort((a, b) => a.key.localeCompare(b.key)), inProgress, quarantine };
}

/** `region_daily WEST 2026-05-01`: an upstream job's partition, by its batch key in order. */
function partitionName(input: JobInput, batch: BatchRef, upstreamKey: string[], extra: Record<string, string> = {}): string {
  const values = upstreamKey.map((k) => extra[k] ?? (input.match.includes(k) ? batch.values[k] : undefined)).filter((v): v is string => v !== undefined);
  return `${input.job} ${values.join(' ')}`;
}

interface Context {
  config: Pick<PipelineConfig, 'lookups'>;
  job: JobConfig;
  batch: BatchRef;
  selected: Record<string, CandidateFile[]>;
  /** the batch key of each upstream job an input reads */
  upstreamKeys: Record<string, string[]>;
}

function unmet(precondition: Precondition, ctx: Context): string | null {
  const { selected, batch, job } = ctx;
  switch (precondition.kind) {
    case 'present': {
      if (selected[precondition.input]!.length > 0) return null;
      const input = job.inputs.find((i) => i.relation === precondition.input)!;
      return input.job ? partitionName(input, batch, ctx.upstreamKeys[input.job]!) : `${precondition.input} for ${describeBatch(batch)}`;
    }
    case 'minTotalBytes': {
      const total = selected[precondition.input]!.reduce((sum, f) => sum + f.size, 0);
      return total >= precondition.bytes ? null : `${precondition.input}: ${total} of ${precondition.bytes} bytes`;
    }
    case 'minDistinct': {
      const need = requiredCount(ctx.config, precondition.count, batch.values);
      if ('problem' in need) return need.problem;
      const have = [...new Set(selected[precondition.input]!.map((f) => f.fields[precondition.field]!))].sort();
      if (have.length >= need.count) return null;
      const input = job.inputs.find((i) => i.relation === precondition.input)!;
      const expected = input.job ? expectedValues(ctx.config, precondition.count, batch.values) : undefined;
      if (expected) {
        // name the upstream partitions still missing: "region_daily WEST 2026-05-01"
        const missing = expected.filter((v) => !have.includes(v));
        if (missing.length > 0) return missing.map((v) => partitionName(input, batch, ctx.upstreamKeys[input.job!]!, { [precondition.field]: v })).join(', ');
      }
      return `${have.length} of ${need.count} ${precondition.field}s of ${input.job ?? precondition.input} (have ${have.join(', ') || 'none'})`;
    }
    case 'manifest':
      return unmetManifest(precondition, ctx);
    case 'newerThanLastRun':
      return null; // decided against the batch's last run when it is claimed
  }
}

/** The parts a manifest lists (or counts) against the parts present. */
function unmetManifest(p: Extract<Precondition, { kind: 'manifest' }>, ctx: Context): string | null {
  const manifests = ctx.selected[p.manifest]!.filter((f) => f.manifest);
  if (manifests.length === 0) return `${p.manifest} (the manifest) for ${describeBatch(ctx.batch)}`;
  // the newest manifest of the batch speaks for it
  const manifest = manifests.reduce((a, b) => (a.key.localeCompare(b.key) >= 0 ? a : b));
  const have = new Set(ctx.selected[p.input]!.map((f) => f.fields[p.field]!));
  const summary = manifest.manifest!;
  if ('count' in summary)
    return have.size >= summary.count ? null : `${have.size} of ${summary.count} ${p.field}s of ${p.input} (the count in ${manifest.key})`;
  const missing = summary.parts.filter((part) => !have.has(part));
  if (missing.length === 0) return null;
  const shown = missing.slice(0, 5).join(', ') + (missing.length > 5 ? `, … ${missing.length - 5} more` : '');
  return `${summary.parts.length - missing.length} of ${summary.parts.length} ${p.field}s of ${p.input} listed in ${manifest.key} (missing ${shown})`;
}

const describeBatch = (batch: BatchRef) => Object.values(batch.values).join(' ');

/**
 * Decides whether a batch may run, from the newest version of each candidate file. Pure: the
 * resolver gathers the files, this says what a run would read and what the batch still waits for.
 * `upstreamKeys` gives the batch key of each upstream job the job reads (to name its partitions).
 */
export function evaluateBatch(
  config: Pick<PipelineConfig, 'lookups'>,
  job: JobConfig,
  batch: BatchRef,
  files: CandidateFile[],
  options: EvaluateOptions = {},
  upstreamKeys: Record<string, string[]> = {},
): Evaluation {
  const selected: Record<string, CandidateFile[]> = {};
  const inFlight: string[] = [];
  const quarantine: Quarantine[] = [];
  for (const input of job.inputs) {
    const { converted, inProgress, quarantine: held } = inputFiles(input, batch, files);
    selected[input.relation] = converted;
    quarantine.push(...held);
    if (inProgress.length > 0)
      inFlight.push(`${input.relation}: ${inProgress.length} file(s) still being processed (${inProgress.map((f) => f.key).join(', ')})`);
  }
  const ctx: Context = { config, job, batch, selected, upstreamKeys };
  let unmetPreconditions = job.preconditions.map((p) => unmet(p, ctx)).filter((problem): problem is string => problem !== null);
  let ranWithout: string[] | undefined;
  const anySelected = Object.values(selected).some((fs) => fs.length > 0);
  // Past the cut-off, a batch runs with what has arrived (never with a file still in flight).
  if (options.pastCutoff && unmetPreconditions.length > 0 && inFlight.length === 0 && anySelected) {
    ranWithout = unmetPreconditions.map((u) => `${u} (cut-off ${options.pastCutoff})`);
    unmetPreconditions = [];
  }
  const waitingFor = [...inFlight, ...unmetPreconditions];
  const inputs = Object.fromEntries(
    Object.entries(selected).map(([relation, fs]) => [
      relation,
      fs.map(
        (f): SelectedFile => ({
          key: f.key,
          versionId: f.versionId,
          processedKey: f.processedKey!,
          ...(f.processedVersionId ? { processedVersionId: f.processedVersionId } : {}),
        }),
      ),
    ]),
  );
  // the inputs and the code: new code is a new run identity, but only starts a run when asked (docs/backfill.md)
  const codeHash = options.codeHash ?? codeHashOf(job);
  const fingerprint = runFingerprint(job, batch, codeHash, inputs);
  const last = options.lastSucceededFingerprint;
  const sameInputsAsLastSuccess =
    last !== undefined &&
    sameInputsAs({ fingerprint: last, ...(options.lastSucceededCodeHash ? { codeHash: options.lastSucceededCodeHash } : {}) }, job, batch, inputs, codeHash);
  const newerNeeded = job.preconditions.some((p) => p.kind === 'newerThanLastRun');
  if (waitingFor.length === 0 && newerNeeded && sameInputsAsLastSuccess && !options.rerunSameInputs) {
    waitingFor.push(NOT_NEWER);
  }
  const inputBytes = Object.values(selected)
    .flat()
    .reduce((sum, f) => sum + f.size, 0);
  return {
    ready: waitingFor.length === 0,
    waitingFor,
    inputs,
    fingerprint,
    codeHash,
    sameInputsAsLastSuccess,
    inputBytes,
    quarantine,
    ...(ranWithout && waitingFor.length === 0 ? { ranWithout } : {}),
  };
}
