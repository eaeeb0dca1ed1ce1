import type { ObjectRef } from '../s3/event-records';
import { LandfallError } from '../errors';

/** Where an archive member came from: the archive's key and version, and the member's name in it. */
export interface ArchiveOrigin {
  key: string;
  versionId: string;
  member: string;
}

/** What validation counted in a file (kept on its state item). */
export interface RowCounts {
  /** data lines read (header, junk and blank lines excluded) */
  in: number;
  /** rows written to the validated output */
  out: number;
  /** rows written to the rejects report */
  rejected: number;
  /** lines dropped because they start with the dataset's junk prefix */
  junk: number;
  /** good rows with a value cut to its column's byte limit (`onTooLong: truncate`); absent when none */
  truncated?: number;
}

/**
 * A landed object version moves RECEIVED → VALIDATED → CONVERTED, or ends REJECTED (bad file),
 * UNRECOGNISED (key matches no dataset), SUPERSEDED (a newer version of the key landed first),
 * QUARANTINED (valid, but held out of use: e.g. a cumulative file with fewer rows than an earlier
 * one of the same member) or FAILED (a stage kept failing on it; the reconciler gave up re-driving).
 * A zip archive ends UNPACKED: its members were put as landed files of their own (`<key>!/<member>`).
 */
export const FILE_STATES = ['RECEIVED', 'VALIDATED', 'CONVERTED', 'REJECTED', 'UNRECOGNISED', 'UNPACKED', 'SUPERSEDED', 'QUARANTINED', 'FAILED'] as const;
export type FileState = (typeof FILE_STATES)[number];

/**
 * Events may arrive out of order: a state only replaces one of a lower rank. The verdicts taken
 * after conversion (superseded, quarantined, failed) outrank CONVERTED, so a late CONVERTED never
 * brings a file held out of use back into use.
 */
export const STATE_RANK: Record<FileState, number> = {
  RECEIVED: 0,
  VALIDATED: 1,
  REJECTED: 1,
  UNRECOGNISED: 1,
  UNPACKED: 1,
  CONVERTED: 2,
  SUPERSEDED: 3,
  QUARANTINED: 3,
  FAILED: 3,
};

/** A file in one of these states is still on its way: a batch it may belong to waits for it. */
export const IN_FLIGHT_STATES: readonly FileState[] = ['RECEIVED', 'VALIDATED'];

export const isTerminal = (state: FileState) => !IN_FLIGHT_STATES.includes(state);

export type ReportedState = Extract<FileState, 'VALIDATED' | 'REJECTED' | 'UNRECOGNISED' | 'UNPACKED' | 'SUPERSEDED'>;

/** The landed object version a state is about: the object named by the landing event. */
export type SourceVersion = ObjectRef;

/** validate's verdict on one landed object version, written as JSON under `reports/` for track. */
export interface FileReport {
  source: SourceVersion;
  dataset: string | null;
  /** values captured from the key (province, store, date, time …) */
  fields: Record<string, string>;
  /** the business date (the dataset's dateField) */
  date?: string;
  state: ReportedState;
  reason?: string;
  rows?: RowCounts;
  /** a manifest dataset's file: the parts it lists, or their count */
  manifest?: { parts: string[] } | { count: number };
  /** header columns the dataset does not declare (schemaPolicy additive: ignored) */
  extraColumns?: string[];
  /** a zip archive's member: the archive version it was unpacked from, and its name there */
  archive?: ArchiveOrigin;
  outputs: { validated?: string; rejects?: string };
  /** the S3 version of the verdict (the raw bucket is versioned): what a re-driven convert reads */
  validatedVersionId?: string;
  at: string;
}

export interface HistoryEntry {
  state: FileState;
  at: string;
  reason?: string;
}

/** Attributes a transition may set on the file-state item. */
export interface TransitionDetails {
  dataset?: string | null;
  fields?: Record<string, string>;
  reason?: string;
  rows?: RowCounts;
  /** a manifest file's summary as JSON (see FileStateItem.manifest) */
  manifest?: string;
  /** the file's business date: with `dataset`, the day index (gsi1) it is found under */
  date?: string;
  outputs?: Record<string, string>;
  parquetRows?: number;
  /** the S3 version of the Parquet file (a job run records exactly what it read) */
  processedVersionId?: string;
  validatedVersionId?: string;
  /** an archive member's origin */
  archive?: ArchiveOrigin;
}

/** An object under reports/ or processed/ that landfall did not write (or that lost its metadata). */
export class NotLandfallOutputError extends LandfallError {
  override readonly name = 'NotLandfallOutputError';
  readonly code = 'NOT_LANDFALL_OUTPUT';
}

export function parseFileReport(text: string): FileReport {
  let report: FileReport;
  try {
    report = JSON.parse(text) as FileReport;
  } catch {
    throw new NotLandfallOutputError('not a landfall file report: not JSON');
  }
  if (!report?.source?.key || !report.source.bucket || !FILE_STATES.includes(report.state)) {
    throw new NotLandfallOutputError('not a landfall file report (source.key, source.bucket and state are required)');
  }
  return report;
}
