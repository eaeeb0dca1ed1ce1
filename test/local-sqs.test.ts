import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ChangeMessageVisibilityCommand,
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  MessageNotInflight,
  PurgeQueueCommand,
  PurgeQueueInProgress,
  QueueDoesNotExist,
  QueueNameExists,
  ReceiptHandleIsInvalid,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { md5OfMessageAttributes, startLocalSqs, type LocalSqs } from '../local/sqs';

const credentials = { accessKeyId: 'test', secretAccessKey: 'test-secret' };
const md5 = (text: string) => createHash('md5').update(text).digest('hex');

describe('local SQS (real SQSClient over the JSON protocol)', () => {
  let sqs: LocalSqs;
  let client: SQSClient;
  // no SDK retries: each request is answered exactly once, so faults can be counted
  let once: SQSClient;

  beforeAll(async () => {
    sqs = await startLocalSqs();
    client = new SQSClient({ endpoint: sqs.endpoint, region: 'us-east-1', credentials });
    once = new SQSClient({ endpoint: sqs.endpoint, region: 'us-east-1', credentials, maxAttempts: 1 });
  });
  afterAll(async () => {
    client?.destroy();
    once?.destroy();
    await sqs?.stop();
  });

  const newQueue = async (name: string, attributes?: Record<string, string>) =>
    (await client.send(new CreateQueueCommand({ QueueName: name, ...(attributes ? { Attributes: attributes } : {}) }))).QueueUrl!;

  it('creates queues idempotently, finds them by name and refuses other attributes under the same name', async () => {
    const url = await newQueue('failed-events', { MessageRetentionPeriod: '1209600' });
    expect(url).toBe(`${sqs.endpoint}/000000000000/failed-events`);
    expect(await newQueue('failed-events', { MessageRetentionPeriod: '1209600' })).toBe(url);
    expect((await client.send(new GetQueueUrlCommand({ QueueName: 'failed-events' }))).QueueUrl).toBe(url);
    await expect(client.send(new CreateQueueCommand({ QueueName: 'failed-events', Attributes: { VisibilityTimeout: '5' } }))).rejects.toBeInstanceOf(
      QueueNameExists,
    );
    await expect(client.send(new GetQueueUrlCommand({ QueueName: 'nope' }))).rejects.toBeInstanceOf(QueueDoesNotExist);
    await expect(client.send(new SendMessageCommand({ QueueUrl: `${sqs.endpoint}/000000000000/nope`, MessageBody: 'x' }))).rejects.toBeInstanceOf(
      QueueDoesNotExist,
    );
  });

  it('sends and receives with the MD5 digests the client checks, and message attributes', async () => {
    const url = await newQueue('roundtrip');
    const body = JSON.stringify({ version: '1.0', note: 'ünïcode ✓' });
    const attributes = { kind: { DataType: 'String', StringValue: 'async' }, tries: { DataType: 'Number', StringValue: '3' } };
    const sent = await client.send(new SendMessageCommand({ QueueUrl: url, MessageBody: body, MessageAttributes: attributes }));
    // the client itself rejects a wrong MD5OfMessageBody (SendMessage) and MD5OfBody (ReceiveMessage)
    expect(sent.MD5OfMessageBody).toBe(md5(body));
    expect(sent.MD5OfMessageAttributes).toBe(md5OfMessageAttributes(attributes));
    const got = await client.send(
      new ReceiveMessageCommand({
        QueueUrl: url,
        MaxNumberOfMessages: 10,
        MessageAttributeNames: ['All'],
        MessageSystemAttributeNames: ['ApproximateReceiveCount', 'SentTimestamp'],
      }),
    );
    expect(got.Messages).toHaveLength(1);
    const [m] = got.Messages!;
    expect(m).toMatchObject({ MessageId: sent.MessageId, Body: body, MD5OfBody: md5(body), MessageAttributes: attributes });
    expect(m!.Attributes).toEqual({ ApproximateReceiveCount: '1', SentTimestamp: expect.stringMatching(/^\d{13}$/) });
    await client.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: m!.ReceiptHandle }));
    expect(sqs.messages('roundtrip')).toEqual([]);
  });

  it('brings back a received message that was not deleted once its visibility timeout is over, with a new receipt handle', async () => {
    const url = await newQueue('visibility');
    await client.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'stuck file' }));
    const first = await client.send(new ReceiveMessageCommand({ QueueUrl: url, VisibilityTimeout: 1 }));
    expect(first.Messages).toHaveLength(1);
    // invisible while in flight
    expect((await client.send(new ReceiveMessageCommand({ QueueUrl: url }))).Messages).toBeUndefined();
    const attrs = await client.send(
      new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
    );
    expect(attrs.Attributes).toEqual({ ApproximateNumberOfMessages: '0', ApproximateNumberOfMessagesNotVisible: '1' });
    // a long poll picks it up as soon as it is visible again
    const started = Date.now();
    const again = await client.send(new ReceiveMessageCommand({ QueueUrl: url, WaitTimeSeconds: 3, MessageSystemAttributeNames: ['ApproximateReceiveCount'] }));
    expect(Date.now() - started).toBeLessThan(2500);
    expect(again.Messages![0]!.Body).toBe('stuck file');
    expect(again.Messages![0]!.Attributes).toEqual({ ApproximateReceiveCount: '2' });
    expect(again.Messages![0]!.ReceiptHandle).not.toBe(first.Messages![0]!.ReceiptHandle);
    // the old handle succeeds but deletes nothing (AWS: only the newest handle deletes)
    await client.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: first.Messages![0]!.ReceiptHandle }));
    expect(sqs.messages('visibility')).toHaveLength(1);
    await client.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: again.Messages![0]!.ReceiptHandle }));
    expect(sqs.messages('visibility')).toHaveLength(0);
    await expect(client.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: 'garbage' }))).rejects.toBeInstanceOf(ReceiptHandleIsInvalid);
  });

  it('receives at most MaxNumberOfMessages, keeps a message in flight with ChangeMessageVisibility, deletes in batches', async () => {
    const url = await newQueue('batch');
    for (let i = 0; i < 12; i++) await client.send(new SendMessageCommand({ QueueUrl: url, MessageBody: `m${i}` }));
    const got = await client.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, VisibilityTimeout: 0 }));
    expect(got.Messages!.map((m) => m.Body)).toEqual(Array.from({ length: 10 }, (_, i) => `m${i}`));
    // VisibilityTimeout 0: all visible again at once; now keep the first one in flight for a minute
    const first = await client.send(new ReceiveMessageCommand({ QueueUrl: url, VisibilityTimeout: 5 }));
    expect(first.Messages![0]!.Body).toBe('m0');
    await client.send(new ChangeMessageVisibilityCommand({ QueueUrl: url, ReceiptHandle: first.Messages![0]!.ReceiptHandle, VisibilityTimeout: 60 }));
    const rest = await client.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, VisibilityTimeout: 0 }));
    expect(rest.Messages!.map((m) => m.Body)).toEqual(Array.from({ length: 10 }, (_, i) => `m${i + 1}`));
    // a visible message is not in flight
    await expect(
      client.send(new ChangeMessageVisibilityCommand({ QueueUrl: url, ReceiptHandle: rest.Messages![0]!.ReceiptHandle, VisibilityTimeout: 10 })),
    ).rejects.toBeInstanceOf(MessageNotInflight);
    const deleted = await client.send(
      new DeleteMessageBatchCommand({
        QueueUrl: url,
        Entries: [...rest.Messages!.slice(0, 9).map((m, i) => ({ Id: `e${i}`, ReceiptHandle: m.ReceiptHandle })), { Id: 'bad', ReceiptHandle: 'garbage' }],
      }),
    );
    expect(deleted.Successful).toHaveLength(9);
    expect(sqs.messages('batch').map((m) => m.body)).toEqual(['m0', 'm10', 'm11']);
    expect(deleted.Failed).toEqual([expect.objectContaining({ Id: 'bad', Code: 'ReceiptHandleIsInvalid', SenderFault: true })]);
  });

  it('purges a queue, and only once a minute', async () => {
    const url = await newQueue('purge');
    await client.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'a' }));
    await client.send(new PurgeQueueCommand({ QueueUrl: url }));
    const attrs = await client.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['All'] }));
    expect(attrs.Attributes).toMatchObject({ ApproximateNumberOfMessages: '0', QueueArn: 'arn:aws:sqs:us-east-1:000000000000:purge', VisibilityTimeout: '30' });
    await expect(client.send(new PurgeQueueCommand({ QueueUrl: url }))).rejects.toBeInstanceOf(PurgeQueueInProgress);
  });

  it('injects throttling and internal errors per operation; the SDK retries them', async () => {
    const url = await newQueue('faults');
    sqs.fault('SendMessage', { kind: 'throttle' });
    const throttled = await once.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'x' })).catch((e: Error) => e);
    expect(throttled).toMatchObject({ name: 'RequestThrottled', $metadata: { httpStatusCode: 403 } });
    sqs.fault('ReceiveMessage', { kind: 'error', times: 2 });
    const before = sqs.requests().ReceiveMessage ?? 0;
    // the default client retries (3 attempts): two 500s, then the answer
    const got = await client.send(new ReceiveMessageCommand({ QueueUrl: url }));
    expect(got.Messages).toBeUndefined();
    expect((sqs.requests().ReceiveMessage ?? 0) - before).toBe(3);
    sqs.fault('GetQueueUrl', { kind: 'unavailable', times: 5 });
    await expect(once.send(new GetQueueUrlCommand({ QueueName: 'faults' }))).rejects.toMatchObject({ $metadata: { httpStatusCode: 503 } });
    sqs.clearFaults();
    expect((await once.send(new GetQueueUrlCommand({ QueueName: 'faults' }))).QueueUrl).toBe(url);
  });
});
