import { ListClustersCommand, ListStepsCommand, type ClusterSummary, type EMRClient, type StepSummary } from '@aws-sdk/client-emr';
import type { Pipeline } from '../../shared/core/config/load-config';
import type { RunItem } from '../../shared/core/runs/job-run-store';
import type { Target } from '../targets';

/** A failover as the runs recorded it (pk FAILOVER in the job-runs table). */
export interface Failover {
  from: string;
  to: string;
  at: string;
  reason: string;
  execution: string;
  confirmed: boolean;
  batchId?: string;
}

/** An EMR step as the recovery view shows it. */
export interface StepView {
  id: string;
  name: string;
  state: string;
  startedAt?: string;
  endedAt?: string;
  reason?: string;
}

export interface ClusterView {
  id: string;
  name: string;
  cell: string;
  state: string;
  reason?: string;
  createdAt?: string;
  endedAt?: string;
  /** its most recent steps, newest first */
  steps: StepView[];
}

/** How a run came back after a failover: which stage ran again in the new cell, after which checkpoint, and how long it took. */
export interface Resume {
  /** the first stage without a checkpoint when the run failed over: it ran again in the new cell */
  stage: string;
  /** the last stage checkpointed before the failover (undefined: none was, the run started over from its inputs) */
  fromCheckpoint?: string;
  /** when the old cell was lost: its last failed step of the stage ended (else the failover itself) */
  lostAt: string;
  /** when the stage's step started in the new cell (EMR's timeline), else when its checkpoint there was recorded */
  resumedAt?: string;
  /** resumedAt is the checkpoint's time (the step's start could not be read): an upper bound */
  resumedByCheckpoint?: boolean;
  /** the stage's checkpoint in the new cell, once it completed there */
  checkpointedAt?: string;
}

export interface FailoverView extends Failover {
  resume?: Resume;
}

export interface RecoveryData {
  cells: string[];
  /** as the last failover left it (undefined: none recorded, the configured cell) */
  activeCell?: string;
  clusters: ClusterView[] | { unavailable: string };
  failovers: FailoverView[];
}

/** Clusters listed (newest first) and steps listed per cluster: a page stays bounded however busy EMR is. */
export const CLUSTERS_SHOWN = 20;
export const STEPS_PER_CLUSTER = 50;
/** Failovers whose run is read to tell how it resumed (a GetItem each): the newest ones; older ones are listed without. */
export const FAILOVERS_RESOLVED = 20;
/** How far back the view looks for clusters (EMR lists a terminated cluster for two months). */
export const CLUSTER_LOOKBACK_DAYS = 14;

const iso = (d: Date | undefined) => d?.toISOString();

/**
 * The cell of a cluster by its name: the stack's transient clusters are named
 * `landfall-<stack>-<cell>-g<generation>` (shared/core/emr/cluster-spec.ts clusterName); a standing
 * cluster named as its cell counts as the cell's too.
 */
export function cellOfCluster(name: string, stack: string, knownCells: readonly string[]): string | undefined {
  const prefix = `landfall-${stack}-`;
  if (name.startsWith(prefix)) return /^(.+)-g\d+$/.exec(name.slice(prefix.length))?.[1];
  return knownCells.includes(name) ? name : undefined;
}

/** The stack tag of a deployment's clusters (`<service>-<stage>`, serverless.yml custom.emr.stackTag), from its table names. */
export const stackTagOf = (names: Pick<Target['names'], 'jobRunsTable'>) => names.jobRunsTable.replace(/-job-runs$/, '');

const stepView = (s: StepSummary): StepView => ({
  id: s.Id ?? '',
  name: s.Name ?? '',
  state: s.Status?.State ?? '?',
  ...(s.Status?.Timeline?.StartDateTime ? { startedAt: iso(s.Status.Timeline.StartDateTime)! } : {}),
  ...(s.Status?.Timeline?.EndDateTime ? { endedAt: iso(s.Status.Timeline.EndDateTime)! } : {}),
  ...(s.Status?.FailureDetails?.Message || s.Status?.StateChangeReason?.Message
    ? { reason: (s.Status?.FailureDetails?.Message ?? s.Status?.StateChangeReason?.Message)! }
    : {}),
});

/**
 * Which stage resumed from which checkpoint after a failover, and when: the run's checkpoints
 * (each stage's record, with the cell it ran in) split at the failover, and the steps EMR lists
 * for the stage in either cell (named `<execution>-<stage>-<cell>-a<attempt>`, emr-flow.ts).
 */
export function resumeOf(
  failover: Failover,
  run: Pick<RunItem, 'stages'> | undefined,
  stageOrder: readonly string[],
  steps: readonly StepView[],
): Resume | undefined {
  if (!run) return undefined;
  const at = Date.parse(failover.at);
  const done = (name: string) => {
    const record = run.stages?.[name];
    return record !== undefined && Date.parse(record.at) <= at;
  };
  const stage = stageOrder.find((s) => !done(s));
  if (!stage) return undefined;
  const before = stageOrder.filter(done);
  const stepsOf = (cell: string) => steps.filter((s) => s.name.startsWith(`${failover.execution}-${stage}-${cell}-a`));
  const lost = stepsOf(failover.from)
    .filter((s) => s.endedAt && Date.parse(s.endedAt) <= at)
    .sort((a, b) => b.endedAt!.localeCompare(a.endedAt!))[0];
  const started = stepsOf(failover.to)
    .filter((s) => s.startedAt && Date.parse(s.startedAt) >= at - 1000)
    .sort((a, b) => a.startedAt!.localeCompare(b.startedAt!))[0];
  const checkpoint = run.stages?.[stage];
  const checkpointedAt = checkpoint && Date.parse(checkpoint.at) > at ? checkpoint.at : undefined;
  return {
    stage,
    ...(before.length > 0 ? { fromCheckpoint: before.at(-1)! } : {}),
    lostAt: lost?.endedAt ?? failover.at,
    ...(started?.startedAt ? { resumedAt: started.startedAt } : checkpointedAt ? { resumedAt: checkpointedAt, resumedByCheckpoint: true } : {}),
    ...(checkpointedAt ? { checkpointedAt } : {}),
  };
}

/** The stack's EMR clusters of the last CLUSTER_LOOKBACK_DAYS (newest first, at most CLUSTERS_SHOWN), each with its latest steps. */
export async function listCellClusters(emr: EMRClient, stack: string, knownCells: readonly string[], now: Date): Promise<ClusterView[]> {
  const found: Array<ClusterSummary & { cell: string }> = [];
  let marker: string | undefined;
  let pages = 0;
  // bounded however busy the account's EMR is: at most 10 pages of clusters, one page of steps each
  do {
    const page = await emr.send(
      new ListClustersCommand({ CreatedAfter: new Date(now.getTime() - CLUSTER_LOOKBACK_DAYS * 86_400_000), ...(marker ? { Marker: marker } : {}) }),
    );
    for (const c of page.Clusters ?? []) {
      const cell = c.Name ? cellOfCluster(c.Name, stack, knownCells) : undefined;
      if (cell && found.length < CLUSTERS_SHOWN) found.push({ ...c, cell });
    }
    marker = page.Marker;
    pages += 1;
  } while (marker && found.length < CLUSTERS_SHOWN && pages < 10);
  return Promise.all(
    found.map(async (c) => {
      const steps = await emr.send(new ListStepsCommand({ ClusterId: c.Id! }));
      return {
        id: c.Id!,
        name: c.Name!,
        cell: c.cell,
        state: c.Status?.State ?? '?',
        ...(c.Status?.StateChangeReason?.Message ? { reason: c.Status.StateChangeReason.Message } : {}),
        ...(c.Status?.Timeline?.CreationDateTime ? { createdAt: iso(c.Status.Timeline.CreationDateTime)! } : {}),
        ...(c.Status?.Timeline?.EndDateTime ? { endedAt: iso(c.Status.Timeline.EndDateTime)! } : {}),
        steps: (steps.Steps ?? []).slice(0, STEPS_PER_CLUSTER).map(stepView),
      };
    }),
  );
}

/**
 * What the recovery view shows: every failover the runs recorded (a Query), the run each of the
 * newest FAILOVERS_RESOLVED moved (a GetItem each) and how it resumed, and the cells' clusters with their steps as EMR lists
 * them now (the operator's EMR client; the view says so when EMR cannot be read).
 */
export async function recoveryData(where: Pick<Target, 'runs' | 'names'>, pipeline: Pipeline, emr: EMRClient, now = new Date()): Promise<RecoveryData> {
  const failovers = (await where.runs.listFailovers()) as Failover[];
  const knownCells = [...new Set(failovers.flatMap((f) => [f.from, f.to]))];
  let clusters: ClusterView[] | { unavailable: string };
  try {
    clusters = await listCellClusters(emr, stackTagOf(where.names), knownCells, now);
  } catch (err) {
    clusters = { unavailable: `${(err as Error).name}: ${(err as Error).message}` };
  }
  const steps = Array.isArray(clusters) ? clusters.flatMap((c) => c.steps) : [];
  const resolvedFrom = failovers.length - FAILOVERS_RESOLVED;
  const views = await Promise.all(
    failovers.map(async (f, i): Promise<FailoverView> => {
      const run = f.batchId && i >= resolvedFrom ? await where.runs.getRun(f.batchId, f.execution) : undefined;
      const job = run ? pipeline.jobsByName.get(run.job) : undefined;
      const resume = job
        ? resumeOf(
            f,
            run,
            job.stages.map((s) => s.name),
            steps,
          )
        : undefined;
      return { ...f, ...(resume ? { resume } : {}) };
    }),
  );
  const cells = [...new Set([...knownCells, ...(Array.isArray(clusters) ? clusters.map((c) => c.cell) : [])])].sort();
  return { cells, ...(failovers.length > 0 ? { activeCell: failovers.at(-1)!.to } : {}), clusters, failovers: views };
}
