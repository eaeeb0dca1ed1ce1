import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CreateTableCommand, DescribeTableCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { DescribeExecutionCommand, SFNClient, StartExecutionCommand, StateMachineDoesNotExist, StopExecutionCommand } from '@aws-sdk/client-sfn';
import { DeleteMessageCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBRecord, S3EventRecord } from 'aws-lambda';
import { documentClient, s3Client, sfnClient } from '../shared/core/aws/clients';
import { POS_HEADER } from '../examples/retail/data/pos-sample';
import { Chaos, ChaosCrash, type ChaosSettings } from '../local/chaos';
import { startStreamPoller, streamBatchFailureRecord, type DiscardedBatch } from '../local/dynamodb-stream';
import type { AsyncFailureRecord } from '../local/lambda-runner';
import { freePort } from '../local/ports';
import { startNotificationReceiver } from '../local/s3-notifications';
import { startLocalStepFunctions } from '../local/stepfunctions';
import { useLocalStack } from './support/local-stack';

const SEED = 20261123;
const NOTHING: Partial<ChaosSettings> = {
  crashProbability: 0,
  crashPoints: ['before', 'after'],
  crashFunctions: undefined,
  duplicateS3Events: false,
  reverseBursts: false,
  dropStreamRecordProbability: 0,
  abortExecutionProbability: 0,
};

/** Waits until `check` holds (polling), or fails after `ms`. */
async function until(check: () => boolean | Promise<boolean>, ms = 20_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const streamRecord = (key: string): DynamoDBRecord => ({ eventName: 'INSERT', dynamodb: { Keys: { pk: { S: key } } } });

describe('chaos decisions are seeded and reproducible', () => {
  it('decides the same for the same seed and label, differently for another seed, near the probability', () => {
    const labels = Array.from({ length: 2000 }, (_, i) => `crash|before|validate|PutObject|s3://raw/landing/${i}`);
    const a = new Chaos({ seed: SEED });
    const b = new Chaos({ seed: SEED });
    const c = new Chaos({ seed: SEED + 1 });
    const draws = (chaos: Chaos) => labels.map((l) => chaos.chance(l));
    const [da, db, dc] = [draws(a), draws(b), draws(c)];
    expect(da).toEqual(db);
    expect(dc).not.toEqual(da);
    const share = da.filter((x) => x < 0.3).length / da.length;
    expect(share).toBeGreaterThan(0.26);
    expect(share).toBeLessThan(0.34);
    // the same thing decided again (a retry) gets a fresh, but equally reproducible, decision
    expect(a.chance(labels[0]!)).toBe(b.chance(labels[0]!));
    expect(a.chance(labels[0]!)).not.toBe(da[0]);
  });

  it('drops the same stream records for the same seed, whatever the order they come in', () => {
    const keys = Array.from({ length: 200 }, (_, i) => `FILE#k${i}`);
    const dropped = (chaos: Chaos, order: string[]) => new Set(order.filter((k) => chaos.dropStreamRecord(streamRecord(k))));
    const first = dropped(new Chaos({ seed: SEED, dropStreamRecordProbability: 0.25 }), keys);
    const again = dropped(new Chaos({ seed: SEED, dropStreamRecordProbability: 0.25 }), [...keys].reverse());
    expect(again).toEqual(first);
    expect(first.size).toBeGreaterThan(30);
    expect(first.size).toBeLessThan(70);
    const off = new Chaos({ seed: SEED, dropStreamRecordProbability: 0.25, enabled: false });
    expect(dropped(off, keys).size).toBe(0);
    expect(() => new Chaos({ seed: 1, crashProbability: 2 })).toThrow(/crashProbability/);
  });
});

describe('S3 event delivery: duplicates and reversed bursts (the notification receiver, fed MinIO-shaped records)', () => {
  it('holds a burst for the window, delivers it last-first, each event twice', async () => {
    const chaos = new Chaos({ seed: SEED, duplicateS3Events: true, reverseBursts: true, burstWindowMs: 80 });
    const delivered: Array<{ fn: string; key: string }> = [];
    const port = await freePort();
    const receiver = await startNotificationReceiver(port, (fn, event) => delivered.push({ fn, key: event.Records[0]!.s3.object.key }), {
      chaos: chaos.deliveryChaos(),
    });
    const post = (fn: string, keys: string[]) =>
      fetch(`http://127.0.0.1:${port}/events/${fn}`, {
        method: 'POST',
        body: JSON.stringify({
          Records: keys.map((key, i) => ({
            eventTime: new Date().toISOString(),
            eventName: 's3:ObjectCreated:Put',
            awsRegion: 'us-east-1',
            s3: { bucket: { name: 'raw' }, object: { key: encodeURIComponent(`landing/${key}`), size: 1, eTag: 'e', versionId: `v${i}`, sequencer: `0${i}` } },
          })),
        }),
      });
    try {
      await post('validate', ['a.csv', 'b.csv']);
      await post('validate', ['c.csv']);
      await post('track', ['r.json']);
      expect(delivered).toEqual([]);
      expect(receiver.held()).toBe(4);
      await until(() => delivered.length === 8, 2000, 'the held bursts');
      const of = (fn: string) => delivered.filter((d) => d.fn === fn).map((d) => d.key);
      expect(of('validate')).toEqual(['landing/c.csv', 'landing/c.csv', 'landing/b.csv', 'landing/b.csv', 'landing/a.csv', 'landing/a.csv']);
      expect(of('track')).toEqual(['landing/r.json', 'landing/r.json']);
      expect(receiver.held()).toBe(0);
      expect(chaos.counts()).toMatchObject({ s3EventsDuplicated: 4, s3BurstsReversed: 1, s3EventsReordered: 3 });
      // switched off at run time: one delivery, at once
      chaos.disable();
      await post('validate', ['d.csv']);
      await until(() => delivered.length === 9, 2000, 'the undisturbed delivery');
      expect(delivered.at(-1)).toEqual({ fn: 'validate', key: 'landing/d.csv' });
    } finally {
      await receiver.close();
    }
  });
});

describe('an execution aborted after its first task (the Step Functions stand-in)', () => {
  it('stops the execution through StopExecution once its first task has run', async () => {
    const chaos = new Chaos({ seed: SEED, abortExecutionProbability: 1 });
    const ran: string[] = [];
    const task = (name: string, next?: string) => ({
      Type: 'Task',
      Resource: 'arn:aws:states:::lambda:invoke',
      Parameters: { FunctionName: name, Payload: { 'executionArn.$': '$$.Execution.Id' } },
      ...(next ? { Next: next } : { End: true }),
    });
    let sfn: SFNClient | undefined;
    const stepFunctions = await startLocalStepFunctions({
      stateMachines: { twoSteps: { definition: { StartAt: 'First', States: { First: task('first', 'Second'), Second: task('second') } } } },
      invokeLambda: chaos.abortingTasks(
        async (fn) => {
          ran.push(fn);
          return { ok: true };
        },
        async (executionArn) => void (await sfn!.send(new StopExecutionCommand({ executionArn, error: 'ChaosAbort' }))),
      ),
      fastWaits: true,
    });
    sfn = new SFNClient({ endpoint: stepFunctions.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test-secret' } });
    try {
      const stateMachineArn = stepFunctions.stateMachineArn('twoSteps');
      const aborted = await sfn.send(new StartExecutionCommand({ stateMachineArn, name: 'run-1' }));
      await stepFunctions.idle(5000);
      expect(await sfn.send(new DescribeExecutionCommand({ executionArn: aborted.executionArn }))).toMatchObject({ status: 'ABORTED', error: 'ChaosAbort' });
      expect(ran).toEqual(['first']);
      chaos.configure({ abortExecutionProbability: 0 });
      const whole = await sfn.send(new StartExecutionCommand({ stateMachineArn, name: 'run-2' }));
      await stepFunctions.idle(5000);
      expect((await sfn.send(new DescribeExecutionCommand({ executionArn: whole.executionArn }))).status).toBe('SUCCEEDED');
      expect(ran).toEqual(['first', 'first', 'second']);
      expect(chaos.counts().executionsAborted).toBe(1);
      expect(chaos.events()).toEqual([expect.objectContaining({ kind: 'execution-aborted', target: aborted.executionArn })]);
    } finally {
      sfn.destroy();
      await stepFunctions.stop();
    }
  });
});

describe('on the local stack', () => {
  // the handlers' own error logs of injected crashes are expected: keep them out of the output
  const stack = useLocalStack({ chaos: { seed: SEED, enabled: false }, handlerLogLevel: 'SILENT' });
  let sqs: SQSClient;
  beforeAll(() => {
    sqs = new SQSClient({
      endpoint: stack().endpoints.sqs,
      region: 'us-east-1',
      credentials: { accessKeyId: 'landfall', secretAccessKey: 'landfall-local-secret' },
    });
  });
  afterAll(() => sqs?.destroy());
  // each test starts from nothing armed, no settings left over and no counts
  beforeEach(() => {
    stack().chaos.disable();
    stack().chaos.configure(NOTHING);
    stack().chaos.resetCounts();
  });

  /** Every message of the failed-events queue, deleted as read. */
  async function drainFailedEvents(): Promise<unknown[]> {
    const bodies: unknown[] = [];
    for (;;) {
      const got = await sqs.send(new ReceiveMessageCommand({ QueueUrl: stack().failedEventsQueueUrl, MaxNumberOfMessages: 10 }));
      if (!got.Messages) return bodies;
      for (const m of got.Messages) {
        bodies.push(JSON.parse(m.Body!));
        await sqs.send(new DeleteMessageCommand({ QueueUrl: stack().failedEventsQueueUrl, ReceiptHandle: m.ReceiptHandle }));
      }
    }
  }

  const posFile = (store: string) => `${POS_HEADER}\n${store}\tI001\t2026-11-23\t4\t12.50\n${store}\tI002\t2026-11-23\t5\t1.63\n`;

  it('crashes before or after a write made through the handlers’ shared clients, and not through the stack’s own', async () => {
    const { chaos, deployment } = stack();
    const lake = deployment.names.lakeBucket;
    const exists = (key: string) =>
      stack()
        .s3.send(new HeadObjectCommand({ Bucket: lake, Key: key }))
        .then(
          () => true,
          () => false,
        );
    chaos.configure({ crashProbability: 1, crashPoints: ['after'] });
    chaos.enable();
    try {
      const after = await s3Client()
        .send(new PutObjectCommand({ Bucket: lake, Key: 'chaos/after.txt', Body: 'x' }))
        .catch((e: unknown) => e);
      expect(after).toBeInstanceOf(ChaosCrash);
      expect(after).toMatchObject({ name: 'ChaosCrash', point: 'after', operation: 'PutObject', target: `s3://${lake}/chaos/after.txt` });
      expect(await exists('chaos/after.txt')).toBe(true); // performed, then crashed
      await stack().s3.send(new PutObjectCommand({ Bucket: lake, Key: 'chaos/stack-client.txt', Body: 'x' })); // not affected

      const table = deployment.names.jobRunsTable;
      const key = { pk: 'CHAOS#test', sk: 'after' };
      await expect(documentClient().send(new PutCommand({ TableName: table, Item: { ...key, n: 1 } }))).rejects.toBeInstanceOf(ChaosCrash);
      expect((await stack().documents.send(new GetCommand({ TableName: table, Key: key, ConsistentRead: true }))).Item).toEqual({ ...key, n: 1 });
      // a call that fails is no write: its own error comes back, with no crash after it
      const missing = await sfnClient()
        .send(new StartExecutionCommand({ stateMachineArn: stack().stepFunctions.stateMachineArn('nope'), name: 'x' }))
        .catch((e: unknown) => e);
      expect(missing).toBeInstanceOf(StateMachineDoesNotExist);

      chaos.configure({ crashPoints: ['before'] });
      await expect(s3Client().send(new PutObjectCommand({ Bucket: lake, Key: 'chaos/before.txt', Body: 'x' }))).rejects.toBeInstanceOf(ChaosCrash);
      expect(await exists('chaos/before.txt')).toBe(false); // never sent
      const beforeKey = { pk: 'CHAOS#test', sk: 'before' };
      await expect(documentClient().send(new PutCommand({ TableName: table, Item: beforeKey }))).rejects.toBeInstanceOf(ChaosCrash);
      expect((await stack().documents.send(new GetCommand({ TableName: table, Key: beforeKey, ConsistentRead: true }))).Item).toBeUndefined();
      const executions = stack().stepFunctions.executions().length;
      await expect(
        sfnClient().send(
          new StartExecutionCommand({ stateMachineArn: stack().stepFunctions.stateMachineArn(deployment.names.stateMachine), name: 'chaos-x', input: '{}' }),
        ),
      ).rejects.toBeInstanceOf(ChaosCrash);
      expect(stack().stepFunctions.executions()).toHaveLength(executions);
      // reads are never crash points
      expect((await documentClient().send(new GetCommand({ TableName: table, Key: key }))).Item).toBeDefined();

      expect(chaos.counts().crashes).toEqual({
        total: 5,
        before: { PutObject: 1, PutItem: 1, StartExecution: 1 },
        after: { PutObject: 1, PutItem: 1 },
        byFunction: { '(outside a handler)': 5 },
      });
      expect(chaos.counts().writes).toEqual({ PutObject: 2, PutItem: 2, StartExecution: 2 });
      expect(chaos.events().map((e) => `${e.kind} ${e.operation}`)).toEqual([
        'crash-after PutObject',
        'crash-after PutItem',
        'crash-before PutObject',
        'crash-before PutItem',
        'crash-before StartExecution',
      ]);
    } finally {
      chaos.disable();
    }
    // disabled at run time: the same write goes through
    await s3Client().send(new PutObjectCommand({ Bucket: lake, Key: 'chaos/before.txt', Body: 'x' }));
    expect(await exists('chaos/before.txt')).toBe(true);
  });

  it('crashes only in the functions named; an async invocation out of retries reaches the failed-events queue as AWS shapes it', async () => {
    const { chaos, deployment, lambdas } = stack();
    chaos.configure({ crashProbability: 1, crashPoints: ['before'], crashFunctions: ['track'] });
    chaos.enable();
    try {
      await stack().s3.send(
        new PutObjectCommand({ Bucket: deployment.names.rawBucket, Key: 'landing/pos/ON/ON01_20261123_200000.tdf', Body: posFile('ON01') }),
      );
      await stack().settled(500, 60_000);
    } finally {
      chaos.disable();
    }
    const counts = chaos.counts();
    expect(Object.keys(counts.crashes.byFunction)).toEqual(['track']);
    expect(counts.crashes.total).toBeGreaterThanOrEqual(3); // the report's event, tried three times
    const trackFailures = lambdas.failures.filter((f) => f.functionName === 'track');
    expect(trackFailures.length).toBeGreaterThanOrEqual(1);
    const records = (await drainFailedEvents()) as AsyncFailureRecord[];
    expect(records).toHaveLength(lambdas.failures.length);
    const record = records.find((r) => r.requestContext.functionArn.includes(':function:landfall-local-track:'))!;
    expect(record).toMatchObject({
      version: '1.0',
      requestContext: {
        functionArn: 'arn:aws:lambda:us-east-1:000000000000:function:landfall-local-track:$LATEST',
        condition: 'RetriesExhausted',
        approximateInvokeCount: 3,
      },
      responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
      responsePayload: { errorType: expect.any(String), errorMessage: expect.any(String), trace: expect.any(Array) },
    });
    const event = record.requestPayload as { Records: S3EventRecord[] };
    expect(event.Records[0]).toMatchObject({ eventSource: 'aws:s3', s3: { bucket: { name: deployment.names.rawBucket } } });
    expect(event.Records[0]!.s3.object.key).toMatch(/^reports\//);
    // the record carries what the handler threw (s3-handler wraps the crash of each record)
    expect(trackFailures.map((f) => f.error)).toContain(`${record.responsePayload.errorType}: ${record.responsePayload.errorMessage}`);
  });

  it('delivers every S3 event twice when asked', async () => {
    const { chaos, deployment, lambdas } = stack();
    chaos.configure({ crashProbability: 0, duplicateS3Events: true });
    chaos.enable();
    const validations = lambdas.invocations.get('validate') ?? 0;
    try {
      await stack().s3.send(
        new PutObjectCommand({ Bucket: deployment.names.rawBucket, Key: 'landing/pos/ON/ON02_20261123_200000.tdf', Body: posFile('ON02') }),
      );
      await stack().settled(500, 60_000);
    } finally {
      chaos.disable();
      chaos.configure({ duplicateS3Events: false });
    }
    expect((lambdas.invocations.get('validate') ?? 0) - validations).toBe(2);
    expect(chaos.counts().s3EventsDuplicated).toBeGreaterThanOrEqual(2); // the landing and the report, at least
  });

  it('loses a stream record when asked (it never reaches resolve), and delivers when not', async () => {
    const { chaos, deployment, lambdas } = stack();
    chaos.configure({ dropStreamRecordProbability: 1 });
    chaos.enable();
    // items the stream filter passes (state CONVERTED) but resolve ignores (not a file version)
    const put = (pk: string) =>
      stack().documents.send(new PutCommand({ TableName: deployment.names.fileStateTable, Item: { pk, sk: 'X', state: 'CONVERTED' } }));
    const resolves = lambdas.invocations.get('resolve') ?? 0;
    try {
      await put('CHAOS#lost');
      // every mapping of the table's stream (resolve's, events') meets the record and loses it
      await until(() => chaos.counts().streamRecordsDropped >= 1, 20_000, 'the dropped record');
      await stack().settled(300);
    } finally {
      chaos.disable();
    }
    await put('CHAOS#kept');
    await until(() => (lambdas.invocations.get('resolve') ?? 0) === resolves + 1, 20_000, 'the delivered record');
    await stack().settled(300);
    expect((lambdas.invocations.get('resolve') ?? 0) - resolves).toBe(1);
    const mappings = deployment.functions.filter((f) => f.streams.some((st) => st.tableName === deployment.names.fileStateTable)).length;
    expect(chaos.events()).toEqual(
      Array.from({ length: mappings }, () => expect.objectContaining({ kind: 'stream-record-dropped', target: expect.stringContaining('CHAOS#lost') })),
    );
  });

  it('sends a stream batch that ran out of retries to the failed-events queue (resolve crashing on every write)', async () => {
    const { chaos, deployment } = stack();
    await drainFailedEvents();
    chaos.configure({ crashProbability: 1, crashPoints: ['before'], crashFunctions: ['resolve'] });
    chaos.enable();
    const key = 'landing/pos/QC/QC01_20261123_200000.tdf';
    try {
      // a converted file version as track records it: resolve evaluates its batch and crashes on its first write
      await stack().documents.send(
        new PutCommand({
          TableName: deployment.names.fileStateTable,
          Item: {
            pk: `FILE#${key}`,
            sk: 'V#chaos',
            key,
            versionId: 'chaos',
            sequencer: '01',
            dataset: 'pos',
            fields: { province: 'QC', store: 'QC01', date: '2026-11-23', time: '20:00:00' },
            state: 'CONVERTED',
            size: 10,
          },
        }),
      );
      await until(() => stack().lambdas.failures.some((f) => f.functionName === 'resolve'), 30_000, 'the discarded stream batch');
      await stack().settled(300, 30_000);
    } finally {
      chaos.disable();
    }
    expect(chaos.counts().crashes.byFunction).toEqual({ resolve: expect.any(Number) });
    const streamArn = (await stack().dynamodb.send(new DescribeTableCommand({ TableName: deployment.names.fileStateTable }))).Table!.LatestStreamArn!;
    const records = (await drainFailedEvents()) as Array<ReturnType<typeof streamBatchFailureRecord>>;
    expect(records).toEqual([
      expect.objectContaining({
        requestContext: expect.objectContaining({
          functionArn: 'arn:aws:lambda:us-east-1:000000000000:function:landfall-local-resolve',
          condition: 'RetryAttemptsExhausted',
          approximateInvokeCount: 6,
        }),
        DDBStreamBatchInfo: expect.objectContaining({ streamArn, batchSize: 1 }),
      }),
    ]);
  });

  it('the stream poller drops what dropRecord names and reports a discarded batch in the event source mapping’s shape', async () => {
    const streams = new DynamoDBStreamsClient({
      endpoint: stack().endpoints.dynamodb,
      region: 'us-east-1',
      credentials: { accessKeyId: 'landfall', secretAccessKey: 'landfall-local-secret' },
    });
    const table = 'chaos-stream';
    await stack().dynamodb.send(
      new CreateTableCommand({
        TableName: table,
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
        StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' },
      }),
    );
    const streamArn = (await stack().dynamodb.send(new DescribeTableCommand({ TableName: table }))).Table!.LatestStreamArn!;
    const chaos = new Chaos({ seed: SEED, dropStreamRecordProbability: 0.5 });
    const expectedDropped = new Chaos({ seed: SEED, dropStreamRecordProbability: 0.5 });
    const keys = Array.from({ length: 12 }, (_, i) => `k${i}`);
    const keep = keys.filter((k) => !expectedDropped.dropStreamRecord(streamRecord(k)));
    const delivered: string[] = [];
    const discarded: Array<{ records: DynamoDBRecord[]; batch: DiscardedBatch }> = [];
    const poller = startStreamPoller({
      dynamodb: stack().dynamodb,
      streams,
      tableName: table,
      batchSize: 100,
      filterPatterns: [],
      maxRetries: 1,
      dropRecord: (r) => chaos.dropStreamRecord(r),
      deliver: async (event) => {
        delivered.push(...event.Records.map((r) => r.dynamodb!.Keys!.pk!.S!));
        throw new Error('resolve is down');
      },
      onDiscard: (records, _error, batch) => void discarded.push({ records, batch }),
    });
    try {
      for (const k of keys) await stack().dynamodb.send(new PutItemCommand({ TableName: table, Item: { pk: { S: k } } }));
      await until(
        () => new Set(delivered).size + chaos.counts().streamRecordsDropped >= keys.length && discarded.flatMap((d) => d.records).length === keep.length,
        20_000,
        'all records',
      );
    } finally {
      await poller.stop();
      streams.destroy();
    }
    expect(keep.length).toBeGreaterThan(0);
    expect(keep.length).toBeLessThan(keys.length);
    expect([...new Set(delivered)].sort()).toEqual([...keep].sort());
    const { records, batch } = discarded[0]!;
    expect(batch).toMatchObject({ streamArn, attempts: 2, functionError: true, shardId: expect.stringMatching(/^shardId-/) });
    const record = streamBatchFailureRecord(records, batch, 'arn:aws:lambda:us-east-1:000000000000:function:landfall-local-resolve');
    expect(record).toMatchObject({
      version: '1.0',
      requestContext: {
        functionArn: 'arn:aws:lambda:us-east-1:000000000000:function:landfall-local-resolve',
        condition: 'RetryAttemptsExhausted',
        approximateInvokeCount: 2,
      },
      responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
      DDBStreamBatchInfo: {
        shardId: batch.shardId,
        startSequenceNumber: records[0]!.dynamodb!.SequenceNumber,
        endSequenceNumber: records.at(-1)!.dynamodb!.SequenceNumber,
        batchSize: records.length,
        streamArn,
        approximateArrivalOfFirstRecord: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
        approximateArrivalOfLastRecord: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
      },
    });
    expect(record).not.toHaveProperty('requestPayload');
  });

  it('reports what it injected, as text', () => {
    stack().chaos.configure({ dropStreamRecordProbability: 1 });
    stack().chaos.enable();
    stack().chaos.dropStreamRecord(streamRecord('CHAOS#report'));
    stack().chaos.disable();
    const text = stack().chaos.report();
    expect(text).toMatch(/^chaos \(seed 20261123, disabled\)/);
    expect(text).toContain('crashes: 0 (before: none; after: none; by function: none)');
    expect(text).toContain('stream records dropped: 1');
  });
});
