import type { S3Client } from '@aws-sdk/client-s3';
import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import type { Pipeline } from '../../core/config/load-config';
import { compareSequencers, versionTag, type ObjectRef } from '../../core/s3/event-records';
import { landingRelativeKey, processedKeyOf, reportKey, validatedKey } from '../../core/s3/layout';
import { headIfExists, objectExists } from '../../core/s3/object-io';
import type { FileStateItem, FileStateStore, WorkItem } from '../../core/state/file-state-store';
import { sourceOfItem } from '../../core/state/file-state-store';
import { isTerminal } from '../../core/state/file-state';
import { parseLineage } from '../../core/state/lineage';
import { s3EventFor } from './s3-event';

/** The functions a re-drive may invoke: the stages that handle S3 events. */
export type Stage = 'validate' | 'convert' | 'track';

export interface StuckFileDeps {
  files: FileStateStore;
  s3: S3Client;
  lambda: LambdaClient;
  pipeline: Pipeline;
  rawBucket: string;
  lakeBucket: string;
  /** deployed function name of each stage */
  functionNames: Record<Stage, string>;
}

/** The object a stage reads, as far as an S3 event names it. */
type StageInput = Partial<ObjectRef> & Pick<ObjectRef, 'bucket' | 'key'>;

/** What the reconciler did about one file version. */
export type FileRepair =
  | { kind: 'redrive'; stage: Stage; key: string; versionId: string; attempt: number; object: string }
  | { kind: 'superseded' | 'failed'; key: string; versionId: string; reason: string };

/** After this many re-drives a version still in flight is FAILED: its poison no longer holds a batch back. */
export const MAX_REDRIVES = 3;

/**
 * The stage a version in flight is due for, judged by which outputs exist: its report → track it;
 * no report → validate it; validated with its Parquet there → track the Parquet; validated without
 * it → convert it. Outputs carry the version they came from, so re-running a stage is harmless.
 */
async function dueStage(deps: StuckFileDeps, item: FileStateItem): Promise<{ stage: Stage; ref: StageInput }> {
  const relative = landingRelativeKey(item.key)!;
  if (item.state === 'RECEIVED') {
    const report = reportKey(relative, item.versionId);
    if (await objectExists(deps.s3, deps.rawBucket, report)) return { stage: 'track', ref: { bucket: deps.rawBucket, key: report } };
    return { stage: 'validate', ref: sourceOfItem(item) };
  }
  const dataset = deps.pipeline.config.datasets.find((d) => d.name === item.dataset);
  const parquetKey = dataset && item.fields ? processedKeyOf(dataset, item.fields, item.key) : undefined;
  const parquet = parquetKey ? await headIfExists(deps.s3, deps.lakeBucket, parquetKey) : undefined;
  if (parquetKey && parquet) {
    const lineage = (() => {
      try {
        return parseLineage(parquet.metadata);
      } catch {
        return undefined;
      }
    })();
    if (lineage && lineage.source.key === item.key && versionTag(lineage.source.versionId) === item.versionId) {
      return { stage: 'track', ref: { bucket: deps.lakeBucket, key: parquetKey, ...(parquet.versionId ? { versionId: parquet.versionId } : {}) } };
    }
  }
  return {
    stage: 'convert',
    ref: {
      bucket: deps.rawBucket,
      key: item.validatedKey ?? validatedKey(relative),
      ...(item.validatedVersionId ? { versionId: item.validatedVersionId } : {}),
    },
  };
}

/**
 * Repairs one version that has been in flight past the grace period: a version that a newer one
 * of its key replaced is SUPERSEDED; one re-driven `MAX_REDRIVES` times already is FAILED with the
 * last error seen (a bad file never holds its batch back for ever); otherwise the stage it is due
 * for is invoked again, asynchronously, through the stage's own function.
 */
export async function repairStuckFile(deps: StuckFileDeps, work: WorkItem, now = new Date()): Promise<FileRepair | null> {
  const item = await deps.files.get(work.key, work.versionId);
  if (!item || isTerminal(item.state)) return null; // it moved on since the index was read
  const latest = await deps.files.latestVersionOf(item.key);
  if (latest && latest.versionId !== item.versionId && compareSequencers(latest.sequencer, item.sequencer) > 0) {
    const reason = `version ${latest.versionId} of this key is newer; this one stopped in ${item.state}`;
    await deps.files.recordVerdict(item, 'SUPERSEDED', reason, now);
    return { kind: 'superseded', key: item.key, versionId: item.versionId, reason };
  }
  const redrives = item.redrives ?? 0;
  if (redrives >= MAX_REDRIVES) {
    const reason = `stopped in ${item.state} after ${redrives} re-drives by the reconciler; last error: ${item.lastError ?? 'none recorded (a timeout, or the event was lost)'}`;
    await deps.files.recordVerdict(item, 'FAILED', reason, now);
    return { kind: 'failed', key: item.key, versionId: item.versionId, reason };
  }
  const { stage, ref } = await dueStage(deps, item);
  // Counted first: a re-drive that crashes the reconciler still counts toward the limit.
  if (!(await deps.files.noteRedrive(item.key, item.versionId, item.state, now))) return null;
  return redrive(deps, stage, ref, { key: item.key, versionId: item.versionId }, redrives + 1, now);
}

/** Re-drives validate for a landed version that has no file-state item (its validate died first). */
export function redriveUnrecorded(deps: StuckFileDeps, ref: ObjectRef, now = new Date()): Promise<FileRepair> {
  return redrive(deps, 'validate', ref, { key: ref.key, versionId: versionTag(ref.versionId) }, 1, now);
}

/** Invokes a stage's own function, asynchronously, with the S3 event of the object it is due to read. */
async function redrive(
  deps: StuckFileDeps,
  stage: Stage,
  ref: StageInput,
  landed: { key: string; versionId: string },
  attempt: number,
  now: Date,
): Promise<FileRepair> {
  await deps.lambda.send(
    new InvokeCommand({ FunctionName: deps.functionNames[stage], InvocationType: 'Event', Payload: Buffer.from(JSON.stringify(s3EventFor(ref, now))) }),
  );
  return { kind: 'redrive', stage, ...landed, attempt, object: `s3://${ref.bucket}/${ref.key}${ref.versionId ? `?versionId=${ref.versionId}` : ''}` };
}
