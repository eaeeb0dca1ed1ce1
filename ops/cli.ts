import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { ConfigError } from '../shared/core/errors';
import { PREFIX } from '../shared/core/s3/layout';
import { S3Client } from '@aws-sdk/client-s3';
import { loadPipeline, type Pipeline } from '../shared/core/config/load-config';
import { BatchBusyError, NoFailedRunError } from '../shared/stages/resolve';
import { describeRepair, reconcile as reconcilePass, reconcileDepsFromEnv } from '../shared/stages/reconcile';
import { STACK_FILE_NAME, TargetError, localTarget, stackFileOf } from './targets';
import { STACK_FILE, targetOf } from './operations/target';
import { batchRefOf } from './operations/batch-ref';
import { explainBatchNow, explanationLines, liveBatches } from './operations/batch-explanation';
import { readDeployment } from '../deploy/serverless-config';
import { replayPrefix } from '../shared/core/s3/replay';
import { csvCell, exportCuratedTables, exportWarehouseTables } from './reports/curated-export';
import { openLake, queryLake } from './lake-query';
import { SqlBindingError, assertPipelineSql, catalogTables } from '../shared/stages/catalog';
import { formatTable, progress } from './terminal';
import { batchTable, runLines } from './reports/job-run-report';
import { runOutcome } from './reports/run-outcome';
import { backfillCommand } from './backfill';
import { compareWithExpected, fileStateTable, latestPerKey, stateCounts } from './reports/file-state-report';
import { landDirectory, listFiles } from './land';
import { startConsole } from './console/server';
import { operatorIdentity } from './operations/operator';
import { actOnBatch } from './operations/batch-actions';
import { downloadPrefix, landAndSettle, writeFileStates } from './pipeline-run';
import { emrClusterLines, writeEmrClusters } from './reports/emr-cluster-report';
import { PROJECT_ROOT, startLocalStack, type LocalStack } from '../local/stack';
import { pipelineFilePath, usePipelineFile } from '../local/pipeline-file';
import {
  COMMANDS,
  UsageError,
  commandHelp,
  globalHelp,
  isCommand,
  parseCommand,
  scanCommandLine,
  shown,
  type CommandName,
  type CommandSpec,
  type HelpContext,
  type Values,
} from './commands';
import { SampleModuleError, findSampleModule, loadSampleModule, type SampleOptions } from './sample-contract';

/** The running local stack, or the deployed stage of --stage (ops/operations/target.ts). */
const target = (values: Values) => targetOf(values);

/** --seed, --days and --rows as given (whole numbers); the sample module's defaults fill in the rest. */
function sampleKnobs(values: Values): SampleOptions {
  const knobs: SampleOptions = {};
  for (const name of ['seed', 'days', 'rows'] as const) {
    const raw = values[name];
    if (raw === undefined) continue;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 0) throw new UsageError(`--${name} must be a whole number, got ${String(raw)}`);
    knobs[name] = n;
  }
  return knobs;
}

/**
 * The named pipeline (usePipelineFile), its SQL bound to its relations and parameters: a stage that
 * does not bind fails the command now, naming the job, stage, file and line, before anything starts.
 */
async function useCheckedPipeline(file: string | undefined): Promise<{ pipeline: Pipeline; notChecked: string[]; stagesBound: number }> {
  const pipeline = usePipelineFile(file);
  try {
    return { pipeline, ...(await assertPipelineSql(pipeline)) };
  } catch (err) {
    throw err instanceof SqlBindingError ? err.inFile(process.env.LANDFALL_CONFIG_FILE!) : err;
  }
}

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

/**
 * The pipeline's sample end to end: its sample module (ops/README.md, "Samples") writes it, the
 * local stack runs it, and each file is checked against the state the sample expects.
 */
async function demo(values: Values): Promise<number> {
  const { pipeline } = await useCheckedPipeline(values.config as string | undefined);
  const sample = await loadSampleModule(pipeline.dir!);
  if (!sample) return demoFolder(pipeline.dir!);
  const options = { ...sample.module.defaults, ...sampleKnobs(values) };
  const dir = await mkdtemp(join(tmpdir(), 'landfall-sample-'));
  try {
    const written = sample.module.demoSample ? await sample.module.demoSample(dir, options) : await sample.module.generateSample(dir, options);
    process.stderr.write(`sample: ${(await listFiles(dir)).length} files written to ${dir}\n`);
    return await withStack(async (stack) => {
      await landAndSettle(stack, dir);
      const items = latestPerKey(await stack.fileStates.listAll());
      process.stdout.write(`${fileStateTable(items)}\n\n${items.length} files: ${stateCounts(items)}\n`);
      const { batches, runs } = await stack.jobRuns.listAll();
      process.stdout.write(`\n${batchTable(batches, runs)}\n\n${runs.length} job runs, ${stack.stepFunctions.executions().length} executions\n`);
      // the heavy runs' clusters end by themselves once idle: show them when they have
      await stack.emr.allEnded(10 * 60_000);
      for (const c of emrClusterLines(stack.emr))
        process.stdout.write(
          `EMR cluster ${c.id} in ${c.cell} (${c.availabilityZone ?? '?'}): ${Object.entries(c.steps)
            .map(([state, n]) => `${n} ${state}`)
            .join(', ')} steps; ${c.state}${c.why ? ` (${c.why})` : ''}\n`,
        );
      const problems = compareWithExpected(items, written.expected ?? []);
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
async function query(values: Values, sql: string): Promise<number> {
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
  if (!existsSync(sample))
    throw new UsageError(
      `demo of ${pipelineDir}: no sample/ directory beside the configuration (its files are landed as landing/<path>); or use \`landfall run --input DIR\``,
    );
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

async function run(values: Values): Promise<number> {
  const input = values.input as string | undefined;
  const out = values.out as string | undefined;
  if (!input || !out) throw new UsageError('run needs --input DIR and --out DIR');
  if (!existsSync(input)) throw new UsageError(`--input ${input} does not exist`);
  await useCheckedPipeline(values.config as string | undefined);
  return withStack(async (stack) => {
    await landAndSettle(stack, input);
    const items = await stack.fileStates.listAll();
    const outDir = resolve(out);
    const statesPath = await writeFileStates(items, outDir);
    const tables = await downloadPrefix(stack.s3, stack.deployment.names.lakeBucket, PREFIX.processed, outDir);
    // each file's bad rows, with their line numbers and reasons
    const rejects = await downloadPrefix(stack.s3, stack.deployment.names.rawBucket, PREFIX.rejected, outDir);
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
    process.stdout.write(
      `${stateCounts(latestPerKey(items))}; ${runs.length} job runs\nwrote ${statesPath}, ${runsPath}, ${clusters.path}, ${tables} Parquet files under ${join(outDir, 'processed')}, ${rejects} rejects reports under ${join(outDir, 'rejected')}, ${curated.length} curated tables under ${join(outDir, 'curated')} and ${warehouse.length} warehouse tables under ${join(outDir, 'warehouse')}\n`,
    );
    if (!reportFailures(stack)) return 1;
    // a scripted run must tell "every batch published" from "a batch waits or failed" (docs/operations.md)
    const sources = new Map(loadPipeline().config.jobs.map((j) => [j.name, new Set(j.inputs.map((i) => i.source))]));
    const outcome = runOutcome((await stack.jobRuns.listAll()).batches, items, (job) => sources.get(job) ?? new Set());
    for (const line of outcome.lines) process.stderr.write(`landfall: ${line}\n`);
    return outcome.exitCode;
  });
}

async function generate(values: Values): Promise<number> {
  const out = values.out as string | undefined;
  if (!out) throw new UsageError('generate needs --out DIR');
  const pipeline = usePipelineFile(values.config as string | undefined);
  const sample = await loadSampleModule(pipeline.dir!);
  if (!sample) {
    const file = shown(process.env.LANDFALL_CONFIG_FILE!);
    throw new UsageError(
      `${file} has no sample generator: no sample.ts beside it (ops/README.md, "Samples"); \`landfall run --input DIR --config ${file}\` runs files of your own`,
    );
  }
  const options = { ...sample.module.defaults, ...sampleKnobs(values) };
  const written = await sample.module.generateSample(resolve(out), options);
  const count = (await listFiles(resolve(out))).length;
  if (!written.expected) {
    process.stdout.write(`${count} files written under ${resolve(out)} (${shown(sample.file)} states no expected states)\n`);
    return 0;
  }
  // Beside the directory, not in it: `landfall run --input DIR` lands everything inside DIR.
  const expectedPath = `${resolve(out)}.expected-states.json`;
  await writeFile(expectedPath, `${JSON.stringify(written.expected, null, 2)}\n`);
  process.stdout.write(`${written.expected.length} files written under ${resolve(out)}; expected states in ${expectedPath}\n`);
  return 0;
}

/** The effective configuration: validated, its SQL bound, every file reference absolute (round-trips through --config). */
async function config(values: Values): Promise<number> {
  const { pipeline, notChecked, stagesBound } = await useCheckedPipeline(values.config as string | undefined);
  process.stdout.write(`${JSON.stringify(pipeline.config, null, 2)}\n`);
  for (const line of notChecked) process.stderr.write(`landfall: warning: ${line}\n`);
  process.stderr.write(
    `${process.env.LANDFALL_CONFIG_FILE}: valid (${pipeline.config.datasets.length} datasets, ${pipeline.config.jobs.length} jobs, ${stagesBound} SQL stages bound)\n`,
  );
  return 0;
}

async function up(values: Values): Promise<number> {
  await useCheckedPipeline(values.config as string | undefined);
  const stack = await startLocalStack({ log: (l) => process.stderr.write(`${l}\n`), handlerLogLevel: process.env.POWERTOOLS_LOG_LEVEL ?? 'INFO' });
  await mkdir(join(PROJECT_ROOT, '.landfall'), { recursive: true });
  const info = stackFileOf(stack, process.env.LANDFALL_CONFIG_FILE);
  await writeFile(STACK_FILE, JSON.stringify(info, null, 2));
  process.stderr.write(
    `running; \`landfall land DIR\` and \`landfall status\` talk to it; the reconciler runs every 10 minutes, as deployed. Ctrl-C stops it.\n`,
  );
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

async function status(values: Values): Promise<number> {
  const where = await target(values);
  const items = latestPerKey(await where.files.listAll());
  process.stdout.write(`${where.label}\n\n${fileStateTable(items)}\n\n${items.length} files: ${stateCounts(items)}\n`);
  // What a waiting batch waits for is recorded when the wait starts; show it as it is now.
  const { batches, runs } = await liveBatches(where, loadPipeline());
  process.stdout.write(`\n${batchTable(batches, runs, loadPipeline())}\n`);
  return 0;
}

const batchArgs = (values: Values, command: string) =>
  batchRefOf(loadPipeline(), values.job as string | undefined, values.batch as string | undefined, command);

/** "Why hasn't batch X run?" (or what did it run): one answer from the batch item, its runs and a live evaluation. */
async function explain(values: Values): Promise<number> {
  const where = await target(values);
  const { job, batch } = batchArgs(values, 'explain');
  const explanation = await explainBatchNow(where, loadPipeline(), job, batch);
  process.stdout.write(`${explanationLines(explanation, where.label).join('\n')}\n`);
  return 0;
}

async function reconcileCommand(values: Values): Promise<number> {
  const grace = values.grace === undefined ? 1200 : Number(values.grace);
  if (!Number.isFinite(grace) || grace < 0) throw new UsageError(`--grace must be a number of seconds, got ${String(values.grace)}`);
  const where = await target(values);
  const report = await reconcilePass(await where.reconcileDeps(), { fileGraceMs: grace * 1000 });
  const lines = [`reconciled ${where.label} at ${report.at}: ${report.repairs.length} repair(s), ${report.pastDeadline.length} batch(es) past their deadline`];
  lines.push(
    `looked at ${report.looked.openFiles} file(s) in flight past ${grace} s, ${report.looked.settledFiles} settled since ${report.window.from}, ${report.looked.batches} batch(es), ${report.looked.activeClaims} active claim(s), ${report.looked.failedEvents} failed event(s)`,
  );
  for (const repair of report.repairs) lines.push(`  repaired: ${describeRepair(repair)}`);
  for (const late of report.pastDeadline) lines.push(`  late: ${late.batchId} (due ${late.deadline}): ${late.waitingFor.join('; ')}`);
  process.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}

async function replay(values: Values): Promise<number> {
  const prefix = (values.prefix as string | undefined) ?? '';
  const into = values.bucket
    ? { s3: new S3Client({}), bucket: values.bucket as string }
    : await target(values).then((t) => ({ s3: t.s3, bucket: t.names.rawBucket }));
  const count = await replayPrefix(into.s3, into.bucket, prefix, { force: values.force === true });
  process.stdout.write(`${count} objects re-put under s3://${into.bucket}/${PREFIX.landing}${prefix}${values.force ? ' (forced)' : ''}\n`);
  return 0;
}

/** A new attempt of a failed batch: the console's action (the same code), recorded in the batch's history as done from the CLI. */
async function retry(values: Values): Promise<number> {
  const where = await target(values);
  const { job, batch } = batchArgs(values, 'retry');
  const stage = values.stage ? { ...(values.region ? { region: values.region as string } : {}) } : undefined;
  const record = await actOnBatch(where, loadPipeline(), job, batch, 'retry', await operatorIdentity(stage), 'cli');
  process.stdout.write(`${record.detail}\n`);
  return 0;
}

/** Adds the grid and open-batch index keys to batches an older landfall wrote (docs/console.md). */
async function indexBatches(values: Values): Promise<number> {
  const where = await target(values);
  const count = await where.runs.indexEarlierBatches();
  process.stdout.write(`${count} batch(es) of ${where.label} indexed for the console (the others had their keys)\n`);
  return 0;
}

export const DEFAULT_CONSOLE_PORT = 8421;

/** The web console over the target until Ctrl-C (ops/console/server.ts; docs/console.md). */
async function consoleCommand(values: Values): Promise<number> {
  const port = values.port === undefined ? DEFAULT_CONSOLE_PORT : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new UsageError(`--port must be a port number (0 to 65535), got ${String(values.port)}`);
  const where = await target(values);
  const stage = values.stage ? { ...(values.region ? { region: values.region as string } : {}) } : undefined;
  const running = await startConsole({
    target: where,
    pipeline: loadPipeline(),
    port,
    readOnly: values['read-only'] === true,
    operator: () => operatorIdentity(stage),
  }).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'EADDRINUSE') throw new UsageError(`port ${port} of 127.0.0.1 is in use: pick another with --port N (0: any free one)`);
    throw err;
  });
  process.stderr.write(`landfall console over ${where.label}${values['read-only'] ? ' (read-only)' : ''}: ${running.url} (Ctrl-C stops it)\n`);
  await new Promise<void>((r) => {
    process.once('SIGINT', r);
    process.once('SIGTERM', r);
  });
  await running.close();
  return 0;
}

/** Each command's code; its options and its help are in ./commands.ts. */
const HANDLERS: Record<CommandName, (values: Values, args: string[]) => Promise<number>> = {
  demo,
  run,
  generate,
  config,
  up,
  land: (_, [dir]) => land(dir),
  status,
  explain,
  retry,
  'index-batches': indexBatches,
  reconcile: reconcileCommand,
  query: (values, words) => query(values, words.join(' ')),
  replay,
  console: consoleCommand,
  backfill: async (values) => backfillCommand(values, await target(values)),
};

/** What a command's help shows of the pipeline at hand: for demo and generate, its sample module (loaded, for the knobs' defaults). */
async function helpContext(name: CommandName, config: string | undefined): Promise<HelpContext> {
  const pipelineFile = pipelineFilePath(config);
  const file = (COMMANDS[name] as CommandSpec).withoutSample ? findSampleModule(dirname(pipelineFile)) : undefined;
  if (!file) return { pipelineFile };
  try {
    return { pipelineFile, sample: { file, module: (await loadSampleModule(dirname(pipelineFile)))!.module } };
  } catch (err) {
    // the help still helps: it says why the module does not load
    return { pipelineFile, sample: { file, error: (err as Error).message } };
  }
}

export async function main(argv: string[]): Promise<number> {
  const line = scanCommandLine(argv);
  if (line.command === 'help' || line.help || !line.command) {
    const topic = line.command === 'help' ? line.topic : line.command;
    if (topic === undefined) {
      process.stdout.write(globalHelp());
      return line.command || line.help ? 0 : 2;
    }
    if (!isCommand(topic)) throw new UsageError(`unknown command "${topic}"\n\n${globalHelp()}`);
    process.stdout.write(commandHelp(topic, await helpContext(topic, line.config)));
    return 0;
  }
  if (!isCommand(line.command)) throw new UsageError(`unknown command "${line.command}"\n\n${globalHelp()}`);
  const { values, args } = parseCommand(line.command, argv);
  return HANDLERS[line.command](values, args);
}

/** Runs a command and turns errors into exit codes: 2 for usage and configuration, 1 for the rest. */
export async function runCli(argv: string[]): Promise<number> {
  try {
    return await main(argv);
  } catch (err) {
    const parseError = String((err as { code?: unknown })?.code ?? '').startsWith('ERR_PARSE_ARGS');
    if (
      err instanceof UsageError ||
      err instanceof SampleModuleError ||
      err instanceof ConfigError ||
      err instanceof SqlBindingError ||
      err instanceof NoFailedRunError ||
      err instanceof BatchBusyError ||
      err instanceof TargetError ||
      parseError
    ) {
      process.stderr.write(`landfall: ${(err as Error).message}\n`);
      return 2;
    }
    if ((err as Error)?.name === 'ResourceNotFoundException' && argv.includes('--stage')) {
      // a table (or queue) of the stage does not exist where the credentials point
      const stage = argv[argv.indexOf('--stage') + 1];
      process.stderr.write(
        `landfall: ${(err as Error).message} (tables of stage ${stage}: ${readDeployment(PROJECT_ROOT, stage).names.fileStateTable}, …): is stage ${stage} deployed in this account and region?\n`,
      );
      return 2;
    }
    process.stderr.write(`landfall: internal error: ${(err as Error)?.stack ?? String(err)}\n`);
    return 1;
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.exit(await runCli(process.argv.slice(2)));
}
