/**
 * The AWS prices the cost model uses, in one place: us-east-1, on-demand, list prices as published
 * in 2026 (x86_64 Lambda, Step Functions Standard, DynamoDB on-demand, S3 Standard requests,
 * EMR on EC2: the EC2 On-Demand price of each instance type plus the EMR uplift per instance-hour).
 * Change them here; nothing else holds a price. The EMR cluster shapes and timings that turn these
 * prices into a monthly figure are parameters here too (bench/cost/model.ts: heavyPathMonth).
 */

export type Market = 'ON_DEMAND' | 'SPOT';

/** One instance fleet of a cluster, as one instance type and a count of instances. */
export interface FleetShape {
  instanceType: InstanceType;
  count: number;
  market: Market;
}

/** An EMR cluster: primary and core fleets, and an optional task fleet (count 0 or absent: none). */
export interface ClusterShape {
  primary: FleetShape;
  core: FleetShape;
  task?: FleetShape;
}

/** Per instance type, $/h: the EC2 On-Demand price and EMR's uplift on top of it (charged in full on Spot too). */
export const INSTANCE_PRICES = {
  // Graviton (arm64): the transient clusters' default
  'm7g.xlarge': { ec2OnDemandPerHour: 0.1632, emrPerHour: 0.0408 },
  // x86_64: the legacy standing clusters
  'm5.xlarge': { ec2OnDemandPerHour: 0.192, emrPerHour: 0.048 },
} as const satisfies Record<string, { ec2OnDemandPerHour: number; emrPerHour: number }>;

export type InstanceType = keyof typeof INSTANCE_PRICES;

const shape = (instanceType: InstanceType, task: number): ClusterShape => ({
  primary: { instanceType, count: 1, market: 'ON_DEMAND' },
  core: { instanceType, count: 2, market: 'ON_DEMAND' },
  ...(task > 0 ? { task: { instanceType, count: task, market: 'SPOT' as const } } : {}),
});

export const PRICES = {
  region: 'us-east-1',
  lambda: { perGbSecond: 0.0000166667, perMillionRequests: 0.2 },
  dynamodb: { perMillionWriteUnits: 0.625, perMillionReadUnits: 0.125 },
  s3: { perThousandPutCopyPostList: 0.005, perThousandGetHead: 0.0004 },
  stepFunctions: { perThousandTransitions: 0.025 },
  instances: INSTANCE_PRICES,
  emr: {
    /** Spot price of the task fleet as a fraction of the EC2 On-Demand price: 0.4, i.e. ~60 % off (the EMR uplift is not discounted) */
    spotFraction: 0.4,
    /** transient mode: created per run (RunJobFlow, instance fleets): 1 + 2 m7g.xlarge On-Demand, 2 m7g.xlarge Spot task */
    transientShape: shape('m7g.xlarge', 2),
    /** standing mode: this many always-on clusters (active/passive, one per cell) */
    standingClusters: 2,
    /** of this shape: the same primary + core, On-Demand, no task fleet */
    standingShape: shape('m7g.xlarge', 0),
    /** the legacy standing clusters (2 × 3 m5.xlarge), for comparison */
    legacyStandingShape: shape('m5.xlarge', 0),
    /** from RunJobFlow to WAITING (EMR on EC2: typically 6–10 min), billed from instance launch */
    provisioningMinutes: 8,
    /** AutoTerminationPolicy IdleTimeout: the deployment's default of 600 s */
    idleTimeoutMinutes: 10,
  },
} as const;
