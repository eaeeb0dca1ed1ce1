import { describe, expect, it } from 'vitest';
import { qualityView, rateText } from '../../ops/console/views/quality';
import { datesBack, deadlineOutcome, qualityData, rejectRate } from '../../ops/operations/quality';
import type { JobRunStore, RunItem } from '../../shared/core/runs/job-run-store';
import type { FileStateStore, IndexedFile } from '../../shared/core/state/file-state-store';
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

describe('the freshness and quality data', () => {
  it('reads each expected batch’s runs and each dataset’s days by index, and counts the outcomes', async () => {
    const pipeline = retailPipeline();
    const now = new Date('2026-08-03T12:00:00.000Z');
    const asked: string[] = [];
    // ON of 2026-08-01 done before its 18:00 Toronto deadline (22:00 UTC), QC after it, BC never
    const runsByBatch: Record<string, RunItem[]> = {
      'pos_daily_sales#province=ON#date=2026-08-01': [runItem(batchItem('ON', '2026-08-01', 'SUCCEEDED'), 'e1', { finishedAt: '2026-08-01T21:00:00.000Z' })],
      'pos_daily_sales#province=QC#date=2026-08-01': [runItem(batchItem('QC', '2026-08-01', 'SUCCEEDED'), 'e2', { finishedAt: '2026-08-02T01:00:00.000Z' })],
    };
    const runs = { runsOf: async (id: string) => runsByBatch[id] ?? [] } as unknown as JobRunStore;
    const files = {
      filesOf: async (dataset: string, date: string) => {
        asked.push(`${dataset}#${date}`);
        return dataset === 'pos' && date === '2026-08-03' ? [{ state: 'CONVERTED', rows: { in: 50, out: 45, rejected: 5, junk: 0 } }] : [];
      },
    } as unknown as FileStateStore;
    const data = await qualityData({ runs, files }, pipeline, now, 2);
    const pos = data.jobs.find((j) => j.job === 'pos_daily_sales')!;
    const day = pos.batches.filter((b) => b.batch.values.date === '2026-08-01');
    expect(Object.fromEntries(day.map((b) => [b.batch.values.province, b.outcome]))).toEqual({ ON: 'met', QC: 'late', BC: 'missed' });
    expect(data.jobs.find((j) => j.job === 'clickstream_daily')!.noDeadline).toBe(true);
    expect(asked).toHaveLength(7 * 3);
    const posRate = data.datasets.find((d) => d.dataset === 'pos')!;
    expect(posRate.day.rate).toBe(0.1);
    expect(posRate.week.rowsIn).toBe(50);
    const body = qualityView(data, pageContext({ now })).text;
    expect(body).toContain('<span class="st st-failed">missed</span>');
    expect(body).toContain('<a href="/batch?job=pos_daily_sales&amp;batch=province%3DBC%2Cdate%3D2026-08-01">');
  });
});
