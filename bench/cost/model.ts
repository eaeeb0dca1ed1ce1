import { PRICES, type ClusterShape, type FleetShape, type InstanceType } from './prices';

/** What one landed file costs to run through validate, convert and track (and its share of the resolver). */
export interface PerFileUsage {
  /** function → invocations per landed file, median handler ms, configured memory MB */
  lambda: Record<string, { invocations: number; ms: number; memoryMb: number }>;
  dynamodb: { writeUnits: number; readUnits: number };
  s3: Record<string, number>;
}

export interface PerRunUsage {
  lambda: Record<string, { invocations: number; ms: number; memoryMb: number }>;
  stateTransitions: number;
  dynamodb: { writeUnits: number; readUnits: number };
  /** EMR step time of a heavy run, in minutes (0 for a DuckDB run) */
  emrStepMinutes?: number;
}

export interface CostLine {
  item: string;
  usd: number;
}

const GET_HEAD = new Set(['GetObject', 'HeadObject']);

function lambdaLines(usage: Record<string, { invocations: number; ms: number; memoryMb: number }>, scale: number): CostLine[] {
  return Object.entries(usage).flatMap(([fn, u]) => {
    // Lambda bills each invocation's duration rounded up to the millisecond
    const gbSeconds = u.invocations * (Math.ceil(u.ms) / 1000) * (u.memoryMb / 1024);
    return [
      { item: `Lambda ${fn} GB-s`, usd: gbSeconds * PRICES.lambda.perGbSecond * scale },
      { item: `Lambda ${fn} requests`, usd: (u.invocations * PRICES.lambda.perMillionRequests * scale) / 1e6 },
    ];
  });
}

/** Cost of 1,000 landed files. */
export function costPerThousandFiles(usage: PerFileUsage): CostLine[] {
  const n = 1000;
  const s3 = Object.entries(usage.s3).reduce(
    (sum, [op, count]) => sum + (count * (GET_HEAD.has(op) ? PRICES.s3.perThousandGetHead : PRICES.s3.perThousandPutCopyPostList)) / 1000,
    0,
  );
  return [
    ...lambdaLines(usage.lambda, n),
    { item: 'DynamoDB writes (on-demand)', usd: (usage.dynamodb.writeUnits * n * PRICES.dynamodb.perMillionWriteUnits) / 1e6 },
    { item: 'DynamoDB reads (on-demand)', usd: (usage.dynamodb.readUnits * n * PRICES.dynamodb.perMillionReadUnits) / 1e6 },
    { item: 'S3 requests', usd: s3 * n },
  ];
}

/** The EMR side of the model: instance prices, Spot fraction, the two modes' cluster shapes and the transient timings (defaults: PRICES). */
export interface EmrParams {
  instances: Record<InstanceType, { ec2OnDemandPerHour: number; emrPerHour: number }>;
  /** Spot price as a fraction of EC2 On-Demand (the EMR uplift is paid in full) */
  spotFraction: number;
  transientShape: ClusterShape;
  standingShape: ClusterShape;
  standingClusters: number;
  provisioningMinutes: number;
  idleTimeoutMinutes: number;
}

export function emrParams(overrides: Partial<EmrParams> = {}): EmrParams {
  const { emr, instances } = PRICES;
  return {
    instances,
    spotFraction: emr.spotFraction,
    transientShape: emr.transientShape,
    standingShape: emr.standingShape,
    standingClusters: emr.standingClusters,
    provisioningMinutes: emr.provisioningMinutes,
    idleTimeoutMinutes: emr.idleTimeoutMinutes,
    ...overrides,
  };
}

/** $/h of one fleet: EC2 (On-Demand, or Spot at spotFraction of it) plus the EMR uplift, per instance. */
export function fleetPerHour(fleet: FleetShape | undefined, emr: EmrParams = emrParams()): number {
  if (!fleet || fleet.count <= 0) return 0;
  const price = emr.instances[fleet.instanceType];
  if (!price) throw new Error(`no price for instance type ${fleet.instanceType} (bench/cost/prices.ts)`);
  const ec2 = fleet.market === 'SPOT' ? price.ec2OnDemandPerHour * emr.spotFraction : price.ec2OnDemandPerHour;
  return fleet.count * (ec2 + price.emrPerHour);
}

/** $/h of a whole cluster: primary + core + task fleets. */
export const clusterPerHour = (shape: ClusterShape, emr: EmrParams = emrParams()) =>
  fleetPerHour(shape.primary, emr) + fleetPerHour(shape.core, emr) + fleetPerHour(shape.task, emr);

const market = (m: FleetShape['market']) => (m === 'SPOT' ? 'Spot' : 'On-Demand');
/** "1 + 2 m7g.xlarge On-Demand, 2 m7g.xlarge Spot" */
export function describeShape(shape: ClusterShape): string {
  const fleets = [shape.primary, shape.core, ...(shape.task && shape.task.count > 0 ? [shape.task] : [])];
  const groups: Array<{ key: string; counts: number[] }> = [];
  for (const f of fleets) {
    const key = `${f.instanceType} ${market(f.market)}`;
    const group = groups.find((g) => g.key === key);
    if (group) group.counts.push(f.count);
    else groups.push({ key, counts: [f.count] });
  }
  return groups.map((g) => `${g.counts.join(' + ')} ${g.key}`).join(', ');
}

/** Cost of one batch run (the job's own work: state machine, stage functions, and the cluster while its EMR steps run, on the transient shape). */
export function costPerRun(usage: PerRunUsage, emr: EmrParams = emrParams()): CostLine[] {
  return [
    ...lambdaLines(usage.lambda, 1),
    { item: 'Step Functions transitions', usd: (usage.stateTransitions * PRICES.stepFunctions.perThousandTransitions) / 1000 },
    {
      item: 'DynamoDB (run items)',
      usd: (usage.dynamodb.writeUnits * PRICES.dynamodb.perMillionWriteUnits + usage.dynamodb.readUnits * PRICES.dynamodb.perMillionReadUnits) / 1e6,
    },
    ...(usage.emrStepMinutes
      ? [
          {
            item: `EMR cluster during the steps (${describeShape(emr.transientShape)})`,
            usd: (usage.emrStepMinutes / 60) * clusterPerHour(emr.transientShape, emr),
          },
        ]
      : []),
  ];
}

export const DAY_MINUTES = 24 * 60;
export const MONTH_DAYS = 30;

/** How the transient clusters of one day add up, for runs spread evenly around the clock. */
export interface TransientDay {
  /** runs served by one cluster before it idles out (Infinity: the cluster never ends) */
  runsPerCluster: number;
  /** one cluster's life, provisioning to termination, in minutes (Infinity: never ends) */
  clusterLifetimeMinutes: number;
  clustersPerDay: number;
  /** cluster-minutes a day (at most 1,440: clusters never overlap) */
  clusterMinutesPerDay: number;
  /** runs closer together than step + idle: one cluster, up all the time */
  continuous: boolean;
  /** more step time a day than there is day: runs queue on the one cluster (still priced as one cluster) */
  saturated: boolean;
}

/**
 * Transient mode, exactly for R runs a day spread evenly (one every 1,440 / R min, around the clock,
 * in steady state). A run that finds no cluster creates one at its arrival (billed from then): its
 * steps start after provisioning (P). A run that arrives while the cluster is up (provisioning,
 * running steps or idle) reuses it, its steps starting when it arrives or when the steps before it
 * end, whichever is later: run k of a cluster starts at max(k·g, P + k·S). The cluster ends its idle
 * timeout (I) after its last run's steps, unless the next run arrives first (arriving exactly then
 * finds it gone). So each cluster lives from its first run's arrival to its last run's steps + I,
 * and the idle tail (and provisioning) is paid once per chain of runs. When g < S + I no chain
 * ends: one cluster, all day.
 */
export function transientDay(runsPerDay: number, stepMinutes: number, emr: EmrParams = emrParams()): TransientDay {
  const saturated = runsPerDay * stepMinutes > DAY_MINUTES;
  if (runsPerDay <= 0) return { runsPerCluster: 0, clusterLifetimeMinutes: 0, clustersPerDay: 0, clusterMinutesPerDay: 0, continuous: false, saturated };
  const { provisioningMinutes: P, idleTimeoutMinutes: I } = emr;
  const S = stepMinutes;
  const g = DAY_MINUTES / runsPerDay;
  const continuous = {
    runsPerCluster: Infinity,
    clusterLifetimeMinutes: Infinity,
    clustersPerDay: 0,
    clusterMinutesPerDay: DAY_MINUTES,
    continuous: true,
    saturated,
  };
  if (g < S + I || g <= S) return continuous;
  // g ≥ S + I: a run that starts on arrival is the last of its cluster; only a queue (behind the provisioning) chains more
  let start = P;
  for (let k = 0; k < 1e6; k++) {
    const end = start + S + I;
    const next = (k + 1) * g;
    if (next >= end) {
      const runs = k + 1;
      return {
        runsPerCluster: runs,
        clusterLifetimeMinutes: end,
        clustersPerDay: runsPerDay / runs,
        clusterMinutesPerDay: (runsPerDay / runs) * end,
        continuous: false,
        saturated,
      };
    }
    start = Math.max(next, start + S);
  }
  return continuous;
}

/** A month of the heavy path in one mode: the clusters, plus the per-run (Lambda, Step Functions, DynamoDB) cost of the runs. */
export interface ModeMonth {
  usd: number;
  clusterUsd: number;
  runsUsd: number;
  clusterHours: number;
}

export interface HeavyPathMonth {
  runsPerDay: number;
  stepMinutes: number;
  standing: ModeMonth;
  transient: ModeMonth & { day: TransientDay; clustersCreated: number };
}

/** Standing mode's clusters per 30-day month, whether they run steps or not. */
export const standingClustersPerMonth = (emr: EmrParams = emrParams()) => emr.standingClusters * clusterPerHour(emr.standingShape, emr) * 24 * MONTH_DAYS;

/** Transient mode's ceiling: one cluster of the transient shape up all month (what runs closer than step + idle pay). */
export const transientCeilingPerMonth = (emr: EmrParams = emrParams()) => clusterPerHour(emr.transientShape, emr) * 24 * MONTH_DAYS;

/**
 * A 30-day month of heavy runs, R a day of S minutes of step time each, in both modes. Standing: the
 * standing clusters around the clock, nothing per run beyond perRunUsd. Transient: each cluster's
 * life (provisioning + steps + idle timeout, shared by runs closer than that: transientDay) at the
 * full transient shape. perRunUsd (the run's Lambda, Step Functions and DynamoDB: costPerRun without
 * the EMR line) is the same in both modes.
 */
export function heavyPathMonth(runsPerDay: number, stepMinutes: number, options: { perRunUsd?: number; emr?: EmrParams } = {}): HeavyPathMonth {
  const emr = options.emr ?? emrParams();
  const runsUsd = runsPerDay * MONTH_DAYS * (options.perRunUsd ?? 0);
  const standingClusterUsd = standingClustersPerMonth(emr);
  const day = transientDay(runsPerDay, stepMinutes, emr);
  const transientHours = (day.clusterMinutesPerDay * MONTH_DAYS) / 60;
  const transientClusterUsd = transientHours * clusterPerHour(emr.transientShape, emr);
  return {
    runsPerDay,
    stepMinutes,
    standing: { usd: standingClusterUsd + runsUsd, clusterUsd: standingClusterUsd, runsUsd, clusterHours: emr.standingClusters * 24 * MONTH_DAYS },
    // a cluster that never ends was created once (the month's edges are otherwise ignored)
    transient: {
      usd: transientClusterUsd + runsUsd,
      clusterUsd: transientClusterUsd,
      runsUsd,
      clusterHours: transientHours,
      day,
      clustersCreated: day.continuous ? 1 : day.clustersPerDay * MONTH_DAYS,
    },
  };
}

/**
 * The lowest number of runs a day (of S step minutes) at which transient costs as much as standing,
 * in closed form; null if transient never does (its ceiling, one cluster all month, is below
 * standing). From 0 runs up to 1,440 / (P + S + I) a day every run has a cluster of its own, so the
 * cost climbs linearly from 0 to the ceiling: if standing is within reach, this is where it is met,
 * R* = standing / (30 × (P + S + I) / 60 × cluster $/h). (Denser runs share clusters, which can
 * bring transient back below standing: heavyPathMonth tells.)
 */
export function crossoverRunsPerDay(stepMinutes: number, emr: EmrParams = emrParams()): number | null {
  const standing = standingClustersPerMonth(emr);
  if (standing > transientCeilingPerMonth(emr)) return null;
  const perCluster = ((emr.provisioningMinutes + stepMinutes + emr.idleTimeoutMinutes) / 60) * clusterPerHour(emr.transientShape, emr);
  return standing / (MONTH_DAYS * perCluster);
}

/**
 * The lowest step time per run (minutes) at which R transient runs a day cost as much as standing;
 * 0 if they already do with no step time, null if they never do (ceiling below standing). Found by
 * a scan (1/100 of the gap between runs) and bisection: sharing makes the cost drop at some step
 * times, so the first crossing is not always in closed form.
 */
export function crossoverStepMinutes(runsPerDay: number, emr: EmrParams = emrParams()): number | null {
  const standing = standingClustersPerMonth(emr);
  if (runsPerDay <= 0 || standing > transientCeilingPerMonth(emr)) return null;
  const excess = (s: number) => heavyPathMonth(runsPerDay, s, { emr }).transient.clusterUsd - standing;
  if (excess(0) >= 0) return 0;
  const gap = DAY_MINUTES / runsPerDay;
  const step = gap / 100;
  // at S ≥ gap − I the cluster is up all the time: the ceiling, ≥ standing
  for (let hi = step; hi <= gap + step; hi += step) {
    if (excess(hi) < 0) continue;
    let lo = hi - step;
    for (let i = 0; i < 60; i++) {
      const mid = (lo + hi) / 2;
      if (excess(mid) >= 0) hi = mid;
      else lo = mid;
    }
    return hi;
  }
  return null;
}

export const total = (lines: CostLine[]) => lines.reduce((sum, l) => sum + l.usd, 0);
