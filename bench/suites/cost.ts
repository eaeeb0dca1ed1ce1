/**
 * 7. Cost model: the AWS cost per 1,000 landed files and per batch run, from what the other suites
 * measured in this run (handler durations, invocations, DynamoDB capacity and S3 requests per file,
 * Spark time) and the memory serverless.yml gives each function; and a month of the heavy path in
 * standing mode (two always-on EMR clusters) against transient mode (a cluster per run, ended by its
 * idle timeout). Prices and cluster shapes: bench/cost/prices.ts. Run alone (npm run bench -- --only
 * cost), it reads the other suites' last results from bench/results.json (results.quick.json first
 * with --quick) and says so.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readDeployment } from '../../deploy/serverless-config';
import {
  clusterPerHour,
  costPerRun,
  costPerThousandFiles,
  crossoverRunsPerDay,
  crossoverStepMinutes,
  describeShape,
  emrParams,
  heavyPathMonth,
  standingClustersPerMonth,
  total,
  transientCeilingPerMonth,
  type CostLine,
} from '../cost/model';
import { PRICES } from '../cost/prices';
import type { BenchReport, SuiteResult } from '../lib/results';
import type { Summary } from '../lib/stats';
import { suiteMain } from '../lib/suite';

const usd = (n: number) => (n >= 0.01 ? `$${n.toFixed(4)}` : `$${n.toPrecision(2)}`);
const dollars = (n: number) => `$${n.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
const num = (n: number, digits = 1) => n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

/** The last results the runner wrote, for suites this run did not measure. */
function lastResults(quick: boolean): Array<{ file: string; suites: SuiteResult[] }> {
  const files = [...(quick ? ['results.quick.json'] : []), 'results.json'];
  return files
    .map((f) => join(import.meta.dirname, '..', f))
    .filter((f) => existsSync(f))
    .map((f) => {
      const report = JSON.parse(readFileSync(f, 'utf8')) as BenchReport;
      return { file: `bench/${f.split('/').pop()}`, suites: report.suites.map((s) => ({ ...s, measuredAt: s.measuredAt ?? report.startedAt })) };
    });
}

await suiteMain(async ({ previous, quick }) => {
  const earlier = lastResults(quick);
  /** where each input came from, when not from this run */
  const borrowed: string[] = [];
  const find = (id: string) => {
    const here = previous.find((s: SuiteResult) => s.id === id);
    if (here) return here.data as Record<string, any>;
    for (const { file, suites } of earlier) {
      const found = suites.find((s) => s.id === id);
      if (found) {
        borrowed.push(`${id} (${file}, measured ${found.measuredAt})`);
        return found.data as Record<string, any>;
      }
    }
    return undefined;
  };
  const of = (id: string) => {
    const found = find(id);
    if (!found)
      throw new Error(
        `the cost model needs the "${id}" suite's results, from this run or bench/results.json (npm run bench -- --only conversion,engine,resolver,cost)`,
      );
    return found;
  };
  const conversion = of('conversion');
  const resolver = of('resolver');
  const engine = find('engine');
  const memory = Object.fromEntries(readDeployment(join(import.meta.dirname, '..', '..')).functions.map((f) => [f.name, f.memoryMb]));
  const file = conversion['10 MB'] as { ms: Record<string, Summary> };
  const perFile = costPerThousandFiles({
    lambda: {
      validate: { invocations: 1, ms: file.ms.validate!.median, memoryMb: memory.validate! },
      convert: { invocations: 1, ms: file.ms.convert!.median, memoryMb: memory.convert! },
      track: { invocations: 2, ms: file.ms.track!.median / 2, memoryMb: memory.track! },
      resolve: { invocations: resolver.lambda.resolve.invocationsPerFile, ms: resolver.lambda.resolve.medianMs, memoryMb: memory.resolve! },
    },
    dynamodb: { writeUnits: resolver.dynamodb.wcuPerFile, readUnits: resolver.dynamodb.rcuPerFile },
    s3: resolver.s3RequestsPerFile,
  });
  const filesPerBatch = resolver.files / resolver.batches;
  const stageLambda = (fn: string) => ({
    invocations: resolver.lambda[fn].invocationsPerFile * filesPerBatch,
    ms: resolver.lambda[fn].medianMs,
    memoryMb: memory[fn]!,
  });
  // job-run.asl.json, one stage, success: MarkRunning, RunStages, Transform, Checkpoint, MarkSucceeded, Succeeded
  const duckdbRun = costPerRun({
    lambda: { jobstep: stageLambda('jobstep'), transform: stageLambda('transform') },
    stateTransitions: 6,
    dynamodb: { writeUnits: 0, readUnits: 0 },
  });
  const sparkLabel = engine
    ? Object.keys(engine)
        .filter((k) => /B$/.test(k))
        .pop()
    : undefined;
  const sparkMinutes = sparkLabel ? (engine![sparkLabel].sparkMs as Summary).median / 60_000 : 1;
  const stages = 4;
  /** A heavy run of `stepMinutes` of step time over its stages: the emrstep polls and state transitions grow with it. */
  const heavyRunOf = (stepMinutes: number) => {
    const polls = Math.ceil(((stepMinutes / stages) * 60) / 30);
    // emr-job-run.asl.json per stage: NextStage, Acquire, ClusterReady, Submit, (Wait, Poll, Choice) per 30 s poll, Checkpoint; plus Prepare, MarkRunning, MarkSucceeded, Succeeded
    const emrTransitions = 4 + stages * (5 + 3 * polls);
    // emrstep per stage: next, acquire, submit, one per poll (checkpoint is jobstep's); acquire reads the cell's claim
    return costPerRun({
      lambda: { emrstep: { invocations: stages * (3 + polls), ms: 200, memoryMb: memory.emrstep! } },
      stateTransitions: emrTransitions,
      dynamodb: { writeUnits: 12, readUnits: 12 + stages },
      emrStepMinutes: stepMinutes,
    });
  };
  const heavyStepMinutes = sparkMinutes * stages;
  const heavyRun = heavyRunOf(heavyStepMinutes);
  /** what a heavy run costs besides the cluster: the same in both modes */
  const serverlessPerRun = (stepMinutes: number) => total(heavyRunOf(stepMinutes).filter((l) => !l.item.startsWith('EMR')));
  const table = (lines: CostLine[]) => lines.filter((l) => l.usd > 0).map((l) => [l.item, usd(l.usd)]);

  // a month of the heavy path, standing against transient
  const emr = emrParams();
  const { provisioningMinutes: P, idleTimeoutMinutes: I, spotFraction } = emr;
  const stepCases = [heavyStepMinutes, 30];
  const month = stepCases.flatMap((step) => [1, 4, 24].map((runsPerDay) => heavyPathMonth(runsPerDay, step, { perRunUsd: serverlessPerRun(step), emr })));
  const standingUsd = standingClustersPerMonth(emr);
  const ceilingUsd = transientCeilingPerMonth(emr);
  const single = emrParams({ standingClusters: 1 });
  const crossover = Object.fromEntries(
    stepCases.map((s) => [s.toFixed(2), { runsPerDay: crossoverRunsPerDay(s, emr), runsPerDayVsOneStanding: crossoverRunsPerDay(s, single) }]),
  );
  const oneRunStepMinutesVsOneStanding = crossoverStepMinutes(1, single);
  const legacyStandingUsd = standingClustersPerMonth(emrParams({ standingShape: PRICES.emr.legacyStandingShape }));
  /** whether transient, once at a single standing cluster's cost, stays there at every denser rate up to a run every S + I */
  const staysAbove = (s: number, r: number) => {
    for (let rate = r; rate <= (24 * 60) / (s + I) + 1; rate += 0.25)
      if (heavyPathMonth(rate, s, { emr: single }).transient.clusterUsd < standingClustersPerMonth(single) - 0.005) return false;
    return true;
  };
  /** how many task nodes (of the default task type and market) would bring the transient ceiling up to standing */
  const taskNodesToCross = (() => {
    const task = emr.transientShape.task;
    if (!task || task.count <= 0) return null;
    const perNode =
      clusterPerHour({ ...emr.transientShape, task: { ...task, count: 1 } }, emr) - clusterPerHour({ ...emr.transientShape, task: undefined }, emr);
    return Math.ceil((standingUsd / (24 * 30) - clusterPerHour({ ...emr.transientShape, task: undefined }, emr)) / perNode - 1e-9);
  })();
  const crossoverSentence = (() => {
    const parts = stepCases.map((s) => crossoverRunsPerDay(s, emr));
    const vsOne = stepCases.map((s) => ({ s, r: crossoverRunsPerDay(s, single)! }));
    const head = parts.every((r) => r === null)
      ? `Crossover: none. Transient never costs as much as standing at these shapes: its ceiling, one transient cluster up all month (what runs closer than step + idle timeout apart pay), is ${dollars(ceilingUsd)}, ${num((100 * ceilingUsd) / standingUsd, 0)} % of standing's ${dollars(standingUsd)}; it would take a transient cluster of ${usd(standingUsd / (24 * 30))}/h or more${taskNodesToCross === null ? '' : ` (${taskNodesToCross} or more Spot task nodes)`}.`
      : `Crossover: transient costs as much as standing at ${stepCases.map((s, i) => `${parts[i] === null ? 'no rate' : `${num(parts[i]!, 1)} runs a day`} of ${num(s, 2)} min`).join(' and ')}.`;
    const one = vsOne
      .map(
        ({ s, r }) =>
          `${num(r, 1)} runs a day of ${num(s, 2)} min (one every ${num((24 * 60) / r, 0)} min${staysAbove(s, r) ? '' : '; denser runs share clusters and dip below it again'})`,
      )
      .join(', ');
    return `${head} Against a single always-on cluster (${dollars(standingClustersPerMonth(single))}: no passive cell), transient reaches it at ${one}; a single run a day would need ${oneRunStepMinutesVsOneStanding === null ? 'more than a day' : `${num(oneRunStepMinutesVsOneStanding, 0)} min (${num(oneRunStepMinutesVsOneStanding / 60, 1)} h)`} of steps.`;
  })();
  const assumptions = `Assumptions: a 30-day month; standing = ${emr.standingClusters} clusters of ${describeShape(emr.standingShape)} (${usd(clusterPerHour(emr.standingShape, emr))}/h each) around the clock, nothing more per run (with the legacy m5.xlarge it is ${dollars(legacyStandingUsd)}); transient = ${describeShape(emr.transientShape)} (${usd(clusterPerHour(emr.transientShape, emr))}/h: Spot at ${spotFraction} of the EC2 On-Demand price, i.e. ~${num(100 * (1 - spotFraction), 0)} % off, the EMR uplift in full, and always obtained; when the task fleet falls back to On-Demand after its 10 min Spot timeout, that run pays spotFraction 1.0), billed for ${P} min of provisioning per cluster created (RunJobFlow to WAITING, typically 6–10 min, billed from instance launch), the steps, and the ${I} min idle timeout (AutoTerminationPolicy IdleTimeout ${I * 60} s); runs spread evenly around the clock, modelled exactly for that spacing in steady state: a run arriving while the cluster is up (starting, busy or idle) reuses it, its steps queued behind the earlier ones, so the provisioning and the idle tail are paid once per chain, and runs closer than step + idle apart keep one cluster up all month (the month's first provisioning ignored). Both modes add each run's Lambda, Step Functions and DynamoDB (the per-heavy-run table without its EMR line). Not counted: EBS volumes (ignored: the nodes' root and data volumes, small beside the instance-hours), the minutes a cluster takes to terminate after its idle timeout, per-second billing's 1-minute minimum, a second cluster while a failover moves the runs to the other cell.`;
  const rates = [1, 4, 24];
  const at = (step: number, runsPerDay: number) => month.find((m) => m.stepMinutes === step && m.runsPerDay === runsPerDay)!;
  const transientCell = (m: (typeof month)[number]) =>
    `${dollars(m.transient.usd)} (${m.transient.day.continuous ? 'one cluster up all month' : `${num(m.transient.clustersCreated, 0)} clusters`}, ${num(m.transient.clusterHours, 1)} cluster-h)`;
  const monthTable = {
    header: ['heavy path, USD per 30-day month', ...rates.map((r) => `${r} run${r === 1 ? '' : 's'} / day`)],
    rows: stepCases.flatMap((step) => [
      [
        `standing (${emr.standingClusters} × (${describeShape(emr.standingShape)}), always on), runs of ${num(step, 2)} min`,
        ...rates.map((r) => dollars(at(step, r).standing.usd)),
      ],
      [`transient (${describeShape(emr.transientShape)}, per run), runs of ${num(step, 2)} min`, ...rates.map((r) => transientCell(at(step, r)))],
    ]),
  };
  const lone = heavyPathMonth(1, heavyStepMinutes, { emr }).transient.clusterUsd / 30;
  return {
    id: 'cost',
    title: '7. Cost model (AWS list prices, us-east-1)',
    tables: [
      { header: ['per 1,000 landed 10 MB files', 'USD'], rows: [...table(perFile), ['**total**', `**${usd(total(perFile))}**`]] },
      {
        header: [`per DuckDB batch run (${filesPerBatch.toFixed(0)} files)`, 'USD'],
        rows: [...table(duckdbRun), ['**total**', `**${usd(total(duckdbRun))}**`]],
      },
      {
        header: [`per heavy (EMR) run, ${stages} stages of ${sparkMinutes.toFixed(2)} min`, 'USD'],
        rows: [...table(heavyRun), ['**total**', `**${usd(total(heavyRun))}**`]],
      },
      monthTable,
    ],
    targets: [],
    notes: [
      `Prices in bench/cost/prices.ts: Lambda $${PRICES.lambda.perGbSecond}/GB-s + $${PRICES.lambda.perMillionRequests}/M requests (x86_64), DynamoDB on-demand $${PRICES.dynamodb.perMillionWriteUnits}/M WRU and $${PRICES.dynamodb.perMillionReadUnits}/M RRU, S3 $${PRICES.s3.perThousandPutCopyPostList}/1,000 PUT/LIST and $${PRICES.s3.perThousandGetHead}/1,000 GET/HEAD, Step Functions $${PRICES.stepFunctions.perThousandTransitions}/1,000 transitions, EMR on EC2 ${Object.entries(
        PRICES.instances,
      )
        .map(([type, p]) => `${type} $${p.ec2OnDemandPerHour}+$${p.emrPerHour}/h`)
        .join(', ')} (EC2 On-Demand + EMR).`,
      `Durations are the medians on this machine (suite 1 for validate/convert/track at 10 MB, suite 4 for resolve, jobstep and transform); DynamoDB units and S3 requests per file are suite 4's, with the batch-level writes spread over the batch's files.${borrowed.length > 0 ? ` Not measured in this run, read from the last results: ${borrowed.join(', ')}.` : ''}`,
      `The heavy run's step time is the Spark POS aggregation of suite 3 at ${sparkLabel ?? '(not measured: 1 min assumed)'} per stage (local Spark on 2 cores, start-up included), as a proxy: ${num(heavyStepMinutes, 2)} min a run. Its EMR line is the transient cluster while the steps run; in standing mode that time is on clusters paid for anyway (the monthly table), in transient mode a run alone on its cluster also pays the provisioning and the idle timeout: ${usd(lone)} for the cluster in all.`,
      `The heavy path per month (the table above; Lambda, Step Functions and DynamoDB of the runs included in both columns): standing mode's always-on clusters cost ${dollars(standingUsd)} a month whether they run steps or not.`,
      crossoverSentence,
      assumptions,
      'Not counted: CloudWatch Logs ingestion, data transfer (none within a region), S3 storage.',
    ],
    data: {
      perThousandFiles: perFile,
      perThousandFilesUsd: total(perFile),
      perDuckdbRun: duckdbRun,
      perDuckdbRunUsd: total(duckdbRun),
      perHeavyRun: heavyRun,
      perHeavyRunUsd: total(heavyRun),
      heavyStepMinutes,
      heavyPathMonth: month,
      standingClustersPerMonthUsd: standingUsd,
      transientCeilingPerMonthUsd: ceilingUsd,
      legacyStandingClustersPerMonthUsd: legacyStandingUsd,
      crossover,
      taskNodesToCross,
      oneRunStepMinutesVsOneStanding,
      emr,
      inputsFromEarlierResults: borrowed,
      prices: PRICES,
    },
  };
});
