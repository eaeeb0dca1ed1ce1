import { retailConfig } from '../../examples/retail/config';
import { compilePipeline } from '../../shared/core/config/load-config';
import type { BatchItem, RunItem } from '../../shared/core/runs/job-run-store';
import type { FileStateItem } from '../../shared/core/state/file-state-store';
import type { PageContext } from '../../ops/console/layout';

/** The retail pipeline, compiled: the console's views read its jobs, keys and lookups. */
export const retailPipeline = () => compilePipeline(retailConfig());

export const NOW = new Date('2026-08-03T12:00:00.000Z');

export const pageContext = (over: Partial<PageContext> = {}): PageContext => ({
  label: 'the local stack',
  readOnly: false,
  token: 'tok-123',
  now: NOW,
  ...over,
});

/** A batch item of pos_daily_sales (province, date) in a given status. */
export function batchItem(province: string, date: string, status: BatchItem['status'], over: Partial<BatchItem> = {}): BatchItem {
  const batchId = `pos_daily_sales#province=${province}#date=${date}`;
  return {
    pk: `BATCH#${batchId}`,
    sk: 'BATCH',
    job: 'pos_daily_sales',
    batchId,
    values: { province, date },
    status,
    waitingFor: [],
    updatedAt: '2026-08-03T10:00:00.000Z',
    ...over,
  };
}

export function runItem(batch: BatchItem, executionName: string, over: Partial<RunItem> = {}): RunItem {
  return {
    pk: batch.pk,
    sk: `RUN#${executionName}`,
    job: batch.job,
    batchId: batch.batchId,
    values: batch.values,
    executionName,
    fingerprint: 'f'.repeat(64),
    inputs: { pos: [{ key: 'landing/pos/ON/ON01_20260801_200000.tdf', versionId: 'v1', processedKey: 'processed/pos/x.parquet' }], item_master: [] },
    status: 'SUCCEEDED',
    claimedAt: '2026-08-03T09:00:00.000Z',
    ...over,
  };
}

export function fileItem(key: string, over: Partial<FileStateItem> = {}): FileStateItem {
  return {
    pk: `FILE#${key}`,
    sk: 'V#v1',
    bucket: 'raw',
    key,
    versionId: 'v1',
    eTag: 'e',
    size: 10,
    sequencer: '01',
    landedAt: '2026-08-03T09:00:00.000Z',
    state: 'CONVERTED',
    stateRank: 2,
    history: [{ state: 'RECEIVED', at: '2026-08-03T09:00:00.000Z' }],
    createdAt: '2026-08-03T09:00:00.000Z',
    updatedAt: '2026-08-03T09:00:01.000Z',
    ...over,
  };
}
