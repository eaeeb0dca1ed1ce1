/**
 * The console's page time at scale: DynamoDB Local holding a stage's day of 10,000 file versions
 * (settled in the last 24 hours) and 1,000 batches with one run each; the console served over it
 * (ops/console/server.ts, read-only), each view fetched over HTTP, one request at a time:
 * the overview, the batch grid (unfiltered and one job's day), batch views and file views of
 * random batches and files. The target: p95 page time ≤ 1 s for every view.
 * Quick mode: 1,000 files, 100 batches, fewer fetches.
 *   tsx bench/suites/console.ts [--quick] [--out result.json]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { BatchWriteCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { readDeployment } from '../../deploy/serverless-config';
import { startDynamoDbLocal } from '../../local/servers';
import { DEFAULT_PIPELINE_FILE } from '../../local/pipeline-file';
import { pageToken } from '../../ops/console/batch-grid';
import { startConsole } from '../../ops/console/server';
import type { Target } from '../../ops/targets';
import { loadPipelineFile } from '../../shared/core/config/load-config';
import { indexAttributes } from '../../shared/core/runs/batch-index';
import { JobRunStore } from '../../shared/core/runs/job-run-store';
import { FileStateStore, settledPartition } from '../../shared/core/state/file-state-store';
import type { Table, Target as BenchTarget } from '../lib/results';
import { percentile, summarize } from '../lib/stats';
import { log, suiteMain } from '../lib/suite';

const ROOT = join(import.meta.dirname, '..', '..');
const REGION = 'us-east-1';
const CREDENTIALS = { accessKeyId: 'landfall', secretAccessKey: 'landfall-local-secret' };
const P95_BUDGET_MS = 1000;

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
  const fetches = quick ? 5 : 20;
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
      ];
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
        ],
        data,
      };
    } finally {
      await running.close();
    }
  } finally {
    await ddb.process.stop();
    await rm(work, { recursive: true, force: true });
  }
});
