import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readDeployment } from '../deploy/serverless-config';
import { DEFAULT_PIPELINE_FILE } from '../local/pipeline-file';
import { startDynamoDbLocal, type RunningServer } from '../local/servers';
import { buildGrid, gridFilters, pagedGrid, ranAtCutoffOf, readGridPage } from '../ops/console/batch-grid';
import { startConsole } from '../ops/console/server';
import { liveBatches } from '../ops/operations/batch-explanation';
import { openBatches } from '../ops/operations/overview';
import type { Target } from '../ops/targets';
import { loadPipelineFile } from '../shared/core/config/load-config';
import { JobRunStore, type BatchItem } from '../shared/core/runs/job-run-store';
import { FileStateStore } from '../shared/core/state/file-state-store';

/*
 * The job-runs table's batch indexes (gsi2: a job's batches by date; gsi3: open batches) on
 * DynamoDB Local, the table created from serverless.yml as the local stack creates it: each
 * status write keeps their keys, and the console's grid and overview, read from them a page at a
 * time, show what a Scan of the whole table shows.
 */
const ROOT = join(import.meta.dirname, '..');
const REGION = 'us-east-1';
const CREDENTIALS = { accessKeyId: 'landfall', secretAccessKey: 'landfall-local-secret' };
const NOW = new Date('2026-08-03T12:00:00.000Z');
const pipeline = loadPipelineFile(DEFAULT_PIPELINE_FILE);
const deployment = readDeployment(ROOT, 'local');
const TABLE = deployment.names.jobRunsTable;

let work: string;
let ddb: RunningServer;
let documents: DynamoDBDocumentClient;
let runs: JobRunStore;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'landfall-console-index-'));
  ddb = await startDynamoDbLocal(work);
  const client = new DynamoDBClient({ endpoint: ddb.endpoint, region: REGION, credentials: CREDENTIALS });
  documents = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  for (const table of deployment.tables) {
    if (table.create.TableName !== TABLE && table.create.TableName !== deployment.names.fileStateTable) continue;
    const { StreamSpecification: _stream, ...create } = table.create;
    await client.send(new CreateTableCommand(create));
  }
  runs = new JobRunStore(documents, TABLE);
}, 120_000);

afterAll(async () => {
  await ddb?.process.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

const raw = async (batchId: string) =>
  (await documents.send(new GetCommand({ TableName: TABLE, Key: { pk: `BATCH#${batchId}`, sk: 'BATCH' }, ConsistentRead: true }))).Item!;
const indexKeys = (item: Record<string, unknown>) => ({ gridPk: item.gridPk, gridSk: item.gridSk, openPk: item.openPk, openSk: item.openSk });
const values = (province: string, date: string) => ({ province, date });
const idOf = (province: string, date: string) => `pos_daily_sales#province=${province}#date=${date}`;
const run = (name: string, extra: { ranWithout?: string[] } = {}) => ({ executionName: name, fingerprint: `fp-${name}`, inputs: {}, ...extra });

/** A batch taken to `status` by the store's own writes, as the resolver and the job steps make them. */
async function batchIn(province: string, date: string, status: BatchItem['status'] | 'CUTOFF', attempt = 0): Promise<void> {
  const id = idOf(province, date);
  await runs.recordWaiting('pos_daily_sales', id, values(province, date), ['4 of 5 stores'], NOW);
  if (status === 'WAITING') return;
  const name = `e-${province}-${date}-${attempt}`;
  await runs.claimRun('pos_daily_sales', id, values(province, date), run(name, status === 'CUTOFF' ? { ranWithout: ['5 stores'] } : {}), NOW);
  if (status === 'RUNNING') return;
  const end = status === 'CUTOFF' ? 'SUCCEEDED' : status;
  await runs.finishRun(id, name, end, end === 'SUCCEEDED' ? undefined : { error: 'SqlError', cause: 'boom' }, NOW);
}

describe("the job-runs table's batch indexes on DynamoDB Local", () => {
  it('each write of a batch status keeps its index keys: open until it succeeds, on the grid always', async () => {
    const id = idOf('ON', '2026-07-01');
    const grid = { gridPk: 'GRID#pos_daily_sales', gridSk: `2026-07-01#${id}` };
    const open = (status: string) => ({ ...grid, openPk: `OPEN#pos_daily_sales#${status}`, openSk: grid.gridSk });
    await runs.recordWaiting('pos_daily_sales', id, values('ON', '2026-07-01'), ['4 of 5 stores'], NOW);
    expect(indexKeys(await raw(id))).toEqual(open('WAITING'));
    await runs.claimRun('pos_daily_sales', id, values('ON', '2026-07-01'), run('a1'), NOW);
    // a wait recorded while the run is active keeps the RUNNING status, and its open entry
    await runs.recordWaiting('pos_daily_sales', id, values('ON', '2026-07-01'), ['more'], NOW);
    expect(indexKeys(await raw(id))).toEqual(open('RUNNING'));
    await runs.finishRun(id, 'a1', 'FAILED', { error: 'SqlError', cause: 'boom' }, NOW);
    expect(indexKeys(await raw(id))).toEqual(open('FAILED'));
    await runs.claimRun('pos_daily_sales', id, values('ON', '2026-07-01'), run('a2', { ranWithout: ['5 stores'] }), NOW);
    await runs.finishRun(id, 'a2', 'SUCCEEDED', undefined, NOW);
    const done = await raw(id);
    expect(indexKeys(done)).toEqual({ ...grid, openPk: undefined, openSk: undefined });
    expect(done.lastRun.ranWithout).toEqual(['5 stores']);
    // a finish written twice (a retried step) changes nothing
    await runs.finishRun(id, 'a2', 'SUCCEEDED', undefined, NOW);
    expect(indexKeys(await raw(id))).toEqual(indexKeys(done));

    // a claim released (its execution never started) is open again in the status it goes back to
    const released = idOf('QC', '2026-07-01');
    await runs.claimRun('pos_daily_sales', released, values('QC', '2026-07-01'), run('q1'), NOW);
    expect(await runs.releaseClaim(released, 'q1', 'WAITING', NOW)).toBe(true);
    expect((await raw(released)).openPk).toBe('OPEN#pos_daily_sales#WAITING');

    // a deadline alert creates a batch never evaluated as WAITING (open), and leaves a succeeded one closed
    const never = idOf('BC', '2026-07-01');
    expect(await runs.markDeadlineAlerted('pos_daily_sales', never, values('BC', '2026-07-01'), '2026-07-01T22:00:00.000Z', NOW)).toBe(true);
    expect(await runs.markDeadlineAlerted('pos_daily_sales', never, values('BC', '2026-07-01'), '2026-07-01T22:00:00.000Z', NOW)).toBe(false);
    expect(indexKeys(await raw(never))).toMatchObject({ openPk: 'OPEN#pos_daily_sales#WAITING' });
    expect(await runs.markDeadlineAlerted('pos_daily_sales', id, values('ON', '2026-07-01'), '2026-07-01T22:00:00.000Z', NOW)).toBe(true);
    expect(indexKeys(await raw(id))).toEqual(indexKeys(done));
  });

  it('the grid and the overview show from the indexes the batches a Scan of the table shows', { timeout: 180_000 }, async () => {
    const statuses: Array<BatchItem['status'] | 'CUTOFF'> = ['SUCCEEDED', 'FAILED', 'WAITING', 'CHECK_FAILED', 'RUNNING', 'CUTOFF', 'SUCCEEDED'];
    const provinces = Array.from({ length: 64 }, (_, i) => `P${String(i).padStart(2, '0')}`);
    for (const [i, p] of provinces.entries()) {
      for (const [d, date] of ['2026-08-01', '2026-08-02', '2026-08-03'].entries()) await batchIn(p, date, statuses[(i + d) % statuses.length]!);
    }
    await runs.recordWaiting('clickstream_daily', 'clickstream_daily#date=2026-08-02', { date: '2026-08-02' }, ['orders'], NOW);

    const everything = (await runs.listAll()).batches;
    const cutoff = ranAtCutoffOf(everything);
    for (const query of [
      '',
      'job=pos_daily_sales&from=2026-08-02&to=2026-08-02',
      'status=failed',
      'status=late',
      'status=waiting',
      'status=cutoff',
      'status=running',
    ]) {
      const scanned = buildGrid(everything, pipeline, { ...gridFilters(new URLSearchParams(query)), page: 1 }, NOW, cutoff);
      const shown: string[] = [];
      let after: string | undefined;
      let pages = 0;
      do {
        const filters = gridFilters(new URLSearchParams(`${query}&${after ? `after=${after}` : ''}`));
        const grid = pagedGrid(await readGridPage(runs, pipeline, filters, NOW), pipeline, filters, NOW);
        expect(grid.dates, query).toEqual(scanned.dates);
        expect(grid.rows.length, query).toBeLessThanOrEqual(50);
        shown.push(...grid.rows.flatMap((r) => [...r.cells].map(([d, c]) => `${r.job} ${r.key} ${d} ${c.status}`)));
        after = grid.paging?.next;
        pages += 1;
      } while (after);
      // the Scan's grid, every page of it
      const expected = Array.from({ length: scanned.pages }, (_, i) =>
        buildGrid(everything, pipeline, { ...gridFilters(new URLSearchParams(query)), page: i + 1 }, NOW, cutoff),
      ).flatMap((g) => g.rows.flatMap((r) => [...r.cells].map(([d, c]) => `${r.job} ${r.key} ${d} ${c.status}`)));
      expect(shown.sort(), query).toEqual(expected.sort());
      expect(pages, query).toBe(Math.max(1, Math.ceil(scanned.totalRows / 50)));
    }

    // the overview's open batches: every batch not succeeded, nothing else
    const open = await openBatches({ runs }, pipeline);
    expect(open.map((b) => `${b.batchId} ${b.status}`)).toEqual(everything.filter((b) => b.status !== 'SUCCEEDED').map((b) => `${b.batchId} ${b.status}`));
    // `landfall status` lists every batch and its runs from the grid index
    const listed = await liveBatches({ files: new FileStateStore(documents, deployment.names.fileStateTable), runs }, pipeline);
    expect(listed.batches.map((b) => b.batchId)).toEqual(everything.map((b) => b.batchId));
    expect(listed.runs.map((r) => r.executionName)).toEqual((await runs.listAll()).runs.map((r) => r.executionName));
  });

  it('serves the grid and the overview over HTTP, the next page behind a token', { timeout: 60_000 }, async () => {
    const unavailable = () => Promise.reject(new Error('not part of this test'));
    const target: Target = {
      label: 'DynamoDB Local',
      names: deployment.names,
      s3: new S3Client({ region: REGION, credentials: CREDENTIALS, endpoint: 'http://127.0.0.1:9' }),
      documents,
      files: new FileStateStore(documents, deployment.names.fileStateTable),
      runs,
      resolverDeps: unavailable,
      reconcileDeps: unavailable,
    };
    const running = await startConsole({ target, pipeline, port: 0, readOnly: true, operator: async () => 'test' });
    try {
      const get = async (path: string) => {
        const res = await fetch(new URL(path, running.url));
        return { status: res.status, text: await res.text() };
      };
      const first = await get('/batches?job=pos_daily_sales');
      expect(first.status).toBe(200);
      const next = /rel="next" href="([^"]+)"/.exec(first.text)?.[1]?.replaceAll('&amp;', '&');
      expect(next).toMatch(/^\/batches\?job=pos_daily_sales&after=/);
      const second = await get(next!);
      expect(second.status).toBe(200);
      expect(second.text).toContain('rel="first" href="/batches?job=pos_daily_sales"');
      expect((await get('/batches?after=forged')).status).toBe(400);
      const overview = await get('/');
      expect(overview.status).toBe(200);
      // 64 provinces over 3 days: a seventh failed, listed 20 at a time with a link to all of them in the grid
      expect(overview.text).toContain('href="/batches?status=failed">every failed batch in the grid</a>');
    } finally {
      await running.close();
    }
  });

  it('indexes the batches recorded before the indexes existed, once', async () => {
    const id = idOf('OLD', '2026-06-01');
    await documents.send(
      new PutCommand({
        TableName: TABLE,
        Item: {
          pk: `BATCH#${id}`,
          sk: 'BATCH',
          job: 'pos_daily_sales',
          batchId: id,
          values: values('OLD', '2026-06-01'),
          status: 'FAILED',
          waitingFor: [],
          updatedAt: NOW.toISOString(),
        },
      }),
    );
    const failedOn = async () =>
      (await runs.allIndexedBatches({ job: 'pos_daily_sales', open: 'FAILED', from: '2026-06-01', to: '2026-06-01' })).map((b) => b.batchId);
    expect(await failedOn()).toEqual([]);
    expect(await runs.indexEarlierBatches()).toBe(1);
    expect(await failedOn()).toEqual([id]);
    expect(await runs.indexEarlierBatches()).toBe(0);
  });
});
