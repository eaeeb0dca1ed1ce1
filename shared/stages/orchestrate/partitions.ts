import type { S3Client } from '@aws-sdk/client-s3';
import type { JobConfig } from '../../core/config/types';
import { curatedKey } from '../../core/s3/layout';
import { headObject } from '../../core/s3/object-io';
import type { FileStateStore } from '../../core/state/file-state-store';
import type { RunInput } from '../../core/runs/run-input';

export interface PartitionDeps {
  s3: S3Client;
  files: FileStateStore;
  lakeBucket: string;
}

/**
 * Records the partition a successful run wrote as a CONVERTED version in the file-state table,
 * tracked under the job's name like a landed file of a dataset: its stream record resolves the
 * downstream batches it may complete (no polling), and the object version joins their
 * fingerprint, so a re-run upstream re-runs them once. Idempotent: a version is recorded once.
 */
export async function recordPartition(
  run: Pick<RunInput, 'values' | 'executionName'>,
  job: JobConfig,
  deps: PartitionDeps,
  now = new Date(),
): Promise<{ key: string; versionId?: string }> {
  const key = curatedKey(job, run.values);
  const head = await headObject(deps.s3, deps.lakeBucket, key);
  const rows = head.metadata['landfall-rows'];
  // orders versions of the partition like an S3 sequencer (a later run records a larger one)
  const sequencer = now.getTime().toString(16).padStart(16, '0');
  const source = {
    bucket: deps.lakeBucket,
    key,
    ...(head.versionId ? { versionId: head.versionId } : {}),
    eTag: head.eTag,
    size: head.size,
    sequencer,
    eventTime: now.toISOString(),
  };
  await deps.files.recordTransition(
    source,
    'CONVERTED',
    {
      dataset: job.name,
      fields: run.values,
      date: run.values[job.dateField]!,
      ...(head.versionId ? { processedVersionId: head.versionId } : {}),
      ...(rows !== undefined && /^\d+$/.test(rows) ? { parquetRows: Number(rows) } : {}),
      reason: `written by ${run.executionName}`,
      outputs: { processed: key },
    },
    now,
  );
  return { key, ...(head.versionId ? { versionId: head.versionId } : {}) };
}
