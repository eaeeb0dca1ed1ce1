import type { Pipeline } from '../../shared/core/config/load-config';
import type { JobConfig } from '../../shared/core/config/types';
import { batchId as batchIdOf, type BatchRef } from '../../shared/core/runs/batches';
import { cutoffAsDeadline, datesPastDeadline, deadlineOf, expectedBatches } from '../../shared/core/runs/deadlines';
import type { RunItem } from '../../shared/core/runs/job-run-store';
import type { IndexedFile } from '../../shared/core/state/file-state-store';
import type { Target } from '../targets';

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

/** `work` over `items`, at most `limit` at once, results in order. */
async function pooled<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await work(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/** A job's batches whose deadline fell in the last `days` days, each met, late or missed (a Query of its runs each). */
async function jobFreshness(where: Pick<Target, 'runs'>, pipeline: Pipeline, job: JobConfig, now: Date, days: number): Promise<JobFreshness> {
  const base = { job: job.name, batches: [], met: 0, late: 0, missed: 0 };
  const freshness = job.freshness ?? (job.cutoff ? cutoffAsDeadline(job.cutoff) : undefined);
  if (!freshness) return { ...base, noDeadline: true };
  const expected = datesPastDeadline(freshness, now, days).flatMap(({ date }) =>
    expectedBatches(pipeline, job, date).map((batch) => ({ batch, deadline: deadlineOf(freshness, date) })),
  );
  const notEnumerable = job.batchKey.some((k) => k !== job.dateField && (pipeline.listed.get(job.name)?.[k]?.length ?? 0) === 0);
  const batches = await pooled(expected, PARALLEL_READS, async ({ batch, deadline }): Promise<BatchDeadline> => {
    const id = batchIdOf(batch, job);
    return { batch, batchId: id, deadline: deadline.toISOString(), ...deadlineOutcome(await where.runs.runsOf(id), deadline) };
  });
  batches.sort((a, b) => b.deadline.localeCompare(a.deadline) || a.batchId.localeCompare(b.batchId));
  const count = (o: DeadlineOutcome) => batches.filter((b) => b.outcome === o).length;
  return { ...base, ...(notEnumerable ? { notEnumerable } : {}), batches, met: count('met'), late: count('late'), missed: count('missed') };
}

/**
 * The freshness and quality view's data, from indexed reads only: per job, its batches due in the
 * last `days` days (named from the configuration, a Query of each one's runs); per dataset, its
 * file versions of each data date in the window (a Query of gsi1, `DS#<dataset>#<date>`, which
 * projects the row counts) and their rejected-row rate over the last day and the whole window.
 */
export async function qualityData(
  where: Pick<Target, 'runs' | 'files'>,
  pipeline: Pipeline,
  now = new Date(),
  days = DEFAULT_QUALITY_DAYS,
): Promise<QualityData> {
  const week = datesBack(now, days);
  const day = datesBack(now, 1);
  const jobs = await pooled(pipeline.config.jobs, 2, (job) => jobFreshness(where, pipeline, job, now, days));
  const reads = pipeline.config.datasets.flatMap((d) => week.map((date) => ({ dataset: d.name, date })));
  const files = await pooled(reads, PARALLEL_READS, ({ dataset, date }) => where.files.filesOf(dataset, date));
  const datasets = pipeline.config.datasets.map((d) => {
    const of = (dates: string[]) => reads.flatMap((r, i) => (r.dataset === d.name && dates.includes(r.date) ? files[i]! : []));
    return { dataset: d.name, day: rejectRate(of(day)), week: rejectRate(of(week)) };
  });
  return { days, window: { day, week }, jobs, datasets };
}
