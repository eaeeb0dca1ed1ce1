import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
  paginateQuery,
  paginateScan,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { isConditionFailure, updateIf } from '../state/file-state-store';
import { END_OF_DAY, GRID_INDEX, OPEN_INDEX, gridPartition, indexUpdate, openPartition, type OpenStatus } from './batch-index';
import type { SelectedFile } from './run-input';

/**
 * The job-runs table: per batch one BATCH item (status, what it waits for, the active and last run)
 * and one RUN#<execution name> item per run (what it read, its stages, its outcome).
 */
export type RunStatus = 'CLAIMED' | 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'CHECK_FAILED' | 'RELEASED';

/**
 * The ends of a run `landfall retry` starts again with the same inputs: FAILED, and CHECK_FAILED (an
 * `error` check failed on the output: nothing was published; retry once the SQL or the data is fixed).
 * Neither is repaired by the reconciler unless the failure was the infrastructure's (`restartable`).
 */
export const RETRYABLE_STATUSES: readonly RunStatus[] = ['FAILED', 'CHECK_FAILED'];

/** One check's result on a run's output (shared/stages/transform/output-checks.ts; docs/checks.md). */
export interface OutputCheckResult {
  /** the rule: unique, notNull, acceptedValues, referential, rowCount, reconcile, sql */
  rule: string;
  name: string;
  severity: 'error' | 'warn';
  passed: boolean;
  /** failing rows (for unique: repeated key values; for rowCount and reconcile: 1 when failed) */
  failing: number;
  /** up to 10 failing rows, values as JSON */
  sample: Record<string, unknown>[];
  /** what was compared, in words (row counts, totals), when the rule is not row by row */
  detail?: string;
}

/** Where the results start in an OutputCheckFailedError's message (the `fail` step records them from it). */
const RESULTS_MARKER = '\nresults: ';
/** Step Functions keeps 32,768 characters of an error's cause: the results stay well under it. */
const MAX_RESULTS_CHARS = 20_000;

/**
 * The message of a run whose `error` checks failed: what an operator reads first, then the results
 * as JSON (samples shortened to fit), so that the step recording the failure records them too.
 */
export function checkFailureMessage(summary: string, results: OutputCheckResult[]): string {
  let kept = results;
  for (let rows = 10; JSON.stringify(kept).length > MAX_RESULTS_CHARS && rows > 0; rows = Math.floor(rows / 2)) {
    kept = results.map((r) => ({ ...r, sample: r.sample.slice(0, rows) }));
  }
  if (JSON.stringify(kept).length > MAX_RESULTS_CHARS) kept = results.map((r) => ({ ...r, sample: [] }));
  return `${summary}${RESULTS_MARKER}${JSON.stringify(kept)}`;
}

/** The results a checkFailureMessage carries (and the summary before them); none in any other message. */
export function checkResultsOf(message: string): { summary: string; results: OutputCheckResult[] } | undefined {
  const at = message.indexOf(RESULTS_MARKER);
  if (at < 0) return undefined;
  try {
    const results = JSON.parse(message.slice(at + RESULTS_MARKER.length)) as unknown;
    return Array.isArray(results) ? { summary: message.slice(0, at), results: results as OutputCheckResult[] } : undefined;
  } catch {
    return undefined;
  }
}

/** The checks of a run's output, recorded on the run item before anything is published. */
export interface ChecksRecord {
  /** the stage whose output they checked (the job's last) */
  stage: string;
  at: string;
  results: OutputCheckResult[];
  /** when the failed `warn` checks were alerted (once per run) */
  warnAlertedAt?: string;
}

/** How long a claim may go without a recorded execution before it counts as abandoned (resolve's timeout is 120 s). */
export const CLAIM_GRACE_MS = 5 * 60_000;
/** Finished runs and failover records expire (DynamoDB TTL) after this many days; batches never do. */
export const HISTORY_DAYS = 90;
const expiresAt = (from: Date, days = HISTORY_DAYS) => Math.floor(from.getTime() / 1000) + days * 86_400;

export interface ActiveRun {
  executionName: string;
  fingerprint: string;
  claimedAt: string;
  executionArn?: string;
  /** the state machine the run goes to */
  engine?: 'duckdb' | 'emr';
}

export interface BatchItem {
  pk: string;
  sk: 'BATCH';
  job: string;
  batchId: string;
  values: Record<string, string>;
  status: 'WAITING' | 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'CHECK_FAILED';
  waitingFor: string[];
  activeRun?: ActiveRun;
  lastRun?: {
    executionName: string;
    fingerprint: string;
    status: RunStatus;
    finishedAt: string;
    error?: string;
    codeHash?: string;
    /** the preconditions it ran at its cut-off without (the run's ranWithout), so the grid tells it apart */
    ranWithout?: string[];
  };
  lastSucceededFingerprint?: string;
  /**
   * when its first successful run finished (finishRun, never overwritten): a later re-run does not
   * move it, so a deadline met stays met. Absent on a batch that succeeded under a landfall that did
   * not record it (then only its runs tell).
   */
  firstSucceededAt?: string;
  /** the code hash of the last successful run (docs/backfill.md); absent when it ran before code hashes were recorded */
  lastSucceededCodeHash?: string;
  /** runs claimed so far, also the retry attempt counter */
  runs?: number;
  /** the freshness deadline already alerted (ISO), so it is alerted once */
  deadlineAlerted?: string;
  updatedAt: string;
}

export interface StageRecord {
  status: 'SUCCEEDED';
  at: string;
  output: Record<string, unknown>;
}

export interface RunItem {
  pk: string;
  sk: string;
  job: string;
  batchId: string;
  values: Record<string, string>;
  executionName: string;
  executionArn?: string;
  fingerprint: string;
  /** the job's code hash the run was claimed with (its fingerprint covers it too) */
  codeHash?: string;
  inputs: Record<string, SelectedFile[]>;
  /** landed bytes of the inputs, and whether they exceed the DuckDB threshold (shared/stages/resolve/engine-router.ts) */
  sizing?: { inputBytes: number; overThreshold: boolean };
  /** the engine the run was routed to (a job with engine auto picks one per run) */
  engine?: 'duckdb' | 'emr';
  /** ran at the job's cut-off without these preconditions */
  ranWithout?: string[];
  status: RunStatus;
  stages?: Record<string, StageRecord>;
  /** the output checks' results (a job with `checks`) */
  checks?: ChecksRecord;
  error?: { error: string; cause: string };
  claimedAt: string;
  startedAt?: string;
  finishedAt?: string;
  /** epoch seconds: DynamoDB's TTL removes finished history */
  expiresAt?: number;
}

/** An operator's action on a batch, as the console records it (pk the batch, sk ACTION#<at>#<id>). */
export interface ActionRecord {
  pk: string;
  sk: string;
  batchId: string;
  /** unique per action (several may share a millisecond) */
  id: string;
  /** retry, replay */
  action: string;
  /** the AWS principal (a deployed stage) or the local OS user */
  who: string;
  at: string;
  /** where it came from: "console" or "cli" */
  via: string;
  outcome: 'done' | 'refused' | 'failed';
  /** what happened, in words (the resolver's outcome, the error) */
  detail: string;
}

/** A Query on one of the batch indexes (see JobRunStore.indexedBatches). */
export interface IndexedBatchQuery {
  job: string;
  /** the open index's batches in this status; else the grid's (every batch of the job) */
  open?: OpenStatus;
  /** the lowest sort key (`<date>` or `<date>#<batch id>`), inclusive */
  from?: string;
  /** the highest sort key, inclusive: a date alone reaches the end of that day */
  to?: string;
  /** only batches in this status (a filter on the page read) */
  status?: BatchItem['status'];
  descending?: boolean;
  limit?: number;
  next?: Record<string, unknown>;
}

/** What a batch item tells of when it first succeeded (JobRunStore.firstSuccesses). */
export type BatchSuccess = Pick<BatchItem, 'batchId' | 'status' | 'firstSucceededAt' | 'lastSucceededFingerprint'>;

export type ClaimResult = { kind: 'claimed' } | { kind: 'active'; run: ActiveRun } | { kind: 'up-to-date' };

/** A run's input files as text (relations in order, each file's key and version): equal for the same files. */
const filesOf = (inputs: RunItem['inputs']) =>
  JSON.stringify(
    Object.entries(inputs)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([relation, files]) => [relation, files.map((f) => [f.key, f.versionId])]),
  );
const batchKey = (batchId: string) => ({ pk: `BATCH#${batchId}`, sk: 'BATCH' });
const runKey = (batchId: string, executionName: string) => ({ pk: `BATCH#${batchId}`, sk: `RUN#${executionName}` });
const ACTIVE = 'ACTIVE';
const RESTART = 'RESTART';
const RECONCILER_KEY = { pk: 'RECONCILER', sk: 'STATE' };

export class JobRunStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async getBatch(batchId: string): Promise<BatchItem | undefined> {
    const { Item } = await this.db.send(new GetCommand({ TableName: this.table, Key: batchKey(batchId), ConsistentRead: true }));
    return Item as BatchItem | undefined;
  }

  async getRun(batchId: string, executionName: string): Promise<RunItem | undefined> {
    const { Item } = await this.db.send(new GetCommand({ TableName: this.table, Key: runKey(batchId, executionName), ConsistentRead: true }));
    return Item as RunItem | undefined;
  }

  /** Records why a batch cannot run yet; a batch with an active run keeps its RUNNING status. */
  async recordWaiting(job: string, batchId: string, values: Record<string, string>, waitingFor: string[], now = new Date()): Promise<void> {
    const update = (withStatus: boolean) => {
      // the indexes' keys in the same write: open as WAITING, or (an active run's status kept) the grid's only
      const index = indexUpdate(batchId, withStatus ? 'WAITING' : undefined);
      return this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: batchKey(batchId),
          UpdateExpression: `SET waitingFor = :w, job = :job, batchId = :id, #values = :values, updatedAt = :now${withStatus ? ', #status = :waiting' : ''}, ${index.set.join(', ')}`,
          ...(withStatus ? { ConditionExpression: 'attribute_not_exists(activeRun)' } : {}),
          ExpressionAttributeNames: { '#values': 'values', ...(withStatus ? { '#status': 'status' } : {}) },
          ExpressionAttributeValues: {
            ':w': waitingFor,
            ':job': job,
            ':id': batchId,
            ':values': values,
            ':now': now.toISOString(),
            ...(withStatus ? { ':waiting': 'WAITING' } : {}),
            ...index.values,
          },
        }),
      );
    };
    try {
      await update(true);
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
      await update(false);
    }
  }

  /**
   * Claims the batch for one run of this input generation, in one transaction: the batch has no
   * active run and did not already succeed with these inputs, and the run item is new. Concurrent
   * resolvers, stream retries and the reconciler race here; exactly one wins.
   */
  async claimRun(
    job: string,
    batchId: string,
    values: Record<string, string>,
    run: Pick<RunItem, 'executionName' | 'fingerprint' | 'codeHash' | 'inputs' | 'sizing' | 'engine' | 'ranWithout'>,
    now = new Date(),
  ): Promise<ClaimResult> {
    const active: ActiveRun = {
      executionName: run.executionName,
      fingerprint: run.fingerprint,
      claimedAt: now.toISOString(),
      ...(run.engine ? { engine: run.engine } : {}),
    };
    const index = indexUpdate(batchId, 'RUNNING');
    try {
      await this.db.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Update: {
                TableName: this.table,
                Key: batchKey(batchId),
                // duePk/dueAt: index gsi1 lists active claims, so the reconciler finds a run that
                // never started or ended unrecorded without scanning the table.
                UpdateExpression: `SET activeRun = :run, #status = :running, waitingFor = :none, job = :job, batchId = :id, #values = :values, updatedAt = :now, duePk = :active, dueAt = :due, ${index.set.join(', ')} ADD runs :one`,
                ConditionExpression: 'attribute_not_exists(activeRun) AND (attribute_not_exists(lastSucceededFingerprint) OR lastSucceededFingerprint <> :fp)',
                ExpressionAttributeNames: { '#status': 'status', '#values': 'values' },
                ExpressionAttributeValues: {
                  ':run': active,
                  ':running': 'RUNNING',
                  ':none': [],
                  ':job': job,
                  ':id': batchId,
                  ':values': values,
                  ':now': active.claimedAt,
                  ':fp': run.fingerprint,
                  ':one': 1,
                  ':active': ACTIVE,
                  ':due': new Date(now.getTime() + CLAIM_GRACE_MS).toISOString(),
                  ...index.values,
                },
              },
            },
            {
              Put: {
                TableName: this.table,
                Item: {
                  ...runKey(batchId, run.executionName),
                  job,
                  batchId,
                  values,
                  executionName: run.executionName,
                  fingerprint: run.fingerprint,
                  ...(run.codeHash ? { codeHash: run.codeHash } : {}),
                  inputs: run.inputs,
                  ...(run.sizing ? { sizing: run.sizing } : {}),
                  ...(run.engine ? { engine: run.engine } : {}),
                  ...(run.ranWithout ? { ranWithout: run.ranWithout } : {}),
                  status: 'CLAIMED',
                  claimedAt: active.claimedAt,
                } satisfies RunItem,
                // a released claim of the same generation may be claimed again
                ConditionExpression: 'attribute_not_exists(pk) OR #status = :released',
                ExpressionAttributeNames: { '#status': 'status' },
                ExpressionAttributeValues: { ':released': 'RELEASED' },
              },
            },
          ],
        }),
      );
      return { kind: 'claimed' };
    } catch (err) {
      if (!(err instanceof TransactionCanceledException) && (err as Error).name !== 'TransactionCanceledException') throw err;
    }
    const batch = await this.getBatch(batchId);
    return batch?.activeRun ? { kind: 'active', run: batch.activeRun } : { kind: 'up-to-date' };
  }

  async markStarted(batchId: string, executionName: string, executionArn: string): Promise<void> {
    // not applied: the run finished (or failed) before we recorded its ARN, nothing to do
    await updateIf(this.db, {
      TableName: this.table,
      Key: batchKey(batchId),
      UpdateExpression: 'SET activeRun.executionArn = :arn',
      ConditionExpression: 'activeRun.executionName = :name',
      ExpressionAttributeValues: { ':arn': executionArn, ':name': executionName },
    });
    await this.updateRun(batchId, executionName, 'SET executionArn = :arn', { ':arn': executionArn });
  }

  /**
   * The execution's first state: records it on the batch's claim and the run. Returns false when
   * the batch's claim is no longer this run's (released as abandoned, or another generation's):
   * the execution must then do nothing.
   */
  async markRunning(batchId: string, executionName: string, executionArn: string, now = new Date()): Promise<boolean> {
    const held = await updateIf(this.db, {
      TableName: this.table,
      Key: batchKey(batchId),
      UpdateExpression: 'SET activeRun.executionArn = :arn',
      ConditionExpression: 'activeRun.executionName = :name',
      ExpressionAttributeValues: { ':arn': executionArn, ':name': executionName },
    });
    if (!held) {
      const run = await this.getRun(batchId, executionName);
      // A re-run of this state after the run ended stays harmless; anything else lost its claim.
      if (run?.status !== 'SUCCEEDED' && run?.status !== 'FAILED' && run?.status !== 'CHECK_FAILED') return false;
    }
    await this.updateRun(
      batchId,
      executionName,
      'SET #status = :running, executionArn = :arn, startedAt = if_not_exists(startedAt, :now)',
      { ':running': 'RUNNING', ':arn': executionArn, ':now': now.toISOString() },
      { '#status': 'status' },
    );
    return true;
  }

  /**
   * A settling run takes the batch's newest inputs (the rest of a burst of landings): its claim and
   * its run item name them from now on, so it ends with them as its generation (and the next
   * generation starts only for inputs newer still). False when the claim is no longer this run's.
   * The same files under another fingerprint differ only by the code hash the settling function
   * loaded (a deploy during the wait): the run keeps the identity, and the code, it was claimed with.
   */
  async adoptInputs(batchId: string, executionName: string, fingerprint: string, inputs: RunItem['inputs']): Promise<boolean> {
    const claimed = await this.getRun(batchId, executionName);
    if (claimed && filesOf(claimed.inputs) === filesOf(inputs)) return (await this.getBatch(batchId))?.activeRun?.executionName === executionName;
    const held = await updateIf(this.db, {
      TableName: this.table,
      Key: batchKey(batchId),
      UpdateExpression: 'SET activeRun.fingerprint = :fp',
      ConditionExpression: 'activeRun.executionName = :name',
      ExpressionAttributeValues: { ':fp': fingerprint, ':name': executionName },
    });
    if (!held) return false;
    await this.updateRun(batchId, executionName, 'SET fingerprint = :fp, inputs = :inputs', { ':fp': fingerprint, ':inputs': inputs });
    return true;
  }

  /**
   * Frees a claim whose execution never started (its resolver died before StartExecution), so the
   * batch can run its current inputs; its status goes back to `status`. Conditional: only that
   * claim, and only while no execution is recorded for it.
   */
  async releaseClaim(batchId: string, executionName: string, status: BatchItem['status'] | RunStatus, now = new Date()): Promise<boolean> {
    const index = indexUpdate(batchId, status);
    const released = await updateIf(this.db, {
      TableName: this.table,
      Key: batchKey(batchId),
      UpdateExpression: `SET #status = :status, updatedAt = :now, ${index.set.join(', ')} REMOVE ${['activeRun', 'duePk', 'dueAt', ...index.remove].join(', ')}`,
      ConditionExpression: 'activeRun.executionName = :name AND attribute_not_exists(activeRun.executionArn)',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: { ':name': executionName, ':status': status, ':now': now.toISOString(), ...index.values },
    });
    if (!released) return false;
    await this.updateRun(
      batchId,
      executionName,
      'SET #status = :released, finishedAt = :now, expiresAt = :exp',
      { ':released': 'RELEASED', ':now': now.toISOString(), ':exp': expiresAt(now) },
      { '#status': 'status' },
    );
    return true;
  }

  /** Active claims whose due time has passed (the reconciler checks their executions). */
  async activeDue(before: Date): Promise<BatchItem[]> {
    return (await this.dueOn(ACTIVE, before)).filter((b) => b.activeRun);
  }

  /** Batches whose last run failed on infrastructure and may be started again (see finishRun). */
  async restartsDue(before: Date): Promise<BatchItem[]> {
    return this.dueOn(RESTART, before);
  }

  /** The batches index gsi1 lists under `list` (ACTIVE, RESTART) with a due time up to `before`. */
  private async dueOn(list: string, before: Date): Promise<BatchItem[]> {
    const batches: BatchItem[] = [];
    const pages = paginateQuery(
      { client: this.db },
      {
        TableName: this.table,
        IndexName: 'gsi1',
        KeyConditionExpression: 'duePk = :list AND dueAt <= :before',
        ExpressionAttributeValues: { ':list': list, ':before': before.toISOString() },
      },
    );
    for await (const page of pages) {
      for (const key of page.Items ?? []) {
        // the index is eventually consistent and keys-only: read each batch as it is now
        const batch = await this.getBatch(String(key.pk).slice('BATCH#'.length));
        if (batch) batches.push(batch);
      }
    }
    return batches;
  }

  /** Takes a batch off the restart list (it was restarted, or may not be again). */
  async clearRestart(batchId: string): Promise<void> {
    await updateIf(this.db, {
      TableName: this.table,
      Key: batchKey(batchId),
      UpdateExpression: 'REMOVE duePk, dueAt',
      ConditionExpression: 'duePk = :restart',
      ExpressionAttributeValues: { ':restart': RESTART },
    });
  }

  /** Looks at an active claim again no sooner than `at`. */
  async deferDue(batchId: string, executionName: string, at: Date): Promise<void> {
    await updateIf(this.db, {
      TableName: this.table,
      Key: batchKey(batchId),
      UpdateExpression: 'SET dueAt = :at',
      ConditionExpression: 'activeRun.executionName = :name',
      ExpressionAttributeValues: { ':at': at.toISOString(), ':name': executionName },
    });
  }

  /**
   * Records that a batch's freshness deadline was alerted; false if it already was. A batch never
   * evaluated yet is created WAITING (and so open); an existing one keeps its status, and its open
   * index entry with it.
   */
  async markDeadlineAlerted(job: string, batchId: string, values: Record<string, string>, deadline: string, now = new Date()): Promise<boolean> {
    const common = { ':d': deadline, ':job': job, ':id': batchId, ':values': values, ':now': now.toISOString(), ':waiting': 'WAITING', ':none': [] };
    const created = indexUpdate(batchId, 'WAITING');
    const fresh = await updateIf(this.db, {
      TableName: this.table,
      Key: batchKey(batchId),
      UpdateExpression: `SET deadlineAlerted = :d, job = :job, batchId = :id, #values = :values, updatedAt = :now, #status = :waiting, waitingFor = :none, ${created.set.join(', ')}`,
      ConditionExpression: 'attribute_not_exists(pk)',
      ExpressionAttributeNames: { '#values': 'values', '#status': 'status' },
      ExpressionAttributeValues: { ...common, ...created.values },
    });
    if (fresh) return true;
    const kept = indexUpdate(batchId);
    return updateIf(this.db, {
      TableName: this.table,
      Key: batchKey(batchId),
      UpdateExpression: `SET deadlineAlerted = :d, job = :job, batchId = :id, #values = :values, updatedAt = if_not_exists(updatedAt, :now), #status = if_not_exists(#status, :waiting), waitingFor = if_not_exists(waitingFor, :none), ${kept.set.join(', ')}`,
      ConditionExpression: 'attribute_not_exists(deadlineAlerted) OR deadlineAlerted <> :d',
      ExpressionAttributeNames: { '#values': 'values', '#status': 'status' },
      ExpressionAttributeValues: { ...common, ...kept.values },
    });
  }

  /** Until when the reconciler has looked at settled files (its next pass starts there). */
  async reconcilerWatermark(): Promise<string | undefined> {
    const { Item } = await this.db.send(new GetCommand({ TableName: this.table, Key: RECONCILER_KEY, ConsistentRead: true }));
    return Item?.settledUntil as string | undefined;
  }

  async setReconcilerWatermark(settledUntil: string, report: Record<string, unknown>): Promise<void> {
    await this.db.send(new PutCommand({ TableName: this.table, Item: { ...RECONCILER_KEY, settledUntil, lastReport: report } }));
  }

  /** A stage's checkpoint: a re-run of the execution skips the stages recorded here. */
  async recordStage(batchId: string, executionName: string, stage: string, output: Record<string, unknown>, now = new Date()): Promise<void> {
    const record: StageRecord = { status: 'SUCCEEDED', at: now.toISOString(), output };
    await this.updateRun(batchId, executionName, 'SET stages = if_not_exists(stages, :empty)', { ':empty': {} });
    await this.updateRun(batchId, executionName, 'SET stages.#stage = :record', { ':record': record }, { '#stage': stage });
  }

  /**
   * Records the output checks' results on the run (a re-run of the stage writes the same results
   * again). Written before anything is published, so a CHECK_FAILED run shows why.
   */
  async recordChecks(batchId: string, executionName: string, stage: string, results: OutputCheckResult[], now = new Date()): Promise<void> {
    const record: ChecksRecord = { stage, at: now.toISOString(), results };
    await this.updateRun(batchId, executionName, 'SET checks = :checks', { ':checks': record });
  }

  /** Marks the run's failed `warn` checks alerted; false if they already were (the alert goes once per run). */
  async markChecksWarned(batchId: string, executionName: string, now = new Date()): Promise<boolean> {
    return updateIf(this.db, {
      TableName: this.table,
      Key: runKey(batchId, executionName),
      UpdateExpression: 'SET checks.warnAlertedAt = :now',
      ConditionExpression: 'attribute_exists(checks) AND attribute_not_exists(checks.warnAlertedAt)',
      ExpressionAttributeValues: { ':now': now.toISOString() },
    });
  }

  /**
   * Ends the batch's active run: SUCCEEDED remembers the inputs it read (so the same inputs do not
   * run again), FAILED and CHECK_FAILED keep them open for a retry.
   */
  async finishRun(
    batchId: string,
    executionName: string,
    status: 'SUCCEEDED' | 'FAILED' | 'CHECK_FAILED',
    error?: { error: string; cause: string },
    now = new Date(),
    options: { restartable?: boolean } = {},
  ): Promise<void> {
    const run = await this.getRun(batchId, executionName);
    if (!run) throw new Error(`no run ${executionName} of batch ${batchId}`);
    const lastRun = {
      executionName,
      fingerprint: run.fingerprint,
      status,
      finishedAt: now.toISOString(),
      ...(error ? { error: `${error.error}: ${error.cause}` } : {}),
      ...(run.codeHash ? { codeHash: run.codeHash } : {}),
      ...(run.ranWithout ? { ranWithout: run.ranWithout } : {}),
    };
    // the indexes follow the status: still open when it failed, off the open index when it succeeded
    const index = indexUpdate(batchId, status);
    // a run claimed before code hashes has none: its success leaves the batch's code unknown (not stale)
    // firstSucceededAt: set by the first success only (the freshness view's deadline outcome), idempotent
    const succeeded =
      status === 'SUCCEEDED'
        ? `, lastSucceededFingerprint = :fp, firstSucceededAt = if_not_exists(firstSucceededAt, :now)${run.codeHash ? ', lastSucceededCodeHash = :code' : ''}`
        : '';
    const forget = status === 'SUCCEEDED' && !run.codeHash ? ['lastSucceededCodeHash'] : [];
    // a run that failed on infrastructure (not on its own error) is listed for the reconciler to restart
    const restart = options.restartable ? ', duePk = :restart, dueAt = :now' : '';
    // not applied: already finished (a retried task), the batch moved on
    await updateIf(this.db, {
      TableName: this.table,
      Key: batchKey(batchId),
      UpdateExpression: `SET lastRun = :last, #status = :status, updatedAt = :now${succeeded}${restart}, ${index.set.join(', ')} REMOVE ${[
        'activeRun',
        ...(restart ? [] : ['duePk', 'dueAt']),
        ...forget,
        ...index.remove,
      ].join(', ')}`,
      ConditionExpression: 'activeRun.executionName = :name',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: {
        ':last': lastRun,
        ':status': status,
        ':now': lastRun.finishedAt,
        ':name': executionName,
        ...(succeeded ? { ':fp': run.fingerprint } : {}),
        ...(succeeded && run.codeHash ? { ':code': run.codeHash } : {}),
        ...(restart ? { ':restart': RESTART } : {}),
        ...index.values,
      },
    });
    await this.updateRun(
      batchId,
      executionName,
      `SET #status = :status, finishedAt = :now, expiresAt = :exp${error ? ', #error = :error' : ''}`,
      { ':status': status, ':now': lastRun.finishedAt, ':exp': expiresAt(now), ...(error ? { ':error': error } : {}) },
      { '#status': 'status', ...(error ? { '#error': 'error' } : {}) },
    );
  }

  private async updateRun(
    batchId: string,
    executionName: string,
    expression: string,
    values: Record<string, unknown>,
    names?: Record<string, string>,
  ): Promise<void> {
    await this.db.send(
      new UpdateCommand({
        TableName: this.table,
        Key: runKey(batchId, executionName),
        UpdateExpression: expression,
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: values,
        ...(names ? { ExpressionAttributeNames: names } : {}),
      }),
    );
  }

  /** Every ARC flip, with its reason: the audit trail of failovers (pk FAILOVER, newest last). */
  async recordFailover(flip: {
    from: string;
    to: string;
    at: string;
    reason: string;
    endpoint: string;
    confirmed: boolean;
    execution: string;
    batchId: string;
  }): Promise<void> {
    await this.db.send(
      new PutCommand({
        TableName: this.table,
        Item: { pk: 'FAILOVER', sk: `${flip.at}#${flip.from}->${flip.to}`, ...flip, expiresAt: expiresAt(new Date(flip.at)) },
      }),
    );
  }

  async listFailovers(): Promise<Array<{ from: string; to: string; at: string; reason: string; execution: string; confirmed: boolean }>> {
    const out = await this.db.send(
      new QueryCommand({ TableName: this.table, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': 'FAILOVER' }, ConsistentRead: true }),
    );
    return (out.Items ?? []) as never;
  }

  /** Every run of one batch, oldest claim first: one Query on the batch's partition. */
  async runsOf(batchId: string): Promise<RunItem[]> {
    const runs = (await this.queryBatchPartition(batchId, 'RUN#')) as RunItem[];
    return runs.sort((a, b) => a.claimedAt.localeCompare(b.claimedAt));
  }

  /**
   * Records an operator's action on a batch (the console's retry, replay): who, what, when and how
   * it ended. An audit entry of its own beside the batch (sk ACTION#<at>#<id>): the batch item is
   * not touched, so an action never races the resolver's conditional writes.
   */
  async recordAction(batchId: string, action: Omit<ActionRecord, 'pk' | 'sk' | 'batchId'>): Promise<ActionRecord> {
    const item: ActionRecord = { pk: batchKey(batchId).pk, sk: `ACTION#${action.at}#${action.id}`, batchId, ...action };
    await this.db.send(new PutCommand({ TableName: this.table, Item: { ...item, expiresAt: expiresAt(new Date(action.at)) } }));
    return item;
  }

  /** A batch's recorded actions, oldest first. */
  async actionsOf(batchId: string): Promise<ActionRecord[]> {
    return (await this.queryBatchPartition(batchId, 'ACTION#')) as ActionRecord[];
  }

  /** The reconciler's last pass as it recorded it: until when it looked, and its report. */
  async reconcilerState(): Promise<{ settledUntil: string; lastReport: Record<string, unknown> } | undefined> {
    const { Item } = await this.db.send(new GetCommand({ TableName: this.table, Key: RECONCILER_KEY, ConsistentRead: true }));
    return Item ? { settledUntil: Item.settledUntil as string, lastReport: (Item.lastReport ?? {}) as Record<string, unknown> } : undefined;
  }

  /**
   * One page of a job's batches from an index, in sort-key order (`<business date>#<batch id>`,
   * batch-index.ts): the grid's (every batch of the job) or, with `open`, the open index's batches
   * in that status. `from` and `to` bound the sort key (inclusive; a date alone bounds whole days).
   * `status` keeps only batches in it, as a filter: a page may then hold fewer than `limit`.
   */
  async indexedBatches(query: IndexedBatchQuery): Promise<{ batches: BatchItem[]; next?: Record<string, unknown> }> {
    const [pk, sk] = query.open ? ['openPk', 'openSk'] : ['gridPk', 'gridSk'];
    const bounds = [query.from !== undefined ? `${sk} >= :from` : '', query.to !== undefined ? `${sk} <= :to` : ''].filter(Boolean);
    const range = bounds.length === 2 ? ` AND ${sk} BETWEEN :from AND :to` : bounds.length === 1 ? ` AND ${bounds[0]}` : '';
    const out = await this.db.send(
      new QueryCommand({
        TableName: this.table,
        IndexName: query.open ? OPEN_INDEX : GRID_INDEX,
        KeyConditionExpression: `${pk} = :pk${range}`,
        ...(query.status ? { FilterExpression: '#status = :status', ExpressionAttributeNames: { '#status': 'status' } } : {}),
        ExpressionAttributeValues: {
          ':pk': query.open ? openPartition(query.job, query.open) : gridPartition(query.job),
          ...(query.from !== undefined ? { ':from': query.from } : {}),
          ...(query.to !== undefined ? { ':to': query.to.includes('#') ? query.to : `${query.to}#${END_OF_DAY}` } : {}),
          ...(query.status ? { ':status': query.status } : {}),
        },
        ...(query.descending ? { ScanIndexForward: false } : {}),
        ...(query.limit ? { Limit: query.limit } : {}),
        ...(query.next ? { ExclusiveStartKey: query.next } : {}),
      }),
    );
    return { batches: (out.Items ?? []) as BatchItem[], ...(out.LastEvaluatedKey ? { next: out.LastEvaluatedKey } : {}) };
  }

  /** Every batch `indexedBatches` finds (all its pages). */
  async allIndexedBatches(query: Omit<IndexedBatchQuery, 'limit' | 'next'>): Promise<BatchItem[]> {
    const batches: BatchItem[] = [];
    let next: Record<string, unknown> | undefined;
    do {
      const page = await this.indexedBatches({ ...query, ...(next ? { next } : {}) });
      batches.push(...page.batches);
      next = page.next;
    } while (next);
    return batches;
  }

  /**
   * A job's batches of the business dates `from` to `to` (inclusive) from the grid index, each read
   * with only its id, status, first success and last succeeded fingerprint: the freshness view's
   * one paged Query per job, whatever the number of batches a day.
   */
  async firstSuccesses(job: string, from: string, to: string): Promise<BatchSuccess[]> {
    const items: BatchSuccess[] = [];
    const pages = paginateQuery(
      { client: this.db },
      {
        TableName: this.table,
        IndexName: GRID_INDEX,
        KeyConditionExpression: 'gridPk = :pk AND gridSk BETWEEN :from AND :to',
        ProjectionExpression: 'batchId, #status, firstSucceededAt, lastSucceededFingerprint',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':pk': gridPartition(job), ':from': from, ':to': `${to}#${END_OF_DAY}` },
      },
    );
    for await (const page of pages) items.push(...((page.Items ?? []) as BatchSuccess[]));
    return items;
  }

  /**
   * A one-off after an upgrade: writes the index keys (batch-index.ts) on the batch items recorded
   * before the indexes existed, which no Query finds until then (every later write of a batch sets
   * them too). A maintenance Scan, never a console read. Each update holds only while the batch's
   * status is the one read, so a batch the pipeline moves meanwhile keeps what that write set; a
   * succeeded batch whose last run ran at its cut-off gets its `ranWithout` from the run. Idempotent:
   * returns how many batches it indexed (0 the second time).
   */
  async indexEarlierBatches(): Promise<number> {
    let indexed = 0;
    const pages = paginateScan(
      { client: this.db },
      {
        TableName: this.table,
        FilterExpression: 'sk = :batch AND attribute_not_exists(gridPk)',
        ExpressionAttributeValues: { ':batch': 'BATCH' },
      },
    );
    for await (const page of pages) {
      for (const batch of (page.Items ?? []) as BatchItem[]) {
        const index = indexUpdate(batch.batchId, batch.status);
        const run = batch.status === 'SUCCEEDED' && batch.lastRun ? await this.getRun(batch.batchId, batch.lastRun.executionName) : undefined;
        const cutoff = run?.ranWithout ? ', lastRun.ranWithout = :without' : '';
        const done = await updateIf(this.db, {
          TableName: this.table,
          Key: batchKey(batch.batchId),
          UpdateExpression: `SET ${index.set.join(', ')}${cutoff}${index.remove.length > 0 ? ` REMOVE ${index.remove.join(', ')}` : ''}`,
          ConditionExpression: '#status = :seen AND attribute_not_exists(gridPk)',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':seen': batch.status, ...index.values, ...(cutoff ? { ':without': run!.ranWithout } : {}) },
        });
        if (done) indexed += 1;
      }
    }
    return indexed;
  }

  /** The items of a batch's partition whose sort key starts with `prefix`, in sort-key order. */
  private async queryBatchPartition(batchId: string, prefix: string): Promise<unknown[]> {
    const items: Record<string, unknown>[] = [];
    const pages = paginateQuery(
      { client: this.db },
      {
        TableName: this.table,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: { ':pk': batchKey(batchId).pk, ':prefix': prefix },
        ConsistentRead: true,
      },
    );
    for await (const page of pages) items.push(...(page.Items ?? []));
    return items;
  }

  async listAll(): Promise<{ batches: BatchItem[]; runs: RunItem[] }> {
    const batches: BatchItem[] = [];
    const runs: RunItem[] = [];
    for await (const page of paginateScan({ client: this.db }, { TableName: this.table, ConsistentRead: true })) {
      for (const item of page.Items ?? []) {
        if (item.sk === 'BATCH') batches.push(item as BatchItem);
        else if (String(item.sk).startsWith('RUN#')) runs.push(item as RunItem);
      }
    }
    batches.sort((a, b) => a.batchId.localeCompare(b.batchId));
    runs.sort((a, b) => a.batchId.localeCompare(b.batchId) || a.claimedAt.localeCompare(b.claimedAt));
    return { batches, runs };
  }
}
