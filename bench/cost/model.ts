import { PRICES } from './prices';

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
  const s3 = Object.entries(usage.s3).reduce((sum, [op, count]) => sum + count * (GET_HEAD.has(op) ? PRICES.s3.perThousandGetHead : PRICES.s3.perThousandPutCopyPostList) / 1000, 0);
  return [
    ...lambdaLines(usage.lambda, n),
    { item: 'DynamoDB writes (on-demand)', usd: (usage.dynamodb.writeUnits * n * PRICES.dynamodb.perMillionWriteUnits) / 1e6 },
    { item: 'DynamoDB reads (on-demand)', usd: (usage.dynamodb.readUnits * n * PRICES.dynamodb.perMillionReadUnits) / 1e6 },
    { item: 'S3 requests', usd: s3 * n },
  ];
}

/** Cost of one batch run (the job's own work: state machine, stage functions, EMR step time). */
export function costPerRun(usage: PerRunUsage): CostLine[] {
  const { emr } = PRICES;
  const clusterPerMinute = ((emr.ec2PerHour + emr.emrPerHour) * emr.instancesPerCluster) / 60;
  return [
    ...lambdaLines(usage.lambda, 1),
    { item: 'Step Functions transitions', usd: (usage.stateTransitions * PRICES.stepFunctions.perThousandTransitions) / 1000 },
    { item: 'DynamoDB (run items)', usd: (usage.dynamodb.writeUnits * PRICES.dynamodb.perMillionWriteUnits + usage.dynamodb.readUnits * PRICES.dynamodb.perMillionReadUnits) / 1e6 },
    ...(usage.emrStepMinutes ? [{ item: `EMR cluster time (${emr.instancesPerCluster}× ${emr.instanceType})`, usd: usage.emrStepMinutes * clusterPerMinute }] : []),
  ];
}

/** The two always-on EMR clusters (active/passive), per 30-day month: the heavy path's fixed cost. */
export function emrClustersPerMonth(): number {
  const { emr } = PRICES;
  return (emr.ec2PerHour + emr.emrPerHour) * emr.instancesPerCluster * emr.clusters * 24 * 30;
}

export const total = (lines: CostLine[]) => lines.reduce((sum, l) => sum + l.usd, 0);
