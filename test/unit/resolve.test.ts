import { describe, expect, it } from 'vitest';
import type { DynamoDBRecord } from 'aws-lambda';
import { marshall } from '@aws-sdk/util-dynamodb';
import { retailConfig } from '../../examples/retail/config';
const pipelineConfig = retailConfig();
import { compilePipeline } from '../../shared/core/config/load-config';
import { batchesForFile, executionName } from '../../shared/core/runs/batches';
import { evaluateBatch, type CandidateFile } from '../../shared/stages/resolve/evaluate';
import { resolveStreamBatch } from '../../shared/stages/resolve/stream';
import type { ResolverDeps } from '../../shared/stages/resolve/resolver';

const job = pipelineConfig.jobs[0]!;
const batch = { job: job.name, values: { province: 'BC', date: '2026-11-23' } };

function file(key: string, fields: Record<string, string>, over: Partial<CandidateFile> = {}): CandidateFile {
  return { key, versionId: 'v1', sequencer: '01', dataset: 'pos', fields, state: 'CONVERTED', size: 100, processedKey: `processed/${key}`, ...over };
}
const store = (s: string, time = '20:00:00', over: Partial<CandidateFile> = {}) =>
  file(`landing/pos/BC/${s}_20261123_${time.replaceAll(':', '')}.tdf`, { province: 'BC', store: s, date: '2026-11-23', time }, over);
const master = (over: Partial<CandidateFile> = {}) => file('landing/master/20261123/Item.csv', { date: '2026-11-23' }, { dataset: 'item_master', ...over });

describe('batches of a file', () => {
  it('puts a store file in its province and day, and the item master in every province of the day', () => {
    expect(batchesForFile(compilePipeline(pipelineConfig), 'pos', { province: 'QC', store: 'QC01', date: '2026-11-23', time: '10:00:00' })).toEqual([
      { job: job.name, values: { province: 'QC', date: '2026-11-23' } },
    ]);
    expect(batchesForFile(compilePipeline(pipelineConfig), 'item_master', { date: '2026-11-23' }).map((b) => b.values.province)).toEqual(['ON', 'QC', 'BC']);
  });

  it('names executions deterministically within the Step Functions limits', () => {
    const name = executionName(batch, job, 'ab'.repeat(32));
    expect(name).toBe('pos_daily_sales-BC-2026-11-23-abababababab');
    expect(executionName(batch, job, 'ab'.repeat(32), 2)).toBe(`${name}-r2`);
    const odd = executionName({ job: job.name, values: { province: 'B C/é', date: 'x'.repeat(100) } }, job, 'f'.repeat(64));
    expect(odd.length).toBeLessThanOrEqual(80);
    expect(odd).toMatch(/^[A-Za-z0-9_-]+$/);
  });
});

describe('evaluating a batch', () => {
  const all = [store('BC01'), store('BC02'), store('BC03'), master()];

  it('is ready with every store and the item master, reading each store’s newest file', () => {
    const files = [...all, store('BC02', '10:00:00', { key: 'landing/pos/BC/BC02_20261123_100000.tdf' })];
    const evaluation = evaluateBatch(pipelineConfig, job, batch, files);
    expect(evaluation.ready).toBe(true);
    expect(evaluation.inputs.pos!.map((f) => f.key)).toEqual([
      'landing/pos/BC/BC01_20261123_200000.tdf',
      'landing/pos/BC/BC02_20261123_200000.tdf',
      'landing/pos/BC/BC03_20261123_200000.tdf',
    ]);
    expect(evaluation.inputs.item_master).toHaveLength(1);
  });

  it('waits for missing stores, the item master and files still in flight', () => {
    expect(evaluateBatch(pipelineConfig, job, batch, [store('BC01')]).waitingFor).toEqual([
      '1 of 3 stores of pos (have BC01)',
      'item_master for BC 2026-11-23',
    ]);
    const inFlight = evaluateBatch(pipelineConfig, job, batch, [
      ...all,
      store('BC03', '21:00:00', { key: 'landing/pos/BC/BC03_20261123_210000.tdf', state: 'VALIDATED' }),
    ]);
    expect(inFlight.ready).toBe(false);
    expect(inFlight.waitingFor[0]).toMatch(/pos: 1 file\(s\) still being processed/);
  });

  it('ignores rejected files and older versions of a key', () => {
    const rejected = store('BC03', '22:00:00', { key: 'landing/pos/BC/BC03_20261123_220000.tdf', state: 'REJECTED' });
    const older = store('BC01', '20:00:00', { versionId: 'v0', sequencer: '00', size: 1 });
    const evaluation = evaluateBatch(pipelineConfig, job, batch, [older, ...all, rejected]);
    expect(evaluation.ready).toBe(true);
    expect(evaluation.inputs.pos!.find((f) => f.key.includes('BC01'))!.versionId).toBe('v1');
    expect(evaluation.inputs.pos!.some((f) => f.key.includes('220000'))).toBe(false);
    // the router's measure: landed bytes of exactly the selected files (not the older or rejected ones)
    const selectedKeys = new Set(
      Object.values(evaluation.inputs)
        .flat()
        .map((f) => `${f.key}@${f.versionId}`),
    );
    const expectedBytes = all.filter((f) => selectedKeys.has(`${f.key}@${f.versionId}`)).reduce((sum, f) => sum + f.size, 0);
    expect(evaluation.inputBytes).toBe(expectedBytes);
    expect(evaluation.inputBytes).toBeGreaterThan(0);
  });

  it('holds a batch back while a file is still RECEIVED (its dataset and fields come from the key)', () => {
    const received = store('BC02', '21:00:00', { key: 'landing/pos/BC/BC02_20261123_210000.tdf', state: 'RECEIVED', processedKey: undefined });
    const evaluation = evaluateBatch(pipelineConfig, job, batch, [...all, received]);
    expect(evaluation.ready).toBe(false);
    expect(evaluation.waitingFor[0]).toMatch(/1 file\(s\) still being processed \(landing\/pos\/BC\/BC02_20261123_210000.tdf\)/);
  });

  it('quarantines a newer cumulative file with fewer rows (header-only or truncated) and keeps the earlier one in use', () => {
    const complete = store('BC01', '18:00:00', { key: 'landing/pos/BC/BC01_20261123_180000.tdf', rows: 40 });
    const headerOnly = store('BC01', '20:00:00', { rows: 0 });
    const grown = store('BC02', '20:00:00', { rows: 50 });
    const earlier = store('BC02', '18:00:00', { key: 'landing/pos/BC/BC02_20261123_180000.tdf', rows: 40 });
    const evaluation = evaluateBatch(pipelineConfig, job, batch, [complete, headerOnly, earlier, grown, store('BC03', '20:00:00', { rows: 3 }), master()]);
    expect(evaluation.ready).toBe(true);
    expect(evaluation.inputs.pos!.map((f) => f.key)).toEqual([
      'landing/pos/BC/BC01_20261123_180000.tdf',
      'landing/pos/BC/BC02_20261123_200000.tdf',
      'landing/pos/BC/BC03_20261123_200000.tdf',
    ]);
    expect(evaluation.quarantine.map((q) => q.file.key)).toEqual(['landing/pos/BC/BC01_20261123_200000.tdf']);
    expect(evaluation.quarantine[0]!.reason).toBe(
      '0 rows, fewer than the 40 of the earlier file landing/pos/BC/BC01_20261123_180000.tdf of store BC01: not used; the earlier file stays in use',
    );
  });

  it('gives the same fingerprint for the same inputs, another for a newer version, and waits when nothing is newer', () => {
    const first = evaluateBatch(pipelineConfig, job, batch, all);
    expect(evaluateBatch(pipelineConfig, job, batch, [...all].reverse()).fingerprint).toBe(first.fingerprint);
    const newer = evaluateBatch(pipelineConfig, job, batch, [...all, store('BC01', '20:00:00', { versionId: 'v2', sequencer: '02' })]);
    expect(newer.fingerprint).not.toBe(first.fingerprint);
    expect(evaluateBatch(pipelineConfig, job, batch, all, { lastSucceededFingerprint: first.fingerprint })).toMatchObject({
      ready: false,
      waitingFor: ['an input newer than the last successful run'],
    });
  });
});

describe('a stream batch', () => {
  const record = (item: Record<string, unknown>, sequence: string, old?: Record<string, unknown>): DynamoDBRecord => ({
    eventName: 'MODIFY',
    dynamodb: {
      SequenceNumber: sequence,
      NewImage: marshall(item, { removeUndefinedValues: true }) as never,
      ...(old ? { OldImage: marshall(old) as never } : {}),
    },
  });
  const item = (province: string, state = 'CONVERTED') => ({
    pk: `FILE#landing/pos/${province}/${province}01_20261123_200000.tdf`,
    sk: 'V#v1',
    key: `landing/pos/${province}/${province}01_20261123_200000.tdf`,
    versionId: 'v1',
    sequencer: '01',
    dataset: 'pos',
    fields: { province, store: `${province}01`, date: '2026-11-23', time: '20:00:00' },
    state,
    size: 10,
    processedKey: 'p',
  });

  it('reports the records of the batches that failed, and only those', async () => {
    const resolved: string[] = [];
    const deps = {
      pipeline: compilePipeline(pipelineConfig),
      files: { filesOf: async () => [] },
      runs: {
        getBatch: async (id: string) => {
          if (id.includes('province=QC')) throw Object.assign(new Error('throttled'), { name: 'ProvisionedThroughputExceededException' });
          resolved.push(id);
          return undefined;
        },
        recordWaiting: async () => undefined,
      },
    } as unknown as ResolverDeps;
    const result = await resolveStreamBatch(deps, {
      Records: [record(item('ON'), '100'), record(item('QC'), '101'), record(item('BC', 'VALIDATED'), '102'), record(item('BC'), '103', item('BC'))],
    });
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: '101' }]);
    expect(resolved).toEqual(['pos_daily_sales#province=ON#date=2026-11-23']);
    // a file held out of use (rejected, quarantined, failed …) may complete the batch that waited for it
    resolved.length = 0;
    await resolveStreamBatch(deps, {
      Records: [record(item('BC', 'REJECTED'), '104', item('BC', 'RECEIVED')), record(item('ON', 'QUARANTINED'), '105', item('ON', 'CONVERTED'))],
    });
    expect(resolved).toEqual(['pos_daily_sales#province=BC#date=2026-11-23', 'pos_daily_sales#province=ON#date=2026-11-23']);
    expect(result.errors[0]).toMatch(/province=QC.*ProvisionedThroughputExceededException/);
  });
});
