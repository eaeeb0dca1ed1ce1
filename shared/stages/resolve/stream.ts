import type { AttributeValue, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { jobNamed } from '../../core/config/load-config';
import { batchId, batchesForFile, type BatchRef } from '../../core/runs/batches';
import { candidateOf, resolveBatch, type ResolveOutcome, type ResolverDeps } from './resolver';
import type { CandidateFile } from './evaluate';
import type { FileStateItem } from '../../core/state/file-state-store';
import { isTerminal } from '../../core/state/file-state';

/** A stream image as an item; one that cannot be read (not landfall's) names no file. */
function imageOf(image: unknown): FileStateItem | null {
  try {
    return unmarshall(image as Record<string, AttributeValue> as never) as FileStateItem;
  } catch {
    return null;
  }
}

/**
 * A file version that just settled (CONVERTED, or held out: rejected, superseded, quarantined,
 * failed), from a file-state table stream record. Either may complete a batch that waited for it.
 */
export function settledFileOf(record: DynamoDBRecord): CandidateFile | null {
  const image = record.dynamodb?.NewImage;
  if (!image) return null;
  const item = imageOf(image);
  if (!item) return null;
  if (!item.pk?.startsWith('FILE#') || !item.sk?.startsWith('V#') || !item.state || !isTerminal(item.state)) return null;
  const old = record.dynamodb?.OldImage;
  if (old && imageOf(old)?.state === item.state) return null; // history-only update
  return candidateOf(item);
}

export interface StreamResult {
  batchItemFailures: Array<{ itemIdentifier: string }>;
  outcomes: ResolveOutcome[];
  errors: string[];
}

/**
 * A DynamoDB Stream batch: each batch that a newly settled file may complete is resolved once,
 * however many of its files the stream batch holds. Records whose batches failed are reported so
 * Lambda retries them (ReportBatchItemFailures); resolving is idempotent, so retries are safe.
 */
export async function resolveStreamBatch(deps: ResolverDeps, event: DynamoDBStreamEvent): Promise<StreamResult> {
  const work = new Map<string, { batch: BatchRef; files: CandidateFile[]; sequenceNumbers: string[] }>();
  for (const record of event.Records ?? []) {
    const file = settledFileOf(record);
    if (!file) continue;
    for (const batch of batchesForFile(deps.pipeline, file.dataset, file.fields)) {
      const job = jobNamed(deps.pipeline, batch.job);
      const id = batchId(batch, job);
      const entry = work.get(id) ?? { batch, files: [], sequenceNumbers: [] };
      entry.files.push(file);
      entry.sequenceNumbers.push(record.dynamodb!.SequenceNumber!);
      work.set(id, entry);
    }
  }
  const failed = new Set<string>();
  const outcomes: ResolveOutcome[] = [];
  const errors: string[] = [];
  for (const [id, { batch, files, sequenceNumbers }] of work) {
    try {
      outcomes.push(await resolveBatch(deps, batch, files));
    } catch (err) {
      errors.push(`${id}: ${(err as Error).name}: ${(err as Error).message}`);
      for (const n of sequenceNumbers) failed.add(n);
    }
  }
  return { batchItemFailures: [...failed].map((itemIdentifier) => ({ itemIdentifier })), outcomes, errors };
}
