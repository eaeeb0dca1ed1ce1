import { join } from 'node:path';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { loadPipelineFile } from '../../shared/core/config/load-config';
import { DETAIL_TYPES, detailOf, eventEntry, MAX_TEXT_CHARS, requestsOf, stateChangeOf } from '../../shared/stages/events';

const pipeline = loadPipelineFile(join(import.meta.dirname, '..', '..', 'examples', 'retail', 'pipeline.yaml'));
const context = { stage: 'test', pipeline };
let sequence = 100;

/** A stream record as Lambda delivers it from a NEW_AND_OLD_IMAGES stream (images in DynamoDB JSON). */
function record(eventName: 'INSERT' | 'MODIFY' | 'REMOVE', newItem?: Record<string, unknown>, oldItem?: Record<string, unknown>): DynamoDBRecord {
  sequence += 1;
  const image = (item: Record<string, unknown>) => marshall(item, { removeUndefinedValues: true }) as never;
  const keysOf = newItem ?? oldItem ?? {};
  return {
    eventID: `event-${sequence}`,
    eventName,
    eventVersion: '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: 'us-east-1',
    eventSourceARN: 'arn:aws:dynamodb:us-east-1:000000000000:table/landfall-test-file-state/stream/2026-11-23T00:00:00.000',
    dynamodb: {
      Keys: image({ pk: keysOf.pk, sk: keysOf.sk }),
      ...(newItem ? { NewImage: image(newItem) } : {}),
      ...(oldItem ? { OldImage: image(oldItem) } : {}),
      SequenceNumber: String(sequence),
      SizeBytes: 100,
      StreamViewType: 'NEW_AND_OLD_IMAGES',
      ApproximateCreationDateTime: 1_795_000_000,
    },
  };
}

const KEY = 'landing/pos/ON/ON01_20261123_101500.tdf';
/** A file version's item as FileStateStore writes it: RECEIVED, then VALIDATED with its counts. */
const received = {
  pk: `FILE#${KEY}`,
  sk: 'V#v1',
  bucket: 'landfall-test-raw',
  key: KEY,
  versionId: 'v1',
  eTag: '"e"',
  size: 120,
  sequencer: '0000000000000000000000000000000000000001',
  landedAt: '2026-11-23T10:15:00.000Z',
  state: 'RECEIVED',
  stateRank: 0,
  statesSeen: new Set(['RECEIVED']),
  dataset: 'pos',
  fields: { province: 'ON', store: 'ON01', date: '2026-11-23', time: '101500' },
  history: [{ state: 'RECEIVED', at: '2026-11-23T10:15:01.000Z' }],
  gsi1pk: 'DS#pos#2026-11-23',
  gsi1sk: `${KEY}#v1`,
  workPk: 'OPEN#3',
  workSk: '2026-11-23T10:15:01.000Z',
  createdAt: '2026-11-23T10:15:01.000Z',
  updatedAt: '2026-11-23T10:15:01.000Z',
};
const validated = {
  ...received,
  state: 'VALIDATED',
  stateRank: 1,
  statesSeen: new Set(['RECEIVED', 'VALIDATED']),
  rows: { in: 3, out: 2, rejected: 1, junk: 0 },
  history: [...received.history, { state: 'VALIDATED', at: '2026-11-23T10:15:03.000Z' }],
  updatedAt: '2026-11-23T10:15:03.000Z',
};

const BATCH_ID = 'pos_daily_sales#date=2026-11-23#province=ON';
const EXECUTION = 'pos_daily_sales-ON-2026-11-23-0123456789ab';
const claimed = {
  pk: `BATCH#${BATCH_ID}`,
  sk: `RUN#${EXECUTION}`,
  job: 'pos_daily_sales',
  batchId: BATCH_ID,
  values: { province: 'ON', date: '2026-11-23' },
  executionName: EXECUTION,
  fingerprint: '0123456789abcdef',
  inputs: { pos: [{ key: KEY, versionId: 'v1' }] },
  engine: 'duckdb',
  status: 'CLAIMED',
  claimedAt: '2026-11-23T10:16:00.000Z',
};
const running = {
  ...claimed,
  status: 'RUNNING',
  executionArn: `arn:aws:states:us-east-1:000000000000:execution:landfall-test-job-run:${EXECUTION}`,
  startedAt: '2026-11-23T10:16:11.000Z',
};

describe('stateChangeOf: file-state records', () => {
  it('a new file version is a "File state changed" event with no previous state, its batches named', () => {
    const change = stateChangeOf(record('INSERT', received), context);
    expect(change).toMatchObject({
      kind: 'file',
      stage: 'test',
      state: 'RECEIVED',
      previousState: null,
      key: KEY,
      versionId: 'v1',
      object: `${KEY}@v1`,
      dataset: 'pos',
      at: '2026-11-23T10:15:01.000Z',
      eventId: expect.stringMatching(/^event-/),
    });
    expect(change?.kind === 'file' && change.batches).toContainEqual({ job: 'pos_daily_sales', batch: { province: 'ON', date: '2026-11-23' } });
  });

  it('a transition names the state it left, the time it entered the new one, and the counts', () => {
    const change = stateChangeOf(record('MODIFY', validated, received), context);
    expect(change).toMatchObject({ kind: 'file', state: 'VALIDATED', previousState: 'RECEIVED', at: '2026-11-23T10:15:03.000Z', rows: { in: 3, rejected: 1 } });
  });

  it('a rejection carries its reason, cut when it is long', () => {
    const rejected = { ...validated, state: 'REJECTED', reason: `not text: ${'x'.repeat(5000)}`, lastError: 'convert: Boom' };
    const change = stateChangeOf(record('MODIFY', rejected, received), context);
    expect(change).toMatchObject({ state: 'REJECTED', previousState: 'RECEIVED', error: 'convert: Boom' });
    expect(change?.kind === 'file' && change.reason?.length).toBe(MAX_TEXT_CHARS);
    expect(change?.kind === 'file' && change.reason?.startsWith('not text: xxx')).toBe(true);
  });

  it('an unrecognised key has no dataset and no batches', () => {
    const unknown = { ...received, key: 'landing/odd.bin', pk: 'FILE#landing/odd.bin', dataset: null, fields: {}, state: 'UNRECOGNISED' };
    expect(stateChangeOf(record('INSERT', unknown), context)).toMatchObject({ state: 'UNRECOGNISED', dataset: null, batches: [] });
  });

  it('is none for a write that left the state as it was (history, counts, a noted error, a re-drive)', () => {
    const noted = { ...validated, lastError: 'convert: timed out', redrives: 1, history: [...validated.history, { state: 'VALIDATED', at: 'later' }] };
    expect(stateChangeOf(record('MODIFY', noted, validated), context)).toBeNull();
  });

  it('reads an image with an attribute value of no known type (as a stream reader may deliver one) for the fields it needs', () => {
    const modify = record('MODIFY', validated, received);
    (modify.dynamodb!.OldImage as Record<string, unknown>).odd = {};
    (modify.dynamodb!.NewImage as Record<string, unknown>).odd = {};
    expect(stateChangeOf(modify, context)).toMatchObject({ state: 'VALIDATED', previousState: 'RECEIVED', key: KEY });
  });

  it("is none for the key's LATEST pointer, a schema signature, a removal, or an image that is not landfall's", () => {
    const latest = { pk: `FILE#${KEY}`, sk: 'LATEST', versionId: 'v1', eTag: '"e"', sequencer: '01' };
    const schema = { pk: 'SCHEMA#pos', sk: 'C#abc', dataset: 'pos', columns: ['a'], state: 'SEEN' };
    expect(stateChangeOf(record('INSERT', latest), context)).toBeNull();
    expect(stateChangeOf(record('MODIFY', { ...latest, versionId: 'v2' }, latest), context)).toBeNull();
    expect(stateChangeOf(record('INSERT', schema), context)).toBeNull();
    expect(stateChangeOf(record('REMOVE', undefined, validated), context)).toBeNull();
    const foreign = record('INSERT', received);
    foreign.dynamodb!.NewImage = { pk: { BOGUS: 'x' } } as never;
    expect(stateChangeOf(foreign, context)).toBeNull();
  });
});

describe('stateChangeOf: job-runs records', () => {
  it('a claimed run, then running, then succeeded: "Run state changed" with the batch, execution and attempt', () => {
    expect(stateChangeOf(record('INSERT', claimed), context)).toMatchObject({
      kind: 'run',
      state: 'CLAIMED',
      previousState: null,
      job: 'pos_daily_sales',
      batch: { province: 'ON', date: '2026-11-23' },
      batchId: BATCH_ID,
      executionName: EXECUTION,
      attempt: 1,
      at: '2026-11-23T10:16:00.000Z',
    });
    expect(stateChangeOf(record('MODIFY', running, claimed), context)).toMatchObject({
      state: 'RUNNING',
      previousState: 'CLAIMED',
      executionArn: running.executionArn,
      at: '2026-11-23T10:16:11.000Z',
    });
    const succeeded = { ...running, status: 'SUCCEEDED', finishedAt: '2026-11-23T10:17:00.000Z', stages: { aggregate: { status: 'SUCCEEDED' } } };
    expect(stateChangeOf(record('MODIFY', succeeded, running), context)).toMatchObject({
      state: 'SUCCEEDED',
      previousState: 'RUNNING',
      at: '2026-11-23T10:17:00.000Z',
    });
  });

  it('a failed retry names its error and its attempt', () => {
    const retry = { ...running, executionName: `${EXECUTION}-r1`, sk: `RUN#${EXECUTION}-r1` };
    const failed = { ...retry, status: 'FAILED', finishedAt: '2026-11-23T11:00:00.000Z', error: { error: 'StatesError', cause: 'the SQL failed' } };
    expect(stateChangeOf(record('MODIFY', failed, retry), context)).toMatchObject({
      state: 'FAILED',
      previousState: 'RUNNING',
      attempt: 2,
      error: { error: 'StatesError', cause: 'the SQL failed' },
    });
  });

  it('is none for a checkpoint (a stage recorded, the status unchanged) and a TTL removal', () => {
    const checkpointed = { ...running, stages: { aggregate: { status: 'SUCCEEDED', at: 'x', output: {} } } };
    expect(stateChangeOf(record('MODIFY', checkpointed, running), context)).toBeNull();
    expect(stateChangeOf(record('REMOVE', undefined, running), context)).toBeNull();
  });

  it('a batch that starts running is a "Batch state changed"; what it waits for changing is none', () => {
    const waiting = {
      pk: `BATCH#${BATCH_ID}`,
      sk: 'BATCH',
      job: 'pos_daily_sales',
      batchId: BATCH_ID,
      values: claimed.values,
      status: 'WAITING',
      waitingFor: ['3 of 5 stores'],
      updatedAt: 't1',
    };
    const fewer = { ...waiting, waitingFor: ['4 of 5 stores'], updatedAt: 't2' };
    const started = {
      ...fewer,
      status: 'RUNNING',
      waitingFor: [],
      updatedAt: 't3',
      activeRun: { executionName: EXECUTION, fingerprint: 'f', claimedAt: 't3' },
    };
    expect(stateChangeOf(record('INSERT', waiting), context)).toMatchObject({
      kind: 'batch',
      state: 'WAITING',
      previousState: null,
      waitingFor: ['3 of 5 stores'],
    });
    expect(stateChangeOf(record('MODIFY', fewer, waiting), context)).toBeNull();
    expect(stateChangeOf(record('MODIFY', started, fewer), context)).toMatchObject({
      kind: 'batch',
      state: 'RUNNING',
      previousState: 'WAITING',
      batchId: BATCH_ID,
    });
  });

  it('is none for action records, failovers, the watermark and cell claims', () => {
    const items = [
      { pk: `BATCH#${BATCH_ID}`, sk: 'ACTION#2026-11-23T10:00:00Z#a1', batchId: BATCH_ID, action: 'retry', outcome: 'done', status: 'x' },
      { pk: 'FAILOVER', sk: '2026-11-23T10:00:00Z#cell-a->cell-b', from: 'cell-a', to: 'cell-b' },
      { pk: 'RECONCILER', sk: 'STATE', watermark: 't' },
      { pk: 'EMR_CELL#cell-a', sk: 'CLUSTER', status: 'CREATING' },
    ];
    for (const item of items) expect(stateChangeOf(record('INSERT', item), context), item.pk).toBeNull();
  });
});

describe('the PutEvents entries', () => {
  it('an entry: source landfall, its detail type, the change as detail (without its kind), on the bus, at its time', () => {
    const change = stateChangeOf(record('MODIFY', running, claimed), context)!;
    const entry = eventEntry(change, 'landfall-test');
    expect(entry).toMatchObject({
      Source: 'landfall',
      DetailType: DETAIL_TYPES.run,
      EventBusName: 'landfall-test',
      Time: new Date('2026-11-23T10:16:11.000Z'),
    });
    expect(JSON.parse(entry.Detail!)).toEqual(detailOf(change));
    expect(JSON.parse(entry.Detail!)).not.toHaveProperty('kind');
    expect(JSON.parse(entry.Detail!)).toMatchObject({ stage: 'test', job: 'pos_daily_sales', state: 'RUNNING', previousState: 'CLAIMED' });
  });

  it('requests of at most 10 entries and 256 KB, in order', () => {
    const small = Array.from({ length: 23 }, (_, i) => ({ i, entry: { Source: 'landfall', DetailType: 'x', Detail: '{}' } }));
    expect(requestsOf(small).map((r) => r.length)).toEqual([10, 10, 3]);
    expect(
      requestsOf(small)
        .flat()
        .map((s) => s.i),
    ).toEqual(small.map((s) => s.i));
    const large = Array.from({ length: 4 }, (_, i) => ({
      i,
      entry: { Source: 'landfall', DetailType: 'x', Detail: JSON.stringify({ t: 'y'.repeat(100_000) }) },
    }));
    expect(requestsOf(large).map((r) => r.length)).toEqual([2, 2]);
  });
});
