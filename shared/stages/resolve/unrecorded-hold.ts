import type { S3Client } from '@aws-sdk/client-s3';
import type { DatasetConfig, JobConfig } from '../../core/config/types';
import type { BatchRef } from '../../core/runs/batches';
import { latestVersionsUnder, type LatestVersion } from '../../core/s3/landed-versions';
import { IN_FLIGHT_STATES, isTerminal, type FileState } from '../../core/state/file-state';
import type { FileStateStore } from '../../core/state/file-state-store';
import { boundedListing } from './bounded-listing';
import type { CandidateFile } from './evaluate';

/*
 * A landed object is invisible to the resolver until validate records it (RECEIVED). Where a
 * dataset's layout gives a bounded listing (bounded-listing.ts), the batch's objects are listed
 * before it is claimed, and one whose newest version the file-state table does not know holds the
 * batch back: it is being validated, or validate crashed before RECEIVED, or its event is late.
 */

/**
 * How long an object validate has not recorded holds its batch, from its landing (S3's
 * LastModified). Lambda keeps an async event for the function's maximum event age (serverless.yml
 * sets none for validate: Lambda's default, 6 hours) while it retries a crash (twice, about 1 and 2
 * minutes apart) or waits out throttling; a failure then goes to the failed-events queue, which
 * the reconciler drains every 10 minutes and re-drives validate with (one run: at most 15 minutes).
 * Past all of that the event is lost for good: the object no longer holds the batch, which runs
 * without it (the settle window is then all that covers it), and `landfall-replay` lands it again.
 */
export const VALIDATE_MAX_EVENT_AGE_MS = 6 * 3_600_000;
export const RECONCILE_PERIOD_MS = 10 * 60_000;
export const VALIDATE_TIMEOUT_MS = 15 * 60_000;
export const UNRECORDED_HOLD_MS = VALIDATE_MAX_EVENT_AGE_MS + RECONCILE_PERIOD_MS + VALIDATE_TIMEOUT_MS;

/** A batch's listed object of one input: a file of the dataset, or an archive its files come from. */
export interface ListedObject extends LatestVersion {
  relation: string;
  kind: 'file' | 'archive';
}

/** What the file-state table says of a listed version: its state if recorded, its key's newest recorded version. */
export interface RecordedVersion {
  state?: FileState;
  latest?: { versionId: string; eTag: string };
}

/** The states in which a file is, or is about to be, among a batch's inputs (the others never are). */
const USABLE_OR_IN_FLIGHT: readonly FileState[] = [...IN_FLIGHT_STATES, 'CONVERTED'];

const versionKey = (o: { key: string; versionId: string }) => `${o.key}#${o.versionId}`;

/** Why one listed object holds its batch, or null. Pure. */
export function holdReason(object: ListedObject, indexed: boolean, recorded: RecordedVersion, now: Date, holdMs = UNRECORDED_HOLD_MS): string | null {
  const landed = object.lastModified.getTime();
  if (now.getTime() - landed >= holdMs) return null;
  const what = `${object.relation}: ${object.kind === 'archive' ? 'archive ' : ''}${object.key} (version ${object.versionId})`;
  if (object.kind === 'archive') {
    if (recorded.state) return isTerminal(recorded.state) ? null : `${what} is still being unpacked (${recorded.state})`;
  } else {
    if (indexed) return null; // the evaluation saw it (and waits for it while it is in flight)
    // recorded, not yet in the day's index: held while it may become an input
    if (recorded.state) return USABLE_OR_IN_FLIGHT.includes(recorded.state) ? `${what} is recorded ${recorded.state} but not yet indexed` : null;
  }
  // never recorded: identical bytes re-landed over the key's newest version are that version again
  if (recorded.latest && recorded.latest.eTag === object.eTag) return null;
  const until = new Date(landed + holdMs).toISOString();
  return `${what} landed at ${object.lastModified.toISOString()} is not yet recorded by validate (it holds the batch until ${until} at the latest)`;
}

/** Reasons shown in full at most; the rest are counted. */
const SHOWN = 5;

export interface HoldDeps {
  s3: S3Client;
  /** the raw bucket */
  bucket: string;
  files: Pick<FileStateStore, 'recordedOf'>;
  datasets: Pick<DatasetConfig, 'name' | 'keyPattern' | 'dateField'>[];
}

export interface Hold {
  /** why the batch is held (empty: it is not) */
  waitingFor: string[];
  /** bounded listings cut at their limit: the keys past it were not looked at */
  unchecked: string[];
}

/**
 * Lists each dataset input's bounded prefix for the batch and holds the batch back while an
 * object of it has a newest version the file-state table has not recorded (within
 * UNRECORDED_HOLD_MS of its landing). Inputs whose layout gives no bounded listing, and inputs
 * read from other jobs, are not listed: the settle window covers them.
 */
export async function unrecordedHold(deps: HoldDeps, job: JobConfig, batch: BatchRef, candidates: CandidateFile[], now: Date): Promise<Hold> {
  const listed: ListedObject[] = [];
  const unchecked: string[] = [];
  for (const input of job.inputs) {
    const dataset = input.dataset ? deps.datasets.find((d) => d.name === input.dataset) : undefined;
    const listing = dataset ? boundedListing(dataset, input, batch.values) : null;
    if (!listing) continue;
    const { versions, complete } = await latestVersionsUnder(deps.s3, deps.bucket, listing.prefix);
    if (!complete)
      unchecked.push(
        `${input.relation}: s3://${deps.bucket}/${listing.prefix} holds more object versions than one check lists; the keys past ${versions.at(-1)?.key ?? 'its start'} were not checked`,
      );
    for (const v of versions) {
      const kind = listing.kindOf(v.key);
      if (kind) listed.push({ ...v, relation: input.relation, kind });
    }
  }
  const indexed = new Set(candidates.map(versionKey));
  const toAsk = listed.filter((o) => o.kind === 'archive' || !indexed.has(versionKey(o)));
  const recorded = toAsk.length > 0 ? await deps.files.recordedOf(toAsk) : new Map<string, RecordedVersion>();
  const reasons = listed.map((o) => holdReason(o, indexed.has(versionKey(o)), recorded.get(versionKey(o)) ?? {}, now)).filter((r): r is string => r !== null);
  const waitingFor = reasons.length > SHOWN ? [...reasons.slice(0, SHOWN), `… and ${reasons.length - SHOWN} more object(s) not yet recorded`] : reasons;
  return { waitingFor, unchecked };
}
