import { describe, expect, it } from 'vitest';
import { HeadObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import type { S3Event } from 'aws-lambda';
import type { Pipeline } from '../../shared/core/config/load-config';
import type { DatasetConfig } from '../../shared/core/config/types';
import { objectRefFromRecord } from '../../shared/core/s3/event-records';
import type { FileState } from '../../shared/core/state/file-state';
import type { FileStateItem, FileStateStore, WorkItem } from '../../shared/core/state/file-state-store';
import { lineageMetadata } from '../../shared/core/state/lineage';
import { MAX_REDRIVES, redriveUnrecorded, repairStuckFile, type StuckFileDeps } from '../../shared/stages/reconcile/stuck-files';

/* The reconciler's repair of a file version stuck in flight, with plain fakes of the store, S3 and Lambda. */

const NOW = new Date('2026-11-23T12:00:00Z');
const KEY = 'landing/pos/ON/ON01_20261123_140000.tdf';
const PARQUET = 'processed/pos/dt=2026-11-23/province=ON/ON01_20261123_140000.parquet';
const REPORT = 'reports/pos/ON/ON01_20261123_140000.tdf@v1.json';
const FIELDS = { province: 'ON', store: 'ON01', date: '2026-11-23', time: '14:00:00' };

const pos = {
  name: 'pos',
  keyPattern: 'pos/{province}/{store}_{date:YYYYMMDD}_{time:HHMMSS}.tdf',
  partitionBy: ['province'],
  dateField: 'date',
} as DatasetConfig;

function item(state: FileState, over: Partial<FileStateItem> = {}): FileStateItem {
  return {
    pk: `FILE#${KEY}`,
    sk: 'V#v1',
    bucket: 'raw',
    key: KEY,
    versionId: 'v1',
    eTag: 'etag1',
    size: 100,
    sequencer: '0A',
    landedAt: '2026-11-23T10:00:00.000Z',
    state,
    stateRank: 0,
    dataset: 'pos',
    fields: FIELDS,
    history: [],
    createdAt: '2026-11-23T10:00:00.000Z',
    updatedAt: '2026-11-23T10:00:00.000Z',
    ...over,
  };
}

const work = (i: FileStateItem): WorkItem => ({
  pk: i.pk,
  sk: i.sk,
  key: i.key,
  versionId: i.versionId,
  state: i.state,
  dataset: i.dataset,
  fields: i.fields,
  updatedAt: i.updatedAt,
});

interface World {
  items?: FileStateItem[];
  latest?: { versionId: string; sequencer: string; eTag: string };
  /** objects by `bucket/key` */
  objects?: Record<string, { metadata?: Record<string, string>; versionId?: string }>;
  /** what noteRedrive answers (false: another reconciler counted it first) */
  noted?: boolean;
}

function deps(world: World = {}) {
  const calls: unknown[][] = [];
  const invoked: Array<{ functionName: string; invocationType: string; event: S3Event }> = [];
  const files = {
    get: async (key: string, versionId: string) => world.items?.find((i) => i.key === key && i.versionId === versionId),
    latestVersionOf: async () => world.latest,
    recordVerdict: async (file: FileStateItem, state: FileState, reason: string, now: Date) => {
      calls.push(['recordVerdict', file.versionId, state, reason, now]);
      return 'applied';
    },
    noteRedrive: async (key: string, versionId: string, seenState: FileState, now: Date) => {
      calls.push(['noteRedrive', key, versionId, seenState, now]);
      return world.noted ?? true;
    },
  } as unknown as FileStateStore;
  const objects = world.objects ?? {};
  const s3 = {
    send: async (command: unknown) => {
      if (command instanceof ListObjectsV2Command) {
        const prefix = `${command.input.Bucket}/${command.input.Prefix ?? ''}`;
        return {
          Contents: Object.keys(objects)
            .filter((k) => k.startsWith(prefix))
            .map((k) => ({ Key: k.slice(command.input.Bucket!.length + 1) })),
        };
      }
      if (command instanceof HeadObjectCommand) {
        const found = objects[`${command.input.Bucket}/${command.input.Key}`];
        if (!found) throw Object.assign(new Error('Not Found'), { name: 'NotFound' });
        return { Metadata: found.metadata ?? {}, ContentLength: 10, ETag: '"p"', ...(found.versionId ? { VersionId: found.versionId } : {}) };
      }
      throw new Error(`unexpected S3 command ${String(command)}`);
    },
  } as unknown as S3Client;
  const lambda = {
    send: async (command: unknown) => {
      if (!(command instanceof InvokeCommand)) throw new Error(`unexpected Lambda command ${String(command)}`);
      calls.push(['invoke', command.input.FunctionName]);
      invoked.push({
        functionName: command.input.FunctionName!,
        invocationType: command.input.InvocationType!,
        event: JSON.parse(Buffer.from(command.input.Payload as Uint8Array).toString('utf8')) as S3Event,
      });
      return { StatusCode: 202 };
    },
  } as unknown as LambdaClient;
  const stuck: StuckFileDeps = {
    files,
    s3,
    lambda,
    pipeline: { config: { datasets: [pos] } } as unknown as Pipeline,
    rawBucket: 'raw',
    lakeBucket: 'lake',
    functionNames: { validate: 'landfall-test-validate', convert: 'landfall-test-convert', track: 'landfall-test-track' },
  };
  return { stuck, calls, invoked };
}

/** Parquet lineage naming a landed version. */
const lineageOf = (versionId: string) =>
  lineageMetadata({ source: { bucket: 'raw', key: KEY, versionId, eTag: 'etag1', size: 100, sequencer: '0A', eventTime: '' }, dataset: 'pos', fields: FIELDS });

describe('repairing a stuck file version', () => {
  it('leaves a version that is gone or already settled', async () => {
    for (const world of [{ items: [] }, { items: [item('CONVERTED')] }, { items: [item('REJECTED')] }]) {
      const { stuck, calls } = deps(world);
      expect(await repairStuckFile(stuck, work(item('RECEIVED')), NOW)).toBeNull();
      expect(calls).toEqual([]);
    }
  });

  it('marks a version SUPERSEDED when a newer one of its key is the latest', async () => {
    const stuckItem = item('VALIDATED', { sequencer: '0A' });
    const { stuck, calls, invoked } = deps({ items: [stuckItem], latest: { versionId: 'v2', sequencer: '00B', eTag: 'e2' } });
    const reason = 'version v2 of this key is newer; this one stopped in VALIDATED';
    expect(await repairStuckFile(stuck, work(stuckItem), NOW)).toEqual({ kind: 'superseded', key: KEY, versionId: 'v1', reason });
    expect(calls).toEqual([['recordVerdict', 'v1', 'SUPERSEDED', reason, NOW]]);
    expect(invoked).toEqual([]);
  });

  it('does not supersede a version by an older latest one (events arrive out of order)', async () => {
    const stuckItem = item('RECEIVED', { sequencer: '0B' });
    const { stuck, calls } = deps({ items: [stuckItem], latest: { versionId: 'v0', sequencer: '0A', eTag: 'e0' } });
    expect(await repairStuckFile(stuck, work(stuckItem), NOW)).toMatchObject({ kind: 'redrive', stage: 'validate' });
    expect(calls.map((c) => c[0])).toEqual(['noteRedrive', 'invoke']);
  });

  it(`fails a version after ${MAX_REDRIVES} re-drives, with the last error seen`, async () => {
    const withError = item('VALIDATED', { redrives: MAX_REDRIVES, lastError: 'landfall-test-convert: RowCountMismatchError: 3 rows written, 4 expected' });
    const { stuck, calls, invoked } = deps({ items: [withError] });
    const repair = await repairStuckFile(stuck, work(withError), NOW);
    const reason = `stopped in VALIDATED after ${MAX_REDRIVES} re-drives by the reconciler; last error: landfall-test-convert: RowCountMismatchError: 3 rows written, 4 expected`;
    expect(repair).toEqual({ kind: 'failed', key: KEY, versionId: 'v1', reason });
    expect(calls).toEqual([['recordVerdict', 'v1', 'FAILED', reason, NOW]]);
    expect(invoked).toEqual([]);

    const silent = item('RECEIVED', { redrives: MAX_REDRIVES + 2 });
    const quiet = deps({ items: [silent] });
    expect(await repairStuckFile(quiet.stuck, work(silent), NOW)).toMatchObject({
      kind: 'failed',
      reason: `stopped in RECEIVED after ${MAX_REDRIVES + 2} re-drives by the reconciler; last error: none recorded (a timeout, or the event was lost)`,
    });
  });

  it("re-drives validate for a RECEIVED version without a report, with the landed version's event", async () => {
    const received = item('RECEIVED', { redrives: 1 });
    const { stuck, calls, invoked } = deps({ items: [received] });
    expect(await repairStuckFile(stuck, work(received), NOW)).toEqual({
      kind: 'redrive',
      stage: 'validate',
      key: KEY,
      versionId: 'v1',
      attempt: 2,
      object: `s3://raw/${KEY}?versionId=v1`,
    });
    // counted before the invocation: a re-drive that crashes the reconciler still counts
    expect(calls).toEqual([
      ['noteRedrive', KEY, 'v1', 'RECEIVED', NOW],
      ['invoke', 'landfall-test-validate'],
    ]);
    expect(invoked[0]!.invocationType).toBe('Event');
    expect(objectRefFromRecord(invoked[0]!.event.Records[0]!)).toEqual({
      bucket: 'raw',
      key: KEY,
      versionId: 'v1',
      eTag: 'etag1',
      size: 100,
      sequencer: '0A',
      eventTime: '2026-11-23T10:00:00.000Z',
    });
  });

  it('re-drives track for a RECEIVED version whose report was written', async () => {
    const received = item('RECEIVED');
    const { stuck, invoked } = deps({ items: [received], objects: { [`raw/${REPORT}`]: {} } });
    expect(await repairStuckFile(stuck, work(received), NOW)).toEqual({
      kind: 'redrive',
      stage: 'track',
      key: KEY,
      versionId: 'v1',
      attempt: 1,
      object: `s3://raw/${REPORT}`,
    });
    expect(invoked[0]!.functionName).toBe('landfall-test-track');
    expect(objectRefFromRecord(invoked[0]!.event.Records[0]!)).toMatchObject({ bucket: 'raw', key: REPORT });
  });

  it("does not take a report of another version for this one's", async () => {
    const received = item('RECEIVED');
    const { stuck } = deps({ items: [received], objects: { 'raw/reports/pos/ON/ON01_20261123_140000.tdf@v0.json': {} } });
    expect(await repairStuckFile(stuck, work(received), NOW)).toMatchObject({ stage: 'validate' });
  });

  it('re-drives track for a VALIDATED version whose Parquet is there and came from it', async () => {
    const validated = item('VALIDATED');
    const { stuck, invoked } = deps({ items: [validated], objects: { [`lake/${PARQUET}`]: { metadata: lineageOf('v1'), versionId: 'pv7' } } });
    expect(await repairStuckFile(stuck, work(validated), NOW)).toEqual({
      kind: 'redrive',
      stage: 'track',
      key: KEY,
      versionId: 'v1',
      attempt: 1,
      object: `s3://lake/${PARQUET}?versionId=pv7`,
    });
    expect(invoked[0]!.functionName).toBe('landfall-test-track');
    expect(objectRefFromRecord(invoked[0]!.event.Records[0]!)).toMatchObject({ bucket: 'lake', key: PARQUET, versionId: 'pv7' });
  });

  it("re-drives convert for a VALIDATED version whose Parquet is missing, or is another version's, or is not landfall's", async () => {
    const validated = item('VALIDATED', { validatedVersionId: 'vv3' });
    const worlds: Array<World['objects']> = [
      {},
      { [`lake/${PARQUET}`]: { metadata: lineageOf('v0') } },
      { [`lake/${PARQUET}`]: { metadata: { note: 'copied by hand' } } },
    ];
    for (const objects of worlds) {
      const { stuck, invoked } = deps({ items: [validated], objects });
      expect(await repairStuckFile(stuck, work(validated), NOW)).toEqual({
        kind: 'redrive',
        stage: 'convert',
        key: KEY,
        versionId: 'v1',
        attempt: 1,
        object: 's3://raw/validated/pos/ON/ON01_20261123_140000.tdf?versionId=vv3',
      });
      expect(invoked[0]!.functionName).toBe('landfall-test-convert');
    }
  });

  it('converts from the validated key the item recorded', async () => {
    const validated = item('VALIDATED', { validatedKey: 'validated/pos/ON/elsewhere.tdf' });
    const { stuck } = deps({ items: [validated] });
    expect(await repairStuckFile(stuck, work(validated), NOW)).toMatchObject({ stage: 'convert', object: 's3://raw/validated/pos/ON/elsewhere.tdf' });
  });

  it('does not invoke anything when another reconciler counted the re-drive first', async () => {
    const received = item('RECEIVED');
    const { stuck, invoked } = deps({ items: [received], noted: false });
    expect(await repairStuckFile(stuck, work(received), NOW)).toBeNull();
    expect(invoked).toEqual([]);
  });
});

describe('re-driving a landed version nobody recorded', () => {
  it('invokes validate with its event, as the first attempt', async () => {
    const { stuck, invoked } = deps();
    const ref = { bucket: 'raw', key: 'landing/notes from head office.txt', eTag: 'e', size: 5, sequencer: '01', eventTime: '2026-11-23T09:00:00.000Z' };
    expect(await redriveUnrecorded(stuck, ref, NOW)).toEqual({
      kind: 'redrive',
      stage: 'validate',
      key: ref.key,
      versionId: 'null',
      attempt: 1,
      object: `s3://raw/${ref.key}`,
    });
    expect(invoked[0]!.functionName).toBe('landfall-test-validate');
    expect(objectRefFromRecord(invoked[0]!.event.Records[0]!)).toEqual(ref);
  });
});
