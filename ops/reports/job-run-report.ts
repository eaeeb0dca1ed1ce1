import type { BatchItem, RunItem } from '../../shared/core/runs/job-run-store';
import { formatTable } from '../terminal';

export function batchTable(batches: BatchItem[], runs: RunItem[]): string {
  const rows = batches.map((b) => {
    const mine = runs.filter((r) => r.batchId === b.batchId);
    const last = mine[mine.length - 1];
    const rowsOut = Object.values(last?.stages ?? {})
      .map((s) => (s.output as { rows?: number }).rows)
      .filter((n) => n !== undefined)
      .join('+');
    return [
      b.batchId,
      b.status,
      String(mine.length),
      last?.status ?? '',
      rowsOut,
      (b.waitingFor ?? []).join('; ').slice(0, 90) || (b.lastRun?.error ?? '').slice(0, 90),
    ];
  });
  return formatTable([['batch', 'status', 'runs', 'last run', 'rows', 'waiting for / error'], ...rows]);
}

/** Run items without table keys, for OUT/job-runs.jsonl. */
export function runLines(runs: RunItem[]): string[] {
  return runs.map(({ pk: _pk, sk: _sk, ...run }) => JSON.stringify(run));
}
