import {
  DescribeClusterCommand,
  ListClustersCommand,
  RunJobFlowCommand,
  TerminateJobFlowsCommand,
  type Cluster,
  type ClusterState,
  type EMRClient,
} from '@aws-sdk/client-emr';
import type { CellClaims } from './cell-claims';
import { clusterName, runJobFlowInput, TAG, type ClusterSpec, type EmrCell } from './cluster-spec';
import { ClusterEndedError, ClusterUnhealthyError, checkCluster, describeCluster, isUnreachable, messageOf } from './emr-steps';

/**
 * Which cluster of a cell a heavy run uses: one of the stack's clusters already starting or
 * running in the cell (found by its tags), or one this run creates after winning the cell's
 * claim. A run that loses the claim waits and looks again: it finds the winner's cluster.
 */
export type Acquisition = { clusterId: string; created: boolean } | { waitSeconds: number; reason: string };

export interface CellClusterDeps {
  emr: EMRClient;
  claims: CellClaims;
  spec: ClusterSpec;
  now?: () => Date;
  /** a claim still CREATING after this long is taken to be abandoned (its owner crashed before RunJobFlow) */
  creatingGraceMs?: number;
  /** how long a run waits before looking again while another run creates the cell's cluster */
  waitSeconds?: number;
}

const LIVE_STATES: ClusterState[] = ['STARTING', 'BOOTSTRAPPING', 'RUNNING', 'WAITING'];
const PROVISIONING = new Set<string>(['STARTING', 'BOOTSTRAPPING']);

const tagsOf = (cluster: Cluster) => Object.fromEntries((cluster.Tags ?? []).map((t) => [t.Key, t.Value]));

/** The stack's live clusters in the cell, oldest first. ListClusters carries no tags: names narrow, DescribeCluster confirms. */
async function liveClustersOf(emr: EMRClient, spec: ClusterSpec, cell: EmrCell): Promise<Cluster[]> {
  const prefix = clusterName(spec, cell, 0).replace(/0$/, '');
  const found: Cluster[] = [];
  let marker: string | undefined;
  do {
    const page = await emr.send(new ListClustersCommand({ ClusterStates: LIVE_STATES, ...(marker ? { Marker: marker } : {}) }));
    for (const summary of page.Clusters ?? []) {
      if (!summary.Id || !summary.Name?.startsWith(prefix)) continue;
      const cluster = (await emr.send(new DescribeClusterCommand({ ClusterId: summary.Id }))).Cluster;
      const tags = cluster ? tagsOf(cluster) : {};
      if (cluster && tags[TAG.stack] === spec.stack && tags[TAG.cell] === cell.name && LIVE_STATES.includes(cluster.Status?.State as ClusterState))
        found.push(cluster);
    }
    marker = page.Marker;
  } while (marker);
  return found.sort((a, b) => (a.Status?.Timeline?.CreationDateTime?.getTime() ?? 0) - (b.Status?.Timeline?.CreationDateTime?.getTime() ?? 0));
}

async function isLive(emr: EMRClient, clusterId: string): Promise<boolean> {
  try {
    return LIVE_STATES.includes((await describeCluster(emr, clusterId)).Status?.State as ClusterState);
  } catch (err) {
    if (err instanceof ClusterUnhealthyError && err.reason === 'not-found') return false;
    throw err;
  }
}

/** Transient mode: the cell's cluster, found or created; or how long to wait while another run creates it. */
export async function acquireCellCluster(deps: CellClusterDeps, cell: EmrCell, owner: string): Promise<Acquisition> {
  const { emr, claims, spec } = deps;
  const now = (deps.now ?? (() => new Date()))();
  const waitSeconds = deps.waitSeconds ?? 30;
  const live = await liveClustersOf(emr, spec, cell);
  if (live.length > 0) return { clusterId: live[0]!.Id!, created: false };

  const claim = await claims.get(cell.name);
  // ListClusters may not list a cluster created a moment ago: the claim names it
  if (claim?.status === 'ACTIVE' && claim.clusterId && (await isLive(emr, claim.clusterId))) return { clusterId: claim.clusterId, created: false };
  if (claim?.status === 'CREATING' && now.getTime() - Date.parse(claim.claimedAt) < (deps.creatingGraceMs ?? 180_000)) {
    return { waitSeconds, reason: `cell ${cell.name}: ${claim.owner} is creating its cluster (claim ${claim.generation})` };
  }
  const won = await claims.claimNext(cell.name, claim?.generation ?? 0, owner, now);
  if (!won) return { waitSeconds, reason: `cell ${cell.name}: another run claimed the cluster first` };

  let clusterId: string | undefined;
  try {
    clusterId = (await emr.send(new RunJobFlowCommand(runJobFlowInput(spec, cell, won.generation)))).JobFlowId;
    if (!clusterId) throw new Error('RunJobFlow returned no JobFlowId');
  } catch (err) {
    await claims.settle(cell.name, won.generation, { reason: messageOf(err) });
    const name = (err as Error).name;
    // Refused outright (a subnet or role EMR does not accept, capacity or quota checks) or the
    // API is down in this Region's cell: creating here is not possible, so fail over.
    if (isUnreachable(err) || name === 'ValidationException' || name === 'InvalidRequestException') {
      throw new ClusterUnhealthyError(
        'CREATE_FAILED',
        { clusterId: `(new in ${cell.name})`, detail: `RunJobFlow in ${cell.subnetId ?? cell.name}: ${messageOf(err)}` },
        { cause: err },
      );
    }
    throw err;
  }
  await claims.settle(cell.name, won.generation, { clusterId });
  return { clusterId, created: true };
}

/** Standing mode: the cell's configured cluster, if it can run steps. */
export async function standingCellCluster(emr: EMRClient, cell: EmrCell): Promise<Acquisition> {
  if (!cell.clusterId) throw new Error(`cell ${cell.name} has no clusterId (standing mode)`);
  try {
    await checkCluster(emr, cell.clusterId);
  } catch (err) {
    // a standing cluster that ended is not coming back by itself: the other cell's is the remedy
    if (err instanceof ClusterEndedError)
      throw new ClusterUnhealthyError(
        err.reason,
        { clusterId: cell.clusterId, ...(err.clusterState ? { clusterState: err.clusterState } : {}), ...(err.detail ? { detail: err.detail } : {}) },
        { cause: err },
      );
    throw err;
  }
  return { clusterId: cell.clusterId, created: false };
}

/**
 * A cluster still provisioning after `timeoutMinutes` will not be ready in time: terminate it
 * (it carries the stack's tag, so the policy allows it) and report it unhealthy, so the run
 * fails over.
 */
export async function checkProvisioning(emr: EMRClient, clusterId: string, timeoutMinutes: number, now: Date = new Date()): Promise<void> {
  const cluster = await describeCluster(emr, clusterId);
  const state = cluster.Status?.State ?? 'UNKNOWN';
  const created = cluster.Status?.Timeline?.CreationDateTime;
  if (!PROVISIONING.has(state) || !created) return;
  const minutes = (now.getTime() - created.getTime()) / 60_000;
  if (minutes < timeoutMinutes) return;
  await emr.send(new TerminateJobFlowsCommand({ JobFlowIds: [clusterId] }));
  throw new ClusterUnhealthyError('PROVISIONING_TIMEOUT', {
    clusterId,
    clusterState: state,
    detail: `still ${state} after ${minutes.toFixed(1)} minutes (limit ${timeoutMinutes}); terminated`,
  });
}
