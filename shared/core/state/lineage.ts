import { decodeMetadata, encodeMetadata } from '../s3/object-io';
import { NotLandfallOutputError, type SourceVersion } from './file-state';

/**
 * Every derived object (the verdict, Parquet) carries the landed version it came from in its S3
 * user metadata, so the next stage and track know which file-state item it belongs to.
 */
export interface Lineage {
  source: SourceVersion;
  dataset: string;
  fields: Record<string, string>;
  /** the file's business date (its dataset's dateField): the day index it is found under */
  date?: string;
  rows?: number;
}

export function lineageMetadata(lineage: Lineage): Record<string, string> {
  const { source } = lineage;
  return encodeMetadata({
    'source-bucket': source.bucket,
    'source-key': source.key,
    'source-version-id': source.versionId,
    'source-etag': source.eTag,
    'source-size': source.size,
    'source-sequencer': source.sequencer,
    'source-event-time': source.eventTime,
    dataset: lineage.dataset,
    fields: JSON.stringify(lineage.fields),
    date: lineage.date,
    rows: lineage.rows,
  });
}

export function parseLineage(metadata: Record<string, string>): Lineage {
  const m = decodeMetadata(metadata);
  const required = ['source-bucket', 'source-key', 'dataset', 'fields'];
  const missing = required.filter((k) => m[k] === undefined);
  if (missing.length > 0) throw new NotLandfallOutputError(`object has no landfall lineage metadata (missing ${missing.join(', ')})`);
  const source: SourceVersion = {
    bucket: m['source-bucket']!,
    key: m['source-key']!,
    eTag: m['source-etag'] ?? '',
    size: Number(m['source-size'] ?? 0),
    sequencer: m['source-sequencer'] ?? '',
    eventTime: m['source-event-time'] ?? '',
  };
  if (m['source-version-id']) source.versionId = m['source-version-id'];
  const lineage: Lineage = { source, dataset: m.dataset!, fields: JSON.parse(m.fields!) as Record<string, string> };
  if (m.rows !== undefined) lineage.rows = Number(m.rows);
  if (m.date !== undefined) lineage.date = m.date;
  return lineage;
}
