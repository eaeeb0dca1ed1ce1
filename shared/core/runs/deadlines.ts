import type { Pipeline } from '../config/load-config';
import type { Cutoff, Freshness, JobConfig } from '../config/types';
import { addDays } from '../time/dates';
import { enumerableValues, type BatchRef } from './batches';

/**
 * The UTC instant of a local wall-clock time in an IANA zone (DST-aware, no library), as Temporal's
 * 'compatible' disambiguation has it: a time the clocks go back over is its first instant, and a
 * time the clocks skip is moved forward by the gap (02:30 on the morning DST starts is 03:30).
 */
export function zonedInstant(date: string, time: string, timeZone: string): Date {
  const wanted = Date.parse(`${date}T${time}:00Z`);
  // The zone's offsets a day either side give every candidate (no zone changes twice in a day); a
  // candidate is real when the zone's offset there reads it back as the wanted time.
  const withOffsetBefore = wanted - offsetMs(new Date(wanted - 86_400_000), timeZone);
  const withOffsetAfter = wanted - offsetMs(new Date(wanted + 86_400_000), timeZone);
  const real = [withOffsetBefore, withOffsetAfter].filter((t) => wanted - offsetMs(new Date(t), timeZone) === t);
  // None is real in a gap: the offset before it puts the time the gap's length later.
  return new Date(real.length > 0 ? Math.min(...real) : withOffsetBefore);
}

function offsetMs(at: Date, timeZone: string): number {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-CA', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    })
      .formatToParts(at)
      .map((p) => [p.type, p.value]),
  );
  const local = Date.parse(`${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}:${parts.second}Z`);
  return local - Math.floor(at.getTime() / 1000) * 1000;
}

/** A job's cut-off read as a deadline: the same local time of the business date (+ dayOffset). */
export function cutoffAsDeadline(cutoff: Cutoff): Freshness {
  return { deadline: cutoff.at, timeZone: cutoff.timeZone, ...(cutoff.dayOffset !== undefined ? { dayOffset: cutoff.dayOffset } : {}) };
}

/** When a batch of this business date is due. */
export function deadlineOf(freshness: Freshness, businessDate: string): Date {
  return zonedInstant(addDays(businessDate, freshness.dayOffset ?? 0), freshness.deadline, freshness.timeZone);
}

/**
 * The batches of a job expected for a business date: every combination of the other batch key
 * fields' listed values (keyFieldValues). A field with no listed values has no expected batches.
 */
export function expectedBatches(pipeline: Pipeline, job: JobConfig, businessDate: string): BatchRef[] {
  let partial: Array<Record<string, string>> = [{ [job.dateField]: businessDate }];
  for (const key of job.batchKey.filter((k) => k !== job.dateField)) {
    const listed = enumerableValues(pipeline, job, key);
    partial = partial.flatMap((p) => listed.map((v) => ({ ...p, [key]: v })));
  }
  return partial.map((values) => ({ job: job.name, values: Object.fromEntries(job.batchKey.map((k) => [k, values[k]!])) }));
}

/** Business dates whose deadline fell within the last `lookbackDays` days before `now`. */
export function datesPastDeadline(freshness: Freshness, now: Date, lookbackDays = 2): Array<{ date: string; deadline: Date }> {
  const today = now.toISOString().slice(0, 10);
  const out: Array<{ date: string; deadline: Date }> = [];
  for (let d = -(lookbackDays + (freshness.dayOffset ?? 0) + 1); d <= 1; d += 1) {
    const date = addDays(today, d);
    const deadline = deadlineOf(freshness, date);
    if (deadline.getTime() <= now.getTime() && now.getTime() - deadline.getTime() < lookbackDays * 86_400_000) out.push({ date, deadline });
  }
  return out;
}
