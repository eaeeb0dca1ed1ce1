import { describe, expect, it } from 'vitest';
import { gzipSync } from 'node:zlib';
import { Readable } from 'node:stream';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { batchView } from '../../ops/console/views/batch';
import { recoveryView } from '../../ops/console/views/recovery';
import { auditByRun, auditRowsOf } from '../../ops/operations/load-audit';
import { cellOfCluster, resumeOf, stackTagOf, type StepView } from '../../ops/operations/recovery';
import { failureOf, failureWithLog } from '../../ops/operations/run-failure';
import type { BatchExplanation } from '../../ops/operations/batch-explanation';
import { batchItem, pageContext, retailPipeline, runItem } from './console-fixtures';

const LOG = 's3://lake/emr-logs/j-1/steps/s-1/stderr.gz';
const pos = () => retailPipeline().jobsByName.get('pos_daily_sales')!;
const clickstream = () => retailPipeline().jobsByName.get('clickstream_daily')!;

describe('the failure of a run', () => {
  it('takes the Lambda’s trace from a recorded JSON cause, and the stage that has no checkpoint', () => {
    const cause = JSON.stringify({
      errorType: 'TransformError',
      errorMessage: 'Binder Error: column "x" not found',
      trace: ['TransformError: Binder', '  at run (transform.ts:1)'],
    });
    const run = runItem(batchItem('ON', '2026-08-01', 'FAILED'), 'e1', { status: 'FAILED', error: { error: 'TransformError', cause } });
    expect(failureOf(run, pos())).toEqual({
      execution: 'e1',
      stage: 'aggregate',
      error: 'TransformError',
      message: 'Binder Error: column "x" not found',
      trace: ['TransformError: Binder', '  at run (transform.ts:1)'],
    });
    const loaded = runItem(batchItem('ON', '2026-08-01', 'FAILED'), 'e2', {
      status: 'FAILED',
      stages: { aggregate: { status: 'SUCCEEDED', at: '2026-08-01T10:00:00.000Z', output: {} } },
      error: { error: 'WarehouseLoadError', cause: 'plain words' },
    });
    expect(failureOf(loaded, pos())).toMatchObject({ stage: 'warehouse load', message: 'plain words' });
    expect(failureOf(runItem(batchItem('ON', '2026-08-01', 'SUCCEEDED'), 'e3'), pos())).toBeUndefined();
  });

  it('names the EMR step’s log, even inside a failover’s last error', () => {
    const inner = JSON.stringify({ errorType: 'StepFailedError', errorMessage: `EMR step s-1 on cluster j-1 failed (Unknown Error.): exit 1 (log: ${LOG})` });
    const run = runItem(batchItem('ON', '2026-08-01', 'FAILED'), 'e1', {
      status: 'FAILED',
      error: {
        error: 'FailoverExhaustedError',
        cause: JSON.stringify({ errorType: 'FailoverExhaustedError', errorMessage: `gave up after 2 failovers; last error: StepFailedError: ${inner}` }),
      },
    });
    expect(failureOf(run, clickstream())).toMatchObject({ stage: 'clean', error: 'FailoverExhaustedError', log: { location: LOG } });
  });

  it('reads the log’s tail (gunzipped), or says why it could not', async () => {
    const s3 = new S3Client({ region: 'us-east-1' });
    const mock = mockClient(s3);
    const lines = Array.from({ length: 40 }, (_, i) => `line ${i + 1}`);
    mock.on(GetObjectCommand).resolves({ Body: Readable.from([gzipSync(`${lines.join('\n')}\n`)]) as never });
    const failure = { execution: 'e1', stage: 'clean', error: 'StepFailedError', message: 'm', log: { location: LOG } };
    const read = await failureWithLog({ s3 }, failure);
    expect(read.log?.lastLines).toHaveLength(30);
    expect(read.log?.lastLines?.at(-1)).toBe('line 40');
    mock.on(GetObjectCommand).rejects(Object.assign(new Error('The specified key does not exist.'), { name: 'NoSuchKey' }));
    expect((await failureWithLog({ s3 }, failure)).log).toEqual({ location: LOG, unreadable: `ObjectGoneError: ${LOG} no longer exists` });
    mock.restore();
  });

  it('is shown in its own section, the log escaped as text; the load audit in another', () => {
    const batch = batchItem('ON', '2026-08-01', 'FAILED');
    const e: BatchExplanation = {
      id: batch.batchId,
      job: pos(),
      batch: { job: batch.job, values: batch.values },
      state: batch,
      waitingFor: [],
      live: false,
      runs: [],
      actions: [],
    };
    const body = batchView(e, retailPipeline(), pageContext(), {
      failure: {
        execution: 'e1',
        stage: 'clean',
        error: 'StepFailedError',
        message: 'm',
        log: { location: LOG, lastLines: ['Traceback', '<script>alert(1)</script>'] },
      },
      audit: {
        rows: auditRowsOf([
          [
            { stringValue: 'e1' },
            { stringValue: 'pos_daily_sales' },
            { stringValue: 'replace' },
            { stringValue: 's3://lake/x' },
            { longValue: 12 },
            { stringValue: '2026-08-01 10:00:00' },
          ],
        ]),
      },
    }).text;
    expect(body).toContain('<section id="failure">');
    expect(body).toContain('<pre class="log-tail">Traceback\n&lt;script&gt;alert(1)&lt;/script&gt;</pre>');
    expect(body).not.toContain('<script>');
    expect(body).toContain('<section id="load-audit">');
    expect(body).toMatch(/<td>pos_daily_sales<\/td><td>replaced the batch&#39;s rows<\/td><td class="num">12<\/td>/);
    expect(body).toContain('href="/lineage?job=pos_daily_sales&amp;batch=province%3DON%2Cdate%3D2026-08-01"');
  });
});

describe('the warehouse load audit', () => {
  it('reads the Data API’s records and groups them by run', () => {
    const rows = auditRowsOf([
      [
        { stringValue: 'e1' },
        { stringValue: 'gmv_daily' },
        { stringValue: 'replace' },
        { stringValue: 's3://l/a' },
        { longValue: 1 },
        { stringValue: '2026-08-01 10:00:00.5' },
      ],
      [
        { stringValue: 'e1' },
        { stringValue: 'funnel' },
        { stringValue: 'merge' },
        { stringValue: 's3://l/b' },
        { longValue: 5 },
        { stringValue: '2026-08-01 10:00:00.5' },
      ],
      [
        { stringValue: 'e2' },
        { stringValue: 'gmv_daily' },
        { stringValue: 'replace' },
        { stringValue: 's3://l/a' },
        { longValue: 2 },
        { stringValue: '2026-08-02 10:00:00' },
      ],
    ]);
    expect(rows[0]).toEqual({ execution: 'e1', table: 'gmv_daily', mode: 'replace', source: 's3://l/a', rows: 1, loadedAt: '2026-08-01T10:00:00.5Z' });
    expect([...auditByRun(rows)].map(([e, r]) => [e, r.length])).toEqual([
      ['e1', 2],
      ['e2', 1],
    ]);
  });
});

describe('recovery after a failover', () => {
  const failover = {
    from: 'cell-a',
    to: 'cell-b',
    at: '2026-08-01T10:05:00.000Z',
    reason: 'e1 stage enrich in cell-a (j-A): StepFailedError',
    execution: 'e1',
    confirmed: true,
  };
  const stage = (at: string, cell: string) => ({ status: 'SUCCEEDED' as const, at, output: { cell } });
  const steps: StepView[] = [
    { id: 's1', name: 'e1-enrich-cell-a-a2', state: 'FAILED', startedAt: '2026-08-01T10:03:00.000Z', endedAt: '2026-08-01T10:04:00.000Z' },
    { id: 's2', name: 'e1-enrich-cell-b-a3', state: 'COMPLETED', startedAt: '2026-08-01T10:06:30.000Z', endedAt: '2026-08-01T10:08:00.000Z' },
  ];
  const order = ['clean', 'enrich', 'sessionize', 'metrics'];

  it('names the stage that ran again, the checkpoint it resumed from, and the time from the loss to the resume', () => {
    const run = { stages: { clean: stage('2026-08-01T10:02:00.000Z', 'cell-a'), enrich: stage('2026-08-01T10:08:01.000Z', 'cell-b') } };
    expect(resumeOf(failover, run, order, steps)).toEqual({
      stage: 'enrich',
      fromCheckpoint: 'clean',
      lostAt: '2026-08-01T10:04:00.000Z',
      resumedAt: '2026-08-01T10:06:30.000Z',
      checkpointedAt: '2026-08-01T10:08:01.000Z',
    });
    // EMR no longer lists the steps: the failover and the checkpoint bound it
    expect(resumeOf(failover, run, order, [])).toMatchObject({ lostAt: failover.at, resumedAt: '2026-08-01T10:08:01.000Z', resumedByCheckpoint: true });
    // no stage done before the failover, none after yet
    expect(resumeOf(failover, { stages: {} }, order, [])).toEqual({ stage: 'clean', lostAt: failover.at });
    expect(resumeOf(failover, undefined, order, steps)).toBeUndefined();
  });

  it('finds the cell of a cluster by its name', () => {
    expect(stackTagOf({ jobRunsTable: 'landfall-local-job-runs' })).toBe('landfall-local');
    expect(cellOfCluster('landfall-landfall-local-cell-b-g3', 'landfall-local', [])).toBe('cell-b');
    expect(cellOfCluster('cell-a', 'landfall-local', ['cell-a'])).toBe('cell-a');
    expect(cellOfCluster('someone-else', 'landfall-local', ['cell-a'])).toBeUndefined();
  });

  it('shows both cells with their clusters and steps, and the resume with its duration', () => {
    const resume = resumeOf(failover, { stages: { clean: stage('2026-08-01T10:02:00.000Z', 'cell-a') } }, order, steps);
    const body = recoveryView(
      {
        cells: ['cell-a', 'cell-b'],
        activeCell: 'cell-b',
        clusters: [
          { id: 'j-A', name: 'landfall-x-cell-a-g0', cell: 'cell-a', state: 'TERMINATED_WITH_ERRORS', reason: 'The master node was lost', steps: [steps[0]!] },
          { id: 'j-B', name: 'landfall-x-cell-b-g0', cell: 'cell-b', state: 'WAITING', steps: [steps[1]!] },
        ],
        failovers: [{ ...failover, ...(resume ? { resume } : {}) }],
      },
      pageContext(),
    ).text;
    expect(body).toContain('<h3>Cell cell-a</h3>');
    expect(body).toContain('<h3>Cell cell-b <span class="st st-succeeded">active</span></h3>');
    expect(body).toContain('<span class="st st-failed">TERMINATED_WITH_ERRORS</span>');
    expect(body).toContain('stage <strong>enrich</strong> ran again from the checkpoint of <strong>clean</strong>');
    expect(body).toContain('<strong>2 min 30 s</strong> from the loss');
    expect(recoveryView({ cells: [], clusters: { unavailable: 'UnknownEndpoint: no' }, failovers: [] }, pageContext()).text).toContain(
      'EMR could not be read: UnknownEndpoint: no',
    );
  });
});
