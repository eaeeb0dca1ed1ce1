import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readDeployment } from '../deploy/serverless-config';
import { DEFAULT_PIPELINE_FILE } from '../local/pipeline-file';
import { startDynamoDbLocal, type RunningServer } from '../local/servers';
import { KeptDays, qualityData, rateReadsOf, WindowRates } from '../ops/operations/quality';
import { FileStateStore } from '../shared/core/state/file-state-store';
import { loadPipelineFile } from '../shared/core/config/load-config';
import { indexAttributes } from '../shared/core/runs/batch-index';
import { JobRunStore } from '../shared/core/runs/job-run-store';

/*
 * The freshness and quality view's reads on DynamoDB Local, the tables created from serverless.yml
 * as the local stack creates them: finishRun records a batch's first success once, the grid index
 * gives it back with a projection, a batch without it (an older landfall's) is told by its runs,
 * and a dataset's day of rejected rows is read from gsi1 with only state and row counts.
 */
const ROOT = join(import.meta.dirname, '..');
const REGION = 'us-east-1';
const CREDENTIALS = { accessKeyId: 'landfall', secretAccessKey: 'landfall-local-secret' };
const deployment = readDeployment(ROOT, 'local');
const RUNS_TABLE = deployment.names.jobRunsTable;
const FILES_TABLE = deployment.names.fileStateTable;

let work: string;
let ddb: RunningServer;
let documents: DynamoDBDocumentClient;
let runs: JobRunStore;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'landfall-console-quality-'));
  ddb = await startDynamoDbLocal(work);
  const client = new DynamoDBClient({ endpoint: ddb.endpoint, region: REGION, credentials: CREDENTIALS });
  documents = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  for (const table of deployment.tables) {
    if (table.create.TableName !== RUNS_TABLE && table.create.TableName !== FILES_TABLE) continue;
    const { StreamSpecification: _stream, ...create } = table.create;
    await client.send(new CreateTableCommand(create));
  }
  runs = new JobRunStore(documents, RUNS_TABLE);
}, 120_000);

afterAll(async () => {
  await ddb?.process.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

const idOf = (province: string, date: string) => `pos_daily_sales#province=${province}#date=${date}`;
const run = (name: string) => ({ executionName: name, fingerprint: `fp-${name}`, inputs: {} });
const batchOf = async (batchId: string) =>
  (await documents.send(new GetCommand({ TableName: RUNS_TABLE, Key: { pk: `BATCH#${batchId}`, sk: 'BATCH' }, ConsistentRead: true }))).Item!;

/** One run of a batch, claimed and ended by the store's own writes at `at`. */
async function runOnce(province: string, date: string, name: string, end: 'SUCCEEDED' | 'FAILED', at: string): Promise<void> {
  const id = idOf(province, date);
  await runs.claimRun('pos_daily_sales', id, { province, date }, run(name), new Date(at));
  await runs.finishRun(id, name, end, end === 'FAILED' ? { error: 'SqlError', cause: 'boom' } : undefined, new Date(at));
}

describe('a batch’s first success', () => {
  it('is recorded by the run that first succeeds, and neither a failure, a later success nor a repeated end moves it', async () => {
    const id = idOf('ON', '2026-08-01');
    await runOnce('ON', '2026-08-01', 'f1', 'FAILED', '2026-08-01T20:00:00.000Z');
    expect((await batchOf(id)).firstSucceededAt).toBeUndefined();
    await runOnce('ON', '2026-08-01', 's1', 'SUCCEEDED', '2026-08-01T21:00:00.000Z');
    expect((await batchOf(id)).firstSucceededAt).toBe('2026-08-01T21:00:00.000Z');
    // the same end again (a retried task): not applied
    await runs.finishRun(id, 's1', 'SUCCEEDED', undefined, new Date('2026-08-01T21:30:00.000Z'));
    await runOnce('ON', '2026-08-01', 's2', 'SUCCEEDED', '2026-08-02T09:00:00.000Z');
    const item = await batchOf(id);
    expect(item.firstSucceededAt).toBe('2026-08-01T21:00:00.000Z');
    expect(item.lastRun.finishedAt).toBe('2026-08-02T09:00:00.000Z');
  });

  it('comes back from the grid index over a range of business dates, with only what the outcome needs', async () => {
    await runOnce('QC', '2026-08-01', 'q1', 'SUCCEEDED', '2026-08-02T01:00:00.000Z');
    await runOnce('BC', '2026-08-01', 'b1', 'FAILED', '2026-08-01T20:00:00.000Z');
    await runOnce('ON', '2026-07-31', 'o0', 'SUCCEEDED', '2026-07-31T20:00:00.000Z');
    const found = await runs.firstSuccesses('pos_daily_sales', '2026-08-01', '2026-08-01');
    const byId = Object.fromEntries(found.map((f) => [f.batchId, f]));
    expect(Object.keys(byId).sort()).toEqual([idOf('BC', '2026-08-01'), idOf('ON', '2026-08-01'), idOf('QC', '2026-08-01')]);
    expect(byId[idOf('QC', '2026-08-01')]).toEqual({
      batchId: idOf('QC', '2026-08-01'),
      status: 'SUCCEEDED',
      firstSucceededAt: '2026-08-02T01:00:00.000Z',
      lastSucceededFingerprint: 'fp-q1',
    });
    expect(byId[idOf('BC', '2026-08-01')]).toEqual({ batchId: idOf('BC', '2026-08-01'), status: 'FAILED' });
    expect(await runs.firstSuccesses('pos_daily_sales', '2026-07-30', '2026-07-31')).toHaveLength(1);
  });
});

describe('the freshness and quality data on DynamoDB Local', () => {
  it('tells each expected batch met, late or missed, a batch of an older landfall by its runs', async () => {
    // AB: succeeded before firstSucceededAt was recorded (its item lacks it), in time by its run
    const ab = idOf('AB', '2026-08-01');
    await documents.send(
      new PutCommand({
        TableName: RUNS_TABLE,
        Item: {
          pk: `BATCH#${ab}`,
          sk: 'BATCH',
          job: 'pos_daily_sales',
          batchId: ab,
          values: { province: 'AB', date: '2026-08-01' },
          status: 'SUCCEEDED',
          ...indexAttributes(ab, 'SUCCEEDED'),
          waitingFor: [],
          lastSucceededFingerprint: 'fp-old',
          lastRun: { executionName: 'old', fingerprint: 'fp-old', status: 'SUCCEEDED', finishedAt: '2026-08-02T03:00:00.000Z' },
          updatedAt: '2026-08-02T03:00:00.000Z',
        },
      }),
    );
    for (const [name, finishedAt] of [
      ['old0', '2026-08-01T19:00:00.000Z'],
      ['old', '2026-08-02T03:00:00.000Z'],
    ] as const)
      await documents.send(
        new PutCommand({
          TableName: RUNS_TABLE,
          Item: {
            pk: `BATCH#${ab}`,
            sk: `RUN#${name}`,
            job: 'pos_daily_sales',
            batchId: ab,
            values: { province: 'AB', date: '2026-08-01' },
            executionName: name,
            fingerprint: 'fp-old',
            inputs: {},
            status: 'SUCCEEDED',
            claimedAt: finishedAt,
            finishedAt,
          },
        }),
      );
    const withAb = loadPipelineFile(DEFAULT_PIPELINE_FILE);
    const listed = withAb.listed.get('pos_daily_sales')!;
    withAb.listed.set('pos_daily_sales', { ...listed, province: ['ON', 'QC', 'BC', 'AB'] });
    const where = { runs, documents, names: deployment.names };
    const data = await qualityData(where, withAb, new Date('2026-08-03T12:00:00.000Z'), 2, { batches: new KeptDays(), rates: new WindowRates() });
    const day = data.jobs.find((j) => j.job === 'pos_daily_sales')!.batches.filter((b) => b.batch.values.date === '2026-08-01');
    expect(Object.fromEntries(day.map((b) => [b.batch.values.province, b.outcome]))).toEqual({ ON: 'met', QC: 'late', BC: 'missed', AB: 'met' });
    expect(day.find((b) => b.batch.values.province === 'AB')!.doneAt).toBe('2026-08-01T19:00:00.000Z');
  });

  it('reads a dataset’s day of rejected rows from gsi1 once, then the versions that changed from the work index', async () => {
    const files = new FileStateStore(documents, FILES_TABLE);
    const source = (store: string) => ({
      bucket: 'raw',
      key: `landing/pos/ON/${store}_20260802_200000.tdf`,
      versionId: 'v1',
      eTag: 'e',
      size: 10,
      sequencer: '01',
      eventTime: '2026-08-02T20:00:00.000Z',
    });
    const details = (store: string, rows?: { in: number; rejected: number }) => ({
      dataset: 'pos',
      date: '2026-08-02',
      fields: { province: 'ON', store, date: '2026-08-02', time: '200000' },
      ...(rows ? { rows: { in: rows.in, out: rows.in - rows.rejected, rejected: rows.rejected, junk: 0 } } : {}),
    });
    // the store's own transitions, as validate and track record them
    const t0 = new Date('2026-08-02T20:00:00.000Z');
    await files.recordTransition(source('ON01'), 'VALIDATED', details('ON01', { in: 90, rejected: 0 }), t0);
    await files.recordTransition(source('ON02'), 'VALIDATED', details('ON02', { in: 10, rejected: 4 }), t0);
    await files.recordTransition(source('ON03'), 'REJECTED', details('ON03'), t0);
    const reads = rateReadsOf({ documents, names: deployment.names });
    const pk = 'DS#pos#2026-08-02';
    const rates = new WindowRates(60_000);
    const first = await rates.rates([pk], reads, Date.parse('2026-08-02T20:01:00.000Z'));
    expect(first.rates[0]).toEqual({ versions: 2, filesRejected: 1, rowsIn: 100, rowsRejected: 4, rate: 0.04 });
    // ON02 converted (settles), ON04 arrives with rejects: only they are read at the next load
    const t1 = new Date('2026-08-02T20:01:30.000Z');
    await files.recordTransition(source('ON02'), 'CONVERTED', details('ON02'), t1);
    await files.recordTransition(source('ON04'), 'VALIDATED', details('ON04', { in: 100, rejected: 50 }), t1);
    const changed = await reads.changedSince('2026-08-02T20:01:00.000Z', '2026-08-02T20:02:00.000Z');
    expect(changed.map((c) => c.id.split('\n')[0]).sort()).toEqual([
      'FILE#landing/pos/ON/ON02_20260802_200000.tdf',
      'FILE#landing/pos/ON/ON04_20260802_200000.tdf',
    ]);
    const second = await rates.rates([pk], reads, Date.parse('2026-08-02T20:02:00.000Z'));
    expect(second.rates[0]).toEqual({ versions: 3, filesRejected: 1, rowsIn: 200, rowsRejected: 54, rate: 0.27 });
    // what a full read finds now: the same
    expect(await new WindowRates().rates([pk], reads, Date.now()).then((r) => r.rates[0])).toEqual(second.rates[0]);
  });
});
