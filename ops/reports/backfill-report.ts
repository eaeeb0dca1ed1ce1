import { shortCodeHash } from '../../shared/core/config/code-hash';
import type { BackfillPlan } from '../../shared/stages/resolve';
import { formatTable } from '../terminal';

/** How one batch of a backfill ended: its run's status, or why nothing ran. */
export interface BackfillResult {
  batchId: string;
  /** stale, failed, never; `downstream` for a batch re-run by the cascade */
  reason: string;
  /** SUCCEEDED, FAILED, CHECK_FAILED, RELEASED; `up to date`, `waiting`, `busy`, `skipped` */
  outcome: string;
  executionName?: string;
  detail?: string;
}

/** The plan as `landfall backfill` prints it (the whole output of `--dry-run`). */
export function planLines(plan: BackfillPlan, where: { label: string; codeHash: string; dryRun: boolean }): string[] {
  const run = plan.entries.filter((e) => e.action === 'run');
  const skipped = plan.entries.filter((e) => e.action === 'skip');
  const lines = [
    `backfill of ${plan.job} on ${where.label} (code ${shortCodeHash(where.codeHash)})${where.dryRun ? ', dry run' : ''}: ` +
      `${run.length} to run, ${skipped.length} skipped, ${plan.upToDate.length} up to date` +
      (plan.downstream.length > 0 ? `, ${plan.downstream.length} downstream` : ''),
  ];
  if (plan.entries.length > 0) {
    lines.push('', formatTable([['batch', 'action', 'reason', 'why'], ...plan.entries.map((e) => [e.batchId, e.action, e.reason, e.why])]));
  }
  if (plan.downstream.length > 0) {
    lines.push(
      '',
      'downstream: re-run by the cascade when the partitions they read are written again',
      formatTable([['batch', 'after'], ...plan.downstream.map((d) => [d.batchId, d.after])]),
    );
  }
  if (plan.notAsked.length > 0) {
    const reasons = [...new Set(plan.notAsked.map((n) => n.reason))].join(', ');
    lines.push('', `${plan.notAsked.length} other batch(es) would run for a reason not asked for (${reasons}): --reason all includes them`);
  }
  return lines;
}

/** The end of a real backfill: each batch's outcome, and the counts. */
export function summaryLines(results: BackfillResult[]): string[] {
  if (results.length === 0) return ['nothing to run'];
  const counts = new Map<string, number>();
  for (const r of results) counts.set(r.outcome, (counts.get(r.outcome) ?? 0) + 1);
  return [
    formatTable([
      ['batch', 'reason', 'outcome', 'execution / detail'],
      ...results.map((r) => [r.batchId, r.reason, r.outcome, [r.executionName, r.detail].filter(Boolean).join(': ').slice(0, 120)]),
    ]),
    '',
    [...counts].map(([outcome, n]) => `${n} ${outcome}`).join(', '),
  ];
}
