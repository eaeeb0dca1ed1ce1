import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { parsePipelineConfig } from '../shared/config/parse-config';
import { pipelineConfig } from '../shared/config/pipeline';
import { ConfigError } from '../shared/errors';
import { PREFIX } from '../shared/s3/layout';
import { DEFAULT_SAMPLE, writePosSample, type PosSampleOptions } from '../shared/sample/pos-sample';
import { DEFAULT_CLICKSTREAM, writeClickstreamSample } from '../shared/sample/clickstream-sample';
import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { loadPipeline } from '../shared/config/load-config';
import { JobRunStore } from '../shared/resolve/job-run-store';
import { NoFailedRunError, explainBatch, retryBatch } from '../shared/resolve/resolver';
import { replayPrefix } from '../shared/s3/replay';
import { FileStateStore } from '../shared/state/file-state-store';
import { exportCuratedTables } from './curated-export';
import { batchTable, runLines } from './job-run-report';
import { compareWithExpected, fileStateTable, latestPerKey, stateCounts } from './file-state-report';
import { landDirectory } from './land';
import { downloadPrefix, landAndSettle, writeFileStates } from './pipeline-run';
import { PROJECT_ROOT, stackClients, startLocalStack, type LocalStack } from './stack';

const USAGE = `landfall — event-driven batch analytics: files land in S3, are validated, converted to Parquet, tracked.

Usage (the local stack starts and stops by itself unless noted):
  landfall demo [--seed N] [--days N] [--rows N]
      generate the POS and clickstream samples, land them, wait until the pipeline settles (DuckDB
      jobs in Lambda, the clickstream on local Spark through the local EMR), print every file's
      state and every batch's runs
  landfall run --input DIR --out DIR [--config FILE]
      land every file under DIR (its path under DIR is the key under landing/), wait, then write
      OUT/file-states.jsonl and the processed Parquet tables under OUT/processed/
  landfall generate --out DIR [--seed N] [--days N] [--rows N]
      write the POS sample (and OUT.expected-states.json beside it) without running anything
  landfall config [--config FILE]
      validate a configuration file (or print the built-in one as JSON)
  landfall up
      start the local stack and keep it running (Ctrl-C stops it); then, from another shell:
  landfall land DIR          land files on the running stack
  landfall status            file states and job batches (what each waits for) on the running stack
  landfall replay --prefix P [--force]
      re-put every object under landing/P on the running stack, or with --bucket B on AWS (default
      credentials): identical bytes are no-ops unless --force; changed bytes re-run their batches
  landfall retry --job J --batch field=value,…
      start a new run of a batch whose last run FAILED, with the same inputs (running stack)
`;

const STACK_FILE = join(PROJECT_ROOT, '.landfall', 'stack.json');

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

async function run(values: Record<string, string | boolean | undefined>): Promise<number> {
  const input = values.input as string | undefined;
  const out = values.out as string | undefined;
  if (!input || !out) throw new UsageError('run needs --input DIR and --out DIR');
  if (!existsSync(input)) throw new UsageError(`--input ${input} does not exist`);
  if (values.config) {
    const file = resolve(values.config as string);
    parsePipelineConfig(JSON.parse(await readFile(file, 'utf8')));
    process.env.LANDFALL_CONFIG_FILE = file;
  }
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
    process.stdout.write(`${stateCounts(latestPerKey(items))}; ${runs.length} job runs\nwrote ${statesPath}, ${runsPath}, ${tables} Parquet files under ${join(outDir, 'processed')} and ${curated.length} curated tables under ${join(outDir, 'curated')}\n`);
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

async function config(values: Record<string, string | boolean | undefined>): Promise<number> {
  if (!values.config) {
    process.stdout.write(`${JSON.stringify(pipelineConfig, null, 2)}\n`);
    return 0;
  }
  parsePipelineConfig(JSON.parse(await readFile(values.config as string, 'utf8')));
  process.stdout.write(`${values.config as string}: valid\n`);
  return 0;
}

async function up(): Promise<number> {
  const stack = await startLocalStack({ log: (l) => process.stderr.write(`${l}\n`), handlerLogLevel: process.env.POWERTOOLS_LOG_LEVEL ?? 'INFO' });
  await mkdir(join(PROJECT_ROOT, '.landfall'), { recursive: true });
  await writeFile(STACK_FILE, JSON.stringify({ pid: process.pid, endpoints: stack.endpoints, names: stack.deployment.names, stateMachineArns: { duckdb: stack.env.STATE_MACHINE_ARN, emr: stack.env.EMR_STATE_MACHINE_ARN }, credentials: { accessKeyId: stack.env.AWS_ACCESS_KEY_ID, secretAccessKey: stack.env.AWS_SECRET_ACCESS_KEY } }, null, 2));
  process.stderr.write(`running; \`landfall land DIR\` and \`landfall status\` talk to it. Ctrl-C stops it.\n`);
  await new Promise<void>((r) => {
    process.once('SIGINT', r);
    process.once('SIGTERM', r);
  });
  await rm(STACK_FILE, { force: true });
  await stack.stop();
  return 0;
}

async function runningStack() {
  if (!existsSync(STACK_FILE)) throw new UsageError('no local stack is running: start one with `landfall up`');
  const info = JSON.parse(await readFile(STACK_FILE, 'utf8')) as {
    pid: number;
    endpoints: LocalStack['endpoints'];
    names: LocalStack['deployment']['names'];
    stateMachineArns: { duckdb: string; emr: string };
    credentials: { accessKeyId: string; secretAccessKey: string };
  };
  try {
    process.kill(info.pid, 0);
  } catch {
    throw new UsageError(`the local stack recorded in ${STACK_FILE} (pid ${info.pid}) is not running: start one with \`landfall up\``);
  }
  return { ...info, ...stackClients(info.endpoints) };
}

async function land(dir: string | undefined): Promise<number> {
  if (!dir) throw new UsageError('land needs a directory');
  if (!existsSync(dir)) throw new UsageError(`${dir} does not exist`);
  const stack = await runningStack();
  const keys = await landDirectory(stack.s3, stack.names.rawBucket, dir);
  process.stdout.write(`${keys.length} files landed; \`landfall status\` shows their states\n`);
  return 0;
}

async function status(): Promise<number> {
  const stack = await runningStack();
  const files = new FileStateStore(stack.documents, stack.names.fileStateTable);
  const items = latestPerKey(await files.listAll());
  process.stdout.write(`${fileStateTable(items)}\n\n${items.length} files: ${stateCounts(items)}\n`);
  const jobRuns = new JobRunStore(stack.documents, stack.names.jobRunsTable);
  const { batches, runs } = await jobRuns.listAll();
  // What a waiting batch waits for is recorded when the wait starts; show it as it is now.
  const deps = { pipeline: loadPipeline(), files, runs: jobRuns };
  const live = await Promise.all(batches.map(async (b) => (b.status === 'WAITING' ? { ...b, waitingFor: await explainBatch(deps, { job: b.job, values: b.values }) } : b)));
  process.stdout.write(`\n${batchTable(live, runs)}\n`);
  return 0;
}

async function replay(values: Record<string, string | boolean | undefined>): Promise<number> {
  const prefix = (values.prefix as string | undefined) ?? '';
  const target = values.bucket
    ? { s3: new S3Client({}), bucket: values.bucket as string }
    : await runningStack().then((st) => ({ s3: st.s3, bucket: st.names.rawBucket }));
  const count = await replayPrefix(target.s3, target.bucket, prefix, { force: values.force === true });
  process.stdout.write(`${count} objects re-put under s3://${target.bucket}/${PREFIX.landing}${prefix}${values.force ? ' (forced)' : ''}\n`);
  return 0;
}

async function retry(values: Record<string, string | boolean | undefined>): Promise<number> {
  const job = values.job as string | undefined;
  const spec = values.batch as string | undefined;
  if (!job || !spec) throw new UsageError('retry needs --job J and --batch field=value,…');
  const batchValues = Object.fromEntries(spec.split(',').map((pair) => pair.split('=') as [string, string]));
  const stack = await runningStack();
  const outcome = await retryBatch(
    {
      pipeline: loadPipeline(),
      files: new FileStateStore(stack.documents, stack.names.fileStateTable),
      runs: new JobRunStore(stack.documents, stack.names.jobRunsTable),
      sfn: new SFNClient({ endpoint: stack.endpoints.stepfunctions, region: 'us-east-1', credentials: stack.credentials }),
      stateMachineArns: stack.stateMachineArns,
    },
    { job, values: batchValues },
  );
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
      job: { type: 'string' },
      batch: { type: 'string' },
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
      return up();
    case 'land':
      return land(arg);
    case 'status':
      return status();
    case 'replay':
      return replay(values);
    case 'retry':
      return retry(values);
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
    if (err instanceof UsageError || err instanceof ConfigError || err instanceof NoFailedRunError || parseError) {
      process.stderr.write(`landfall: ${(err as Error).message}\n`);
      return 2;
    }
    process.stderr.write(`landfall: internal error: ${(err as Error)?.stack ?? String(err)}\n`);
    return 1;
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.exit(await runCli(process.argv.slice(2)));
}
