import type { S3Client } from '@aws-sdk/client-s3';
import type { ObjectRef } from '../../core/s3/event-records';
import { PREFIX, REPORT_SUFFIX } from '../../core/s3/layout';
import { headObject, readObjectText } from '../../core/s3/object-io';
import { NotLandfallOutputError, parseFileReport, type FileState } from '../../core/state/file-state';
import type { FileStateStore } from '../../core/state/file-state-store';
import { parseLineage } from '../../core/state/lineage';

export interface TrackDeps {
  s3: S3Client;
  store: FileStateStore;
  rawBucket: string;
  lakeBucket: string;
}

export type TrackResult =
  | { kind: 'recorded'; key: string; state: FileState; outcome: 'applied' | 'history-only' | 'already-recorded' }
  | { kind: 'ignored'; reason: string };

/**
 * track, for one output object: a validation report (raw reports/) or a Parquet file (lake
 * processed/) becomes a state transition of the landed version it came from.
 */
export async function trackObject(ref: ObjectRef, deps: TrackDeps): Promise<TrackResult> {
  try {
    return await recordOutput(ref, deps);
  } catch (err) {
    // A foreign object under these prefixes cannot be fixed by a retry: log it and move on.
    if (err instanceof NotLandfallOutputError) return { kind: 'ignored', reason: `s3://${ref.bucket}/${ref.key}: ${err.message}` };
    throw err;
  }
}

async function recordOutput(ref: ObjectRef, deps: TrackDeps): Promise<TrackResult> {
  if (ref.bucket === deps.rawBucket && ref.key.startsWith(PREFIX.reports) && ref.key.endsWith(REPORT_SUFFIX)) {
    const report = parseFileReport(await readObjectText(deps.s3, ref.bucket, ref.key, ref.versionId));
    const outcome = await deps.store.recordTransition(report.source, report.state, {
      dataset: report.dataset,
      fields: report.fields,
      ...(report.date ? { date: report.date } : {}),
      ...(report.reason ? { reason: report.reason } : {}),
      ...(report.rows ? { rows: report.rows } : {}),
      ...(report.manifest ? { manifest: JSON.stringify(report.manifest) } : {}),
      ...(report.archive ? { archive: report.archive } : {}),
      ...(report.validatedVersionId ? { validatedVersionId: report.validatedVersionId } : {}),
      outputs: { ...report.outputs, report: ref.key },
    });
    return { kind: 'recorded', key: report.source.key, state: report.state, outcome };
  }
  if (ref.bucket === deps.lakeBucket && ref.key.startsWith(PREFIX.processed)) {
    const lineage = parseLineage((await headObject(deps.s3, ref.bucket, ref.key, ref.versionId)).metadata);
    const outcome = await deps.store.recordTransition(lineage.source, 'CONVERTED', {
      dataset: lineage.dataset,
      fields: lineage.fields,
      ...(lineage.date ? { date: lineage.date } : {}),
      ...(lineage.rows !== undefined ? { parquetRows: lineage.rows } : {}),
      ...(ref.versionId ? { processedVersionId: ref.versionId } : {}),
      outputs: { processed: ref.key },
    });
    return { kind: 'recorded', key: lineage.source.key, state: 'CONVERTED', outcome };
  }
  return { kind: 'ignored', reason: `s3://${ref.bucket}/${ref.key} is neither a report nor a processed file` };
}
