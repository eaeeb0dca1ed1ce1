import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DescribeStreamCommand, DynamoDBStreamsClient, GetRecordsCommand, GetShardIteratorCommand, type _Record } from '@aws-sdk/client-dynamodb-streams';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { startStreamPoller } from '../../local/dynamodb-stream';

const STREAM_ARN = 'arn:aws:dynamodb:us-east-1:000000000000:table/files/stream/2026-12-08T00:00:00.000';

const record = (sequence: string): _Record => ({
  eventID: `e${sequence}`,
  eventName: 'INSERT',
  dynamodb: { Keys: { pk: { S: `FILE#landing/${sequence}.csv` } }, SequenceNumber: sequence, SizeBytes: 10, StreamViewType: 'NEW_AND_OLD_IMAGES' },
});

/** Waits until `check` holds (polling), or fails after `ms`. */
async function until(check: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const connectionReset = () => Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });

describe('the local DynamoDB stream poller (Lambda event source mapping)', () => {
  const dynamodb = new DynamoDBClient({ region: 'us-east-1' });
  const streams = new DynamoDBStreamsClient({ region: 'us-east-1' });
  const dynamodbMock = mockClient(dynamodb);
  const streamsMock = mockClient(streams);
  let stop: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await stop?.();
    dynamodbMock.reset();
    streamsMock.reset();
  });

  function oneShardStream(): void {
    dynamodbMock.on(DescribeTableCommand).resolves({ Table: { LatestStreamArn: STREAM_ARN } });
    streamsMock.on(DescribeStreamCommand).resolves({ StreamDescription: { Shards: [{ ShardId: 'shard-1' }] } });
    streamsMock.on(GetShardIteratorCommand, { ShardIteratorType: 'TRIM_HORIZON' }).resolves({ ShardIterator: 'from-start' });
    streamsMock.on(GetShardIteratorCommand, { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: '2' }).resolves({ ShardIterator: 'after-2' });
  }

  function poll(delivered: string[]): void {
    const poller = startStreamPoller({
      dynamodb,
      streams,
      tableName: 'files',
      batchSize: 100,
      filterPatterns: [],
      deliver: async (event) => {
        delivered.push(...event.Records.map((r) => r.dynamodb!.SequenceNumber!));
      },
    });
    stop = () => poller.stop();
  }

  it('goes on after an error reading the stream, from the record after the last one delivered', async () => {
    oneShardStream();
    streamsMock.on(GetRecordsCommand, { ShardIterator: 'from-start' }).resolves({ Records: [record('1'), record('2')], NextShardIterator: 'page-2' });
    streamsMock.on(GetRecordsCommand, { ShardIterator: 'page-2' }).rejects(connectionReset());
    streamsMock.on(GetRecordsCommand, { ShardIterator: 'after-2' }).resolves({ Records: [record('3')], NextShardIterator: 'end' });
    streamsMock.on(GetRecordsCommand, { ShardIterator: 'end' }).resolves({ Records: [], NextShardIterator: 'end' });
    const delivered: string[] = [];

    poll(delivered);
    await until(() => delivered.length >= 3, 20_000, 'the record written after the error');

    expect(delivered).toEqual(['1', '2', '3']);
    const resumedAfter = streamsMock.commandCalls(GetShardIteratorCommand).map((c) => c.args[0].input.SequenceNumber);
    expect(resumedAfter).toContain('2');
  });

  it('goes on when the stream cannot even be described for a while (the server refused the first requests)', async () => {
    oneShardStream();
    dynamodbMock
      .on(DescribeTableCommand)
      .rejectsOnce(connectionReset())
      .resolves({ Table: { LatestStreamArn: STREAM_ARN } });
    streamsMock
      .on(DescribeStreamCommand)
      .rejectsOnce(connectionReset())
      .resolves({ StreamDescription: { Shards: [{ ShardId: 'shard-1' }] } });
    streamsMock.on(GetRecordsCommand, { ShardIterator: 'from-start' }).resolves({ Records: [record('1')], NextShardIterator: 'end' });
    streamsMock.on(GetRecordsCommand, { ShardIterator: 'end' }).resolves({ Records: [], NextShardIterator: 'end' });
    const delivered: string[] = [];

    poll(delivered);
    await until(() => delivered.length >= 1, 20_000, 'the first record');

    expect(delivered).toEqual(['1']);
  });
});
