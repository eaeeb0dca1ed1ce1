import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import type { S3Client } from '@aws-sdk/client-s3';
import { resolveLandingKey, type Pipeline } from '../../core/config/load-config';
import type { DatasetConfig } from '../../core/config/types';
import type { ObjectRef } from '../../core/s3/event-records';
import { REPLAY_METADATA, landingRelativeKey, rejectsKey, reportKey, validatedKey } from '../../core/s3/layout';
import { ObjectGoneError, headObject, objectExists, putJson, uploadFile } from '../../core/s3/object-io';
import type { ArchiveOrigin, FileReport } from '../../core/state/file-state';
import type { FileStateStore } from '../../core/state/file-state-store';
import { lineageMetadata } from '../../core/state/lineage';
import { archiveOrigin, unpackLandedArchive } from './archive-members';
import { MEMBER_SEPARATOR } from '../unpack';
import { validateLandedFile, type LandedFile, type LocalValidation } from './validate-local-file';
import { FeedRejection, SchemaMismatch } from '../../core/feeds/canonical';
import { alertSchemaChange, schemaChangeOf, type SchemaAlerts } from './schema-changes';
import type { FeedNotes } from '../../core/feeds/feed';
import { landedInput } from '../../core/feeds/landed-input';
import type { Verdict } from './verdict';

export interface ValidateDeps {
  s3: S3Client;
  store: FileStateStore;
  pipeline: Pipeline;
  /** the versioned raw bucket: landing/ in, validated/ rejected/ reports/ out */
  rawBucket: string;
  /** where a dataset's schema change is alerted, once per change (unset: not alerted) */
  alerts?: SchemaAlerts;
  /** the function's memory (the Lambda context's memoryLimitInMB): DuckDB's threads and limit */
  functionMemoryMb?: number;
  tmpDir?: string;
}

export type ValidateResult =
  | { kind: 'reported'; report: FileReport; reportKey: string }
  | { kind: 'duplicate'; of: string }
  | { kind: 'already-reported'; reportKey: string }
  | { kind: 'ignored'; reason: string };

/**
 * validate, for one landed object version: record RECEIVED, check it against its dataset (in
 * DuckDB; see validate-local-file.ts) and write the outputs (the verdict convert fires on, the
 * rejects report) and a JSON report that track turns into the file state.
 * Bad content never throws; only infrastructure failures do (so Lambda retries those).
 */
export async function validateLandedObject(ref: ObjectRef, deps: ValidateDeps): Promise<ValidateResult> {
  const relative = landingRelativeKey(ref.key);
  if (relative === null || ref.bucket !== deps.rawBucket) return { kind: 'ignored', reason: `not under s3://${deps.rawBucket}/landing/` };
  const source = { ...ref };
  const key = reportKey(relative, ref.versionId);
  // The key alone says which dataset and batch the file belongs to: RECEIVED records them, so a
  // batch waits for a file still being validated (the resolver sees it in flight on gsi1).
  const resolution = resolveLandingKey(deps.pipeline, relative);
  // The checks read the landed version and write local files only, so they start at once, while the
  // report is looked for and RECEIVED is recorded; what they found is written (rejects, verdict,
  // report) only once the claim says this version is validated here, and they are stopped otherwise.
  const stop = new AbortController();
  // an archive's member names the archive version it came from (its metadata), recorded on its state
  const origin = relative.includes(MEMBER_SEPARATOR) ? settled(memberOrigin(deps.s3, ref)) : undefined;
  const checking = resolution.kind === 'matched' ? settled(checkContent(source, resolution.dataset, resolution.fields, deps, stop.signal)) : undefined;
  let used = false;
  try {
    // The report is written last: if it exists, this version was validated (a redelivered event).
    if (await objectExists(deps.s3, deps.rawBucket, key)) return { kind: 'already-reported', reportKey: key };
    const details =
      resolution.kind === 'matched'
        ? { dataset: resolution.dataset.name, fields: resolution.fields, date: resolution.fields[resolution.dataset.dateField]! }
        : { dataset: resolution.kind === 'rejected' ? resolution.dataset.name : null, ...(resolution.kind === 'archive' ? { fields: resolution.fields } : {}) };
    // Identical bytes are a no-op unless the put asked for a replay (x-amz-meta-landfall-replay).
    const claim = await deps.store.receive(source, { isReplay: () => isForcedReplay(deps.s3, ref), details });
    if (claim.kind === 'duplicate') return { kind: 'duplicate', of: claim.of };

    const archive = origin ? await origin : undefined;
    if (archive && !archive.ok) throw archive.error;
    const base = { source, at: new Date().toISOString(), outputs: {}, ...(archive?.value ? { archive: archive.value } : {}) };
    let report: FileReport;
    if (claim.kind === 'superseded') {
      report = {
        ...base,
        dataset: resolution.kind === 'matched' || resolution.kind === 'rejected' ? resolution.dataset.name : null,
        fields: {},
        state: 'SUPERSEDED',
        reason: `version ${claim.by} of this key is newer and landed first`,
      };
    } else if (resolution.kind === 'unrecognised') {
      report = { ...base, dataset: null, fields: {}, state: 'UNRECOGNISED', reason: resolution.reason };
    } else if (resolution.kind === 'rejected') {
      report = { ...base, dataset: resolution.dataset.name, fields: {}, state: 'REJECTED', reason: resolution.reason };
    } else if (resolution.kind === 'archive') {
      const unpacked = await unpackLandedArchive(source, relative, resolution.archive, deps, await isForcedReplay(deps.s3, ref));
      report = { ...base, dataset: null, fields: resolution.fields, state: unpacked.state, reason: unpacked.reason };
    } else {
      used = true;
      const checked = await checking!;
      report = await publishContent(checked, relative, deps);
      // before the report: an invocation that fails here is retried, and the alert still goes out once
      const change = deps.alerts && checked.ok ? schemaChangeOf(report, checked.value.mismatch, checked.value.dataset) : null;
      if (change) await alertSchemaChange(report, change, deps.store, deps.alerts!);
    }
    await putJson(deps.s3, deps.rawBucket, key, report);
    return { kind: 'reported', report, reportKey: key };
  } finally {
    if (checking && !used) {
      // not this invocation's to validate (or it failed before the claim): stop the checks, drop what they wrote
      stop.abort();
      const checked = await checking;
      if (checked.ok) await checked.value.discard();
    }
  }
}

/** A promise's outcome as a value: the checks run ahead, and their error counts only once they are used. */
type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };
function settled<T>(promise: Promise<T>): Promise<Settled<T>> {
  return promise.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
}

async function memberOrigin(s3: S3Client, ref: ObjectRef): Promise<ArchiveOrigin | undefined> {
  try {
    return archiveOrigin(ref.key, (await headObject(s3, ref.bucket, ref.key, ref.versionId)).metadata);
  } catch (err) {
    if (err instanceof ObjectGoneError) return undefined;
    throw err;
  }
}

async function isForcedReplay(s3: S3Client, ref: ObjectRef): Promise<boolean> {
  try {
    const { metadata } = await headObject(s3, ref.bucket, ref.key, ref.versionId);
    return Object.keys(metadata).some((k) => k.toLowerCase() === REPLAY_METADATA);
  } catch (err) {
    if (err instanceof ObjectGoneError) return false;
    throw err;
  }
}

/** what validate gets in serverless.yml, when the caller does not say */
const DEFAULT_MEMORY_MB = 2048;
/** the first bytes of a streamed object kept for its header (the header search reads the whole file past them) */
const HEAD_BYTES = 4 * 1024 * 1024;

/** What the checks of one landed version found, in local files until publishContent writes them. */
interface CheckedContent {
  base: Omit<FileReport, 'state' | 'outputs' | 'reason'> & { date: string };
  /** unreadable (the version is gone): the report says why */
  unreadable?: string;
  validation?: LocalValidation;
  dataset: DatasetConfig;
  /** what decoding the file noticed (columns a header added) */
  notes?: FeedNotes;
  /** the file's columns are not the dataset's (it is rejected for it): the schema change */
  mismatch?: string;
  /** removes the local files */
  discard(): Promise<void>;
}

/** The checks (validate-local-file.ts) over the landed version: local files only, nothing written to S3. */
async function checkContent(
  source: ObjectRef,
  dataset: DatasetConfig,
  fields: Record<string, string>,
  deps: ValidateDeps,
  signal: AbortSignal,
): Promise<CheckedContent> {
  const dir = await mkdtemp(join(deps.tmpDir ?? tmpdir(), 'validate-'));
  const date = fields[dataset.dateField]!;
  const base = { source, dataset: dataset.name, fields, date, at: new Date().toISOString() };
  const discard = () => rm(dir, { recursive: true, force: true });
  try {
    const memoryMb = deps.functionMemoryMb ?? DEFAULT_MEMORY_MB;
    try {
      // the object's text as the engine reads it (decoded when the dataset's files are compressed, in
      // another encoding or layout: see shared/core/feeds)
      const input = await landedInput(deps.s3, { ...source, size: source.size }, dataset, { dir, functionMemoryMb: memoryMb, signal });
      const headPath = join(dir, 'head');
      const landed: LandedFile = {
        size: source.size,
        // A large object is counted as it streams past (the download costs almost no time of its own);
        // only its first lines are kept, and the whole file is fetched when bad lines must be numbered.
        stream: (during) => input.stream(during, input.streamed ? { head: { path: headPath, bytes: HEAD_BYTES } } : {}),
        head: async () => (input.streamed ? { path: headPath, complete: false } : { path: await input.whole(), complete: true }),
        whole: () => input.whole(),
      };
      const validation = await validateLandedFile(landed, input.dataset, fields, { workDir: dir, functionMemoryMb: memoryMb });
      return { base, validation, dataset, notes: input.notes, discard };
    } catch (err) {
      if (err instanceof ObjectGoneError && !signal.aborted) return { base, unreadable: `unreadable: ${err.message}`, dataset, discard };
      // the file cannot be read as its dataset says (a truncated gzip, a Parquet of other columns): rejected whole
      if (err instanceof FeedRejection && !signal.aborted)
        return { base, unreadable: err.message, dataset, discard, ...(err instanceof SchemaMismatch ? { mismatch: err.message } : {}) };
      throw err;
    }
  } catch (err) {
    await discard();
    throw err;
  }
}

/** Writes what the checks found (the rejects report, the verdict) and returns the report; the local files go. */
async function publishContent(checked: Settled<CheckedContent>, relative: string, deps: ValidateDeps): Promise<FileReport> {
  if (!checked.ok) throw checked.error;
  const { base, unreadable, validation, dataset, notes, discard } = checked.value;
  const { source, fields, date } = base;
  try {
    if (unreadable !== undefined || !validation) return { ...base, state: 'REJECTED', reason: unreadable ?? 'unreadable', outputs: {} };
    const { outcome, rules, rejectsPath, manifest } = validation;
    const outputs: FileReport['outputs'] = {};
    if (rejectsPath) {
      outputs.rejects = rejectsKey(relative, source.versionId);
      await uploadFile(deps.s3, deps.rawBucket, outputs.rejects, rejectsPath, {}, 'text/csv');
    }
    if (outcome.state === 'REJECTED') return { ...base, state: 'REJECTED', reason: outcome.reason, rows: outcome.rows, outputs };
    if (manifest && 'problem' in manifest) return { ...base, state: 'REJECTED', reason: manifest.problem, rows: outcome.rows, outputs };
    // The verdict, not a copy of the rows: convert reads the landed object and keeps the rows these rules call good.
    outputs.validated = validatedKey(relative);
    const verdict: Verdict = { landfall: 'verdict/1', rules, rows: outcome.rows, ...(notes?.keptColumns ? { keptColumns: notes.keptColumns } : {}) };
    // every header column the dataset does not declare, kept or ignored (the schema change's signature)
    const extraColumns = [...(notes?.keptColumns ?? []).map((k) => k.header), ...(notes?.extraColumns ?? [])];
    const metadata = lineageMetadata({ source, dataset: dataset.name, fields, date, rows: outcome.rows.out });
    const { versionId } = await putJson(deps.s3, deps.rawBucket, outputs.validated, verdict, metadata);
    return {
      ...base,
      state: 'VALIDATED',
      rows: outcome.rows,
      ...(manifest ? { manifest: manifest.summary } : {}),
      ...(extraColumns.length > 0 ? { extraColumns } : {}),
      outputs,
      ...(versionId ? { validatedVersionId: versionId } : {}),
    };
  } finally {
    await discard();
  }
}
