/**
 * 7. Cost model: the AWS cost per 1,000 landed files and per batch run, from what the other suites
 * measured in this run (handler durations, invocations, DynamoDB capacity and S3 requests per file,
 * Spark time) and the memory serverless.yml gives each function. Prices: bench/cost/prices.ts.
 */
import { join } from 'node:path';
import { readDeployment } from '../../local/serverless-config';
import { costPerRun, costPerThousandFiles, emrClustersPerMonth, total, type CostLine } from '../cost/model';
import { PRICES } from '../cost/prices';
import type { SuiteResult } from '../lib/results';
import type { Summary } from '../lib/stats';
import { suiteMain } from '../lib/suite';

const usd = (n: number) => (n >= 0.01 ? `$${n.toFixed(4)}` : `$${n.toPrecision(2)}`);

await suiteMain(async ({ previous }) => {
  const of = (id: string) => {
    const found = previous.find((s: SuiteResult) => s.id === id);
    if (!found) throw new Error(`the cost model needs the "${id}" suite's results in the same run (npm run bench -- --only conversion,engine,resolver,cost)`);
    return found.data as Record<string, any>;
  };
  const conversion = of('conversion');
  const resolver = of('resolver');
  const engine = previous.find((s) => s.id === 'engine')?.data as Record<string, any> | undefined;
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
  const stageLambda = (fn: string) => ({ invocations: resolver.lambda[fn].invocationsPerFile * filesPerBatch, ms: resolver.lambda[fn].medianMs, memoryMb: memory[fn]! });
  // job-run.asl.json, one stage, success: MarkRunning, RunStages, Transform, Checkpoint, MarkSucceeded, Succeeded
  const duckdbRun = costPerRun({ lambda: { jobstep: stageLambda('jobstep'), transform: stageLambda('transform') }, stateTransitions: 6, dynamodb: { writeUnits: 0, readUnits: 0 } });
  const sparkLabel = engine ? Object.keys(engine).filter((k) => /B$/.test(k)).pop() : undefined;
  const sparkMinutes = sparkLabel ? (engine![sparkLabel].sparkMs as Summary).median / 60_000 : 1;
  const stages = 4;
  const polls = Math.ceil((sparkMinutes * 60) / 30);
  // emr-job-run.asl.json per stage: NextStage, Submit, (Wait, Poll, Choice) per 30 s poll, Checkpoint; plus Prepare, MarkRunning, MarkSucceeded, Succeeded
  const emrTransitions = 4 + stages * (3 + 3 * polls);
  const heavyRun = costPerRun({ lambda: { emrstep: { invocations: stages * (2 + polls), ms: 200, memoryMb: memory.emrstep! } }, stateTransitions: emrTransitions, dynamodb: { writeUnits: 12, readUnits: 12 }, emrStepMinutes: sparkMinutes * stages });
  const table = (lines: CostLine[]) => lines.filter((l) => l.usd > 0).map((l) => [l.item, usd(l.usd)]);
  return {
    id: 'cost',
    title: '7. Cost model (AWS list prices, us-east-1)',
    tables: [
      { header: ['per 1,000 landed 10 MB files', 'USD'], rows: [...table(perFile), ['**total**', `**${usd(total(perFile))}**`]] },
      { header: [`per DuckDB batch run (${filesPerBatch.toFixed(0)} files)`, 'USD'], rows: [...table(duckdbRun), ['**total**', `**${usd(total(duckdbRun))}**`]] },
      { header: [`per heavy (EMR) run, ${stages} stages of ${sparkMinutes.toFixed(2)} min`, 'USD'], rows: [...table(heavyRun), ['**total**', `**${usd(total(heavyRun))}**`]] },
    ],
    targets: [],
    notes: [
      `Prices in bench/cost/prices.ts: Lambda $${PRICES.lambda.perGbSecond}/GB-s + $${PRICES.lambda.perMillionRequests}/M requests (x86_64), DynamoDB on-demand $${PRICES.dynamodb.perMillionWriteUnits}/M WRU and $${PRICES.dynamodb.perMillionReadUnits}/M RRU, S3 $${PRICES.s3.perThousandPutCopyPostList}/1,000 PUT/LIST and $${PRICES.s3.perThousandGetHead}/1,000 GET/HEAD, Step Functions $${PRICES.stepFunctions.perThousandTransitions}/1,000 transitions, EMR ${PRICES.emr.instanceType} $${PRICES.emr.ec2PerHour}+$${PRICES.emr.emrPerHour}/h.`,
      `Durations are this run's medians on this machine (suite 1 for validate/convert/track at 10 MB, suite 4 for resolve, jobstep and transform); DynamoDB units and S3 requests per file are suite 4's, with the batch-level writes spread over the batch's files.`,
      `The heavy run's EMR time is the Spark POS aggregation of suite 3 at ${sparkLabel ?? '(not measured: 1 min assumed)'} per stage, as a proxy; the active/passive clusters themselves cost ${usd(emrClustersPerMonth())} a month whether they run steps or not (2 × ${PRICES.emr.instancesPerCluster} ${PRICES.emr.instanceType}, always on).`,
      'Not counted: CloudWatch Logs ingestion, data transfer (none within a region), S3 storage.',
    ],
    data: { perThousandFiles: perFile, perThousandFilesUsd: total(perFile), perDuckdbRun: duckdbRun, perDuckdbRunUsd: total(duckdbRun), perHeavyRun: heavyRun, perHeavyRunUsd: total(heavyRun), emrClustersPerMonthUsd: emrClustersPerMonth(), prices: PRICES },
  };
});
