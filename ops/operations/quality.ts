import type { Pipeline } from '../../shared/core/config/load-config';
import type { JobConfig } from '../../shared/core/config/types';
import { batchId as batchIdOf, type BatchRef } from '../../shared/core/runs/batches';
import { cutoffAsDeadline, datesPastDeadline, expectedBatches } from '../../shared/core/runs/deadlines';
import type { BatchSuccess, RunItem } from '../../shared/core/runs/job-run-store';
import { type IndexedFile, OPEN_SHARDS, settledPartition } from '../../shared/core/state/file-state-store';
import { BatchGetCommand, type BatchGetCommandOutput, paginateQuery, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import type { Target } from '../targets';
import { pooled } from './pooled';

/** A batch against its deadline: done by it, done after it, or not done (yet). */
export type DeadlineOutcome = 'met' | 'late' | 'missed';

export interface BatchDeadline {
  batch: BatchRef;
  batchId: string;
  deadline: string;
  outcome: DeadlineOutcome;
  /** when its first successful run finished */
  doneAt?: string;
}

export interface JobFreshness {
  job: string;
  /** the job has no freshness deadline (nor a cut-off): nothing to meet */
  noDeadline?: boolean;
  /** a batch key field has no listed values: the expected batches cannot be named */
  notEnumerable?: boolean;
  batches: BatchDeadline[];
  met: number;
  late: number;
  missed: number;
}

export interface RejectRate {
  /** file versions counted (those with row counts: validated) */
  versions: number;
  /** versions rejected whole (REJECTED): their rows are not counted */
  filesRejected: number;
  rowsIn: number;
  rowsRejected: number;
  /** rowsRejected / rowsIn, undefined when no row came in */
  rate?: number;
}

export interface DatasetQuality {
  dataset: string;
  /** by window: the last day, the last `days` days */
  day: RejectRate;
  week: RejectRate;
}

export interface QualityData {
  days: number;
  /** the data dates the rejected-row windows cover */
  window: { day: string[]; week: string[] };
  /**
   * when it was read: at this load; the rejected-row figures kept up to date since their oldest
   * full read (`ratesSince`, WindowRates); the batch items of the earlier dates kept since `batchesSince` (KeptDays)
   */
  read: { at: string; ratesSince: string; batchesSince: string };
  jobs: JobFreshness[];
  datasets: DatasetQuality[];
}

export const DEFAULT_QUALITY_DAYS = 7;
export const MAX_QUALITY_DAYS = 31;
/** Reads in flight at once: DynamoDB Queries of one page are small, the table's capacity is shared with the pipeline. */
const PARALLEL_READS = 8;

/** A batch's outcome against its deadline, from its runs (oldest first): its first success, and when. */
export function deadlineOutcome(runs: Array<Pick<RunItem, 'status' | 'finishedAt'>>, deadline: Date): { outcome: DeadlineOutcome; doneAt?: string } {
  const done = runs
    .filter((r) => r.status === 'SUCCEEDED' && r.finishedAt)
    .map((r) => r.finishedAt!)
    .sort()[0];
  if (!done) return { outcome: 'missed' };
  return { outcome: Date.parse(done) <= deadline.getTime() ? 'met' : 'late', doneAt: done };
}

/**
 * A batch's outcome from its batch item alone (the grid index): its first success when recorded,
 * missed when it never succeeded; undefined when it succeeded under a landfall that did not record
 * when first (its runs must tell).
 */
export function outcomeFromBatch(item: BatchSuccess | undefined, deadline: Date): { outcome: DeadlineOutcome; doneAt?: string } | undefined {
  if (item?.firstSucceededAt) return { outcome: Date.parse(item.firstSucceededAt) <= deadline.getTime() ? 'met' : 'late', doneAt: item.firstSucceededAt };
  if (!item?.lastSucceededFingerprint) return { outcome: 'missed' };
  return undefined;
}

/** The rejected-row rate of some file versions: rows rejected over rows in, of the versions validated. */
export function rejectRate(files: Array<Pick<IndexedFile, 'state' | 'rows'>>): RejectRate {
  let versions = 0;
  let filesRejected = 0;
  let rowsIn = 0;
  let rowsRejected = 0;
  for (const f of files) {
    if (f.state === 'REJECTED') filesRejected += 1;
    if (!f.rows) continue;
    versions += 1;
    rowsIn += f.rows.in;
    rowsRejected += f.rows.rejected;
  }
  return { versions, filesRejected, rowsIn, rowsRejected, ...(rowsIn > 0 ? { rate: rowsRejected / rowsIn } : {}) };
}

/** The UTC dates from `days` days before `now` to now's, oldest first. */
export function datesBack(now: Date, days: number): string[] {
  const out: string[] = [];
  for (let d = days; d >= 0; d -= 1) out.push(new Date(now.getTime() - d * 86_400_000).toISOString().slice(0, 10));
  return out;
}

/** The sum of rejected-row rates (of disjoint sets of versions). */
export function addRates(rates: readonly RejectRate[]): RejectRate {
  const sum = (pick: (r: RejectRate) => number) => rates.reduce((n, r) => n + pick(r), 0);
  const rowsIn = sum((r) => r.rowsIn);
  const rowsRejected = sum((r) => r.rowsRejected);
  return {
    versions: sum((r) => r.versions),
    filesRejected: sum((r) => r.filesRejected),
    rowsIn,
    rowsRejected,
    ...(rowsIn > 0 ? { rate: rowsRejected / rowsIn } : {}),
  };
}

/**
 * Per-day reads kept by a long-lived reader (the console) between page loads, like the overview's
 * SettledHours (the freshness view's batch items): a past date's rarely change (a batch done late, a
 * re-run), so a read takes the
 * `recent` dates afresh and the others from here, re-reading at most `refreshPerRead` of them (read
 * longest ago) once they are `maxAgeMs` old. What no page asked for in `forgetAfterMs` is dropped.
 */
export class KeptDays<T> {
  private readonly kept = new Map<string, { at: number; usedAt: number; value: T }>();
  constructor(
    readonly maxAgeMs = 10 * 60_000,
    readonly refreshPerRead = 1,
    readonly forgetAfterMs = 3_600_000,
  ) {}

  get size(): number {
    return this.kept.size;
  }

  /**
   * The value of each key: read now (`read`) when recent, not kept, or among the stalest past their
   * age; else the kept one. Also when the oldest value used was read (epoch ms).
   */
  async values(
    keys: ReadonlyArray<{ key: string; recent: boolean }>,
    read: (key: string) => Promise<T>,
    now: number,
    parallel = PARALLEL_READS,
  ): Promise<{ values: T[]; oldestAt: number }> {
    const again = new Set(
      keys
        .filter((k) => !k.recent && this.kept.has(k.key) && now - this.kept.get(k.key)!.at >= this.maxAgeMs)
        .sort((a, b) => this.kept.get(a.key)!.at - this.kept.get(b.key)!.at)
        .slice(0, this.refreshPerRead)
        .map((k) => k.key),
    );
    let oldestAt = now;
    const values = await pooled(keys, parallel, async ({ key, recent }) => {
      const held = this.kept.get(key);
      if (held && !recent && !again.has(key)) {
        held.usedAt = now;
        oldestAt = Math.min(oldestAt, held.at);
        return held.value;
      }
      const value = await read(key);
      this.kept.set(key, { at: now, usedAt: now, value });
      return value;
    });
    for (const [key, held] of this.kept) if (now - held.usedAt >= this.forgetAfterMs) this.kept.delete(key);
    return { values, oldestAt };
  }
}

/** A file version's part of its data date's rejected-row figures. */
export type VersionRows = Pick<IndexedFile, 'state' | 'rows'>;

/** The reads WindowRates makes (a Target's: readsOf). */
export interface RateReads {
  /** every version of a gsi1 partition (`DS#<dataset>#<date>`), by id (its table key) */
  partition(gsi1pk: string): Promise<Array<[string, VersionRows]>>;
  /** the versions whose state changed from `from` on (ISO), each with its gsi1 partition now and its rows */
  changedSince(from: string, to: string): Promise<Array<{ id: string; gsi1pk?: string; rows: VersionRows }>>;
}

type Projected = { pk: string; sk: string; gsi1pk?: string; state: IndexedFile['state']; rows?: { in?: number; rejected?: number } };
const idOf = (item: Pick<Projected, 'pk' | 'sk'>) => `${item.pk}\n${item.sk}`;
const rowsOf = (item: Projected): VersionRows => ({
  state: item.state,
  ...(item.rows ? { rows: { in: item.rows.in ?? 0, out: 0, rejected: item.rows.rejected ?? 0, junk: 0 } } : {}),
});
const ROWS_PROJECTION = { expression: '#state, #rows.#in, #rows.rejected', names: { '#state': 'state', '#rows': 'rows', '#in': 'in' } };

/**
 * The rejected-row figures of the window's data dates, kept by a long-lived reader (the console)
 * between page loads and kept exact: each (dataset, date) partition of gsi1 is read in full once,
 * then each load applies only the versions whose state changed since the last one (the work index,
 * a Query per hour and open shard from then, `marginMs` earlier for writes still landing; their rows
 * by BatchGetItem): a page load costs what changed, not the window's files. A partition is read in
 * full again once `fullReadAfterMs` old (one a load), and everything after `forgetAfterMs` without
 * a load (what changed meanwhile may be more than a load should read).
 */
export class WindowRates {
  private readonly partitions = new Map<string, { readAt: number; usedAt: number; versions: Map<string, VersionRows> }>();
  /** changes from this instant (epoch ms) on are not applied yet */
  private changesFrom?: number;
  constructor(
    readonly marginMs = 120_000,
    readonly fullReadAfterMs = 6 * 3_600_000,
    readonly forgetAfterMs = 3_600_000,
  ) {}

  get kept(): number {
    return this.partitions.size;
  }

  /** The figures of each gsi1 partition, and when the oldest of them was read in full (epoch ms). */
  async rates(partitions: readonly string[], reads: RateReads, now: number): Promise<{ rates: RejectRate[]; readSince: number }> {
    if (this.changesFrom !== undefined && now - this.changesFrom >= this.forgetAfterMs) {
      this.partitions.clear();
      this.changesFrom = undefined;
    }
    if (this.changesFrom !== undefined && this.partitions.size > 0) {
      const changed = await reads.changedSince(new Date(this.changesFrom - this.marginMs).toISOString(), new Date(now).toISOString());
      for (const c of changed) {
        for (const kept of this.partitions.values()) kept.versions.delete(c.id);
        if (c.gsi1pk) this.partitions.get(c.gsi1pk)?.versions.set(c.id, c.rows);
      }
    }
    this.changesFrom = now;
    const stale = partitions
      .filter((pk) => this.partitions.has(pk) && now - this.partitions.get(pk)!.readAt >= this.fullReadAfterMs)
      .sort((x, y) => this.partitions.get(x)!.readAt - this.partitions.get(y)!.readAt)
      .slice(0, 1);
    const full = partitions.filter((pk) => !this.partitions.has(pk) || stale.includes(pk));
    await pooled(full, PARALLEL_READS, async (pk) => {
      this.partitions.set(pk, { readAt: now, usedAt: now, versions: new Map(await reads.partition(pk)) });
    });
    for (const pk of partitions) this.partitions.get(pk)!.usedAt = now;
    for (const [pk, kept] of this.partitions) if (now - kept.usedAt >= this.forgetAfterMs) this.partitions.delete(pk);
    return {
      rates: partitions.map((pk) => rejectRate([...this.partitions.get(pk)!.versions.values()])),
      readSince: Math.min(now, ...partitions.map((pk) => this.partitions.get(pk)!.readAt)),
    };
  }
}

/** The kept figures of each target the console serves (one per process and target). */
const keptRates = new WeakMap<object, WindowRates>();
const keptBatches = new WeakMap<object, KeptDays<BatchSuccess[]>>();
function keptOf<T>(map: WeakMap<object, T>, where: object, make: () => T): T {
  const kept = map.get(where) ?? make();
  map.set(where, kept);
  return kept;
}

/** The file-state table's gsi1 partition of a dataset's data date (file-state-store.ts sets it). */
export const datasetDatePartition = (dataset: string, date: string) => `DS#${dataset}#${date}`;

/** WindowRates' reads on a Target's file-state table: gsi1 and the work index (gsi2) with only what the figures need, BatchGetItem. */
export function rateReadsOf(where: Pick<Target, 'documents' | 'names'>): RateReads {
  const table = where.names.fileStateTable;
  const query = async (input: Omit<QueryCommandInput, 'TableName'>) => {
    const items: Projected[] = [];
    for await (const page of paginateQuery({ client: where.documents }, { TableName: table, ...input })) items.push(...((page.Items ?? []) as Projected[]));
    return items;
  };
  return {
    async partition(gsi1pk) {
      const items = await query({
        IndexName: 'gsi1',
        KeyConditionExpression: 'gsi1pk = :pk',
        ProjectionExpression: `pk, sk, ${ROWS_PROJECTION.expression}`,
        ExpressionAttributeNames: ROWS_PROJECTION.names,
        ExpressionAttributeValues: { ':pk': gsi1pk },
      });
      return items.map((i) => [idOf(i), rowsOf(i)]);
    },
    async changedSince(from, to) {
      // the work index: open versions by last update, settled ones by the hour they settled (sort keys start with the time)
      const workPartitions = [...Array.from({ length: OPEN_SHARDS }, (_, shard) => `OPEN#${shard}`)];
      for (let hour = Date.parse(`${from.slice(0, 13)}:00:00.000Z`); hour <= Date.parse(to); hour += 3_600_000)
        workPartitions.push(settledPartition(new Date(hour).toISOString()));
      const changed = (
        await pooled(workPartitions, PARALLEL_READS, (pk) =>
          query({
            IndexName: 'gsi2',
            KeyConditionExpression: 'workPk = :pk AND workSk >= :from',
            ProjectionExpression: 'pk, sk',
            ExpressionAttributeValues: { ':pk': pk, ':from': from },
          }),
        )
      ).flat();
      const keys = [...new Map(changed.map((c) => [idOf(c), { pk: c.pk, sk: c.sk }])).values()];
      const out: Array<{ id: string; gsi1pk?: string; rows: VersionRows }> = [];
      for (let i = 0; i < keys.length; i += 100) {
        let pending: Record<string, unknown>[] | undefined = keys.slice(i, i + 100);
        while (pending && pending.length > 0) {
          const got: BatchGetCommandOutput = await where.documents.send(
            new BatchGetCommand({
              RequestItems: {
                [table]: {
                  Keys: pending,
                  ProjectionExpression: `pk, sk, gsi1pk, ${ROWS_PROJECTION.expression}`,
                  ExpressionAttributeNames: ROWS_PROJECTION.names,
                },
              },
            }),
          );
          for (const item of (got.Responses?.[table] ?? []) as Projected[])
            out.push({ id: idOf(item), ...(item.gsi1pk ? { gsi1pk: item.gsi1pk } : {}), rows: rowsOf(item) });
          pending = got.UnprocessedKeys?.[table]?.Keys;
        }
      }
      return out;
    },
  };
}

/**
 * A job's batch items of one business date from the grid index (JobRunStore.firstSuccesses); a
 * batch that succeeded without its first success recorded (an older landfall's) gets it from its
 * runs (a Query, those batches only).
 */
export async function batchesOfDate(runs: Pick<Target['runs'], 'firstSuccesses' | 'runsOf'>, job: string, date: string): Promise<BatchSuccess[]> {
  const items = await runs.firstSuccesses(job, date, date);
  return pooled(items, PARALLEL_READS, async (item) => {
    if (item.firstSucceededAt || !item.lastSucceededFingerprint) return item;
    const done = deadlineOutcome(await runs.runsOf(item.batchId), new Date(0)).doneAt;
    return done ? { ...item, firstSucceededAt: done } : item;
  });
}

/**
 * A job's batches whose deadline fell in the last `days` days, each met, late or missed, from its
 * batch items of those dates (batchesOfDate): the last two dates read at each load, the earlier
 * ones kept between loads (KeptDays).
 */
async function jobFreshness(
  where: Pick<Target, 'runs'>,
  pipeline: Pipeline,
  job: JobConfig,
  now: Date,
  days: number,
  kept: KeptDays<BatchSuccess[]>,
): Promise<JobFreshness & { readSince: number }> {
  const base = { job: job.name, batches: [], met: 0, late: 0, missed: 0, readSince: now.getTime() };
  const freshness = job.freshness ?? (job.cutoff ? cutoffAsDeadline(job.cutoff) : undefined);
  if (!freshness) return { ...base, noDeadline: true };
  const due = datesPastDeadline(freshness, now, days);
  // one deadline per date (datesPastDeadline's): working it out per batch costs a time-zone lookup each (seconds for thousands)
  const expected = due.flatMap(({ date, deadline }) => expectedBatches(pipeline, job, date).map((batch) => ({ batch, deadline })));
  const notEnumerable = job.batchKey.some((k) => k !== job.dateField && (pipeline.listed.get(job.name)?.[k]?.length ?? 0) === 0);
  const dates = expected.length > 0 ? due.map((d) => d.date).sort() : [];
  const recent = dates.slice(-RECENT_DATES);
  const read = await kept.values(
    dates.map((date) => ({ key: `${job.name}\n${date}`, recent: recent.includes(date) })),
    (key) => batchesOfDate(where.runs, job.name, key.split('\n')[1]!),
    now.getTime(),
    2,
  );
  const byId = new Map(read.values.flat().map((i) => [i.batchId, i]));
  const batches = expected.map(({ batch, deadline }): BatchDeadline => {
    const id = batchIdOf(batch, job);
    // a batch that succeeded with no first success known (its runs expired) counts as its runs would: missed
    return { batch, batchId: id, deadline: deadline.toISOString(), ...(outcomeFromBatch(byId.get(id), deadline) ?? { outcome: 'missed' }) };
  });
  batches.sort((a, b) => b.deadline.localeCompare(a.deadline) || a.batchId.localeCompare(b.batchId));
  const count = (o: DeadlineOutcome) => batches.filter((b) => b.outcome === o).length;
  return {
    ...base,
    ...(notEnumerable ? { notEnumerable } : {}),
    batches,
    met: count('met'),
    late: count('late'),
    missed: count('missed'),
    readSince: read.oldestAt,
  };
}

/** Business dates whose batch items are read at every page load: the last two due (their batches still run). */
export const RECENT_DATES = 2;

export interface QualityOptions {
  /** the rejected-row figures kept between loads (default: one per target, for the process's life) */
  rates?: WindowRates;
  /** the batch items kept between loads (default: one per target) */
  batches?: KeptDays<BatchSuccess[]>;
  /** the file-state reads of the figures (default: the target's, rateReadsOf) */
  reads?: RateReads;
}

/**
 * The freshness and quality view's data, from indexed reads only: per job, its batches due in the
 * last `days` days (named from the configuration; their batch items from the grid index, a Query per
 * business date, the last two at each load, the earlier kept between loads); per dataset and data
 * date of the window, the rejected-row figures of its file versions (WindowRates: gsi1 read in full
 * once, then only the versions that changed), summed over the last day and the whole window.
 */
export async function qualityData(
  where: Pick<Target, 'runs' | 'documents' | 'names'>,
  pipeline: Pipeline,
  now = new Date(),
  days = DEFAULT_QUALITY_DAYS,
  options: QualityOptions = {},
): Promise<QualityData> {
  const week = datesBack(now, days);
  const day = datesBack(now, 1);
  const rates = options.rates ?? keptOf(keptRates, where, () => new WindowRates());
  const batches = options.batches ?? keptOf(keptBatches, where, () => new KeptDays<BatchSuccess[]>());
  const reads = pipeline.config.datasets.flatMap((d) => week.map((date) => ({ dataset: d.name, date })));
  const [jobs, figures] = await Promise.all([
    pooled(pipeline.config.jobs, 2, (job) => jobFreshness(where, pipeline, job, now, days, batches)),
    rates.rates(
      reads.map((r) => datasetDatePartition(r.dataset, r.date)),
      options.reads ?? rateReadsOf(where),
      now.getTime(),
    ),
  ]);
  const datasets = pipeline.config.datasets.map((d) => {
    const of = (dates: string[]) => addRates(reads.flatMap((r, i) => (r.dataset === d.name && dates.includes(r.date) ? [figures.rates[i]!] : [])));
    return { dataset: d.name, day: of(day), week: of(week) };
  });
  const iso = (ms: number) => new Date(ms).toISOString();
  return {
    days,
    window: { day, week },
    read: {
      at: now.toISOString(),
      ratesSince: iso(figures.readSince),
      batchesSince: iso(Math.min(now.getTime(), ...jobs.map((j) => j.readSince))),
    },
    jobs: jobs.map(({ readSince: _, ...j }) => j),
    datasets,
  };
}
