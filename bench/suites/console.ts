/**
 * The console's page time at scale: DynamoDB Local holding a stage's day of 10,000 file versions
 * (settled in the last 24 hours) and 1,000 batches with one run each, and the seven days before it
 * (as many files and batches a day, for the freshness and quality view's window); a local EMR with
 * the stack's clusters and their steps, and failovers recorded (the recovery view); the console
 * served over it (ops/console/server.ts, read-only), each view fetched over HTTP, one request at a
 * time: the overview, the batch grid (unfiltered and one job's day), batch views and file views of
 * random batches and files, freshness and quality, recovery, lineage (the graph and a batch's).
 * The target: p95 page time ≤ 1 s for every view.
 * Quick mode: 1,000 files, 100 batches, fewer fetches.
 *   tsx bench/suites/console.ts [--quick] [--out result.json]
 *   LANDFALL_CONSOLE_VIEWS=quality LANDFALL_CONSOLE_FETCHES=5 tsx bench/suites/console.ts (some views only)
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { AddJobFlowStepsCommand, EMRClient } from '@aws-sdk/client-emr';
import { S3Client } from '@aws-sdk/client-s3';
import { BatchWriteCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { readDeployment } from '../../deploy/serverless-config';
import { startLocalEmr } from '../../local/emr';
import { startDynamoDbLocal } from '../../local/servers';
import { DEFAULT_PIPELINE_FILE } from '../../local/pipeline-file';
import { pageToken } from '../../ops/console/batch-grid';
import { startConsole } from '../../ops/console/server';
import type { Target } from '../../ops/targets';
import { loadPipelineFile } from '../../shared/core/config/load-config';
import { indexAttributes } from '../../shared/core/runs/batch-index';
import { JobRunStore } from '../../shared/core/runs/job-run-store';
import { stackTagOf } from '../../ops/operations/recovery';
import { addDays } from '../../shared/core/time/dates';
import { FileStateStore, settledPartition } from '../../shared/core/state/file-state-store';
import type { Table, Target as BenchTarget } from '../lib/results';
import { percentile, summarize } from '../lib/stats';
import { log, suiteMain } from '../lib/suite';

const ROOT = join(import.meta.dirname, '..', '..');
const REGION = 'us-east-1';
const CREDENTIALS = { accessKeyId: 'landfall', secretAccessKey: 'landfall-local-secret' };
const P95_BUDGET_MS = 1000;
/** The recovery view's EMR: more clusters than it lists (CLUSTERS_SHOWN), more steps each than a page of ListSteps. */
const CLUSTERS = 30;
const STEPS_PER_CLUSTER = 60;

/** Writes items 25 at a time (BatchWriteItem), retrying what DynamoDB leaves unprocessed. */
async function putAll(docs: DynamoDBDocumentClient, table: string, items: Record<string, unknown>[]): Promise<void> {
  for (let i = 0; i < items.length; i += 25) {
    let pending: unknown[] = items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } }));
    while (pending.length > 0) {
      const out = await docs.send(new BatchWriteCommand({ RequestItems: { [table]: pending as never } }));
      pending = out.UnprocessedItems?.[table] ?? [];
    }
  }
}

/**
 * A stage's day: `batches` batches of pos_daily_sales (province P0000…, today's date), each with
 * `files / batches` store files CONVERTED in the last 24 hours and one SUCCEEDED run that read them
 * (a tenth FAILED, a tenth WAITING).
 */
function seedItems(files: number, batches: number, now: Date) {
  const date = now.toISOString().slice(0, 10);
  const perBatch = Math.max(1, Math.floor(files / batches));
  const fileItems: Record<string, unknown>[] = [];
  const runItems: Record<string, unknown>[] = [];
  const keys: string[] = [];
  const ran: string[] = [];
  const waiting: string[] = [];
  for (let b = 0; b < batches; b += 1) {
    const province = `P${String(b).padStart(4, '0')}`;
    const batchId = `pos_daily_sales#province=${province}#date=${date}`;
    const inputs = [];
    for (let f = 0; f < perBatch; f += 1) {
      const key = `landing/pos/${province}/${province}S${f}_${date.replaceAll('-', '')}_200000.tdf`;
      const at = new Date(now.getTime() - ((b * perBatch + f) % 86_000) * 1000).toISOString();
      keys.push(key);
      inputs.push({ key, versionId: 'v1', processedKey: `processed/pos/${key}.parquet`, processedVersionId: 'p1' });
      const fields = { province, store: `${province}S${f}`, date, time: '200000' };
      const item = {
        bucket: 'raw',
        key,
        versionId: 'v1',
        eTag: 'e',
        size: 4096,
        sequencer: '0000000000000000000000000000000000000001',
        landedAt: at,
        state: 'CONVERTED',
        stateRank: 2,
        dataset: 'pos',
        fields,
        rows: { in: 100, out: 100, rejected: 0, junk: 0 },
        parquetRows: 100,
        processedKey: `processed/pos/${key}.parquet`,
        processedVersionId: 'p1',
        history: [
          { state: 'RECEIVED', at },
          { state: 'VALIDATED', at },
          { state: 'CONVERTED', at },
        ],
        statesSeen: new Set(['RECEIVED', 'VALIDATED', 'CONVERTED']),
        createdAt: at,
        updatedAt: at,
        workPk: settledPartition(at),
        workSk: `${at}#${key}#v1`,
        gsi1pk: `DS#pos#${date}`,
        gsi1sk: `${key}#v1`,
      };
      fileItems.push({ pk: `FILE#${key}`, sk: 'V#v1', ...item });
      fileItems.push({ pk: `FILE#${key}`, sk: 'LATEST', versionId: 'v1', sequencer: item.sequencer, eTag: 'e' });
    }
    const status = b % 10 === 0 ? 'FAILED' : b % 10 === 1 ? 'WAITING' : 'SUCCEEDED';
    const claimedAt = new Date(now.getTime() - 3_600_000).toISOString();
    const executionName = `pos_daily_sales-${province}-${date}-000000000000`;
    runItems.push({
      pk: `BATCH#${batchId}`,
      sk: 'BATCH',
      job: 'pos_daily_sales',
      batchId,
      values: { province, date },
      status,
      // the indexes' keys, as the store's writes set them (shared/core/runs/batch-index.ts)
      ...indexAttributes(batchId, status),
      waitingFor: status === 'WAITING' ? [`${perBatch - 1} of ${perBatch} stores of pos (have …)`] : [],
      ...(status === 'WAITING'
        ? {}
        : { lastRun: { executionName, fingerprint: 'f', status, finishedAt: claimedAt, ...(status === 'FAILED' ? { error: 'SqlError: boom' } : {}) } }),
      runs: 1,
      updatedAt: claimedAt,
    });
    if (status !== 'WAITING')
      runItems.push({
        pk: `BATCH#${batchId}`,
        sk: `RUN#${executionName}`,
        job: 'pos_daily_sales',
        batchId,
        values: { province, date },
        executionName,
        fingerprint: 'f',
        inputs: { pos: inputs, item_master: [] },
        status,
        stages: { aggregate: { status: 'SUCCEEDED', at: claimedAt, output: { rows: 100 * perBatch } } },
        claimedAt,
        startedAt: claimedAt,
        finishedAt: claimedAt,
      });
    (status === 'WAITING' ? waiting : ran).push(`province=${province},date=${date}`);
  }
  return { fileItems, runItems, keys, ran, waiting, date };
}

/** The stage's business dates before `date`: its seven days of history (the quality view's window). */
export const HISTORY_DAYS = 7;

/**
 * The `HISTORY_DAYS` days before today, as a stage that has run a while holds them: per day the
 * same provinces' store files (only their version items: gsi1 and the work index; every tenth file
 * with a few rejected rows) and their batch items on the grid index: a tenth never succeeded
 * (missed), a tenth first succeeded after the 18:00 Toronto deadline (late), the rest before it,
 * and one in a hundred succeeded under a landfall that did not record its first success (the
 * quality view reads its runs), with its run.
 */
function seedHistory(files: number, batches: number, now: Date) {
  const today = now.toISOString().slice(0, 10);
  const perBatch = Math.max(1, Math.floor(files / batches));
  const fileItems: Record<string, unknown>[] = [];
  const runItems: Record<string, unknown>[] = [];
  for (let d = 1; d <= HISTORY_DAYS; d += 1) {
    const date = addDays(today, -d);
    const at = `${date}T20:00:00.000Z`;
    for (let b = 0; b < batches; b += 1) {
      const province = `P${String(b).padStart(4, '0')}`;
      for (let f = 0; f < perBatch; f += 1) {
        const key = `landing/pos/${province}/${province}S${f}_${date.replaceAll('-', '')}_200000.tdf`;
        const rejected = f % 10 === 0 ? 3 : 0;
        fileItems.push({
          pk: `FILE#${key}`,
          sk: 'V#v1',
          bucket: 'raw',
          key,
          versionId: 'v1',
          sequencer: '0000000000000000000000000000000000000001',
          landedAt: at,
          state: 'CONVERTED',
          stateRank: 2,
          dataset: 'pos',
          fields: { province, store: `${province}S${f}`, date, time: '200000' },
          rows: { in: 100, out: 100 - rejected, rejected, junk: 0 },
          parquetRows: 100 - rejected,
          history: [{ state: 'CONVERTED', at }],
          createdAt: at,
          updatedAt: at,
          workPk: settledPartition(at),
          workSk: `${at}#${key}#v1`,
          gsi1pk: `DS#pos#${date}`,
          gsi1sk: `${key}#v1`,
        });
      }
      const batchId = `pos_daily_sales#province=${province}#date=${date}`;
      const status = b % 10 === 0 ? 'FAILED' : 'SUCCEEDED';
      const finishedAt = b % 10 === 1 ? `${addDays(date, 1)}T02:00:00.000Z` : `${date}T21:00:00.000Z`;
      const legacy = b % 100 === 50;
      const executionName = `pos_daily_sales-${province}-${date}-000000000000`;
      runItems.push({
        pk: `BATCH#${batchId}`,
        sk: 'BATCH',
        job: 'pos_daily_sales',
        batchId,
        values: { province, date },
        status,
        ...indexAttributes(batchId, status),
        waitingFor: [],
        lastRun: { executionName, fingerprint: 'f', status, finishedAt },
        ...(status === 'SUCCEEDED' ? { lastSucceededFingerprint: 'f', ...(legacy ? {} : { firstSucceededAt: finishedAt }) } : {}),
        runs: 1,
        updatedAt: finishedAt,
      });
      if (legacy)
        runItems.push({
          pk: `BATCH#${batchId}`,
          sk: `RUN#${executionName}`,
          job: 'pos_daily_sales',
          batchId,
          values: { province, date },
          executionName,
          fingerprint: 'f',
          inputs: { pos: [], item_master: [] },
          status,
          claimedAt: `${date}T20:30:00.000Z`,
          finishedAt,
        });
    }
  }
  return { fileItems, runItems };
}

/**
 * The recovery view's EMR at scale: `clusters` of the stack's cells (more than the view lists), each
 * with `steps` finished steps (more than a page), and failovers recorded between the cells, each
 * naming a run of today (a GetItem each).
 */
async function seedRecovery(emr: EMRClient, runs: JobRunStore, stack: string, clusterIds: string[], steps: number, ran: string[], date: string, now: Date) {
  for (const id of clusterIds) {
    for (let i = 0; i < steps; i += 10)
      await emr.send(
        new AddJobFlowStepsCommand({
          JobFlowId: id,
          Steps: Array.from({ length: Math.min(10, steps - i) }, (_, n) => ({
            Name: `pos_daily_sales-P0002-${date}-000000000000-aggregate-${id}-a${i + n}`,
            ActionOnFailure: 'CONTINUE',
            HadoopJarStep: { Jar: 'command-runner.jar', Args: ['true'] },
          })),
        }),
      );
  }
  for (let i = 0; i < 12; i += 1) {
    const province = ran[i % ran.length]!.match(/province=(P\d+)/)![1]!;
    await runs.recordFailover({
      from: i % 2 === 0 ? 'a' : 'b',
      to: i % 2 === 0 ? 'b' : 'a',
      at: new Date(now.getTime() - (12 - i) * 3_600_000).toISOString(),
      reason: "the cell's cluster ended with errors",
      endpoint: 'bench',
      confirmed: true,
      execution: `pos_daily_sales-${province}-${date}-000000000000`,
      batchId: `pos_daily_sales#province=${province}#date=${date}`,
    });
  }
  return `landfall-${stack}-`;
}

/** Fetches a path n times, one at a time; the wall time of each (status 200 required). */
async function timeFetches(base: string, paths: string[]): Promise<number[]> {
  const times: number[] = [];
  for (const path of paths) {
    const started = performance.now();
    const res = await fetch(new URL(path, base));
    await res.text();
    if (res.status !== 200) throw new Error(`${path}: HTTP ${res.status}`);
    times.push(performance.now() - started);
  }
  return times;
}

await suiteMain(async ({ quick }) => {
  const files = quick ? 1000 : 10_000;
  const batches = quick ? 100 : 1000;
  // LANDFALL_CONSOLE_FETCHES and LANDFALL_CONSOLE_VIEWS (words of the views' names, comma-separated) measure fewer, e.g. a slow view before a change
  const fetches = Number(process.env.LANDFALL_CONSOLE_FETCHES ?? (quick ? 5 : 20));
  const only = process.env.LANDFALL_CONSOLE_VIEWS?.split(',').filter(Boolean);
  const work = await mkdtemp(join(tmpdir(), 'landfall-bench-console-'));
  log('starting DynamoDB Local');
  const ddb = await startDynamoDbLocal(work);
  try {
    const client = new DynamoDBClient({ endpoint: ddb.endpoint, region: REGION, credentials: CREDENTIALS });
    const documents = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
    const deployment = readDeployment(ROOT, 'local');
    for (const table of deployment.tables) {
      if (table.create.TableName !== deployment.names.fileStateTable && table.create.TableName !== deployment.names.jobRunsTable) continue;
      const { StreamSpecification: _stream, ...create } = table.create;
      await client.send(new CreateTableCommand(create));
    }
    const now = new Date();
    const seed = seedItems(files, batches, now);
    log(`seeding ${files} file versions and ${batches} batches`);
    await putAll(documents, deployment.names.fileStateTable, seed.fileItems);
    await putAll(documents, deployment.names.jobRunsTable, seed.runItems);
    const history = seedHistory(files, batches, now);
    log(`seeding ${HISTORY_DAYS} days of history: ${history.fileItems.length} file versions, ${batches * HISTORY_DAYS} batches`);
    await putAll(documents, deployment.names.fileStateTable, history.fileItems);
    await putAll(documents, deployment.names.jobRunsTable, history.runItems);

    const unavailable = () => Promise.reject(new Error('not part of this benchmark'));
    const target: Target = {
      label: `DynamoDB Local, ${files} files and ${batches} batches a day`,
      names: deployment.names,
      // no rejects in the seeded files: S3 is never asked
      s3: new S3Client({ region: REGION, credentials: CREDENTIALS, endpoint: 'http://127.0.0.1:9' }),
      documents,
      files: new FileStateStore(documents, deployment.names.fileStateTable),
      runs: new JobRunStore(documents, deployment.names.jobRunsTable),
      resolverDeps: unavailable,
      reconcileDeps: unavailable,
    };
    const pipeline = loadPipelineFile(DEFAULT_PIPELINE_FILE);
    // the stage's provinces are the ones its configuration lists: the freshness view expects each one's batch every day
    const provinces = Array.from({ length: batches }, (_, b) => `P${String(b).padStart(4, '0')}`);
    pipeline.listed.set('pos_daily_sales', { ...pipeline.listed.get('pos_daily_sales'), province: provinces });

    const stack = stackTagOf(deployment.names);
    const clusterIds = Array.from({ length: CLUSTERS }, (_, i) => `j-BENCH${String(i).padStart(8, '0')}`);
    log(`starting the local EMR: ${CLUSTERS} clusters of the stack's two cells, ${STEPS_PER_CLUSTER} steps each`);
    const emrLocal = await startLocalEmr({
      clusters: clusterIds.map((id, i) => ({ id, name: `landfall-${stack}-${i % 2 === 0 ? 'a' : 'b'}-g${i}` })),
      s3: target.s3,
      region: REGION,
      runStep: async () => undefined,
    });
    const emr = new EMRClient({ endpoint: emrLocal.endpoint, region: REGION, credentials: CREDENTIALS });
    await seedRecovery(emr, target.runs, stack, clusterIds, STEPS_PER_CLUSTER, seed.ran, seed.date, now);
    await emrLocal.idle();
    // the console's EMR client finds the stand-in as the SDK finds any endpoint (ops/operations/extra-clients.ts)
    process.env.AWS_ENDPOINT_URL_EMR = emrLocal.endpoint;

    const running = await startConsole({ target, pipeline, port: 0, readOnly: true, operator: async () => 'bench' });
    try {
      const pick = <T>(list: T[], i: number) => list[(i * 7919) % list.length]!;
      const batchPath = (spec: string) => `/batch?job=pos_daily_sales&batch=${encodeURIComponent(spec)}`;
      const views: Array<[string, string[]]> = [
        ['overview /', Array(fetches).fill('/')],
        ['batch grid /batches', Array(fetches).fill('/batches')],
        ['batch grid, one job and day', Array(fetches).fill(`/batches?job=pos_daily_sales&from=${seed.date}&to=${seed.date}`)],
        ['batch grid, failed', Array(fetches).fill('/batches?status=failed')],
        ['batch grid, a later page', Array(fetches).fill(`/batches?after=${pageToken(`pos_daily_sales#province=P0500#date=${seed.date}`)}`)],
        ['batch detail, a batch that ran', Array.from({ length: fetches }, (_, i) => batchPath(pick(seed.ran, i)))],
        ['batch detail, a waiting batch (live evaluation)', Array.from({ length: fetches }, (_, i) => batchPath(pick(seed.waiting, i)))],
        ['file detail /file', Array.from({ length: fetches }, (_, i) => `/file?key=${encodeURIComponent(pick(seed.keys, i))}`)],
        ['freshness and quality /quality', Array(fetches).fill('/quality')],
        ['recovery /recovery', Array(fetches).fill('/recovery')],
        ['lineage /lineage (the graph)', Array(fetches).fill('/lineage')],
        ['lineage of a batch', Array.from({ length: fetches }, (_, i) => `/lineage?job=pos_daily_sales&batch=${encodeURIComponent(pick(seed.ran, i))}`)],
      ];
      if (only) views.splice(0, views.length, ...views.filter(([name]) => only.some((word) => name.includes(word))));
      // the first fetch of each view, apart: it pays the JIT, the connection and, for the overview, reading the whole day
      const first = new Map<string, number>();
      for (const [name, paths] of views) first.set(name, (await timeFetches(running.url, paths.slice(0, 1)))[0]!);
      const rows: Table['rows'] = [];
      const targets: BenchTarget[] = [];
      const data: Record<string, unknown> = { files, batches, fetches };
      for (const [name, paths] of views) {
        const times = await timeFetches(running.url, paths);
        const p95 = percentile(times, 95);
        const s = summarize(times);
        rows.push([name, first.get(name)!.toFixed(0), paths.length, s.median.toFixed(0), p95.toFixed(0), s.max.toFixed(0)]);
        targets.push({ metric: `console ${name}: p95 page time`, target: `≤ ${P95_BUDGET_MS} ms`, actual: `${p95.toFixed(0)} ms`, met: p95 <= P95_BUDGET_MS });
        data[name] = times;
        data[`${name} (first)`] = first.get(name);
        log(`${name}: first ${first.get(name)!.toFixed(0)} ms, then median ${s.median.toFixed(0)} ms, p95 ${p95.toFixed(0)} ms`);
      }
      return {
        id: 'console',
        title: `Console page time: ${files} files and ${batches} batches a day (DynamoDB Local)`,
        tables: [{ header: ['view', 'first fetch ms', 'then fetches', 'median ms', 'p95 ms', 'max ms'], rows }],
        targets,
        notes: [
          "The overview keeps the summaries of whole past hours (SettledHours): its first fetch reads the day's file versions, each next one the first and current hours, and the two hours read longest ago once they are a minute old.",
          'One request at a time over HTTP to the console in this process; DynamoDB Local on the same machine.',
          "A waiting batch's view evaluates it live (the resolver's explainBatch): one Query on index gsi1 per input source and day, narrowed to the batch's key prefix (landing/pos/P0001/), so it reads its own province's files; a batch that ran shows what was recorded.",
          'The batch grid and the overview Query the job-runs table\'s indexes (gsi2: a job\'s batches by date; gsi3: open batches by job and status), 50 rows a page: their time does not grow with the history kept (docs/console.md, "Queries and scale").',
          `Freshness and quality (7 days): ${batches * (HISTORY_DAYS + 1)} batches expected (the configuration lists the stage's ${batches} provinces). Freshness reads each job's batch items of a business date with one Query of the grid index (gsi2, a projection), the last two dates at each load and the earlier ones kept between loads (KeptDays); a batch that succeeded without a recorded first success (one in a hundred here) is told by its runs. The rejected-row figures (WindowRates, ops/operations/quality.ts) read each dataset and data date of gsi1 in full once (the first fetch: the whole window), then at each load only the versions that changed since the last (the work index, then BatchGetItem): none here, the seeded files do not move.`,
          `Recovery: a local EMR (local/emr) with ${CLUSTERS} clusters of the stack's two cells and ${STEPS_PER_CLUSTER} steps each; the view lists the newest 20 clusters with a page of steps each (ListClusters, then ListSteps in parallel) and resolves the runs of 12 recorded failovers (a GetItem each).`,
          "Lineage: the graph is the configuration's (no read); a batch's lineage is one Query of its runs.",
          `The 1-, 5- and 15-minute load averages when the suite ended: ${loadavg()
            .map((l) => l.toFixed(2))
            .join(', ')} (2 cores).`,
        ],
        data: { ...data, uptime: loadavg() },
      };
    } finally {
      await running.close();
      emr.destroy();
      await emrLocal.stop();
    }
  } finally {
    await ddb.process.stop();
    await rm(work, { recursive: true, force: true });
  }
});
