import type { DatasetConfig } from '../config/types';
import { versionTag } from './event-records';

/**
 * Where each stage reads and writes. Every stage fires on its own prefix and writes under another,
 * so no function is triggered by its own output (serverless.yml uses the same prefixes).
 */
export const PREFIX = {
  /** raw bucket: files as they land; immutable, the system of record for replay */
  landing: 'landing/',
  /** raw bucket: the verdict of a validated file (JSON); triggers convert */
  validated: 'validated/',
  /** raw bucket: per-row rejects reports (line, reason, text) */
  rejected: 'rejected/',
  /** raw bucket: one JSON report per landed object version; triggers track */
  reports: 'reports/',
  /** lake bucket: Parquet per file, Hive-partitioned; triggers track */
  processed: 'processed/',
  /** lake bucket: each job's output, one partition per batch */
  curated: 'curated/',
} as const;

/**
 * `curated/<table>/<field>=<value>/…/data.parquet`: one object per batch partition, whichever engine
 * wrote it (DuckDB in Lambda or Spark on EMR), so a batch may switch engine between runs.
 */
export function curatedKey(job: { output: { table: string; partitionBy: string[] } }, values: Record<string, string>): string {
  return `${curatedPartition(job.output.table, job.output.partitionBy, values)}data.parquet`;
}

/** `curated/<table path>/<field>=<value>/…/`: a batch's partition folder (a Spark table's part files are in it). */
export function curatedPartition(tablePath: string, partitionBy: string[], values: Record<string, string>): string {
  const partitions = partitionBy.map((p) => `${p}=${encodeURIComponent(values[p] ?? '')}`);
  return `${PREFIX.curated}${[tablePath, ...partitions].join('/')}/`;
}

export const REPORT_SUFFIX = '.json';

/** Between an archive's key and a member's path in the key a member lands under: `partner/acme.zip!/orders.csv`. */
export const ARCHIVE_MEMBER_SEPARATOR = '!/';

/** User metadata on a landed object that forces identical bytes to be processed again (a replay). */
export const REPLAY_METADATA = 'landfall-replay';

/** The key relative to `landing/` (what dataset patterns match), or null for a key outside it. */
export function landingRelativeKey(key: string): string | null {
  return key.startsWith(PREFIX.landing) ? key.slice(PREFIX.landing.length) : null;
}

export function validatedKey(relativeKey: string): string {
  return `${PREFIX.validated}${relativeKey}`;
}

export function landingKeyOfValidated(key: string): string {
  return `${PREFIX.landing}${key.slice(PREFIX.validated.length)}`;
}

export function rejectsKey(relativeKey: string, versionId: string | undefined): string {
  return `${PREFIX.rejected}${relativeKey}@${versionTag(versionId)}.rejects.csv`;
}

export function reportKey(relativeKey: string, versionId: string | undefined): string {
  return `${PREFIX.reports}${relativeKey}@${versionTag(versionId)}${REPORT_SUFFIX}`;
}

/** The landed key and version a report key names (reportKey's inverse), or null for another key. */
export function landedVersionOfReport(key: string): { key: string; versionId: string } | null {
  if (!key.startsWith(PREFIX.reports) || !key.endsWith(REPORT_SUFFIX)) return null;
  const name = key.slice(PREFIX.reports.length, -REPORT_SUFFIX.length);
  const at = name.lastIndexOf('@');
  return at < 0 ? null : { key: `${PREFIX.landing}${name.slice(0, at)}`, versionId: name.slice(at + 1) };
}

/** Hive-style path segment; `/` and `=` inside values are escaped so the path stays parseable. */
function partitionSegment(name: string, value: string): string {
  return `${name}=${encodeURIComponent(value)}`;
}

/** `processed/<dataset>/dt=<date>/<partition>=<value>/…/<file name without extension>.parquet` */
export function processedKey(dataset: string, date: string, partitions: Array<[string, string]>, relativeKey: string): string {
  const base = relativeKey.slice(relativeKey.lastIndexOf('/') + 1).replace(/\.[^.]*$/, '');
  const parts = [dataset, partitionSegment('dt', date), ...partitions.map(([n, v]) => partitionSegment(n, v))];
  return `${PREFIX.processed}${parts.join('/')}/${base}.parquet`;
}

/** The Parquet key convert writes for a landed file of `dataset` (deterministic per landed key). */
export function processedKeyOf(dataset: Pick<DatasetConfig, 'name' | 'dateField' | 'partitionBy'>, fields: Record<string, string>, landingKey: string): string {
  const relative = landingRelativeKey(landingKey) ?? landingKey;
  return processedKey(
    dataset.name,
    fields[dataset.dateField]!,
    dataset.partitionBy.map((p): [string, string] => [p, fields[p]!]),
    relative,
  );
}
