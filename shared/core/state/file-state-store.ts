import { createHash } from 'node:crypto';
import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  GetCommand,
  PutCommand,
  TransactWriteCommand,
  UpdateCommand,
  paginateQuery,
  paginateScan,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { compareSequencers, versionTag } from '../s3/event-records';
import {
  STATE_RANK,
  isTerminal,
  type ArchiveOrigin,
  type RowCounts,
  type FileState,
  type HistoryEntry,
  type SourceVersion,
  type TransitionDetails,
} from './file-state';

/**
 * The file-state table, single-table layout:
 *   pk = FILE#<key>, sk = V#<versionId>   one item per landed object version (state, counts, history)
 *   pk = FILE#<key>, sk = LATEST          which version of the key is newest (by S3 sequencer)
 *   gsi1pk = DS#<dataset>#<date>          "which files of dataset D for day X?" in one Query
 */
export interface FileStateItem {
  pk: string;
  sk: string;
  bucket: string;
  key: string;
  versionId: string;
  eTag: string;
  size: number;
  sequencer: string;
  landedAt: string;
  state: FileState;
  stateRank: number;
  reason?: string;
  dataset?: string | null;
  fields?: Record<string, string>;
  rows?: RowCounts;
  /** a manifest file's parts or count, as JSON (`{"parts":[…]}` / `{"count":N}`): never an empty map or list */
  manifest?: string;
  parquetRows?: number;
  /** an archive member's origin: the archive's key and version, the member's name */
  archive?: ArchiveOrigin;
  processedKey?: string;
  processedVersionId?: string;
  outputs?: Record<string, string>;
  validatedKey?: string;
  validatedVersionId?: string;
  reportKey?: string;
  /** times the reconciler re-drove this version's due stage, and the last error seen for it */
  redrives?: number;
  lastRedriveAt?: string;
  lastError?: string;
  history: HistoryEntry[];
  createdAt: string;
  updatedAt: string;
}

/** A file version as index gsi1 projects it. */
export type IndexedFile = Pick<
  FileStateItem,
  'key' | 'versionId' | 'sequencer' | 'dataset' | 'fields' | 'state' | 'size' | 'processedKey' | 'processedVersionId' | 'rows' | 'parquetRows' | 'manifest'
>;

export type LatestClaim =
  | { kind: 'new' }
  /** identical bytes re-landed over a version that was accepted: nothing to do */
  | { kind: 'duplicate'; of: string }
  /** a newer version of the key landed before this one was processed */
  | { kind: 'superseded'; by: string };

/** Sequencers are hex of varying length; padding makes DynamoDB's string order their numeric order. */
const padSequencer = (sequencer: string) => sequencer.padStart(40, '0');

export const fileKey = (key: string) => `FILE#${key}`;
export const versionSortKey = (versionId: string | undefined) => `V#${versionTag(versionId)}`;
const LATEST = 'LATEST';

/** The landed object version an item is about (what a transition names). */
export function sourceOfItem(item: Pick<FileStateItem, 'bucket' | 'key' | 'versionId' | 'eTag' | 'size' | 'sequencer' | 'landedAt'>): SourceVersion {
  return {
    bucket: item.bucket,
    key: item.key,
    ...(item.versionId !== 'null' ? { versionId: item.versionId } : {}),
    eTag: item.eTag,
    size: item.size,
    sequencer: item.sequencer,
    eventTime: item.landedAt,
  };
}

export function isConditionFailure(err: unknown): boolean {
  return err instanceof ConditionalCheckFailedException || (err as Error)?.name === 'ConditionalCheckFailedException';
}

/** An UpdateItem whose condition may not hold: true when applied, false when the condition failed. */
export async function updateIf(db: DynamoDBDocumentClient, input: ConstructorParameters<typeof UpdateCommand>[0]): Promise<boolean> {
  try {
    await db.send(new UpdateCommand(input));
    return true;
  } catch (err) {
    if (isConditionFailure(err)) return false;
    throw err;
  }
}

/** A conditional put: false when its condition failed (the item was there). */
async function putIf(db: DynamoDBDocumentClient, input: ConstructorParameters<typeof PutCommand>[0]): Promise<boolean> {
  try {
    await db.send(new PutCommand(input));
    return true;
  } catch (err) {
    if (isConditionFailure(err)) return false;
    throw err;
  }
}

const NOT_YET_RECORDED = 'NOT contains(#seen, :stateName)';

/**
 * Index gsi2 ("work") holds every file version exactly once: under `OPEN#<shard>` while it is in
 * flight (sorted by its last update: the reconciler asks for those idle past a grace period) and
 * under `SETTLED#<hour>` once terminal (sorted by when: the reconciler re-resolves the batches of
 * files settled since its last pass, whatever their data date). Neither query grows with history.
 */
export const OPEN_SHARDS = 4;
export const openPartition = (key: string) => `OPEN#${createHash('sha256').update(key).digest()[0]! % OPEN_SHARDS}`;
export const settledPartition = (at: string) => `SETTLED#${at.slice(0, 13)}`;

/**
 * The UpdateItem of one state transition (see recordTransition): it creates the version item if
 * needed, appends to its history, and applies only if the state outranks the current one and was
 * not recorded before. `historyOnly` records the history entry alone (a later state is there).
 */
export function transitionUpdate(
  table: string,
  source: SourceVersion,
  state: FileState,
  details: TransitionDetails = {},
  now = new Date(),
  historyOnly = false,
) {
  const entry: HistoryEntry = { state, at: now.toISOString(), ...(details.reason ? { reason: details.reason } : {}) };
  // Every attribute goes through a name placeholder: several (bucket, key, size, state) are reserved words.
  const names: Record<string, string> = { '#history': 'history', '#seen': 'statesSeen' };
  const values: Record<string, unknown> = { ':entry': [entry], ':empty': [], ':stateSet': new Set([state]), ':stateName': state };
  const sets = ['#history = list_append(if_not_exists(#history, :empty), :entry)'];
  const assign = (attr: string, value: unknown, onlyIfAbsent = false) => {
    if (value === undefined) return;
    names[`#${attr}`] = attr;
    values[`:${attr}`] = value;
    sets.push(onlyIfAbsent ? `#${attr} = if_not_exists(#${attr}, :${attr})` : `#${attr} = :${attr}`);
  };
  if (!historyOnly) {
    assign('state', state);
    assign('stateRank', STATE_RANK[state]);
    const open = !isTerminal(state);
    assign('workPk', open ? openPartition(source.key) : settledPartition(entry.at));
    assign('workSk', open ? entry.at : `${entry.at}#${source.key}#${versionTag(source.versionId)}`);
  }
  assign('updatedAt', entry.at);
  assign('createdAt', entry.at, true);
  assign('bucket', source.bucket, true);
  assign('key', source.key, true);
  assign('versionId', versionTag(source.versionId), true);
  assign('eTag', source.eTag, true);
  assign('size', source.size, true);
  assign('sequencer', source.sequencer, true);
  assign('landedAt', source.eventTime, true);
  assign('dataset', details.dataset);
  // an empty map is left out: DynamoDB Local's stream images render `{M: {}}` without its type
  assign('fields', details.fields && Object.keys(details.fields).length > 0 ? details.fields : undefined);
  assign('rows', details.rows);
  assign('manifest', details.manifest);
  assign('archive', details.archive);
  assign('parquetRows', details.parquetRows);
  assign('processedVersionId', details.processedVersionId);
  assign('validatedVersionId', details.validatedVersionId);
  assign('reason', details.reason);
  for (const [name, key] of Object.entries(details.outputs ?? {})) assign(`${name}Key`, key);
  // Indexed by dataset and day; an update that names the dataset but not the day (an older
  // object's lineage) leaves the index as it was.
  const fieldsGiven = details.fields !== undefined && Object.keys(details.fields).length > 0;
  if (details.dataset !== undefined && (details.date !== undefined || !fieldsGiven)) {
    const date = details.date;
    assign('gsi1pk', `DS#${details.dataset ?? 'unrecognised'}${date ? `#${date}` : ''}`);
    assign('gsi1sk', `${source.key}#${versionTag(source.versionId)}`);
  }
  return {
    TableName: table,
    Key: { pk: fileKey(source.key), sk: versionSortKey(source.versionId) },
    UpdateExpression: `SET ${sets.join(', ')} ADD #seen :stateSet`,
    ConditionExpression: historyOnly ? NOT_YET_RECORDED : `(attribute_not_exists(#stateRank) OR #stateRank < :stateRank) AND ${NOT_YET_RECORDED}`,
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: values,
  };
}

/** A file version as index gsi2 projects it (what the reconciler needs to find its batches). */
export type WorkItem = Pick<FileStateItem, 'pk' | 'sk' | 'key' | 'versionId' | 'state' | 'dataset' | 'fields' | 'updatedAt'>;

/** The per-item reasons of a cancelled transaction ('None' for an item that was fine). */
function cancellationReasons(err: unknown): string[] {
  if (!(err instanceof TransactionCanceledException) && (err as Error)?.name !== 'TransactionCanceledException') return [];
  return ((err as TransactionCanceledException).CancellationReasons ?? []).map((r) => r.Code ?? 'None');
}

export class FileStateStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  /**
   * Records RECEIVED for a landed version and makes it the newest version of its key, in ONE
   * write when it is new (a transaction of the LATEST pointer and the version item): the pointer
   * is claimed unless a newer version is recorded already, or the version repeats the bytes of
   * the newest accepted version. `isReplay` is asked only then: a forced replay is claimed anyway.
   * Optimistic: retried when a concurrent landing of the same key wins the pointer.
   */
  async receive(
    source: SourceVersion,
    options: { isReplay?: () => Promise<boolean>; now?: Date; details?: Pick<TransitionDetails, 'dataset' | 'fields'> } = {},
  ): Promise<LatestClaim> {
    const details = options.details ?? {};
    const version = versionTag(source.versionId);
    let replay = false;
    for (let attempt = 0; attempt < 5; attempt += 1) {
      const { Item: latest } = await this.db.send(
        new GetCommand({ TableName: this.table, Key: { pk: fileKey(source.key), sk: LATEST }, ConsistentRead: true }),
      );
      if (latest) {
        const sameEvent = latest.versionId === version && latest.sequencer === padSequencer(source.sequencer);
        if (sameEvent) {
          // a redelivery of the event that made the claim
          await this.recordTransition(source, 'RECEIVED', details, options.now);
          return { kind: 'new' };
        }
        if (compareSequencers(latest.sequencer as string, padSequencer(source.sequencer)) > 0) {
          await this.recordTransition(source, 'RECEIVED', details, options.now);
          return { kind: 'superseded', by: latest.versionId as string };
        }
        if (!replay && latest.eTag === source.eTag && (await this.wasAccepted(source.key, latest.versionId as string))) {
          replay = (await options.isReplay?.()) ?? false;
          if (!replay) return { kind: 'duplicate', of: latest.versionId as string };
        }
      }
      const pointer = {
        TableName: this.table,
        Item: { pk: fileKey(source.key), sk: LATEST, versionId: version, eTag: source.eTag, sequencer: padSequencer(source.sequencer) },
        ConditionExpression: latest ? 'sequencer = :seen' : 'attribute_not_exists(pk)',
        ...(latest ? { ExpressionAttributeValues: { ':seen': latest.sequencer } } : {}),
      };
      try {
        await this.db.send(
          new TransactWriteCommand({ TransactItems: [{ Put: pointer }, { Update: transitionUpdate(this.table, source, 'RECEIVED', details, options.now) }] }),
        );
        return { kind: 'new' };
      } catch (err) {
        const [pointerReason, receivedReason] = cancellationReasons(err);
        if (pointerReason === 'ConditionalCheckFailed') continue; // another version moved the pointer: look again
        if (receivedReason !== 'ConditionalCheckFailed') throw err;
        // RECEIVED is recorded already (an earlier attempt): claim the pointer alone.
        try {
          await this.db.send(new PutCommand(pointer));
          return { kind: 'new' };
        } catch (putErr) {
          if (!isConditionFailure(putErr)) throw putErr;
        }
      }
    }
    throw new Error(`could not claim the newest version of ${source.key}: too much contention`);
  }

  /** Accepted = not rejected: re-landing the bytes of a rejected file re-validates (the config may have changed). */
  private async wasAccepted(key: string, versionId: string): Promise<boolean> {
    const { Item } = await this.db.send(
      new GetCommand({
        TableName: this.table,
        Key: { pk: fileKey(key), sk: `V#${versionId}` },
        ProjectionExpression: '#s',
        ExpressionAttributeNames: { '#s': 'state' },
        ConsistentRead: true,
      }),
    );
    return ['RECEIVED', 'VALIDATED', 'CONVERTED'].includes(Item?.state as string);
  }

  /**
   * Records `state` for a landed object version: one UpdateItem that creates the item if needed,
   * appends to its history and advances the state only if it outranks the current one (events
   * arrive out of order). A transition already recorded is not recorded twice.
   */
  async recordTransition(
    source: SourceVersion,
    state: FileState,
    details: TransitionDetails = {},
    now = new Date(),
  ): Promise<'applied' | 'history-only' | 'already-recorded'> {
    const update = transitionUpdate(this.table, source, state, details, now);
    try {
      await this.db.send(new UpdateCommand(update));
      return 'applied';
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
    }
    // A later state is recorded already (out-of-order events): keep the history complete anyway.
    try {
      await this.db.send(new UpdateCommand(transitionUpdate(this.table, source, state, details, now, true)));
      return 'history-only';
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
      return 'already-recorded';
    }
  }

  /**
   * A verdict about a version already recorded (QUARANTINED, SUPERSEDED, FAILED): its landing
   * attributes are on the item already, so the transition names only the version.
   */
  async recordVerdict(file: { key: string; versionId: string; sequencer: string; size: number }, state: FileState, reason: string, now = new Date()) {
    const source: SourceVersion = {
      bucket: '',
      key: file.key,
      ...(file.versionId !== 'null' ? { versionId: file.versionId } : {}),
      eTag: '',
      size: file.size,
      sequencer: file.sequencer,
      eventTime: '',
    };
    const update = transitionUpdate(this.table, source, state, { reason }, now);
    // only on an existing item: the if_not_exists landing attributes above are never used
    return (await updateIf(this.db, { ...update, ConditionExpression: `attribute_exists(pk) AND ${update.ConditionExpression}` }))
      ? ('applied' as const)
      : ('not-applied' as const);
  }

  async get(key: string, versionId: string | undefined): Promise<FileStateItem | undefined> {
    const { Item } = await this.db.send(
      new GetCommand({ TableName: this.table, Key: { pk: fileKey(key), sk: versionSortKey(versionId) }, ConsistentRead: true }),
    );
    return Item as FileStateItem | undefined;
  }

  /**
   * Every recorded version of the files of a dataset for a day (those whose key starts with
   * `keyPrefix`, when given): one Query on gsi1. The index
   * projects only what the resolver reads (serverless.yml: key, versionId, sequencer, dataset,
   * fields, state, size, processedKey, processedVersionId); `get` has the whole item.
   */
  async filesOf(dataset: string, date: string, keyPrefix?: string): Promise<IndexedFile[]> {
    const items: IndexedFile[] = [];
    // the index's sort key starts with the object key: a batch's key prefix (`landing/pos/ON/`)
    // reads its own files of the day, not every province's
    const narrowed = keyPrefix ? { condition: ' AND begins_with(gsi1sk, :prefix)', values: { ':prefix': keyPrefix } } : { condition: '', values: {} };
    const pages = paginateQuery(
      { client: this.db },
      {
        TableName: this.table,
        IndexName: 'gsi1',
        KeyConditionExpression: `gsi1pk = :pk${narrowed.condition}`,
        ExpressionAttributeValues: { ':pk': `DS#${dataset}#${date}`, ...narrowed.values },
      },
    );
    for await (const page of pages) items.push(...((page.Items ?? []) as IndexedFile[]));
    return items;
  }

  /** The newest version of a key, by S3 sequencer (the LATEST pointer), or undefined. */
  async latestVersionOf(key: string): Promise<{ versionId: string; sequencer: string; eTag: string } | undefined> {
    const { Item } = await this.db.send(new GetCommand({ TableName: this.table, Key: { pk: fileKey(key), sk: LATEST }, ConsistentRead: true }));
    return Item as { versionId: string; sequencer: string; eTag: string } | undefined;
  }

  /**
   * What the table records about landed versions (a bounded listing's newest versions): each
   * version's state, if it has an item, and its key's LATEST pointer (an identical re-land is not
   * recorded as a version of its own, only compared with the pointer). Consistent BatchGetItem
   * reads, 100 keys a call; keys DynamoDB leaves unprocessed are asked again.
   */
  async recordedOf(
    versions: Array<{ key: string; versionId: string }>,
  ): Promise<Map<string, { state?: FileState; latest?: { versionId: string; eTag: string } }>> {
    const found = new Map<string, { state?: FileState; latest?: { versionId: string; eTag: string } }>();
    const wanted = new Map<string, Record<string, string>>();
    for (const v of versions) {
      wanted.set(`${v.key}\n${versionSortKey(v.versionId)}`, { pk: fileKey(v.key), sk: versionSortKey(v.versionId) });
      wanted.set(`${v.key}\n${LATEST}`, { pk: fileKey(v.key), sk: LATEST });
    }
    const items: Array<Record<string, unknown>> = [];
    let pending = [...wanted.values()];
    for (let round = 0; pending.length > 0; round += 1) {
      if (round >= 8) throw new Error(`file-state table: ${pending.length} key(s) left unprocessed by BatchGetItem after ${round} tries`);
      if (round > 0) await new Promise((r) => setTimeout(r, Math.min(1000, 50 * 2 ** round)));
      const next: Array<Record<string, string>> = [];
      for (let i = 0; i < pending.length; i += 100) {
        const out = await this.db.send(
          new BatchGetCommand({
            RequestItems: {
              [this.table]: {
                Keys: pending.slice(i, i + 100),
                ConsistentRead: true,
                ProjectionExpression: 'pk, sk, #state, versionId, eTag',
                ExpressionAttributeNames: { '#state': 'state' },
              },
            },
          }),
        );
        items.push(...(out.Responses?.[this.table] ?? []));
        next.push(...((out.UnprocessedKeys?.[this.table]?.Keys ?? []) as Array<Record<string, string>>));
      }
      pending = next;
    }
    const byKey = new Map(items.map((item) => [`${item.pk as string}\n${item.sk as string}`, item]));
    for (const v of versions) {
      const item = byKey.get(`${fileKey(v.key)}\n${versionSortKey(v.versionId)}`);
      const latest = byKey.get(`${fileKey(v.key)}\n${LATEST}`);
      found.set(`${v.key}#${v.versionId}`, {
        ...(item ? { state: item.state as FileState } : {}),
        ...(latest ? { latest: { versionId: latest.versionId as string, eTag: latest.eTag as string } } : {}),
      });
    }
    return found;
  }

  /**
   * File versions still in flight whose last update is older than `before` (ISO time), from the
   * work index (eventually consistent: callers re-read each item before acting on it).
   */
  async openSince(before: string): Promise<WorkItem[]> {
    const items: WorkItem[] = [];
    for (let shard = 0; shard < OPEN_SHARDS; shard += 1) items.push(...(await this.queryWork(`OPEN#${shard}`, 'workSk < :before', { ':before': before })));
    return items;
  }

  /** File versions that reached a terminal state between `from` and `to` (ISO times), any data date. */
  async settledBetween(from: string, to: string): Promise<WorkItem[]> {
    const items: WorkItem[] = [];
    for (let hour = Date.parse(`${from.slice(0, 13)}:00:00.000Z`); hour <= Date.parse(to); hour += 3_600_000) {
      items.push(...(await this.queryWork(settledPartition(new Date(hour).toISOString()), 'workSk BETWEEN :from AND :to', { ':from': from, ':to': `${to}~` })));
    }
    return items;
  }

  /** One partition of the work index, its sort key narrowed by `skCondition`. */
  private async queryWork(partition: string, skCondition: string, values: Record<string, string>): Promise<WorkItem[]> {
    const items: WorkItem[] = [];
    const pages = paginateQuery(
      { client: this.db },
      {
        TableName: this.table,
        IndexName: 'gsi2',
        KeyConditionExpression: `workPk = :pk AND ${skCondition}`,
        ExpressionAttributeValues: { ':pk': partition, ...values },
      },
    );
    for await (const page of pages) items.push(...((page.Items ?? []) as WorkItem[]));
    return items;
  }

  /**
   * Counts one re-drive of an in-flight version and moves it to the back of the open queue (its
   * work sort key becomes now), so the next pass waits a grace period before looking again.
   * Conditional on the state the caller saw: a version that moved on is left alone.
   */
  noteRedrive(key: string, versionId: string, seenState: FileState, now = new Date()): Promise<boolean> {
    return updateIf(this.db, {
      TableName: this.table,
      Key: { pk: fileKey(key), sk: `V#${versionId}` },
      UpdateExpression: 'SET lastRedriveAt = :now, workSk = :now ADD redrives :one',
      ConditionExpression: '#state = :seen',
      ExpressionAttributeNames: { '#state': 'state' },
      ExpressionAttributeValues: { ':now': now.toISOString(), ':one': 1, ':seen': seenState },
    });
  }

  /** Remembers the last error a stage raised on a version (from the failed-events queue). */
  async noteError(key: string, versionId: string, error: string): Promise<void> {
    await updateIf(this.db, {
      TableName: this.table,
      Key: { pk: fileKey(key), sk: `V#${versionId}` },
      UpdateExpression: 'SET lastError = :error',
      ConditionExpression: 'attribute_exists(pk)',
      ExpressionAttributeValues: { ':error': error.slice(0, 2000) },
    });
  }

  /**
   * Records a change of a dataset's columns as its files show it (`signature` says which change),
   * once: true for the first file to show it (its alert is due), false when it was seen before and
   * alerted. A change whose alert was not yet sent (the invocation failed after recording it) is due
   * again, so a retried invocation still sends it.
   */
  async schemaChangeDue(dataset: string, signature: string, detail: { key: string; change: string }, now = new Date()): Promise<boolean> {
    const first = await putIf(this.db, {
      TableName: this.table,
      Item: {
        pk: `SCHEMA#${dataset}`,
        sk: `C#${signature}`,
        dataset,
        firstKey: detail.key,
        change: detail.change.slice(0, 2000),
        firstAt: now.toISOString(),
        alerted: false,
      },
      ConditionExpression: 'attribute_not_exists(pk)',
    });
    if (first) return true;
    const { Item } = await this.db.send(
      new GetCommand({ TableName: this.table, Key: { pk: `SCHEMA#${dataset}`, sk: `C#${signature}` }, ConsistentRead: true }),
    );
    return Item?.alerted === false;
  }

  /** The change's alert was sent. */
  async schemaChangeAlerted(dataset: string, signature: string): Promise<void> {
    await this.db.send(
      new UpdateCommand({
        TableName: this.table,
        Key: { pk: `SCHEMA#${dataset}`, sk: `C#${signature}` },
        UpdateExpression: 'SET alerted = :yes',
        ExpressionAttributeValues: { ':yes': true },
      }),
    );
  }

  /** Every file-version item (for `landfall status` and `run`; an operator's console on AWS). */
  async listAll(): Promise<FileStateItem[]> {
    const items: FileStateItem[] = [];
    const pages = paginateScan(
      { client: this.db },
      { TableName: this.table, ConsistentRead: true, FilterExpression: 'begins_with(sk, :v)', ExpressionAttributeValues: { ':v': 'V#' } },
    );
    for await (const page of pages) items.push(...((page.Items ?? []) as FileStateItem[]));
    return items.sort((a, b) => a.key.localeCompare(b.key) || a.landedAt.localeCompare(b.landedAt));
  }
}
