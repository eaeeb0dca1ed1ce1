import { describe, expect, it } from 'vitest';
import { LATE_ROWS_SHOWN, qualityView, rateText } from '../../ops/console/views/quality';
import {
  addRates,
  datesBack,
  deadlineOutcome,
  KeptDays,
  outcomeFromBatch,
  qualityData,
  type RateReads,
  rejectRate,
  type VersionRows,
  WindowRates,
} from '../../ops/operations/quality';
import type { BatchSuccess, JobRunStore, RunItem } from '../../shared/core/runs/job-run-store';
import type { IndexedFile } from '../../shared/core/state/file-state-store';
import { batchItem, pageContext, retailPipeline, runItem } from './console-fixtures';

const DEADLINE = new Date('2026-08-01T22:00:00.000Z');

describe('a batch against its deadline', () => {
  it('is met by a success before it, late after it, missed without one', () => {
    expect(
      deadlineOutcome(
        [
          { status: 'FAILED', finishedAt: '2026-08-01T20:00:00.000Z' },
          { status: 'SUCCEEDED', finishedAt: '2026-08-01T21:59:59.000Z' },
        ],
        DEADLINE,
      ),
    ).toEqual({
      outcome: 'met',
      doneAt: '2026-08-01T21:59:59.000Z',
    });
    expect(deadlineOutcome([{ status: 'SUCCEEDED', finishedAt: '2026-08-01T23:00:00.000Z' }], DEADLINE)).toEqual({
      outcome: 'late',
      doneAt: '2026-08-01T23:00:00.000Z',
    });
    expect(deadlineOutcome([{ status: 'FAILED', finishedAt: '2026-08-01T20:00:00.000Z' }], DEADLINE)).toEqual({ outcome: 'missed' });
    // a later re-run does not undo a deadline met by the first success
    expect(
      deadlineOutcome(
        [
          { status: 'SUCCEEDED', finishedAt: '2026-08-02T09:00:00.000Z' },
          { status: 'SUCCEEDED', finishedAt: '2026-08-01T21:00:00.000Z' },
        ],
        DEADLINE,
      ).outcome,
    ).toBe('met');
  });
});

describe('the rejected-row rate', () => {
  const file = (state: IndexedFile['state'], rows?: { in: number; rejected: number }): Pick<IndexedFile, 'state' | 'rows'> => ({
    state,
    ...(rows ? { rows: { in: rows.in, out: rows.in - rows.rejected, rejected: rows.rejected, junk: 0 } } : {}),
  });

  it('is rows rejected over rows in, whole-file rejects counted apart', () => {
    const r = rejectRate([file('CONVERTED', { in: 90, rejected: 0 }), file('CONVERTED', { in: 10, rejected: 4 }), file('REJECTED'), file('RECEIVED')]);
    expect(r).toEqual({ versions: 2, filesRejected: 1, rowsIn: 100, rowsRejected: 4, rate: 0.04 });
    expect(rejectRate([file('REJECTED')]).rate).toBeUndefined();
  });

  it('is shown as a percentage with its counts, a high one marked in words', () => {
    expect(rateText(rejectRate([file('CONVERTED', { in: 100, rejected: 4 })])).text).toContain('<strong>4.00 %</strong>');
    expect(rateText(rejectRate([file('CONVERTED', { in: 100, rejected: 40 })])).text).toContain('<span class="st st-failed">high</span>');
    expect(rateText(rejectRate([])).text).toContain('no rows');
  });

  it('covers the data dates of the window, oldest first', () => {
    expect(datesBack(new Date('2026-08-03T12:00:00.000Z'), 2)).toEqual(['2026-08-01', '2026-08-02', '2026-08-03']);
  });
});

describe('a batch against its deadline, from its batch item', () => {
  it('takes its first success when recorded, however late a later re-run', () => {
    const item = (over: Partial<BatchSuccess>): BatchSuccess => ({ batchId: 'b', status: 'SUCCEEDED', lastSucceededFingerprint: 'f', ...over });
    expect(outcomeFromBatch(item({ firstSucceededAt: '2026-08-01T21:00:00.000Z' }), DEADLINE)).toEqual({ outcome: 'met', doneAt: '2026-08-01T21:00:00.000Z' });
    expect(outcomeFromBatch(item({ firstSucceededAt: '2026-08-01T22:00:01.000Z' }), DEADLINE)?.outcome).toBe('late');
    // re-running (RUNNING again, or FAILED after) does not move the first success
    expect(outcomeFromBatch(item({ status: 'FAILED', firstSucceededAt: '2026-08-01T21:00:00.000Z' }), DEADLINE)?.outcome).toBe('met');
  });

  it('is missed when the batch never succeeded or has no item; unknown (its runs tell) when it succeeded unrecorded', () => {
    expect(outcomeFromBatch(undefined, DEADLINE)).toEqual({ outcome: 'missed' });
    expect(outcomeFromBatch({ batchId: 'b', status: 'FAILED' }, DEADLINE)).toEqual({ outcome: 'missed' });
    expect(outcomeFromBatch({ batchId: 'b', status: 'SUCCEEDED', lastSucceededFingerprint: 'f' }, DEADLINE)).toBeUndefined();
  });
});

describe('per-day figures kept between page loads', () => {
  const keys = (dates: string[], recent: string[]) => dates.map((d) => ({ key: d, recent: recent.includes(d) }));
  const reader = () => {
    const asked: string[] = [];
    let n = 0;
    const read = async (key: string) => {
      asked.push(key);
      n += 1;
      return `${key}@${n}`;
    };
    return { asked, read };
  };
  const dates = ['d1', 'd2', 'd3', 'd4'];

  it('reads everything once, then only the recent dates, the kept ones as read', async () => {
    const kept = new KeptDays<string>(60_000, 1);
    const first = reader();
    const one = await kept.values(keys(dates, ['d3', 'd4']), first.read, 1_000);
    expect(first.asked.sort()).toEqual(dates);
    expect(one.oldestAt).toBe(1_000);
    const second = reader();
    const two = await kept.values(keys(dates, ['d3', 'd4']), second.read, 31_000);
    expect(second.asked.sort()).toEqual(['d3', 'd4']);
    expect(two.values.slice(0, 2)).toEqual(one.values.slice(0, 2));
    expect(two.values[2]).not.toBe(one.values[2]);
    expect(two.oldestAt).toBe(1_000);
  });

  it('reads again the kept date read longest ago once it is past its age, one a load', async () => {
    const kept = new KeptDays<string>(60_000, 1);
    await kept.values(keys(['d1'], []), reader().read, 0);
    await kept.values(keys(['d1', 'd2'], []), reader().read, 10_000);
    const late = reader();
    const out = await kept.values(keys(['d1', 'd2'], []), late.read, 70_000);
    expect(late.asked).toEqual(['d1']);
    // d2, read at 10 s, is now the oldest figure shown
    expect(out.oldestAt).toBe(10_000);
    const next = reader();
    await kept.values(keys(['d1', 'd2'], []), next.read, 71_000);
    expect(next.asked).toEqual(['d2']);
  });

  it('forgets the figures no page asked for in a while', async () => {
    const kept = new KeptDays<string>(60_000, 1, 3_600_000);
    await kept.values(keys(['d1', 'd2'], []), reader().read, 0);
    await kept.values(keys(['d2'], []), reader().read, 3_600_000);
    expect(kept.size).toBe(1);
  });
});

describe('rejected-row figures summed over days', () => {
  it('adds counts and recomputes the rate', () => {
    const a = { versions: 2, filesRejected: 1, rowsIn: 100, rowsRejected: 4, rate: 0.04 };
    const b = { versions: 1, filesRejected: 0, rowsIn: 100, rowsRejected: 0, rate: 0 };
    expect(addRates([a, b])).toEqual({ versions: 3, filesRejected: 1, rowsIn: 200, rowsRejected: 4, rate: 0.02 });
    expect(addRates([]).rate).toBeUndefined();
  });
});

describe('the rejected-row figures of the window, kept exact between loads', () => {
  const converted = (rowsIn: number, rejected: number): VersionRows => ({ state: 'CONVERTED', rows: { in: rowsIn, out: 0, rejected, junk: 0 } });
  /** A file-state table as the reads see it: versions by partition, and the changes the work index would list. */
  function fakeReads(table: Record<string, Record<string, VersionRows>>) {
    const full: string[] = [];
    const since: string[] = [];
    let changes: Array<{ id: string; gsi1pk?: string; rows: VersionRows }> = [];
    const reads: RateReads = {
      partition: async (pk) => {
        full.push(pk);
        return Object.entries(table[pk] ?? {});
      },
      changedSince: async (from) => {
        since.push(from);
        const out = changes;
        changes = [];
        return out;
      },
    };
    return { reads, full, since, change: (c: typeof changes) => (changes = c) };
  }

  it('reads each partition in full once, then applies only what changed since the last load (a margin earlier)', async () => {
    const { reads, full, since, change } = fakeReads({ 'DS#pos#d1': { a: converted(100, 0) }, 'DS#pos#d2': { b: converted(100, 10) } });
    const rates = new WindowRates(120_000);
    const first = await rates.rates(['DS#pos#d1', 'DS#pos#d2'], reads, 1_000_000);
    expect(full).toEqual(['DS#pos#d1', 'DS#pos#d2']);
    expect(since).toEqual([]);
    expect(first.rates.map((r) => r.rowsRejected)).toEqual([0, 10]);
    // b is rejected whole now, c arrives on d1
    change([
      { id: 'b', gsi1pk: 'DS#pos#d2', rows: { state: 'REJECTED' } },
      { id: 'c', gsi1pk: 'DS#pos#d1', rows: converted(50, 5) },
    ]);
    const second = await rates.rates(['DS#pos#d1', 'DS#pos#d2'], reads, 1_030_000);
    expect(full).toHaveLength(2);
    expect(since).toEqual([new Date(1_000_000 - 120_000).toISOString()]);
    expect(second.rates[0]).toEqual({ versions: 2, filesRejected: 0, rowsIn: 150, rowsRejected: 5, rate: 5 / 150 });
    expect(second.rates[1]).toEqual({ versions: 0, filesRejected: 1, rowsIn: 0, rowsRejected: 0 });
    expect(second.readSince).toBe(1_000_000);
  });

  it('reads a partition in full again once old (one a load), and everything after a long pause', async () => {
    const { reads, full } = fakeReads({ 'DS#pos#d1': { a: converted(100, 1) }, 'DS#pos#d2': { b: converted(100, 2) } });
    const rates = new WindowRates(0, 600_000, 3_600_000);
    await rates.rates(['DS#pos#d1'], reads, 0);
    await rates.rates(['DS#pos#d1', 'DS#pos#d2'], reads, 100_000);
    full.length = 0;
    await rates.rates(['DS#pos#d1', 'DS#pos#d2'], reads, 700_000);
    expect(full).toEqual(['DS#pos#d1']);
    full.length = 0;
    await rates.rates(['DS#pos#d1', 'DS#pos#d2'], reads, 701_000);
    expect(full).toEqual(['DS#pos#d2']);
    full.length = 0;
    await rates.rates(['DS#pos#d1', 'DS#pos#d2'], reads, 701_000 + 3_600_000);
    expect(full.sort()).toEqual(['DS#pos#d1', 'DS#pos#d2']);
  });
});

describe('the freshness and quality data', () => {
  const pipeline = retailPipeline();
  const now = new Date('2026-08-03T12:00:00.000Z');
  const onDay = (province: string, over: Partial<BatchSuccess>): BatchSuccess => ({
    batchId: `pos_daily_sales#province=${province}#date=2026-08-01`,
    status: 'SUCCEEDED',
    lastSucceededFingerprint: 'f',
    ...over,
  });

  /** The store's reads as the job-runs table would answer them, counted. */
  function fakeRuns(items: BatchSuccess[], runsByBatch: Record<string, RunItem[]>) {
    const grid: string[] = [];
    const runsAsked: string[] = [];
    const runs = {
      firstSuccesses: async (job: string, from: string, to: string) => {
        grid.push(`${job} ${from}..${to}`);
        return items.filter((i) => i.batchId.startsWith(`${job}#`) && i.batchId.slice(-10) >= from && i.batchId.slice(-10) <= to);
      },
      runsOf: async (id: string) => {
        runsAsked.push(id);
        return runsByBatch[id] ?? [];
      },
    } as unknown as JobRunStore;
    return { runs, grid, runsAsked };
  }

  const posFiles: RateReads = {
    partition: async (pk) => (pk === 'DS#pos#2026-08-03' ? [['v1', { state: 'CONVERTED', rows: { in: 50, out: 45, rejected: 5, junk: 0 } }]] : []),
    changedSince: async () => [],
  };
  const where = (runs: JobRunStore) => ({ runs, documents: undefined as never, names: undefined as never });

  it('tells each batch from its item on the grid index, its runs read only when its first success is not recorded', async () => {
    // ON of 2026-08-01 done before its 18:00 Toronto deadline (22:00 UTC), then re-run after it; QC first done after it; BC never;
    // AB succeeded under an older landfall (no first success recorded): its runs tell, met
    const legacy = runItem(batchItem('AB', '2026-08-01', 'SUCCEEDED'), 'e9', { finishedAt: '2026-08-01T20:00:00.000Z' });
    const { runs, grid, runsAsked } = fakeRuns(
      [
        onDay('ON', { status: 'RUNNING', firstSucceededAt: '2026-08-01T21:00:00.000Z' }),
        onDay('QC', { firstSucceededAt: '2026-08-02T01:00:00.000Z' }),
        onDay('BC', { status: 'FAILED', lastSucceededFingerprint: undefined }),
        onDay('AB', {}),
      ],
      { [legacy.batchId]: [legacy] },
    );
    const withAb = retailPipeline();
    const listed = withAb.listed.get('pos_daily_sales')!;
    withAb.listed.set('pos_daily_sales', { ...listed, province: [...listed.province!, 'AB'] });
    const data = await qualityData(where(runs), withAb, now, 2, { reads: posFiles, rates: new WindowRates(), batches: new KeptDays() });
    const pos = data.jobs.find((j) => j.job === 'pos_daily_sales')!;
    // one Query per business date due in the window
    expect(grid.filter((g) => g.startsWith('pos_daily_sales ')).sort()).toEqual([
      'pos_daily_sales 2026-08-01..2026-08-01',
      'pos_daily_sales 2026-08-02..2026-08-02',
    ]);
    expect(runsAsked).toEqual([legacy.batchId]);
    const day = pos.batches.filter((b) => b.batch.values.date === '2026-08-01');
    expect(Object.fromEntries(day.map((b) => [b.batch.values.province, b.outcome]))).toEqual({ ON: 'met', QC: 'late', BC: 'missed', AB: 'met' });
    expect(day.find((b) => b.batch.values.province === 'AB')!.doneAt).toBe('2026-08-01T20:00:00.000Z');
    expect(data.jobs.find((j) => j.job === 'clickstream_daily')!.noDeadline).toBe(true);
    const posRate = data.datasets.find((d) => d.dataset === 'pos')!;
    expect(posRate.day.rate).toBe(0.1);
    expect(posRate.week.rowsIn).toBe(50);
    const body = qualityView(data, pageContext({ now })).text;
    expect(body).toContain('<span class="st st-failed">missed</span>');
    expect(body).toContain('<a href="/batch?job=pos_daily_sales&amp;batch=province%3DBC%2Cdate%3D2026-08-01">');
    expect(body).toContain('Read at this page load.');
  });

  it('reads the last two dates’ batches again at the next load, keeps the earlier ones, and says since when', async () => {
    const { runs, grid } = fakeRuns([], {});
    const batches = new KeptDays<BatchSuccess[]>();
    const rates = new WindowRates();
    // three days: 2026-07-31's deadline is in the window too
    await qualityData(where(runs), pipeline, now, 3, { reads: posFiles, rates, batches });
    expect(grid.filter((g) => g.startsWith('pos_daily_sales '))).toHaveLength(3);
    grid.length = 0;
    const later = new Date(now.getTime() + 30_000);
    const again = await qualityData(where(runs), pipeline, later, 3, { reads: posFiles, rates, batches });
    expect(grid.filter((g) => g.startsWith('pos_daily_sales ')).sort()).toEqual([
      'pos_daily_sales 2026-08-01..2026-08-01',
      'pos_daily_sales 2026-08-02..2026-08-02',
    ]);
    expect(again.read).toEqual({ at: later.toISOString(), ratesSince: now.toISOString(), batchesSince: now.toISOString() });
    const body = qualityView(again, pageContext({ now: later })).text;
    expect(body).toContain('The last two dates read at this page load; the earlier ones kept between loads, read <time datetime="2026-08-03T12:00:00.000Z"');
    expect(body).toContain('the files that changed since applied at this page load');
  });
});

describe('the freshness view at scale', () => {
  it('lists the batches not met due most recently, and says how many more the grid shows', () => {
    const now = new Date('2026-08-03T12:00:00.000Z');
    const batches = Array.from({ length: LATE_ROWS_SHOWN + 10 }, (_, i) => {
      const province = `P${String(i).padStart(3, '0')}`;
      return {
        batch: { job: 'pos_daily_sales', values: { province, date: '2026-08-01' } },
        batchId: `pos_daily_sales#province=${province}#date=2026-08-01`,
        deadline: '2026-08-01T22:00:00.000Z',
        outcome: 'missed' as const,
      };
    });
    const at = now.toISOString();
    const body = qualityView(
      {
        days: 2,
        window: { day: ['2026-08-02', '2026-08-03'], week: ['2026-08-01', '2026-08-02', '2026-08-03'] },
        read: { at, ratesSince: at, batchesSince: at },
        jobs: [{ job: 'pos_daily_sales', batches, met: 0, late: 0, missed: batches.length }],
        datasets: [],
      },
      pageContext({ now }),
    ).text;
    expect(body.match(/<tr><td><a href="\/batch\?/g)).toHaveLength(LATE_ROWS_SHOWN);
    expect(body).toContain(`The ${LATE_ROWS_SHOWN} due most recently of ${LATE_ROWS_SHOWN + 10} not met`);
    expect(body).toContain('<strong>60</strong> of 60 batch(es) due');
  });
});
