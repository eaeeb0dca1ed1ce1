import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError } from '../shared/core/errors';
import { PREFIX } from '../shared/core/s3/layout';
import { DEFAULT_SAMPLE, writePosSample, type PosSampleOptions } from '../examples/retail/data/pos-sample';
import { DEFAULT_CLICKSTREAM, writeClickstreamSample } from '../examples/retail/data/clickstream-sample';
import { S3Client } from '@aws-sdk/client-s3';
import { loadPipeline } from '../shared/core/config/load-config';
import { BatchBusyError, NoFailedRunError, explainBatch, retryBatch } from '../shared/stages/resolve';
import { describeRepair, reconcile as reconcilePass, reconcileDepsFromEnv } from '../shared/stages/reconcile';
import { batchId as batchIdOf } from '../shared/core/runs/batches';
import { STACK_FILE_NAME, TargetError, localTarget, stageTarget, type Target } from './targets';
import { readDeployment } from '../deploy/serverless-config';
import { replayPrefix } from '../shared/core/s3/replay';
import { csvCell, exportCuratedTables, exportWarehouseTables } from './reports/curated-export';
import { openLake, queryLake } from './lake-query';
import { catalogTables } from '../shared/stages/catalog';
import { formatTable, progress } from './terminal';
import { batchTable, runLines } from './reports/job-run-report';
import { compareWithExpected, fileStateTable, latestPerKey, stateCounts } from './reports/file-state-report';
import { landDirectory } from './land';
import { downloadPrefix, landAndSettle, writeFileStates } from './pipeline-run';
import { emrClusterLines, writeEmrClusters } from './reports/emr-cluster-report';
import { PROJECT_ROOT, startLocalStack, type LocalStack } from '../local/stack';
import { DEFAULT_PIPELINE_FILE, usePipelineFile } from '../local/pipeline-file';

const USAGE = `landfall — event-driven batch analytics: files land in S3, are validated, converted to Parquet, tracked.

Every command runs the pipeline of --config FILE (a pipeline.yaml or .json; default: the samples'
examples/retail/pipeline.yaml). The local stack starts and stops by itself unless noted.
  landfall demo [--config FILE] [--seed N] [--days N] [--rows N]
      the samples: generate the POS and clickstream data, land it, wait until the pipeline settles
      (DuckDB jobs in Lambda, the clickstream on local Spark through the local EMR), print every
      file's state and every batch's runs. With another pipeline's --config: land the files of its
      folder's sample/ directory instead
  landfall run --input DIR --out DIR [--config FILE]
      land every file under DIR (its path under DIR is the key under landing/), wait, then write
      OUT/file-states.jsonl, OUT/job-runs.jsonl, OUT/emr-clusters.jsonl (every EMR cluster a run
      used: id, cell, created, ended, why; it returns once the clusters it created have ended by
      themselves), the processed Parquet under OUT/processed/, each job's output as
      OUT/curated/<table>.csv (its Parquet under OUT/curated/<table>/), and each table the jobs
      load into the warehouse as OUT/warehouse/<table>.csv
  landfall generate --out DIR [--seed N] [--days N] [--rows N]
      write the POS sample (and OUT.expected-states.json beside it) without running anything
  landfall config [--config FILE]
      validate the configuration and print it as the engine reads it (JSON, every file reference
      an absolute path; \`landfall run --config\` accepts it back, from any directory)
  landfall up [--config FILE]
      start the local stack and keep it running (Ctrl-C stops it); then, from another shell:
  landfall land DIR          land files on the running stack

Operations, on the running local stack or, with --stage S [--region R], on a deployed stage
(default AWS credentials; names from serverless.yml for that stage):
  landfall status            file states and job batches (what each waits for)
  landfall explain --job J --batch field=value,…
      why a batch has not run (or what it ran): what it waits for, its claim and its runs
  landfall retry --job J --batch field=value,…
      start a new run of a batch whose last run FAILED, with the same inputs; a stuck batch (a
      claim never started, an execution that ended unrecorded) is freed first
  landfall reconcile [--grace SECONDS]
      one pass of the reconciler now: re-drive files stuck in flight longer than SECONDS (default
      1200), free stuck runs, re-resolve batches of recently settled files, alert late batches
  landfall query [--lake OUT] [--format csv] "SQL"
      SQL over the lake with the catalog's names (processed.<dataset>, curated.<table>, or the bare
      table name): DuckDB views over the Parquet a \`run --out OUT\` wrote, or the running stack's
  landfall replay --prefix P [--force]
      re-put every object under landing/P (or with --bucket B, that bucket on AWS): identical
      bytes are no-ops unless --force; changed bytes re-run their batches
`;

const STACK_FILE = join(PROJECT_ROOT, STACK_FILE_NAME);

/**
 * `--stage S` names a deployed stage; without it, the running local stack. The pipeline is the
 * one --config names, else the one the running stack was started with (`landfall up --config`).
 */
async function target(values: Record<string, string | boolean | undefined>): Promise<Target> {
  if (values.stage) {
    usePipelineFile(values.config as string | undefined);
    return stageTarget(PROJECT_ROOT, values.stage as string, values.region as string | undefined);
  }
  const local = await localTarget(STACK_FILE);
  const started = existsSync(STACK_FILE) ? (JSON.parse(await readFile(STACK_FILE, 'utf8')) as { pipelineFile?: string }).pipelineFile : undefined;
  usePipelineFile((values.config as string | undefined) ?? started);
  return local;
}

function sampleOptions(values: Record<string, string | boolean | undefined>): PosSampleOptions {
  const int = (name: string, fallback: number) => {
    const raw = values[name];
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 0) throw new UsageError(`--${name} must be a whole number, got ${String(raw)}`);
    return n;
  };
  return { ...DEFAULT_SAMPLE, seed: int('seed', DEFAULT_SAMPLE.seed), days: int('days', DEFAULT_SAMPLE.days), rowsPerFile: int('rows', DEFAULT_SAMPLE.rowsPerFile) };
}

class UsageError extends Error {}

async function withStack<T>(fn: (stack: LocalStack) => Promise<T>): Promise<T> {
  const stack = await startLocalStack({ log: (l) => process.stderr.write(`${l}\n`) });
  try {
    return await fn(stack);
  } finally {
    await stack.stop();
  }
}

function reportFailures(stack: LocalStack): boolean {
  for (const f of stack.lambdas.failures) process.stderr.write(`internal error: ${f.functionName} failed ${f.attempts} times: ${f.error}\n`);
  return stack.lambdas.failures.length === 0;
}

async function demo(values: Record<string, string | boolean | undefined>): Promise<number> {
  const pipeline = usePipelineFile(values.config as string | undefined);
  if (process.env.LANDFALL_CONFIG_FILE !== DEFAULT_PIPELINE_FILE) return demoFolder(pipeline.dir!);
  const dir = await mkdtemp(join(tmpdir(), 'landfall-sample-'));
  try {
    const options = sampleOptions(values);
    const sample = await writePosSample(dir, options);
    // the clickstream (heavy path, Spark on EMR) for the same days
    const clicks = await writeClickstreamSample(dir, { ...DEFAULT_CLICKSTREAM, seed: options.seed, startDate: options.startDate, days: options.days });
    sample.files.push(...clicks.files.map((key) => ({ key, state: 'CONVERTED' as const })));
    process.stderr.write(`sample: ${sample.files.length} files written to ${dir}\n`);
    return await withStack(async (stack) => {
      await landAndSettle(stack, dir);
      const items = latestPerKey(await stack.fileStates.listAll());
      process.stdout.write(`${fileStateTable(items)}\n\n${items.length} files: ${stateCounts(items)}\n`);
      const { batches, runs } = await stack.jobRuns.listAll();
      process.stdout.write(`\n${batchTable(batches, runs)}\n\n${runs.length} job runs, ${stack.stepFunctions.executions().length} executions\n`);
      // the heavy runs' clusters end by themselves once idle: show them when they have
      await stack.emr.allEnded(10 * 60_000);
      for (const c of emrClusterLines(stack.emr)) process.stdout.write(`EMR cluster ${c.id} in ${c.cell} (${c.availabilityZone ?? '?'}): ${Object.entries(c.steps).map(([state, n]) => `${n} ${state}`).join(', ')} steps; ${c.state}${c.why ? ` (${c.why})` : ''}\n`);
      const problems = compareWithExpected(items, sample.files);
      for (const b of batches.filter((b) => b.status !== 'SUCCEEDED')) problems.push(`batch ${b.batchId}: ${b.status} ${b.waitingFor.join('; ')}`);
      const healthy = reportFailures(stack);
      if (problems.length > 0) {
        process.stdout.write(`\n${problems.length} files are not in their expected state:\n${problems.map((p) => `  ${p}`).join('\n')}\n`);
        return 1;
      }
      process.stdout.write(`every sample file is in its expected state\n`);
      return healthy ? 0 : 1;
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * SQL over the lake with the catalog's table names (DuckDB views over the Parquet): the copy a
 * `landfall run --out OUT` wrote (--lake OUT), or the running `landfall up` stack's lake bucket.
 */
async function query(values: Record<string, string | boolean | undefined>, sql: string): Promise<number> {
  if (!sql.trim()) throw new UsageError('query needs the SQL: landfall query [--lake OUT] "SELECT …"');
  const pipeline = usePipelineFile(values.config as string | undefined);
  const work = await mkdtemp(join(tmpdir(), 'landfall-query-'));
  try {
    let root = values.lake as string | undefined;
    if (root) {
      if (!existsSync(root)) throw new UsageError(`--lake ${root} does not exist`);
    } else {
      const target = await localTarget(join(PROJECT_ROOT, STACK_FILE_NAME));
      root = join(work, 'lake');
      for (const prefix of [PREFIX.processed, PREFIX.curated]) await downloadPrefix(target.s3, target.names.lakeBucket, prefix, root);
    }
    const duckdb = await openLake(resolve(root), (await catalogTables(pipeline)).tables, work);
    try {
      const { columns, rows } = await queryLake(duckdb, sql).catch((err: Error) => {
        throw new UsageError(`the query failed: ${err.message}`);
      });
      if (values.format === 'csv') process.stdout.write(`${[columns, ...rows].map((r) => r.map(csvCell).join(',')).join('\n')}\n`);
      else process.stdout.write(`${formatTable([columns, ...rows])}\n(${rows.length} rows)\n`);
    } finally {
      duckdb.close();
    }
    return 0;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** Another pipeline's demo: the files of its folder's sample/ directory, landed and settled. */
async function demoFolder(pipelineDir: string): Promise<number> {
  const sample = join(pipelineDir, 'sample');
  if (!existsSync(sample)) throw new UsageError(`demo of ${pipelineDir}: no sample/ directory beside the configuration (its files are landed as landing/<path>); or use \`landfall run --input DIR\``);
  return withStack(async (stack) => {
    await landAndSettle(stack, sample);
    const items = latestPerKey(await stack.fileStates.listAll());
    process.stdout.write(`${fileStateTable(items)}\n\n${items.length} files: ${stateCounts(items)}\n`);
    const { batches, runs } = await stack.jobRuns.listAll();
    process.stdout.write(`\n${batchTable(batches, runs)}\n\n${runs.length} job runs\n`);
    const unsettled = batches.filter((b) => b.status !== 'SUCCEEDED');
    for (const b of unsettled) process.stdout.write(`batch ${b.batchId}: ${b.status} ${b.waitingFor.join('; ')}\n`);
    return reportFailures(stack) && unsettled.length === 0 ? 0 : 1;
  });
}

async function run(values: Record<string, string | boolean | undefined>): Promise<number> {
  const input = values.input as string | undefined;
  const out = values.out as string | undefined;
  if (!input || !out) throw new UsageError('run needs --input DIR and --out DIR');
  if (!existsSync(input)) throw new UsageError(`--input ${input} does not exist`);
  usePipelineFile(values.config as string | undefined);
  return withStack(async (stack) => {
    await landAndSettle(stack, input);
    const items = await stack.fileStates.listAll();
    const outDir = resolve(out);
    const statesPath = await writeFileStates(items, outDir);
    const tables = await downloadPrefix(stack.s3, stack.deployment.names.lakeBucket, PREFIX.processed, outDir);
    const { runs } = await stack.jobRuns.listAll();
    const runsPath = join(outDir, 'job-runs.jsonl');
    await writeFile(runsPath, runs.length > 0 ? `${runLines(runs).join('\n')}\n` : '');
    const curated = await exportCuratedTables(stack.s3, stack.deployment.names.lakeBucket, loadPipeline().config.jobs, outDir);
    // the curated Parquet too, so that `landfall query --lake OUT` reads every catalog table
    await downloadPrefix(stack.s3, stack.deployment.names.lakeBucket, PREFIX.curated, outDir);
    const warehouse = await exportWarehouseTables(stack.warehouse, loadPipeline().config.jobs, stack.catalog, outDir);
    // a run returns only once the EMR clusters it created have ended by themselves (idle timeout)
    const ending = progress('EMR clusters');
    const clusters = await writeEmrClusters(stack.emr, outDir);
    ending.done(`${clusters.lines.length} used, none left running`);
    process.stdout.write(`${stateCounts(latestPerKey(items))}; ${runs.length} job runs\nwrote ${statesPath}, ${runsPath}, ${clusters.path}, ${tables} Parquet files under ${join(outDir, 'processed')}, ${curated.length} curated tables under ${join(outDir, 'curated')} and ${warehouse.length} warehouse tables under ${join(outDir, 'warehouse')}\n`);
    return reportFailures(stack) ? 0 : 1;
  });
}

async function generate(values: Record<string, string | boolean | undefined>): Promise<number> {
  const out = values.out as string | undefined;
  if (!out) throw new UsageError('generate needs --out DIR');
  const sample = await writePosSample(resolve(out), sampleOptions(values));
  // Beside the directory, not in it: `landfall run --input DIR` lands everything inside DIR.
  const expectedPath = `${resolve(out)}.expected-states.json`;
  await writeFile(expectedPath, `${JSON.stringify(sample.files, null, 2)}\n`);
  process.stdout.write(`${sample.files.length} files written under ${resolve(out)}; expected states in ${expectedPath}\n`);
  return 0;
}

/** The effective configuration: validated, every file reference absolute (round-trips through --config). */
async function config(values: Record<string, string | boolean | undefined>): Promise<number> {
  const pipeline = usePipelineFile(values.config as string | undefined);
  process.stdout.write(`${JSON.stringify(pipeline.config, null, 2)}\n`);
  process.stderr.write(`${process.env.LANDFALL_CONFIG_FILE}: valid (${pipeline.config.datasets.length} datasets, ${pipeline.config.jobs.length} jobs)\n`);
  return 0;
}

async function up(values: Record<string, string | boolean | undefined>): Promise<number> {
  usePipelineFile(values.config as string | undefined);
  const stack = await startLocalStack({ log: (l) => process.stderr.write(`${l}\n`), handlerLogLevel: process.env.POWERTOOLS_LOG_LEVEL ?? 'INFO' });
  await mkdir(join(PROJECT_ROOT, '.landfall'), { recursive: true });
  const info = {
    pid: process.pid,
    pipelineFile: process.env.LANDFALL_CONFIG_FILE,
    endpoints: stack.endpoints,
    names: stack.deployment.names,
    stateMachineArns: { duckdb: stack.env.STATE_MACHINE_ARN, emr: stack.env.EMR_STATE_MACHINE_ARN },
    alertsTopicArn: stack.env.FAILURE_TOPIC_ARN,
    failedEventsQueueUrl: stack.env.FAILED_EVENTS_QUEUE_URL,
    functionNamePrefix: stack.env.FUNCTION_NAME_PREFIX,
    credentials: { accessKeyId: stack.env.AWS_ACCESS_KEY_ID, secretAccessKey: stack.env.AWS_SECRET_ACCESS_KEY },
  };
  await writeFile(STACK_FILE, JSON.stringify(info, null, 2));
  process.stderr.write(`running; \`landfall land DIR\` and \`landfall status\` talk to it; the reconciler runs every 10 minutes, as deployed. Ctrl-C stops it.\n`);
  // the deployed schedule of the reconciler (serverless.yml: rate(10 minutes))
  const reconcileDeps = reconcileDepsFromEnv();
  const schedule = setInterval(() => {
    reconcilePass(reconcileDeps).then(
      (report) => report.repairs.forEach((r) => process.stderr.write(`reconciler: ${describeRepair(r)}\n`)),
      (err: Error) => process.stderr.write(`reconciler failed: ${err.name}: ${err.message}\n`),
    );
  }, 10 * 60_000);
  await new Promise<void>((r) => {
    process.once('SIGINT', r);
    process.once('SIGTERM', r);
  });
  clearInterval(schedule);
  await rm(STACK_FILE, { force: true });
  await stack.stop();
  return 0;
}

async function land(dir: string | undefined): Promise<number> {
  if (!dir) throw new UsageError('land needs a directory');
  if (!existsSync(dir)) throw new UsageError(`${dir} does not exist`);
  const stack = await localTarget(STACK_FILE);
  const keys = await landDirectory(stack.s3, stack.names.rawBucket, dir);
  process.stdout.write(`${keys.length} files landed; \`landfall status\` shows their states\n`);
  return 0;
}

async function status(values: Record<string, string | boolean | undefined>): Promise<number> {
  const where = await target(values);
  const items = latestPerKey(await where.files.listAll());
  process.stdout.write(`${where.label}\n\n${fileStateTable(items)}\n\n${items.length} files: ${stateCounts(items)}\n`);
  const { batches, runs } = await where.runs.listAll();
  // What a waiting batch waits for is recorded when the wait starts; show it as it is now.
  const deps = { pipeline: loadPipeline(), files: where.files, runs: where.runs };
  const live = await Promise.all(batches.map(async (b) => (b.status === 'WAITING' ? { ...b, waitingFor: await explainBatch(deps, { job: b.job, values: b.values }) } : b)));
  process.stdout.write(`\n${batchTable(live, runs)}\n`);
  return 0;
}

function batchArgs(values: Record<string, string | boolean | undefined>, command: string) {
  const job = values.job as string | undefined;
  const spec = values.batch as string | undefined;
  if (!job || !spec) throw new UsageError(`${command} needs --job J and --batch field=value,…`);
  const pipelineJob = loadPipeline().jobsByName.get(job);
  if (!pipelineJob) throw new UsageError(`no job "${job}" in the pipeline configuration (jobs: ${loadPipeline().config.jobs.map((j) => j.name).join(', ')})`);
  const pairs = spec.split(',').map((pair) => pair.split('='));
  if (pairs.some((p) => p.length !== 2 || !p[0] || !p[1])) throw new UsageError(`--batch must be field=value pairs separated by commas, got "${spec}"`);
  const batchValues = Object.fromEntries(pairs as Array<[string, string]>);
  const missing = pipelineJob.batchKey.filter((k) => !batchValues[k]);
  if (missing.length > 0) throw new UsageError(`--batch needs ${pipelineJob.batchKey.join(', ')} for job ${job} (missing ${missing.join(', ')})`);
  return { job: pipelineJob, batch: { job, values: Object.fromEntries(pipelineJob.batchKey.map((k) => [k, batchValues[k]!])) } };
}

/** "Why hasn't batch X run?" (or what did it run): one answer from the batch item, its runs and a live evaluation. */
async function explain(values: Record<string, string | boolean | undefined>): Promise<number> {
  const where = await target(values);
  const { job, batch } = batchArgs(values, 'explain');
  const id = batchIdOf(batch, job);
  const state = await where.runs.getBatch(id);
  const waitingFor = await explainBatch({ pipeline: loadPipeline(), files: where.files, runs: where.runs }, batch);
  const { runs } = await where.runs.listAll();
  const lines = [`${id} (${where.label})`, `status: ${state?.status ?? 'never evaluated'}`];
  if (state?.activeRun) lines.push(`claimed: ${state.activeRun.executionName} at ${state.activeRun.claimedAt}${state.activeRun.executionArn ? ` (execution ${state.activeRun.executionArn})` : ' (no execution recorded yet)'}`);
  if (state?.lastRun) lines.push(`last run: ${state.lastRun.executionName} ${state.lastRun.status} at ${state.lastRun.finishedAt}${state.lastRun.error ? `: ${state.lastRun.error}` : ''}`);
  if (state?.deadlineAlerted) lines.push(`deadline ${state.deadlineAlerted} missed (alerted)`);
  lines.push(waitingFor.length > 0 ? `waits for: ${waitingFor.join('; ')}` : 'waits for nothing: its inputs are complete');
  for (const run of runs.filter((r) => r.batchId === id)) {
    const read = Object.entries(run.inputs).map(([relation, files]) => `${relation}: ${files.map((f) => `${f.key}@${f.versionId}`).join(', ')}`).join('; ');
    lines.push(`run ${run.executionName}: ${run.status}, claimed ${run.claimedAt}; read ${read}`);
  }
  process.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}

async function reconcileCommand(values: Record<string, string | boolean | undefined>): Promise<number> {
  const grace = values.grace === undefined ? 1200 : Number(values.grace);
  if (!Number.isFinite(grace) || grace < 0) throw new UsageError(`--grace must be a number of seconds, got ${String(values.grace)}`);
  const where = await target(values);
  const report = await reconcilePass(await where.reconcileDeps(), { fileGraceMs: grace * 1000 });
  const lines = [`reconciled ${where.label} at ${report.at}: ${report.repairs.length} repair(s), ${report.pastDeadline.length} batch(es) past their deadline`];
  lines.push(`looked at ${report.looked.openFiles} file(s) in flight past ${grace} s, ${report.looked.settledFiles} settled since ${report.window.from}, ${report.looked.batches} batch(es), ${report.looked.activeClaims} active claim(s), ${report.looked.failedEvents} failed event(s)`);
  for (const repair of report.repairs) lines.push(`  repaired: ${describeRepair(repair)}`);
  for (const late of report.pastDeadline) lines.push(`  late: ${late.batchId} (due ${late.deadline}): ${late.waitingFor.join('; ')}`);
  process.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}

async function replay(values: Record<string, string | boolean | undefined>): Promise<number> {
  const prefix = (values.prefix as string | undefined) ?? '';
  const into = values.bucket ? { s3: new S3Client({}), bucket: values.bucket as string } : await target(values).then((t) => ({ s3: t.s3, bucket: t.names.rawBucket }));
  const count = await replayPrefix(into.s3, into.bucket, prefix, { force: values.force === true });
  process.stdout.write(`${count} objects re-put under s3://${into.bucket}/${PREFIX.landing}${prefix}${values.force ? ' (forced)' : ''}\n`);
  return 0;
}

async function retry(values: Record<string, string | boolean | undefined>): Promise<number> {
  const where = await target(values);
  const { batch } = batchArgs(values, 'retry');
  const outcome = await retryBatch(await where.resolverDeps(), batch);
  process.stdout.write(`${JSON.stringify(outcome)}\n`);
  return 0;
}

export async function main(argv: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      input: { type: 'string' },
      out: { type: 'string' },
      config: { type: 'string' },
      seed: { type: 'string' },
      days: { type: 'string' },
      rows: { type: 'string' },
      prefix: { type: 'string' },
      bucket: { type: 'string' },
      force: { type: 'boolean' },
      lake: { type: 'string' },
      format: { type: 'string' },
      job: { type: 'string' },
      batch: { type: 'string' },
      stage: { type: 'string' },
      region: { type: 'string' },
      grace: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [command, arg] = positionals;
  if (values.help || !command) {
    process.stdout.write(USAGE);
    return command || values.help ? 0 : 2;
  }
  switch (command) {
    case 'demo':
      return demo(values);
    case 'run':
      return run(values);
    case 'generate':
      return generate(values);
    case 'config':
      return config(values);
    case 'up':
      return up(values);
    case 'land':
      return land(arg);
    case 'status':
      return status(values);
    case 'explain':
      return explain(values);
    case 'reconcile':
      return reconcileCommand(values);
    case 'replay':
      return replay(values);
    case 'retry':
      return retry(values);
    case 'query':
      return query(values, positionals.slice(1).join(' '));
    default:
      throw new UsageError(`unknown command "${command}"\n\n${USAGE}`);
  }
}

/** Runs a command and turns errors into exit codes: 2 for usage and configuration, 1 for the rest. */
export async function runCli(argv: string[]): Promise<number> {
  try {
    return await main(argv);
  } catch (err) {
    const parseError = String((err as { code?: unknown })?.code ?? '').startsWith('ERR_PARSE_ARGS');
    if (err instanceof UsageError || err instanceof ConfigError || err instanceof NoFailedRunError || err instanceof BatchBusyError || err instanceof TargetError || parseError) {
      process.stderr.write(`landfall: ${(err as Error).message}\n`);
      return 2;
    }
    if ((err as Error)?.name === 'ResourceNotFoundException' && argv.includes('--stage')) {
      // a table (or queue) of the stage does not exist where the credentials point
      const stage = argv[argv.indexOf('--stage') + 1];
      process.stderr.write(`landfall: ${(err as Error).message} (tables of stage ${stage}: ${readDeployment(PROJECT_ROOT, stage).names.fileStateTable}, …): is stage ${stage} deployed in this account and region?\n`);
      return 2;
    }
    process.stderr.write(`landfall: internal error: ${(err as Error)?.stack ?? String(err)}\n`);
    return 1;
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.exit(await runCli(process.argv.slice(2)));
}
