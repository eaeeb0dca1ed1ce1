import type { S3Event, S3EventRecord } from 'aws-lambda';
import { MalformedEventError } from '../errors';

/** One object version named by an S3 event record, with its key decoded. */
export interface ObjectRef {
  bucket: string;
  key: string;
  /** Absent for buckets without versioning. */
  versionId?: string;
  eTag: string;
  size: number;
  /** Orders events for the same key (hex, compare after left-padding). */
  sequencer: string;
  eventTime: string;
}

/** S3 sends keys URL-encoded with `+` for spaces; decode exactly once. */
export function decodeS3Key(encoded: string): string {
  return decodeURIComponent(encoded.replace(/\+/g, ' '));
}

export function objectRefFromRecord(record: S3EventRecord): ObjectRef {
  const s3 = record?.s3;
  if (!s3?.bucket?.name || typeof s3.object?.key !== 'string') {
    throw new MalformedEventError('S3 event record without s3.bucket.name / s3.object.key');
  }
  const ref: ObjectRef = {
    bucket: s3.bucket.name,
    key: decodeS3Key(s3.object.key),
    eTag: (s3.object.eTag ?? '').replace(/"/g, ''),
    size: s3.object.size ?? 0,
    sequencer: s3.object.sequencer ?? '',
    eventTime: record.eventTime,
  };
  if (s3.object.versionId) ref.versionId = s3.object.versionId;
  return ref;
}

export function objectRefs(event: S3Event): ObjectRef[] {
  if (!Array.isArray(event?.Records)) throw new MalformedEventError('event has no Records list');
  return event.Records.map(objectRefFromRecord);
}

/** The newest version of each key, by S3 sequencer (events of one key may arrive in any order). */
export function newestPerKey<T extends { key: string; sequencer: string }>(versions: T[]): T[] {
  const newest = new Map<string, T>();
  for (const v of versions) {
    const seen = newest.get(v.key);
    if (!seen || compareSequencers(seen.sequencer, v.sequencer) < 0) newest.set(v.key, v);
  }
  return [...newest.values()];
}

/** S3 reports a missing version id (an unversioned bucket) as the string "null". */
export const versionTag = (versionId: string | undefined) => versionId ?? 'null';

/** Compares two S3 sequencers of the same key: negative when `a` is older. */
export function compareSequencers(a: string, b: string): number {
  const width = Math.max(a.length, b.length);
  const pa = a.padStart(width, '0');
  const pb = b.padStart(width, '0');
  return pa < pb ? -1 : pa > pb ? 1 : 0;
}
