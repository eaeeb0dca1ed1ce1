import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { DescribeTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DescribeStreamCommand, type DynamoDBStreamsClient, GetRecordsCommand, GetShardIteratorCommand, type _Record } from '@aws-sdk/client-dynamodb-streams';
import type { DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';

/** `filterPatterns` of serverless.yml: nested keys, arrays of allowed values (or `{ prefix }` rules) at the leaves. */
export type FilterPattern = Record<string, unknown>;

const isPrefixRule = (rule: unknown): rule is { prefix: string } =>
  rule !== null && typeof rule === 'object' && typeof (rule as { prefix?: unknown }).prefix === 'string';

export function matchesPattern(value: unknown, pattern: unknown): boolean {
  if (Array.isArray(pattern))
    return pattern.some((allowed) => (isPrefixRule(allowed) ? typeof value === 'string' && value.startsWith(allowed.prefix) : allowed === value));
  if (pattern && typeof pattern === 'object') {
    return Object.entries(pattern).every(([k, p]) => value !== null && typeof value === 'object' && matchesPattern((value as Record<string, unknown>)[k], p));
  }
  return pattern === value;
}

export interface StreamPollerOptions {
  dynamodb: DynamoDBClient;
  streams: DynamoDBStreamsClient;
  tableName: string;
  batchSize: number;
  filterPatterns: FilterPattern[];
  /** the function behind the mapping; its `batchItemFailures` are retried from the first one */
  deliver: (event: DynamoDBStreamEvent) => Promise<unknown>;
  maxRetries?: number;
  /** a batch whose retries ran out (awaited before the shard moves on) */
  onDiscard?: (records: DynamoDBRecord[], error: string, batch: DiscardedBatch) => void | Promise<void>;
  /** fault injection: a record for which this answers true is never delivered (a lost record) */
  dropRecord?: (record: DynamoDBRecord) => boolean;
}

/** Where a discarded batch came from and how it failed. */
export interface DiscardedBatch {
  shardId: string;
  streamArn: string;
  /** deliveries made, the first included */
  attempts: number;
  /** true when the function threw (Unhandled); false when it reported batch item failures */
  functionError: boolean;
}

/**
 * What Lambda's event source mapping sends to its on-failure destination for a DynamoDB stream
 * batch it gave up on: the batch's coordinates, not its records (AWS: "Retaining records of
 * failed invocations" of a stream event source).
 */
export interface StreamBatchFailureRecord {
  requestContext: { requestId: string; functionArn: string; condition: 'RetryAttemptsExhausted'; approximateInvokeCount: number };
  responseContext: { statusCode: 200; executedVersion: '$LATEST'; functionError?: 'Unhandled' };
  version: '1.0';
  timestamp: string;
  DDBStreamBatchInfo: {
    shardId: string;
    startSequenceNumber: string;
    endSequenceNumber: string;
    approximateArrivalOfFirstRecord: string;
    approximateArrivalOfLastRecord: string;
    batchSize: number;
    streamArn: string;
  };
}

/** ISO 8601 to the second, as the record's arrival times are written. */
const arrival = (epochSeconds: number | undefined) => new Date((epochSeconds ?? 0) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');

export function streamBatchFailureRecord(records: DynamoDBRecord[], batch: DiscardedBatch, functionArn: string): StreamBatchFailureRecord {
  const first = records[0]?.dynamodb;
  const last = records[records.length - 1]?.dynamodb;
  return {
    requestContext: { requestId: randomUUID(), functionArn, condition: 'RetryAttemptsExhausted', approximateInvokeCount: batch.attempts },
    responseContext: { statusCode: 200, executedVersion: '$LATEST', ...(batch.functionError ? { functionError: 'Unhandled' as const } : {}) },
    version: '1.0',
    timestamp: new Date().toISOString(),
    DDBStreamBatchInfo: {
      shardId: batch.shardId,
      startSequenceNumber: first?.SequenceNumber ?? '',
      endSequenceNumber: last?.SequenceNumber ?? '',
      approximateArrivalOfFirstRecord: arrival(first?.ApproximateCreationDateTime),
      approximateArrivalOfLastRecord: arrival(last?.ApproximateCreationDateTime),
      batchSize: records.length,
      streamArn: batch.streamArn,
    },
  };
}

function toLambdaRecord(record: _Record, streamArn: string, region: string): DynamoDBRecord {
  const d = record.dynamodb!;
  return {
    eventID: record.eventID!,
    eventName: record.eventName as DynamoDBRecord['eventName'],
    eventVersion: '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: region,
    eventSourceARN: streamArn,
    dynamodb: {
      ...(d.Keys ? { Keys: d.Keys as never } : {}),
      ...(d.NewImage ? { NewImage: d.NewImage as never } : {}),
      ...(d.OldImage ? { OldImage: d.OldImage as never } : {}),
      SequenceNumber: d.SequenceNumber!,
      SizeBytes: d.SizeBytes ?? 0,
      StreamViewType: d.StreamViewType as never,
      ApproximateCreationDateTime: d.ApproximateCreationDateTime ? Math.floor(d.ApproximateCreationDateTime.getTime() / 1000) : Math.floor(Date.now() / 1000),
    },
  };
}

/** The longest wait between two polls after errors in a row. */
const MAX_ERROR_BACKOFF_MS = 5000;

/**
 * Lambda's event source mapping for a DynamoDB Stream, on DynamoDB Local: reads every shard from
 * the start, keeps the records that match the filter patterns, delivers them in batches, and
 * retries from the first reported failure (ReportBatchItemFailures) before moving on.
 *
 * Like the mapping, it never stops on its own: an error reading the stream (DynamoDB Local
 * refusing or dropping a request under load) is followed by fresh iterators from the last record
 * delivered, after a back-off, so records are delivered late (perhaps twice), never lost.
 */
export function startStreamPoller(options: StreamPollerOptions): { stop(): Promise<void> } {
  let running = true;
  const region = 'us-east-1';
  const loop = async () => {
    let streamArn: string | undefined;
    const iterators = new Map<string, string | undefined>();
    // where each shard was delivered up to, to get a fresh iterator after an error without re-reading
    const lastSequence = new Map<string, string>();
    const iteratorFor = async (shardId: string) => {
      const after = lastSequence.get(shardId);
      const it = await options.streams.send(
        new GetShardIteratorCommand({
          StreamArn: streamArn,
          ShardId: shardId,
          ...(after ? { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: after } : { ShardIteratorType: 'TRIM_HORIZON' }),
        }),
      );
      return it.ShardIterator;
    };
    let lastDescribe = 0;
    const poll = async (): Promise<boolean> => {
      streamArn ??= (await options.dynamodb.send(new DescribeTableCommand({ TableName: options.tableName }))).Table!.LatestStreamArn!;
      const arn = streamArn;
      if (Date.now() - lastDescribe > 2000) {
        const stream = await options.streams.send(new DescribeStreamCommand({ StreamArn: arn }));
        for (const shard of stream.StreamDescription?.Shards ?? []) {
          if (!iterators.has(shard.ShardId!)) iterators.set(shard.ShardId!, await iteratorFor(shard.ShardId!));
        }
        lastDescribe = Date.now();
      }
      let any = false;
      for (const [shardId, iterator] of iterators) {
        if (!iterator || !running) continue;
        let out;
        try {
          out = await options.streams.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: options.batchSize }));
        } catch (err) {
          // DynamoDB Local sometimes refuses an iterator of a young shard (TrimmedDataAccessException)
          // or lets it expire: take a fresh one from where this shard was delivered up to.
          if (!['TrimmedDataAccessException', 'ExpiredIteratorException'].includes((err as Error).name)) throw err;
          iterators.set(shardId, await iteratorFor(shardId));
          continue;
        }
        const fetched = out.Records ?? [];
        const records = fetched
          .map((r) => toLambdaRecord(r, arn, region))
          .filter((r) => options.filterPatterns.length === 0 || options.filterPatterns.some((p) => matchesPattern(r, p)))
          .filter((r) => !options.dropRecord?.(r));
        if (records.length > 0) {
          any = true;
          await deliverWithRetries(records, options, { shardId, streamArn: arn });
        }
        // only once delivered (or filtered out): an error before this reads them again
        if (fetched.length > 0) lastSequence.set(shardId, fetched[fetched.length - 1]!.dynamodb!.SequenceNumber!);
        iterators.set(shardId, out.NextShardIterator);
      }
      return any;
    };
    let errorsInARow = 0;
    while (running) {
      try {
        const any = await poll();
        errorsInARow = 0;
        if (!any) await sleep(50);
      } catch (err) {
        if (!running) return;
        errorsInARow += 1;
        if (errorsInARow === 1) process.stderr.write(`landfall local stream poller (${options.tableName}): ${(err as Error).message}; polling again\n`);
        // the iterators may be spent: fresh ones from where each shard was delivered up to
        iterators.clear();
        lastDescribe = 0;
        await sleep(Math.min(MAX_ERROR_BACKOFF_MS, 100 * 2 ** errorsInARow));
      }
    }
  };
  const done = loop();
  return {
    async stop() {
      running = false;
      await done;
    },
  };
}

async function deliverWithRetries(records: DynamoDBRecord[], options: StreamPollerOptions, source: { shardId: string; streamArn: string }): Promise<void> {
  let pending = records;
  const maxRetries = options.maxRetries ?? 5;
  for (let attempt = 0; pending.length > 0; attempt += 1) {
    let error = '';
    let functionError = false;
    try {
      const result = (await options.deliver({ Records: pending })) as { batchItemFailures?: Array<{ itemIdentifier: string }> } | undefined;
      const failures = result?.batchItemFailures ?? [];
      if (failures.length === 0) return;
      const first = pending.findIndex((r) => failures.some((f) => f.itemIdentifier === r.dynamodb!.SequenceNumber));
      pending = first === -1 ? [] : pending.slice(first);
      error = 'batch item failures reported';
    } catch (err) {
      error = (err as Error).message;
      functionError = true;
    }
    if (attempt >= maxRetries) {
      await options.onDiscard?.(pending, error, { ...source, attempts: attempt + 1, functionError });
      return;
    }
    await sleep(100 * 2 ** attempt);
  }
}
