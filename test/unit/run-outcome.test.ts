import { describe, expect, it } from 'vitest';
import type { BatchItem } from '../../shared/core/runs/job-run-store';
import { EXIT_BATCH_FAILED, EXIT_BATCH_INCOMPLETE, runOutcome } from '../../ops/reports/run-outcome';

function batch(status: BatchItem['status'], extra: Partial<BatchItem> = {}): BatchItem {
  return {
    pk: `BATCH#${status}`,
    sk: 'BATCH',
    job: 'daily_sales',
    batchId: `daily_sales#ON#2026-12-01#${status}`,
    values: { province: 'ON', date: '2026-12-01' },
    status,
    waitingFor: [],
    updatedAt: '2026-12-01T00:00:00Z',
    ...extra,
  };
}

describe('runOutcome', () => {
  it('is 0 when every batch succeeded (and when there is none)', () => {
    expect(runOutcome([batch('SUCCEEDED'), batch('SUCCEEDED')])).toEqual({ exitCode: 0, lines: [] });
    expect(runOutcome([]).exitCode).toBe(0);
  });

  const storeFile = { dataset: 'pos', fields: { province: 'ON', store: 'ON01', date: '2026-12-01' } };
  const sources = (job: string) => new Set(job === 'daily_sales' ? ['pos', 'items'] : []);

  it('names what a waiting batch waits for and exits 4', () => {
    const outcome = runOutcome([batch('SUCCEEDED'), batch('WAITING', { waitingFor: ['4 of 5 stores of ON: missing ON05'] })], [storeFile], sources);
    expect(outcome.exitCode).toBe(EXIT_BATCH_INCOMPLETE);
    expect(outcome.lines).toEqual(['batch daily_sales#ON#2026-12-01#WAITING is WAITING for 4 of 5 stores of ON: missing ON05']);
  });

  it('leaves out a waiting batch none of whose own files landed (a shared input fanned out to it)', () => {
    const waiting = batch('WAITING', { waitingFor: ['0 of 3 stores of BC (have none)'], values: { province: 'BC', date: '2026-12-01' } });
    const itemMaster = { dataset: 'items', fields: { date: '2026-12-01' } };
    expect(runOutcome([batch('SUCCEEDED'), waiting], [storeFile, itemMaster], sources)).toEqual({ exitCode: 0, lines: [] });
    // a file of the batch's own key, of a dataset another job reads, does not count either
    const otherDataset = { dataset: 'clicks', fields: { province: 'BC', date: '2026-12-01' } };
    expect(runOutcome([waiting], [otherDataset], sources).exitCode).toBe(0);
    const bcStore = { dataset: 'pos', fields: { province: 'BC', store: 'BC01', date: '2026-12-01' } };
    expect(runOutcome([waiting], [bcStore], sources).exitCode).toBe(EXIT_BATCH_INCOMPLETE);
  });

  it('counts a batch left running as incomplete', () => {
    const outcome = runOutcome([batch('RUNNING', { activeRun: { executionName: 'exec-1' } as BatchItem['activeRun'] })]);
    expect(outcome.exitCode).toBe(EXIT_BATCH_INCOMPLETE);
    expect(outcome.lines[0]).toContain('exec-1');
  });

  it('puts a failed batch first, with its error and the command that explains it, and exits 3', () => {
    const failed = batch('FAILED', {
      lastRun: { executionName: 'e', fingerprint: 'f', status: 'FAILED', finishedAt: '2026-12-01T01:00:00Z', error: 'stage daily: Binder Error' },
    });
    const outcome = runOutcome([batch('WAITING', { waitingFor: ['x'] }), failed], [storeFile], sources);
    expect(outcome.exitCode).toBe(EXIT_BATCH_FAILED);
    expect(outcome.lines[0]).toContain('FAILED: stage daily: Binder Error');
    expect(outcome.lines[0]).toContain('landfall explain --job daily_sales --batch province=ON,date=2026-12-01');
    expect(outcome.lines).toHaveLength(2);
  });

  it('counts a batch whose output failed its checks as failed', () => {
    const outcome = runOutcome([
      batch('SUCCEEDED'),
      batch('CHECK_FAILED', { lastRun: { executionName: 'e', fingerprint: 'f', status: 'CHECK_FAILED', finishedAt: 'x', error: 'unique' } }),
    ]);
    expect(outcome.exitCode).toBe(EXIT_BATCH_FAILED);
    expect(outcome.lines[0]).toContain('CHECK_FAILED: unique');
  });
});
