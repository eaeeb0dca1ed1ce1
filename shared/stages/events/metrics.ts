import type { StateChange } from './state-change';

/**
 * Embedded Metric Format lines of the file state changes put on the bus: `FileStateChanges`
 * (Count) in namespace `landfall`, dimensions Stage and State, one line per state with how many
 * files entered it (CloudWatch sums them: the dashboard's files by state). Only changes that will
 * not be delivered again are counted, so a stream retry does not count a change twice.
 */
export function fileStateMetricsLines(stage: string, changes: StateChange[], at = new Date()): string[] {
  const counts = new Map<string, number>();
  for (const change of changes) if (change.kind === 'file') counts.set(change.state, (counts.get(change.state) ?? 0) + 1);
  return [...counts].map(([state, count]) =>
    JSON.stringify({
      _aws: {
        Timestamp: at.getTime(),
        CloudWatchMetrics: [{ Namespace: 'landfall', Dimensions: [['Stage', 'State']], Metrics: [{ Name: 'FileStateChanges', Unit: 'Count' }] }],
      },
      Stage: stage,
      State: state,
      FileStateChanges: count,
    }),
  );
}
