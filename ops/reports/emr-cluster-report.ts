import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { LocalEmr } from '../../local/emr';

/** One line of OUT/emr-clusters.jsonl: a cluster a run used, where, when it lived and why it ended. */
export interface EmrClusterLine {
  id: string;
  name: string;
  cell: string;
  availabilityZone?: string;
  /** created by a run (transient), or one of the cells' standing clusters */
  mode: 'transient' | 'standing';
  created: string;
  ready?: string;
  ended?: string;
  state: string;
  /** EMR's StateChangeReason: code and message (e.g. ALL_STEPS_COMPLETED after the idle timeout) */
  why?: string;
  steps: Record<string, number>;
}

/** Every cluster that was created or ran a step, in creation order. */
export function emrClusterLines(emr: LocalEmr): EmrClusterLine[] {
  const steps = emr.steps();
  return emr
    .clusters()
    .filter((c) => c.created || steps.some((s) => s.clusterId === c.id))
    .map((c) => {
      const byState: Record<string, number> = {};
      for (const s of steps.filter((st) => st.clusterId === c.id)) byState[s.state] = (byState[s.state] ?? 0) + 1;
      const why = c.reason ? [c.reason.code, c.reason.message].filter(Boolean).join(': ') : undefined;
      return {
        id: c.id,
        name: c.name,
        cell: c.tags['landfall:cell'] ?? c.name,
        ...(c.availabilityZone ? { availabilityZone: c.availabilityZone } : {}),
        mode: c.created ? 'transient' : 'standing',
        created: c.createdAt.toISOString(),
        ...(c.readyAt ? { ready: c.readyAt.toISOString() } : {}),
        ...(c.endedAt ? { ended: c.endedAt.toISOString() } : {}),
        state: c.state,
        ...(why ? { why } : {}),
        steps: byState,
      };
    });
}

/** Waits until the clusters the runs created have ended (their idle timeout), then writes OUT/emr-clusters.jsonl. */
export async function writeEmrClusters(emr: LocalEmr, outDir: string, timeoutMs = 10 * 60_000): Promise<{ path: string; lines: EmrClusterLine[] }> {
  await emr.allEnded(timeoutMs);
  const lines = emrClusterLines(emr);
  const path = join(outDir, 'emr-clusters.jsonl');
  await writeFile(path, lines.map((l) => `${JSON.stringify(l)}\n`).join(''));
  return { path, lines };
}
