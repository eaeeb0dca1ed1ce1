import { GetObjectCommand, NoSuchKey } from '@aws-sdk/client-s3';
import { paginateQuery } from '@aws-sdk/lib-dynamodb';
import type { Pipeline } from '../../shared/core/config/load-config';
import { batchId as batchIdOf, batchesForFile } from '../../shared/core/runs/batches';
import type { RunItem } from '../../shared/core/runs/job-run-store';
import { landingRelativeKey, rejectsKey } from '../../shared/core/s3/layout';
import { fileKey, type FileStateItem } from '../../shared/core/state/file-state-store';
import type { Target } from '../targets';

/** What the file view shows of a key: every recorded version, newest first, and which one is newest by S3's order. */
export interface FileHistory {
  key: string;
  versions: FileStateItem[];
  latestVersionId?: string;
}

/**
 * Every recorded version of a key: one Query on its partition (pk FILE#<key>, sk V#…). The
 * file-state store has no method for it yet (docs/console.md), so the console asks the table.
 */
export async function fileHistory(where: Pick<Target, 'documents' | 'names' | 'files'>, key: string): Promise<FileHistory> {
  const versions: FileStateItem[] = [];
  const pages = paginateQuery(
    { client: where.documents },
    {
      TableName: where.names.fileStateTable,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :v)',
      ExpressionAttributeValues: { ':pk': fileKey(key), ':v': 'V#' },
      ConsistentRead: true,
    },
  );
  for await (const page of pages) versions.push(...((page.Items ?? []) as FileStateItem[]));
  versions.sort((a, b) => b.sequencer.padStart(40, '0').localeCompare(a.sequencer.padStart(40, '0')));
  const latest = await where.files.latestVersionOf(key);
  return { key, versions, ...(latest ? { latestVersionId: latest.versionId } : {}) };
}

export const REJECTS_PREVIEW_LINES = 50;
const PREVIEW_BYTES = 64 * 1024;

/** The first lines of a version's rejects report (line, reason, text), or undefined when it has none. */
export async function rejectsPreview(
  where: Pick<Target, 's3' | 'names'>,
  item: Pick<FileStateItem, 'key' | 'versionId'>,
): Promise<{ key: string; lines: string[] } | undefined> {
  const relative = landingRelativeKey(item.key);
  if (relative === null) return undefined;
  const key = rejectsKey(relative, item.versionId);
  try {
    const out = await where.s3.send(new GetObjectCommand({ Bucket: where.names.rawBucket, Key: key, Range: `bytes=0-${PREVIEW_BYTES - 1}` }));
    const text = (await out.Body?.transformToString('utf8')) ?? '';
    return {
      key,
      lines: text
        .split('\n')
        .filter((l, i, all) => l !== '' || i < all.length - 1)
        .slice(0, REJECTS_PREVIEW_LINES),
    };
  } catch (err) {
    if (err instanceof NoSuchKey || (err as Error).name === 'NoSuchKey' || (err as Error).name === 'InvalidRange') return undefined;
    throw err;
  }
}

/**
 * The runs that read a version: its dataset and key fields name the batches it can belong to
 * (batchesForFile), and each batch's runs are one Query; a run read it when its inputs name it.
 */
export async function runsReading(
  where: Pick<Target, 'runs'>,
  pipeline: Pipeline,
  item: Pick<FileStateItem, 'key' | 'versionId' | 'dataset' | 'fields'>,
): Promise<RunItem[]> {
  if (!item.dataset || !item.fields) return [];
  const batches = batchesForFile(pipeline, item.dataset, item.fields);
  const runs = await Promise.all(
    batches.map((b) => {
      const job = pipeline.jobsByName.get(b.job);
      return job ? where.runs.runsOf(batchIdOf(b, job)) : Promise.resolve([]);
    }),
  );
  return runs.flat().filter((r) => Object.values(r.inputs).some((files) => files.some((f) => f.key === item.key && f.versionId === item.versionId)));
}
