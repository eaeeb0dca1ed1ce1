import { join } from 'node:path';
import { EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { loadPipelineFile } from '../../shared/core/config/load-config';
import { type EventsDeps, fileStateMetricsLines, publishStateChanges } from '../../shared/stages/events';

// Error paths of PutEvents (the happy path runs on the local stand-in: test/events.test.ts).
const pipeline = loadPipelineFile(join(import.meta.dirname, '..', '..', 'examples', 'retail', 'pipeline.yaml'));
const eventBridge = mockClient(EventBridgeClient);
const waits: number[] = [];
const deps: EventsDeps = {
  eventBridge: new EventBridgeClient({ region: 'us-east-1' }),
  eventBusName: 'landfall-test',
  stage: 'test',
  pipeline,
  wait: async (ms) => void waits.push(ms),
};

/** A run's status change (a run item went from `from` to `to`), as a stream record numbered `n`. */
function runRecord(n: number, to = 'RUNNING', from = 'CLAIMED'): DynamoDBRecord {
  const item = { pk: 'BATCH#b', sk: `RUN#run-${n}`, job: 'j', batchId: 'b', values: { date: '2026-11-23' }, executionName: `run-${n}`, claimedAt: 't' };
  return {
    eventID: `e${n}`,
    eventName: 'MODIFY',
    dynamodb: {
      NewImage: marshall({ ...item, status: to }) as never,
      OldImage: marshall({ ...item, status: from }) as never,
      SequenceNumber: String(1000 + n),
    },
  };
}
/** A record that is no state change (the status unchanged). */
const noChange = (n: number) => runRecord(n, 'RUNNING', 'RUNNING');

const names = (entries: PutEventsRequestEntry[] | undefined) => (entries ?? []).map((e) => JSON.parse(e.Detail!).executionName as string);
const sent = () => eventBridge.commandCalls(PutEventsCommand).map((c) => names(c.args[0].input.Entries));

afterEach(() => {
  eventBridge.reset();
  waits.length = 0;
});

describe('publishStateChanges', () => {
  it('puts every change in requests of 10, skipping records that are no change', async () => {
    eventBridge
      .on(PutEventsCommand)
      .callsFake((input) => ({ FailedEntryCount: 0, Entries: input.Entries.map((_: unknown, i: number) => ({ EventId: `id-${i}` })) }));
    const records = [...Array.from({ length: 12 }, (_, i) => runRecord(i)), noChange(50)];
    const result = await publishStateChanges(deps, { Records: records });
    expect(sent().map((r) => r.length)).toEqual([10, 2]);
    expect(result).toMatchObject({ batchItemFailures: [], skipped: 1, publishedAgainLater: 0 });
    expect(result.published).toHaveLength(12);
  });

  it('puts a failed entry again, alone, until it is accepted', async () => {
    eventBridge
      .on(PutEventsCommand)
      .resolvesOnce({ FailedEntryCount: 1, Entries: [{ EventId: 'a' }, { ErrorCode: 'ThrottlingException', ErrorMessage: 'slow down' }, { EventId: 'c' }] })
      .resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'b' }] });
    const result = await publishStateChanges(deps, { Records: [runRecord(1), runRecord(2), runRecord(3)] });
    expect(sent()).toEqual([['run-1', 'run-2', 'run-3'], ['run-2']]);
    expect(result.batchItemFailures).toEqual([]);
    expect(result.published.map((c) => c.kind === 'run' && c.executionName)).toEqual(['run-1', 'run-2', 'run-3']);
    expect(waits).toHaveLength(1);
  });

  it('an entry that keeps failing: its record and every later one are reported, later requests are not sent', async () => {
    eventBridge.on(PutEventsCommand).callsFake((input) => ({
      FailedEntryCount: 1,
      Entries: input.Entries.map((e: PutEventsRequestEntry) =>
        JSON.parse(e.Detail!).executionName === 'run-3' ? { ErrorCode: 'InternalFailure', ErrorMessage: 'no' } : { EventId: 'ok' },
      ),
    }));
    const records = [runRecord(1), noChange(2), runRecord(3), runRecord(4), ...Array.from({ length: 10 }, (_, i) => runRecord(20 + i))];
    const result = await publishStateChanges({ ...deps, maxAttempts: 3 }, { Records: records });
    // the first request (run-1, run-3, run-4, run-20…run-26), then run-3 twice more; the second request never
    expect(sent().map((r) => r.length)).toEqual([10, 1, 1]);
    expect(result.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(records.slice(2).map((r) => r.dynamodb!.SequenceNumber));
    expect(result.published.map((c) => c.kind === 'run' && c.executionName)).toEqual(['run-1']);
    expect(result.publishedAgainLater).toBe(8);
    expect(result.errors).toEqual(['run e3: InternalFailure: no']);
  });

  it('a request that throws (past the SDK retries) is tried again, then its records reported', async () => {
    const throttled = Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
    eventBridge.on(PutEventsCommand).rejects(throttled);
    const records = [runRecord(1), runRecord(2)];
    const result = await publishStateChanges({ ...deps, maxAttempts: 2 }, { Records: records });
    expect(sent()).toHaveLength(2);
    expect(result.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(['1001', '1002']);
    expect(result.published).toEqual([]);
    expect(result.errors).toEqual(['run e1: ThrottlingException: Rate exceeded', 'run e2: ThrottlingException: Rate exceeded']);
  });

  it('a batch with no state change sends nothing', async () => {
    const result = await publishStateChanges(deps, { Records: [noChange(1)] });
    expect(sent()).toEqual([]);
    expect(result).toMatchObject({ batchItemFailures: [], published: [], skipped: 1 });
  });
});

describe('fileStateMetricsLines', () => {
  it('one EMF line per state, FileStateChanges counted, dimensions Stage and State', () => {
    const file = (state: string) => ({ kind: 'file', state }) as never;
    const lines = fileStateMetricsLines(
      'test',
      [file('RECEIVED'), file('CONVERTED'), file('RECEIVED'), { kind: 'run', state: 'RUNNING' } as never],
      new Date(5),
    );
    expect(lines.map((l) => JSON.parse(l))).toEqual([
      {
        _aws: {
          Timestamp: 5,
          CloudWatchMetrics: [{ Namespace: 'landfall', Dimensions: [['Stage', 'State']], Metrics: [{ Name: 'FileStateChanges', Unit: 'Count' }] }],
        },
        Stage: 'test',
        State: 'RECEIVED',
        FileStateChanges: 2,
      },
      {
        _aws: {
          Timestamp: 5,
          CloudWatchMetrics: [{ Namespace: 'landfall', Dimensions: [['Stage', 'State']], Metrics: [{ Name: 'FileStateChanges', Unit: 'Count' }] }],
        },
        Stage: 'test',
        State: 'CONVERTED',
        FileStateChanges: 1,
      },
    ]);
  });
});
