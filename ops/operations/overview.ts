import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import type { FileState } from '../../shared/core/state/file-state';
import { paginateQuery } from '@aws-sdk/lib-dynamodb';
import { settledPartition, type WorkItem } from '../../shared/core/state/file-state-store';
import type { Pipeline } from '../../shared/core/config/load-config';
import { OPEN_STATUSES } from '../../shared/core/runs/batch-index';
import type { BatchItem, RunItem } from '../../shared/core/runs/job-run-store';
import type { Target } from '../targets';

/** The failed-events queue as the Target exposes it (the reconciler's dependencies name it). */
export type QueueDepth = { messages: number; inFlight: number } | { unavailable: string };

export interface OverviewData {
  window: { from: string; to: string };
  /** file versions that settled in the window, by state (the work index, one Query per hour) */
  settled: Partial<Record<FileState, number>>;
  /** file versions in flight now, by state (the work index's open shards) */
  inFlight: Partial<Record<FileState, number>>;
  /** settled in the window in a state other than CONVERTED: newest first, at most `PROBLEMS_SHOWN` */
  problems: WorkItem[];
  /** every batch not SUCCEEDED (WAITING, RUNNING, FAILED, CHECK_FAILED), from the open index */
  unsettledBatches: BatchItem[];
  /** no longer read: a batch that ran at its cut-off says so on its lastRun (kept for callers that still pass it) */
  cutoffRuns?: RunItem[];
  failedEvents: QueueDepth;
  reconciler?: { settledUntil: string; lastReport: Record<string, unknown> };
  lastFailover?: { from: string; to: string; at: string; reason: string };
}

export const PROBLEMS_SHOWN = 20;
const DAY_MS = 86_400_000;

/**
 * Every open batch (WAITING, RUNNING, FAILED, CHECK_FAILED) of the pipeline's jobs: the open index
 * (gsi3, sparse: a batch leaves it when it succeeds), one Query per job and status, all in parallel.
 * Its cost grows with the batches not done, not with the history kept.
 */
export async function openBatches(where: Pick<Target, 'runs'>, pipeline: Pipeline): Promise<BatchItem[]> {
  const reads = pipeline.config.jobs.flatMap((job) => OPEN_STATUSES.map((open) => where.runs.allIndexedBatches({ job: job.name, open })));
  return (await Promise.all(reads)).flat().sort((a, b) => a.batchId.localeCompare(b.batchId));
}

/** The failed-events queue's depth, or why it is not known. */
export async function failedEventsDepth(where: Pick<Target, 'reconcileDeps'>): Promise<QueueDepth> {
  try {
    const deps = await where.reconcileDeps();
    if (!deps.sqs || !deps.failedEventsQueueUrl) return { unavailable: 'the target names no failed-events queue' };
    const out = await deps.sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: deps.failedEventsQueueUrl,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      }),
    );
    return {
      messages: Number(out.Attributes?.ApproximateNumberOfMessages ?? 0),
      inFlight: Number(out.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0),
    };
  } catch (err) {
    return { unavailable: `${(err as Error).name}: ${(err as Error).message}` };
  }
}

function countBy(items: WorkItem[]): Partial<Record<FileState, number>> {
  const counts: Partial<Record<FileState, number>> = {};
  for (const i of items) counts[i.state] = (counts[i.state] ?? 0) + 1;
  return counts;
}

/** What one hourly partition of the work index holds: counts by state, and the versions not CONVERTED. */
interface HourSummary {
  counts: Partial<Record<FileState, number>>;
  heldOut: WorkItem[];
}

/**
 * The summaries of whole past hours, kept by a long-lived reader (the console) between reads: a
 * past hour changes only when one of its versions moves on (a CONVERTED version later SUPERSEDED
 * leaves it), so each read re-reads only the `refreshPerRead` hours read longest ago, rather than a
 * whole day of versions each time a page refreshes, and none read less than `freshForMs` ago (pages
 * loaded in a burst read only the first and current hours). A past hour is at most 24 / refreshPerRead
 * reads, and `freshForMs`, old.
 */
export class SettledHours {
  private readonly hours = new Map<string, { at: number; summary: HourSummary }>();
  constructor(
    readonly refreshPerRead = 2,
    readonly freshForMs = 60_000,
  ) {}

  get(partition: string): HourSummary | undefined {
    return this.hours.get(partition)?.summary;
  }

  /** Of these kept hours, the ones to read again now: those read longest ago. */
  stalest(partitions: string[], now?: number): Set<string> {
    const kept = partitions
      .filter((p) => this.hours.has(p) && (now === undefined || now - this.hours.get(p)!.at >= this.freshForMs))
      .sort((a, b) => this.hours.get(a)!.at - this.hours.get(b)!.at);
    return new Set(kept.slice(0, this.refreshPerRead));
  }

  set(partition: string, summary: HourSummary, now: number): void {
    this.hours.set(partition, { at: now, summary });
    // the window moves on: forget hours no 24-hour window reaches any more
    for (const key of this.hours.keys()) if (key < settledPartition(new Date(now - 2 * DAY_MS).toISOString())) this.hours.delete(key);
  }
}

/** One hourly partition of the work index, read with only each version's state, key and time, narrowed to [from, to] when given. */
async function summarizeHour(where: Pick<Target, 'documents' | 'names'>, partition: string, bounds?: { from: string; to: string }): Promise<HourSummary> {
  const summary: HourSummary = { counts: {}, heldOut: [] };
  const pages = paginateQuery(
    { client: where.documents },
    {
      TableName: where.names.fileStateTable,
      IndexName: 'gsi2',
      KeyConditionExpression: `workPk = :pk${bounds ? ' AND workSk BETWEEN :from AND :to' : ''}`,
      ProjectionExpression: '#state, #key, versionId, updatedAt',
      ExpressionAttributeNames: { '#state': 'state', '#key': 'key' },
      ExpressionAttributeValues: { ':pk': partition, ...(bounds ? { ':from': bounds.from, ':to': `${bounds.to}~` } : {}) },
    },
  );
  for await (const page of pages) {
    for (const item of (page.Items ?? []) as WorkItem[]) {
      summary.counts[item.state] = (summary.counts[item.state] ?? 0) + 1;
      if (item.state !== 'CONVERTED') summary.heldOut.push(item);
    }
  }
  return summary;
}

/**
 * File versions settled between two instants, as counts by state and the versions not CONVERTED:
 * the work index's hourly partitions (as FileStateStore.settledBetween reads them). The first
 * (partial) hour and the current one are read each time; whole hours between them come from
 * `cache` when it holds them (but its stalest few, read again).
 */
export async function settledSummary(
  where: Pick<Target, 'documents' | 'names'>,
  from: string,
  to: string,
  cache?: SettledHours,
  now = Date.now(),
): Promise<HourSummary> {
  const total: HourSummary = { counts: {}, heldOut: [] };
  const first = Date.parse(`${from.slice(0, 13)}:00:00.000Z`);
  const last = Date.parse(`${to.slice(0, 13)}:00:00.000Z`);
  const partitions: Array<{ partition: string; whole: boolean }> = [];
  for (let hour = first; hour <= last; hour += 3_600_000)
    partitions.push({ partition: settledPartition(new Date(hour).toISOString()), whole: hour > first && hour < last });
  const again =
    cache?.stalest(
      partitions.filter((p) => p.whole).map((p) => p.partition),
      now,
    ) ?? new Set<string>();
  for (const { partition, whole } of partitions) {
    let summary = whole && !again.has(partition) ? cache?.get(partition) : undefined;
    if (!summary) {
      summary = await summarizeHour(where, partition, whole ? undefined : { from, to });
      if (whole) cache?.set(partition, summary, now);
    }
    for (const [state, n] of Object.entries(summary.counts) as Array<[FileState, number]>) total.counts[state] = (total.counts[state] ?? 0) + n;
    total.heldOut.push(...summary.heldOut);
  }
  return total;
}

/** What the overview shows: files of the last 24 h by state, batches not done, the queue, the reconciler, the last failover. */
export async function overviewData(where: Target, pipeline: Pipeline, now = new Date(), cache?: SettledHours): Promise<OverviewData> {
  const to = now.toISOString();
  const from = new Date(now.getTime() - DAY_MS).toISOString();
  const [settled, open, unsettled, failedEvents, reconciler, failovers] = await Promise.all([
    settledSummary(where, from, to, cache, now.getTime()),
    where.files.openSince(to),
    openBatches(where, pipeline),
    failedEventsDepth(where),
    where.runs.reconcilerState(),
    where.runs.listFailovers(),
  ]);
  const problems = settled.heldOut.sort((a, b) => b.updatedAt.localeCompare(a.updatedAt)).slice(0, PROBLEMS_SHOWN);
  const last = failovers.at(-1);
  return {
    window: { from, to },
    settled: settled.counts,
    inFlight: countBy(open),
    problems,
    unsettledBatches: unsettled,
    failedEvents,
    ...(reconciler ? { reconciler } : {}),
    ...(last ? { lastFailover: { from: last.from, to: last.to, at: last.at, reason: last.reason } } : {}),
  };
}
