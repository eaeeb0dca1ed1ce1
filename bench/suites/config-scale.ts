/**
 * 8. Configuration at scale: a generated pipeline of 700 jobs and 200 datasets
 * (bench/lib/generated-config.ts) against its 7-job prefix (the same 200 datasets, the same first
 * 7 jobs: a file of the measured dataset ds_0000 is read by the same 3 jobs in both).
 * - Load and validate: read + parse + compile (`loadPipelineFile`), from an esbuild bundle built like
 *   the functions' (esbuild.config.mjs), in fresh `node` processes (cold), and in this process (warm).
 * - Resolver work per landed file: `resolveFile` on DynamoDB Local for files of ds_0000 with 7 and
 *   700 jobs (and, with 700, for the dataset whose file names the most batches): DynamoDB requests
 *   (counted on the SDK client), wall and CPU time. Each file is the first of its batches and no
 *   batch can complete, so no execution starts (a stub Step Functions client counts any attempt).
 * - CPU of `batchesForFile` (the reader index) with 7 and 700 jobs, against a scan of every job.
 * Quick mode: fewer files, runs and iterations.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SFNClient } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { build } from 'esbuild';
import { stringify as toYaml } from 'yaml';
import { compilePipeline, loadPipelineFile, readConfigFile, resolveLandingKey, type Pipeline } from '../../shared/core/config/load-config';
import { batchesForFile } from '../../shared/core/runs/batches';
import { JobRunStore } from '../../shared/core/runs/job-run-store';
import { candidateOf, resolveFile, type ResolverDeps } from '../../shared/stages/resolve/resolver';
import { FileStateStore } from '../../shared/core/state/file-state-store';
import { readDeployment } from '../../deploy/serverless-config';
import { startDynamoDbLocal } from '../../local/servers';
import { generatedPipeline, MEASURED_DATASET, MEASURED_READERS, SMALL_JOBS, type GeneratedPipeline } from '../lib/generated-config';
import type { Table, Target } from '../lib/results';
import { formatSummary, summarize, type Summary } from '../lib/stats';
import { log, suiteMain } from '../lib/suite';

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, '..', '..');
const REGION = 'us-east-1';
const CREDENTIALS = { accessKeyId: 'landfall', secretAccessKey: 'landfall-local-secret' };
/** The budget for loading the 700-job configuration (see the notes). */
const LOAD_BUDGET_MS = 100;
/** the resolve function's memory (serverless.yml) and the memory that buys one full vCPU on Lambda */
const RESOLVE_MEMORY_MB = 512;
const FULL_VCPU_MB = 1769;
/** Business days of the landed files: ahead of the clock, so no job's cut-off has passed (a batch past it would run). */
const FIRST_DATE = Date.UTC(2030, 0, 1);
const dateOf = (n: number) => new Date(FIRST_DATE + n * 86_400_000).toISOString().slice(0, 10);

// ---------------------------------------------------------------- load and validate

/** The configuration loader bundled like a function (esbuild.config.mjs: minified ESM, node24, require banner). */
async function bundleLoader(dir: string): Promise<string> {
  const outfile = join(dir, 'load-config.mjs');
  await build({
    absWorkingDir: ROOT,
    stdin: {
      contents: "export { loadPipelineFile } from './shared/core/config/load-config';",
      resolveDir: ROOT,
      loader: 'ts',
      sourcefile: 'config-scale-entry.ts',
    },
    outfile,
    bundle: true,
    minify: true,
    platform: 'node',
    target: 'node24',
    format: 'esm',
    banner: { js: "import { createRequire } from 'module'; const require = createRequire(import.meta.url);" },
    legalComments: 'none',
    logLevel: 'warning',
  });
  return outfile;
}

interface ColdSample {
  importMs: number;
  /** wall time of the first loadPipelineFile */
  loadMs: number;
  /** the process's CPU time (user + system) during it: less disturbed by other work on the machine */
  loadCpuMs: number;
  jobs: number;
}

/** In a fresh Node process: ms to import the bundle, then wall and CPU ms of its first loadPipelineFile. */
async function coldLoad(bundle: string, file: string): Promise<ColdSample> {
  const script = [
    'const t0 = performance.now();',
    `const { loadPipelineFile } = await import(${JSON.stringify(pathToFileURL(bundle).href)});`,
    'const c1 = process.cpuUsage();',
    'const t1 = performance.now();',
    `const pipeline = loadPipelineFile(${JSON.stringify(file)});`,
    'const t2 = performance.now();',
    'const cpu = process.cpuUsage(c1);',
    'process.stdout.write(JSON.stringify({ importMs: t1 - t0, loadMs: t2 - t1, loadCpuMs: (cpu.user + cpu.system) / 1000, jobs: pipeline.config.jobs.length }));',
  ].join('\n');
  // the loader requires the yaml package only for a YAML file, unbundled: found through NODE_PATH
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], {
    cwd: tmpdir(),
    env: { ...process.env, NODE_PATH: join(ROOT, 'node_modules') },
  });
  return JSON.parse(stdout) as ColdSample;
}

function timeMs(fn: () => unknown, runs: number): Summary {
  const samples: number[] = [];
  for (let i = 0; i < runs; i += 1) {
    const t = performance.now();
    fn();
    samples.push(performance.now() - t);
  }
  return summarize(samples);
}

/** µs per call, over `iterations` calls, repeated `runs` times. */
function microsPerCall(fn: () => unknown, iterations: number, runs: number): Summary {
  const samples: number[] = [];
  for (let r = 0; r < runs; r += 1) {
    const t = performance.now();
    for (let i = 0; i < iterations; i += 1) fn();
    samples.push(((performance.now() - t) * 1000) / iterations);
  }
  return summarize(samples);
}

/** What batchesForFile would cost without the reader index: every job's inputs looked at. */
function readersByScan(pipeline: Pipeline, source: string): number {
  let n = 0;
  for (const job of pipeline.config.jobs) for (const input of job.inputs) if (input.source === source) n += 1;
  return n;
}

// ---------------------------------------------------------------- resolver on DynamoDB Local

interface Scenario {
  id: string;
  label: string;
  jobs: number;
  pipeline: Pipeline;
  generated: GeneratedPipeline;
  dataset: string;
}

interface ScenarioRun {
  files: number;
  batches: number;
  expectedRequests: number;
  distinctQueries: number;
  requests: Map<string, number>;
  wallMs: number[];
  cpuMs: number[];
  starts: number;
}

/**
 * Requests `resolveFile` makes for a file that is the first of each of its batches, none of which
 * can run; and how many of its Queries are distinct (the same input source and day, read again
 * for another batch).
 */
function expectedRequests(pipeline: Pipeline, source: string, fields: Record<string, string>): { batches: number; requests: number; distinctQueries: number } {
  const batches = batchesForFile(pipeline, source, fields);
  const sourcesOf = (job: string) => new Set(pipeline.jobsByName.get(job)!.inputs.map((i) => i.source));
  // per batch: GetItem of the batch, one Query per input source for the day, UpdateItem of what it waits for
  const requests = batches.reduce((sum, b) => sum + 2 + sourcesOf(b.job).size, 0);
  const distinctQueries = new Set(batches.flatMap((b) => [...sourcesOf(b.job)])).size;
  return { batches: batches.length, requests, distinctQueries };
}

async function createTables(client: DynamoDBClient, suffix: string): Promise<{ fileStateTable: string; jobRunsTable: string }> {
  const deployment = readDeployment(ROOT, 'local');
  const names = { fileStateTable: `${deployment.names.fileStateTable}-${suffix}`, jobRunsTable: `${deployment.names.jobRunsTable}-${suffix}` };
  for (const table of deployment.tables) {
    const name =
      table.create.TableName === deployment.names.fileStateTable
        ? names.fileStateTable
        : table.create.TableName === deployment.names.jobRunsTable
          ? names.jobRunsTable
          : undefined;
    if (!name) continue;
    const { StreamSpecification: _stream, ...create } = table.create;
    await client.send(new CreateTableCommand({ ...create, TableName: name }));
  }
  return names;
}

/** A scenario's own tables and resolver, ready to resolve its files one at a time. */
async function prepareScenario(endpoint: string, scenario: Scenario, suffix: string) {
  // two clients: the seeding of file states is not the resolver's work; the measured one counts
  const seedClient = new DynamoDBClient({ endpoint, region: REGION, credentials: CREDENTIALS });
  const seedDocs = DynamoDBDocumentClient.from(seedClient, { marshallOptions: { removeUndefinedValues: true } });
  const client = new DynamoDBClient({ endpoint, region: REGION, credentials: CREDENTIALS });
  const docs = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  const result: ScenarioRun = { files: 0, batches: 0, expectedRequests: 0, distinctQueries: 0, requests: new Map(), wallMs: [], cpuMs: [], starts: 0 };
  let counting = false;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (counting) result.requests.set(context.commandName!, (result.requests.get(context.commandName!) ?? 0) + 1);
      return next(args);
    },
    { step: 'initialize', name: 'benchCountRequests' },
  );
  // no batch can complete, so nothing should start: a stub counts any StartExecution
  const sfn = {
    send: async () => {
      result.starts += 1;
      return { executionArn: `arn:aws:states:${REGION}:000000000000:execution:bench:${result.starts}` };
    },
  } as unknown as SFNClient;
  const tables = await createTables(seedClient, suffix);
  const seed = new FileStateStore(seedDocs, tables.fileStateTable);
  const deps: ResolverDeps = {
    pipeline: scenario.pipeline,
    files: new FileStateStore(docs, tables.fileStateTable),
    runs: new JobRunStore(docs, tables.jobRunsTable),
    sfn,
    stateMachineArns: {
      duckdb: `arn:aws:states:${REGION}:000000000000:stateMachine:bench`,
      emr: `arn:aws:states:${REGION}:000000000000:stateMachine:bench-emr`,
    },
  };
  const dataset = scenario.generated.datasets.find((d) => d.name === scenario.dataset)!;
  /** The file lands and is CONVERTED (seeded, not counted), as the stream would hand it to the resolver. */
  const landed = async (n: number) => {
    const { key, fields } = dataset.sampleKey(dateOf(n));
    const source = {
      bucket: 'raw',
      key: `landing/${key}`,
      versionId: `v${n + 100}`,
      eTag: `e${n}`,
      size: 4096,
      sequencer: (1000 + n).toString(16),
      eventTime: new Date().toISOString(),
    };
    await seed.recordTransition(source, 'CONVERTED', {
      dataset: dataset.name,
      fields,
      date: fields.date!,
      outputs: { processed: `processed/${key}.parquet` },
      processedVersionId: `p${n}`,
      rows: { in: 10, out: 10, rejected: 0, junk: 0 },
    });
    return candidateOf((await seed.get(source.key, source.versionId))!)!;
  };
  // warm-up (the SDK's first request, the code's first run): a day outside the measured ones
  await resolveFile(deps, await landed(-30));
  result.starts = 0;
  return {
    result,
    /** lands file n (day n) and measures resolveFile on it */
    async resolveOne(n: number): Promise<void> {
      const file = await landed(n);
      const expected = expectedRequests(scenario.pipeline, dataset.name, file.fields);
      result.files += 1;
      result.batches += expected.batches;
      result.expectedRequests += expected.requests;
      result.distinctQueries += expected.distinctQueries;
      counting = true;
      const cpu = process.cpuUsage();
      const t = performance.now();
      const outcomes = await resolveFile(deps, file);
      result.wallMs.push(performance.now() - t);
      const used = process.cpuUsage(cpu);
      result.cpuMs.push((used.user + used.system) / 1000);
      counting = false;
      if (outcomes.length !== expected.batches || outcomes.some((o) => o.kind !== 'waiting'))
        throw new Error(`${scenario.id}: expected ${expected.batches} waiting batches, got ${JSON.stringify(outcomes.map((o) => o.kind))}`);
    },
    close() {
      seedClient.destroy();
      client.destroy();
    },
  };
}

// ---------------------------------------------------------------- the suite

await suiteMain(async ({ quick }) => {
  const work = await mkdtemp(join(tmpdir(), 'landfall-bench-config-scale-'));
  const loadAverage = loadavg()[0]!;
  try {
    const big = generatedPipeline({ datasets: 200, jobs: 700, dir: join(work, 'jobs-700') });
    const small = generatedPipeline({ datasets: 200, jobs: SMALL_JOBS, dir: join(work, 'jobs-7') });
    const bigYaml = join(big.dir, 'pipeline.yaml');
    await writeFile(bigYaml, toYaml(big.config));
    const bigPipeline = loadPipelineFile(big.file);
    const smallPipeline = loadPipelineFile(small.file);
    log(`generated: ${big.config.jobs.length} jobs / ${big.config.datasets.length} datasets (${big.sqlFiles} SQL files) and ${small.config.jobs.length} jobs`);

    // ---- 1. load and validate: cold (fresh processes) and warm (this process) ----
    const bundle = await bundleLoader(work);
    const configs = [
      { id: 'jobs-7-json', label: `${SMALL_JOBS} jobs / 200 datasets (JSON)`, file: small.file },
      { id: 'jobs-700-json', label: '700 jobs / 200 datasets (JSON)', file: big.file },
      { id: 'jobs-700-yaml', label: '700 jobs / 200 datasets (YAML)', file: bigYaml },
    ];
    const coldRuns = quick ? 5 : 9;
    const cold = new Map(configs.map((c) => [c.id, { importMs: [] as number[], loadMs: [] as number[], loadCpuMs: [] as number[] }]));
    for (let i = 0; i < coldRuns; i += 1) {
      // alternating: each round loads every configuration once, in a rotated order
      for (let j = 0; j < configs.length; j += 1) {
        const c = configs[(i + j) % configs.length]!;
        const sample = await coldLoad(bundle, c.file);
        cold.get(c.id)!.importMs.push(sample.importMs);
        cold.get(c.id)!.loadMs.push(sample.loadMs);
        cold.get(c.id)!.loadCpuMs.push(sample.loadCpuMs);
        if (sample.jobs !== (c.id.startsWith('jobs-7-') ? SMALL_JOBS : 700)) throw new Error(`${c.id}: loaded ${sample.jobs} jobs`);
      }
    }
    const warmRuns = quick ? 5 : 15;
    const warm = new Map<string, { load: Summary; read: Summary; compile: Summary }>();
    for (const c of configs) {
      for (let i = 0; i < 3; i += 1) loadPipelineFile(c.file); // JIT warm-up
      const raw = readConfigFile(c.file);
      const baseDir = join(c.file, '..');
      warm.set(c.id, {
        load: timeMs(() => loadPipelineFile(c.file), warmRuns),
        read: timeMs(() => readConfigFile(c.file), warmRuns),
        compile: timeMs(() => compilePipeline(raw, { baseDir }), warmRuns),
      });
    }
    const coldSummary = (id: string) => ({
      importMs: summarize(cold.get(id)!.importMs),
      loadMs: summarize(cold.get(id)!.loadMs),
      loadCpuMs: summarize(cold.get(id)!.loadCpuMs),
    });
    const bigCold = coldSummary('jobs-700-json');
    const lambdaScale = FULL_VCPU_MB / RESOLVE_MEMORY_MB;
    log(
      `load 700 jobs: cold ${bigCold.loadMs.median.toFixed(1)} ms (CPU ${bigCold.loadCpuMs.median.toFixed(1)} ms), warm ${warm.get('jobs-700-json')!.load.median.toFixed(1)} ms`,
    );

    // ---- 2. CPU of the per-file lookups with 7 and 700 jobs ----
    const measured = big.datasets.find((d) => d.name === MEASURED_DATASET)!;
    const { key: measuredKey, fields: measuredFields } = measured.sampleKey(dateOf(0));
    const busiest = big.datasets
      .map((d) => ({ d, batches: batchesForFile(bigPipeline, d.name, d.sampleKey(dateOf(0)).fields).length }))
      .reduce((a, b) => (b.batches > a.batches ? b : a)).d;
    const lastDataset = big.datasets.at(-1)!;
    const iterations = quick ? 20_000 : 100_000;
    const cpuRuns = quick ? 3 : 5;
    const cpuRows: Array<{ what: string; jobs: number; us: Summary }> = [];
    for (let r = 0; r < 2; r += 1) {
      // twice: the first pass warms the JIT; the second is reported
      cpuRows.length = 0;
      cpuRows.push({
        what: `batchesForFile, a file of ${MEASURED_DATASET}`,
        jobs: SMALL_JOBS,
        us: microsPerCall(() => batchesForFile(smallPipeline, MEASURED_DATASET, measuredFields), iterations, cpuRuns),
      });
      cpuRows.push({
        what: `batchesForFile, a file of ${MEASURED_DATASET}`,
        jobs: 700,
        us: microsPerCall(() => batchesForFile(bigPipeline, MEASURED_DATASET, measuredFields), iterations, cpuRuns),
      });
      cpuRows.push({
        what: `(no index) scan of every job's inputs for ${MEASURED_DATASET}`,
        jobs: SMALL_JOBS,
        us: microsPerCall(() => readersByScan(smallPipeline, MEASURED_DATASET), iterations, cpuRuns),
      });
      cpuRows.push({
        what: `(no index) scan of every job's inputs for ${MEASURED_DATASET}`,
        jobs: 700,
        us: microsPerCall(() => readersByScan(bigPipeline, MEASURED_DATASET), iterations, cpuRuns),
      });
      cpuRows.push({
        what: `batchesForFile, a file of ${busiest.name} (most batches)`,
        jobs: 700,
        us: microsPerCall(() => batchesForFile(bigPipeline, busiest.name, busiest.sampleKey(dateOf(0)).fields), iterations / 10, cpuRuns),
      });
      cpuRows.push({
        what: `resolveLandingKey, a key of ${MEASURED_DATASET} (first of 200 patterns)`,
        jobs: 700,
        us: microsPerCall(() => resolveLandingKey(bigPipeline, measuredKey), iterations, cpuRuns),
      });
      cpuRows.push({
        what: `resolveLandingKey, a key of ${lastDataset.name} (last of 200 patterns)`,
        jobs: 700,
        us: microsPerCall(() => resolveLandingKey(bigPipeline, lastDataset.sampleKey(dateOf(0)).key), iterations / 10, cpuRuns),
      });
    }

    // ---- 3. resolver work per landed file on DynamoDB Local ----
    const scenarios: Scenario[] = [
      { id: 'jobs-7', label: `${SMALL_JOBS} jobs`, jobs: SMALL_JOBS, pipeline: smallPipeline, generated: small, dataset: MEASURED_DATASET },
      { id: 'jobs-700', label: '700 jobs', jobs: 700, pipeline: bigPipeline, generated: big, dataset: MEASURED_DATASET },
      { id: 'jobs-700-busiest', label: '700 jobs', jobs: 700, pipeline: bigPipeline, generated: big, dataset: busiest.name },
    ];
    const files = quick ? 8 : 20;
    const rounds = quick ? 1 : 3;
    const runs = new Map<string, ScenarioRun[]>(scenarios.map((s) => [s.id, []]));
    log('starting DynamoDB Local');
    const ddb = await startDynamoDbLocal(work);
    try {
      for (let round = 0; round < rounds; round += 1) {
        // fresh tables for each scenario and round; the scenarios' files alternate one by one, so
        // 7 and 700 jobs are measured side by side (the order rotates with each file)
        const prepared = [];
        for (const s of scenarios) prepared.push(await prepareScenario(ddb.endpoint, s, `${s.id}-r${round}`));
        for (let n = 0; n < files; n += 1) {
          for (let j = 0; j < prepared.length; j += 1) await prepared[(n + j) % prepared.length]!.resolveOne(n);
        }
        prepared.forEach((p, i) => {
          runs.get(scenarios[i]!.id)!.push(p.result);
          p.close();
          log(
            `${scenarios[i]!.id} round ${round + 1}: ${([...p.result.requests.values()].reduce((a, b) => a + b, 0) / files).toFixed(1)} requests/file, ${summarize(p.result.wallMs).median.toFixed(1)} ms/file`,
          );
        });
      }
    } finally {
      await ddb.process.stop();
    }
    const perScenario = scenarios.map((s) => {
      const all = runs.get(s.id)!;
      const fileCount = all.reduce((n, r) => n + r.files, 0);
      const requests = new Map<string, number>();
      for (const r of all) for (const [op, n] of r.requests) requests.set(op, (requests.get(op) ?? 0) + n);
      const total = [...requests.values()].reduce((a, b) => a + b, 0);
      return {
        scenario: s,
        readers: s.pipeline.readersOf.get(s.dataset)?.length ?? 0,
        batchesPerFile: all.reduce((n, r) => n + r.batches, 0) / fileCount,
        requestsPerFile: total / fileCount,
        expectedPerFile: all.reduce((n, r) => n + r.expectedRequests, 0) / fileCount,
        distinctQueriesPerFile: all.reduce((n, r) => n + r.distinctQueries, 0) / fileCount,
        byOperation: Object.fromEntries([...requests.entries()].sort().map(([op, n]) => [op.replace(/Command$/, ''), n / fileCount])),
        wallMs: summarize(all.flatMap((r) => r.wallMs)),
        cpuMs: summarize(all.flatMap((r) => r.cpuMs)),
        starts: all.reduce((n, r) => n + r.starts, 0),
        files: fileCount,
      };
    });
    const [r7, r700] = perScenario as [(typeof perScenario)[0], (typeof perScenario)[0]];
    const bf7 = cpuRows[0]!.us;
    const bf700 = cpuRows[1]!.us;

    const targets: Target[] = [
      {
        metric: 'load + validate 700 jobs / 200 datasets (JSON), fresh process, CPU',
        target: `≤ ${LOAD_BUDGET_MS} ms`,
        actual: `${bigCold.loadCpuMs.median.toFixed(1)} ms CPU (${bigCold.loadMs.median.toFixed(1)} ms wall; + ${bigCold.importMs.median.toFixed(1)} ms import)`,
        met: bigCold.loadCpuMs.median <= LOAD_BUDGET_MS,
        note: `about ${(bigCold.loadCpuMs.median * lambdaScale).toFixed(0)} ms on resolve's ${RESOLVE_MEMORY_MB} MB`,
      },
      {
        metric: `resolver DynamoDB requests per file of ${MEASURED_DATASET} (${r7.readers} readers), 700 jobs vs ${SMALL_JOBS}`,
        target: 'equal',
        actual: `${r700.requestsPerFile.toFixed(1)} vs ${r7.requestsPerFile.toFixed(1)}`,
        met: r700.requestsPerFile === r7.requestsPerFile && perScenario.every((p) => p.requestsPerFile === p.expectedPerFile),
      },
      {
        metric: 'executions started while resolving (every batch waits)',
        target: '0',
        actual: String(perScenario.reduce((n, p) => n + p.starts, 0)),
        met: perScenario.every((p) => p.starts === 0),
      },
    ];
    const loadTable: Table = {
      header: [
        'configuration',
        `cold: import ms (${coldRuns} fresh processes)`,
        'cold: loadPipelineFile ms',
        'cold: loadPipelineFile CPU ms',
        `warm: loadPipelineFile ms (${warmRuns} runs)`,
        'warm: read + parse ms',
        'warm: compile ms',
        `cold CPU projected on resolve's ${RESOLVE_MEMORY_MB} MB (×${lambdaScale.toFixed(1)}), ms`,
      ],
      rows: configs.map((c) => {
        const cs = coldSummary(c.id);
        const w = warm.get(c.id)!;
        return [
          c.label,
          formatSummary(cs.importMs),
          formatSummary(cs.loadMs),
          formatSummary(cs.loadCpuMs),
          formatSummary(w.load),
          formatSummary(w.read),
          formatSummary(w.compile),
          (cs.loadCpuMs.median * lambdaScale).toFixed(0),
        ];
      }),
    };
    const resolverTable: Table = {
      header: [
        'configuration',
        'dataset of the file',
        'jobs reading it',
        'batches / file',
        'DynamoDB requests / file',
        'expected (per batch: 1 Get + 1 Query per input source + 1 Update)',
        'GetItem / Query / UpdateItem per file',
        'distinct (source, day) among the Queries',
        `wall ms / file (${r7.files} files)`,
        'resolver CPU ms / file',
      ],
      rows: perScenario.map((p) => [
        p.scenario.label,
        p.scenario.dataset,
        p.readers,
        p.batchesPerFile.toFixed(1),
        p.requestsPerFile.toFixed(1),
        p.expectedPerFile.toFixed(1),
        ['GetItem', 'Query', 'UpdateItem'].map((op) => (p.byOperation[op] ?? 0).toFixed(1)).join(' / '),
        p.distinctQueriesPerFile.toFixed(1),
        formatSummary(p.wallMs),
        formatSummary(p.cpuMs, 2),
      ]),
    };
    const cpuTable: Table = {
      header: [
        'per-file lookup (CPU, in process)',
        'jobs',
        `µs / call (median of ${cpuRuns} × ${iterations.toLocaleString('en-US')} calls; /10 for the long ones)`,
      ],
      rows: cpuRows.map((row) => [row.what, row.jobs, formatSummary(row.us, 2)]),
    };
    return {
      id: 'config-scale',
      title: `8. Configuration at scale: 700 jobs / 200 datasets against ${SMALL_JOBS} jobs (generated)`,
      tables: [loadTable, resolverTable, cpuTable],
      targets,
      notes: [
        `Generated by bench/lib/generated-config.ts (seeded): 200 datasets (grouped by region and store, cumulative, daily reference, manifests; lookups and members), 700 jobs reading 1–3 datasets, ${big.config.jobs.filter((j) => (j.inputs as Array<{ job?: string }>).some((i) => i.job)).length} of them also 1–2 upstream jobs (depth up to ${Math.max(...big.depth.values())}), every precondition kind; ${big.sqlFiles} SQL files, pipeline.json ${(JSON.stringify(big.config, null, 2).length / 1024).toFixed(0)} KB. The ${SMALL_JOBS}-job configuration is its prefix: same datasets, same first jobs; ${MEASURED_DATASET} is read by ${MEASURED_READERS.join(', ')} in both.`,
        `Budget: ${LOAD_BUDGET_MS} ms of CPU (a fresh process, this machine) for read + parse + compile of the 700-job JSON (what the deploy bundles as pipeline/pipeline.json). The resolver loads it lazily in its first invocation (\`deps ??= resolverDepsFromEnv()\`), so on Lambda it adds to the first invocation's duration (resolve's timeout is 120 s), not to the init phase (capped at 10 s). A ${RESOLVE_MEMORY_MB} MB function has ${(RESOLVE_MEMORY_MB / FULL_VCPU_MB).toFixed(2)} of a vCPU: the last column scales the cold CPU figure by ${lambdaScale.toFixed(1)}. The deployed functions read JSON only; YAML is what the local stack and \`landfall run --config\` read (the yaml package is required unbundled, on first use).`,
        'Cold: the loader bundled as the functions are (esbuild, minified ESM), imported and run once in a fresh `node` process; import and load measured inside it (process start-up excluded). Warm: the same call repeated in one process after 3 warm-up runs; read + parse is readConfigFile (JSON.parse or the yaml package), compile is compilePipeline on the parsed object (validation, SQL files stat-ed, indexes).',
        `Resolver: each landed file is the first of its batches on its day (so each batch also records what it waits for: the UpdateItem; a later file of a waiting batch skips it), and no batch can complete; the file is recorded CONVERTED beforehand (not counted). Requests are counted on the resolver's DynamoDB client; wall time is \`resolveFile\` against DynamoDB Local on this machine (its latency included), CPU is the resolver process's own user + system time during it (mostly the SDK's, about 1 ms per request): on resolve's 512 MB that CPU takes about 3.5 times as long. ${busiest.name} is the dataset whose file names the most batches in the 700-job configuration (a regional job reading a date-only dataset has a batch per region).`,
        "resolveFile resolves a file's batches one after the other, and each batch Queries the day's files of each of its input sources (index gsi1: dataset and day, every region): batches that share a source repeat the same Query (\"distinct\" column), so a file's work and time grow with the batches it names (jobs reading its dataset × the regions a date-only file fans out to), not with the jobs of the configuration.",
        `The 1-minute load average was ${loadAverage.toFixed(1)} when the suite started (${cpus().length} cores): timings are inflated by whatever else the machine runs; the request counts are not.`,
      ],
      data: {
        generated: {
          jobs: big.config.jobs.length,
          datasets: big.config.datasets.length,
          sqlFiles: big.sqlFiles,
          depthMax: Math.max(...big.depth.values()),
          pipelineJsonBytes: JSON.stringify(big.config, null, 2).length,
        },
        budget: { loadMs: LOAD_BUDGET_MS, resolveMemoryMb: RESOLVE_MEMORY_MB, lambdaCpuScale: lambdaScale },
        load: Object.fromEntries(configs.map((c) => [c.id, { cold: coldSummary(c.id), warm: warm.get(c.id) }])),
        resolver: Object.fromEntries(
          perScenario.map((p) => [
            p.scenario.id,
            {
              dataset: p.scenario.dataset,
              jobs: p.scenario.jobs,
              readers: p.readers,
              files: p.files,
              batchesPerFile: p.batchesPerFile,
              requestsPerFile: p.requestsPerFile,
              expectedRequestsPerFile: p.expectedPerFile,
              distinctQueriesPerFile: p.distinctQueriesPerFile,
              byOperation: p.byOperation,
              wallMs: p.wallMs,
              cpuMs: p.cpuMs,
              executionsStarted: p.starts,
            },
          ]),
        ),
        loadAverageAtStart: loadAverage,
        cpuMicros: cpuRows.map((row) => ({ what: row.what, jobs: row.jobs, us: row.us })),
        batchesForFileRatio700to7: bf700.median / bf7.median,
      },
    };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
});
