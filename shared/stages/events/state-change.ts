import type { DynamoDBRecord } from 'aws-lambda';
import type { Pipeline } from '../../core/config/load-config';
import { attemptOf, batchesForFile } from '../../core/runs/batches';
import type { BatchItem, RunItem } from '../../core/runs/job-run-store';
import type { FileStateItem } from '../../core/state/file-state-store';

/** EventBridge `source` of every landfall event (a rule matches `{"source": ["landfall"]}`). */
export const EVENT_SOURCE = 'landfall';

export const DETAIL_TYPES = {
  file: 'File state changed',
  run: 'Run state changed',
  batch: 'Batch state changed',
} as const;

/** A long reason or error is cut to this many characters (an event's entry is at most 256 KB). */
export const MAX_TEXT_CHARS = 2_000;
/** At most this many batches are named on a file's event (a master file may feed many). */
export const MAX_BATCHES = 50;

interface Change {
  stage: string;
  state: string;
  /** null when the item is new (the first state it was written with) */
  previousState: string | null;
  /** when the item entered its state (ISO) */
  at: string;
  /**
   * The stream record's id: a stream retry delivers the same record with the same id, so a consumer
   * drops duplicates with it (events are at least once).
   */
  eventId: string;
}

/** A landed file version moved to another state (RECEIVED … CONVERTED, or held out). */
export interface FileStateChange extends Change {
  kind: 'file';
  key: string;
  versionId: string;
  /** `<key>@<versionId>`, as the CLI and the console name a version */
  object: string;
  dataset: string | null;
  fields: Record<string, string>;
  reason?: string;
  /** the last error a stage or the reconciler noted on it */
  error?: string;
  rows?: FileStateItem['rows'];
  /** the jobs' batches this file belongs to (job and the batch's values) */
  batches: Array<{ job: string; batch: Record<string, string> }>;
  /** more batches than MAX_BATCHES: the list is cut */
  batchesTruncated?: true;
}

/** A job run moved to another status (CLAIMED, RUNNING, SUCCEEDED, FAILED, CHECK_FAILED, RELEASED). */
export interface RunStateChange extends Change {
  kind: 'run';
  job: string;
  batch: Record<string, string>;
  batchId: string;
  executionName: string;
  executionArn?: string;
  engine?: string;
  /** 1 for a batch's generation's first run, 2 for its first retry… */
  attempt: number;
  error?: { error: string; cause: string };
}

/** A batch moved to another status (WAITING, RUNNING, SUCCEEDED, FAILED, CHECK_FAILED). */
export interface BatchStateChange extends Change {
  kind: 'batch';
  job: string;
  batch: Record<string, string>;
  batchId: string;
  waitingFor: string[];
  lastRun?: { executionName: string; status: string; error?: string };
}

export type StateChange = FileStateChange | RunStateChange | BatchStateChange;

export interface ClassifyContext {
  /** the deployment's stage (every event names it) */
  stage: string;
  /** the pipeline: a file's batches */
  pipeline: Pipeline;
}

/** A value of a stream image (DynamoDB JSON); an attribute value of no known type is undefined. */
function attributeValue(attribute: unknown): unknown {
  if (!attribute || typeof attribute !== 'object') return undefined;
  const v = attribute as Record<string, unknown>;
  if (typeof v.S === 'string') return v.S;
  if (typeof v.N === 'string') return Number(v.N);
  if (typeof v.BOOL === 'boolean') return v.BOOL;
  if (v.NULL === true) return null;
  if (Array.isArray(v.L)) return v.L.map(attributeValue);
  if (v.M && typeof v.M === 'object') return imageOf(v.M);
  if (Array.isArray(v.SS)) return v.SS;
  if (Array.isArray(v.NS)) return v.NS.map(Number);
  return undefined;
}

/**
 * A stream image as an item. Read leniently (unmarshall refuses a whole image for one attribute
 * value it does not know, as some stream readers deliver an empty one): a state change must not be
 * missed, nor its previous state taken for none, for an attribute the events never read.
 */
function imageOf(image: unknown): Record<string, unknown> | null {
  if (!image || typeof image !== 'object' || Array.isArray(image)) return null;
  const item: Record<string, unknown> = {};
  for (const [name, attribute] of Object.entries(image)) {
    const value = attributeValue(attribute);
    if (value !== undefined) item[name] = value;
  }
  return item;
}

const cut = (text: string | undefined): string | undefined =>
  text === undefined || text.length <= MAX_TEXT_CHARS ? text : `${text.slice(0, MAX_TEXT_CHARS - 1)}…`;

/** The field that holds an item's state, by its keys; none for the tables' bookkeeping items. */
function kindOf(item: Record<string, unknown>): StateChange['kind'] | null {
  const pk = typeof item.pk === 'string' ? item.pk : '';
  const sk = typeof item.sk === 'string' ? item.sk : '';
  // FILE#<key> LATEST pointers, SCHEMA# items, ACTION# records, FAILOVER, RECONCILER and cell claims are not states
  if (pk.startsWith('FILE#') && sk.startsWith('V#')) return 'file';
  if (pk.startsWith('BATCH#') && sk.startsWith('RUN#')) return 'run';
  if (pk.startsWith('BATCH#') && sk === 'BATCH') return 'batch';
  return null;
}

const stateField = { file: 'state', run: 'status', batch: 'status' } as const;

/**
 * The state change a stream record of the file-state or the job-runs table is, if any: an item that
 * was written with another state than it had (or a new item with one). Everything else is none: a
 * write that changed only its history or counts, a removal (TTL), and the items that are no state
 * (LATEST pointers, schema signatures, action records, failovers, the reconciler's watermark).
 */
export function stateChangeOf(record: DynamoDBRecord, context: ClassifyContext): StateChange | null {
  if (record.eventName !== 'INSERT' && record.eventName !== 'MODIFY') return null;
  const item = imageOf(record.dynamodb?.NewImage);
  if (!item) return null;
  const kind = kindOf(item);
  if (!kind) return null;
  const state = item[stateField[kind]];
  if (typeof state !== 'string' || state === '') return null;
  const old = record.eventName === 'MODIFY' ? imageOf(record.dynamodb?.OldImage) : null;
  const previous = old?.[stateField[kind]];
  const previousState = typeof previous === 'string' ? previous : null;
  if (previousState === state) return null;
  const common = { stage: context.stage, state, previousState, eventId: record.eventID ?? record.dynamodb?.SequenceNumber ?? '' };
  switch (kind) {
    case 'file':
      return fileChange(item as unknown as FileStateItem, common, context.pipeline);
    case 'run':
      return runChange(item as unknown as RunItem, common);
    case 'batch':
      return batchChange(item as unknown as BatchItem, common);
  }
}

type Common = Omit<Change, 'at'>;

function fileChange(item: FileStateItem, common: Common, pipeline: Pipeline): FileStateChange {
  const entered = [...(item.history ?? [])].reverse().find((h) => h.state === item.state);
  const fields = item.fields ?? {};
  const all = item.dataset ? batchesForFile(pipeline, item.dataset, fields) : [];
  const reason = cut(item.reason);
  const error = cut(item.lastError);
  return {
    kind: 'file',
    ...common,
    at: entered?.at ?? item.updatedAt,
    key: item.key,
    versionId: item.versionId,
    object: `${item.key}@${item.versionId}`,
    dataset: item.dataset ?? null,
    fields,
    ...(reason !== undefined ? { reason } : {}),
    ...(error !== undefined ? { error } : {}),
    ...(item.rows ? { rows: item.rows } : {}),
    batches: all.slice(0, MAX_BATCHES).map((b) => ({ job: b.job, batch: b.values })),
    ...(all.length > MAX_BATCHES ? { batchesTruncated: true as const } : {}),
  };
}

function runChange(item: RunItem, common: Common): RunStateChange {
  return {
    kind: 'run',
    ...common,
    at: item.finishedAt ?? item.startedAt ?? item.claimedAt,
    job: item.job,
    batch: item.values ?? {},
    batchId: item.batchId,
    executionName: item.executionName,
    ...(item.executionArn ? { executionArn: item.executionArn } : {}),
    ...(item.engine ? { engine: item.engine } : {}),
    attempt: attemptOf(item.executionName),
    ...(item.error ? { error: { error: cut(item.error.error) ?? '', cause: cut(item.error.cause) ?? '' } } : {}),
  };
}

function batchChange(item: BatchItem, common: Common): BatchStateChange {
  const last = item.lastRun;
  const lastError = cut(last?.error);
  return {
    kind: 'batch',
    ...common,
    at: item.updatedAt,
    job: item.job,
    batch: item.values ?? {},
    batchId: item.batchId,
    waitingFor: item.waitingFor ?? [],
    ...(last ? { lastRun: { executionName: last.executionName, status: last.status, ...(lastError !== undefined ? { error: lastError } : {}) } } : {}),
  };
}
