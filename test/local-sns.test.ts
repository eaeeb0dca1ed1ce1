import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateTopicCommand, ListTopicsCommand, NotFoundException, PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { startLocalSns, type LocalSns } from '../local/sns';

describe('local SNS (real SNSClient over HTTP)', () => {
  let sns: LocalSns;
  let client: SNSClient;

  beforeAll(async () => {
    sns = await startLocalSns();
    client = new SNSClient({ endpoint: sns.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test-secret' } });
  });
  afterAll(async () => {
    client?.destroy();
    await sns?.stop();
  });

  it('creates topics idempotently and lists them', async () => {
    const first = await client.send(new CreateTopicCommand({ Name: 'job-failures' }));
    const again = await client.send(new CreateTopicCommand({ Name: 'job-failures' }));
    expect(first.TopicArn).toBe('arn:aws:sns:us-east-1:000000000000:job-failures');
    expect(again.TopicArn).toBe(first.TopicArn);
    expect(sns.topicArn('job-failures')).toBe(first.TopicArn);
    const listed = await client.send(new ListTopicsCommand({}));
    expect(listed.Topics).toEqual([{ TopicArn: first.TopicArn }]);
  });

  it('records a publish with its subject and message attributes', async () => {
    const { TopicArn } = await client.send(new CreateTopicCommand({ Name: 'alerts' }));
    const out = await client.send(
      new PublishCommand({
        TopicArn,
        Subject: 'Job pos-aggregation failed',
        Message: JSON.stringify({ job: 'pos-aggregation', error: 'TransientError' }),
        MessageAttributes: {
          job: { DataType: 'String', StringValue: 'pos-aggregation' },
          attempt: { DataType: 'Number', StringValue: '3' },
          note: { DataType: 'String', StringValue: 'a & b <c>' },
        },
      }),
    );
    expect(out.MessageId).toMatch(/^[0-9a-f-]{36}$/);
    expect(sns.messages().at(-1)).toEqual({
      topicArn: TopicArn,
      subject: 'Job pos-aggregation failed',
      message: '{"job":"pos-aggregation","error":"TransientError"}',
      messageAttributes: { job: 'pos-aggregation', attempt: '3', note: 'a & b <c>' },
    });
  });

  it('records a bare publish without subject or attributes', async () => {
    const TopicArn = sns.topicArn('alerts');
    await client.send(new PublishCommand({ TopicArn, Message: 'plain' }));
    expect(sns.messages().at(-1)).toEqual({ topicArn: TopicArn, message: 'plain' });
  });

  it('raises NotFoundException for an unknown topic', async () => {
    const count = sns.messages().length;
    const err = await client.send(new PublishCommand({ TopicArn: sns.topicArn('nope'), Message: 'x' })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotFoundException);
    expect((err as NotFoundException).message).toBe('Topic does not exist');
    expect((err as NotFoundException).$metadata.httpStatusCode).toBe(404);
    expect(sns.messages()).toHaveLength(count);
  });
});
