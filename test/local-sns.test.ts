import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  CreateTopicCommand,
  InternalErrorException,
  ListTopicsCommand,
  NotFoundException,
  PublishCommand,
  SNSClient,
  SNSServiceException,
  ThrottledException,
} from '@aws-sdk/client-sns';
import { startLocalSns, type LocalSns } from '../local/sns';
import { publishAlert } from '../shared/core/alerts';

const credentials = { accessKeyId: 'test', secretAccessKey: 'test-secret' };

/**
 * A retry strategy without backoff delays, retrying what the standard strategy retries (the SDK's
 * THROTTLING and TRANSIENT classes) up to 3 attempts. The SDK's retry middleware classifies each
 * error and resends; this records the classes it gave.
 */
function fastRetries(classified: string[]) {
  const token = (count: number) => ({ getRetryCount: () => count, getRetryDelay: () => 0 });
  return {
    acquireInitialRetryToken: async () => token(0),
    refreshRetryTokenForRetry: async (previous: { getRetryCount(): number }, info: { errorType: string }) => {
      classified.push(info.errorType);
      if (!['THROTTLING', 'TRANSIENT'].includes(info.errorType) || previous.getRetryCount() + 1 >= 3) throw new Error('no retry');
      return token(previous.getRetryCount() + 1);
    },
    recordSuccess: () => undefined,
  };
}

describe('local SNS (real SNSClient over HTTP)', () => {
  let sns: LocalSns;
  let client: SNSClient;
  let once: SNSClient;
  let fast: SNSClient;
  const classified: string[] = [];

  beforeAll(async () => {
    sns = await startLocalSns();
    client = new SNSClient({ endpoint: sns.endpoint, region: 'us-east-1', credentials });
    // no SDK retries: each request is answered exactly once
    once = new SNSClient({ endpoint: sns.endpoint, region: 'us-east-1', credentials, maxAttempts: 1 });
    fast = new SNSClient({ endpoint: sns.endpoint, region: 'us-east-1', credentials, retryStrategy: fastRetries(classified) });
  });
  afterEach(() => sns.clearFaults());
  afterAll(async () => {
    client?.destroy();
    once?.destroy();
    fast?.destroy();
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

  it('answers an injected throttle as SNS does (429 Throttled), which the SDK retries: the alert is then recorded exactly once', async () => {
    const { TopicArn } = await client.send(new CreateTopicCommand({ Name: 'throttled-alerts' }));
    sns.fault('Publish', { kind: 'throttle' });
    const throttled = await once.send(new PublishCommand({ TopicArn, Message: 'x' })).catch((e: unknown) => e);
    expect(throttled).toBeInstanceOf(ThrottledException);
    expect(throttled).toMatchObject({ name: 'ThrottledException', $fault: 'client', $metadata: { httpStatusCode: 429 } });
    expect((throttled as ThrottledException).message).toBe('Rate exceeded (local fault injection)');
    expect(sns.messages().filter((m) => m.topicArn === TopicArn)).toEqual([]);

    // the project's own publisher; the SDK classifies the error as a throttle and resends (without the
    // standard strategy's up-to-1 s throttling backoff)
    sns.fault('Publish', { kind: 'throttle' });
    classified.length = 0;
    const requests = sns.requests().Publish ?? 0;
    await publishAlert(fast, TopicArn!, { kind: 'job-failed', subject: 'Job pos-aggregation failed', detail: { job: 'pos-aggregation' } });
    expect(classified).toEqual(['THROTTLING']);
    expect((sns.requests().Publish ?? 0) - requests).toBe(2);
    expect(sns.messages().filter((m) => m.topicArn === TopicArn)).toEqual([
      expect.objectContaining({ subject: 'Job pos-aggregation failed', messageAttributes: { kind: 'job-failed' } }),
    ]);
  });

  it('surfaces an InternalError past the default client retries (3 attempts) as InternalErrorException (500, server fault)', async () => {
    const TopicArn = sns.topicArn('alerts');
    const count = sns.messages().length;
    sns.fault('Publish', { kind: 'error', times: 3 });
    const requests = sns.requests().Publish ?? 0;
    const err = await client.send(new PublishCommand({ TopicArn, Message: 'lost' })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InternalErrorException);
    expect(err).toBeInstanceOf(SNSServiceException);
    expect(err).toMatchObject({
      name: 'InternalErrorException',
      $fault: 'server',
      message: 'An internal error occurred (local fault injection)',
      $metadata: { httpStatusCode: 500, attempts: 3 },
    });
    expect((err as InternalErrorException).$metadata.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect((sns.requests().Publish ?? 0) - requests).toBe(3);
    expect(sns.messages()).toHaveLength(count);
  });

  it('injects the unmodelled throttle (400 ThrottlingException) and 503 ServiceUnavailable, which the SDK classifies and retries', async () => {
    const TopicArn = sns.topicArn('alerts');
    sns.fault('Publish', { kind: 'rate-exceeded' });
    const rate = await once.send(new PublishCommand({ TopicArn, Message: 'x' })).catch((e: unknown) => e);
    // not a ThrottledException: code catching that class alone misses this one
    expect(rate).not.toBeInstanceOf(ThrottledException);
    expect(rate).toBeInstanceOf(SNSServiceException);
    expect(rate).toMatchObject({ name: 'ThrottlingException', $fault: 'client', $metadata: { httpStatusCode: 400 } });
    sns.fault('Publish', { kind: 'unavailable' });
    const unavailable = await once.send(new PublishCommand({ TopicArn, Message: 'x' })).catch((e: unknown) => e);
    expect(unavailable).toMatchObject({ name: 'ServiceUnavailable', $fault: 'server', $metadata: { httpStatusCode: 503 } });

    classified.length = 0;
    const count = sns.messages().length;
    sns.fault('Publish', { kind: 'throttle' });
    sns.fault('Publish', { kind: 'rate-exceeded' });
    await fast.send(new PublishCommand({ TopicArn, Message: 'retried 0' }));
    sns.fault('Publish', { kind: 'error' });
    sns.fault('Publish', { kind: 'unavailable' });
    await fast.send(new PublishCommand({ TopicArn, Message: 'retried 1' }));
    expect(classified).toEqual(['THROTTLING', 'THROTTLING', 'TRANSIENT', 'TRANSIENT']);
    expect(sns.messages().slice(count)).toEqual([
      { topicArn: TopicArn, message: 'retried 0' },
      { topicArn: TopicArn, message: 'retried 1' },
    ]);
  });

  it('answers faults in the Query protocol error shape: Sender for a throttle, Receiver for a server error', async () => {
    const publish = () =>
      fetch(sns.endpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ Action: 'Publish', Version: '2010-03-31', TopicArn: sns.topicArn('alerts'), Message: 'raw' }),
      });
    sns.fault('Publish', { kind: 'throttle' });
    sns.fault('Publish', { kind: 'error' });
    const throttled = await publish();
    const requestId = throttled.headers.get('x-amzn-requestid');
    expect(throttled.status).toBe(429);
    expect(requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(await throttled.text()).toBe(
      [
        '<?xml version="1.0"?>\n<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/">',
        '<Error><Type>Sender</Type><Code>Throttled</Code><Message>Rate exceeded (local fault injection)</Message></Error>',
        `<RequestId>${requestId}</RequestId></ErrorResponse>`,
      ].join(''),
    );
    const failed = await publish();
    expect(failed.status).toBe(500);
    expect(await failed.text()).toContain('<Error><Type>Receiver</Type><Code>InternalError</Code>');
  });

  it('clears faults not yet fired', async () => {
    const TopicArn = sns.topicArn('alerts');
    sns.fault('Publish', { kind: 'error', times: 5 });
    sns.fault('CreateTopic', { kind: 'throttle' });
    sns.clearFaults();
    const requests = sns.requests().Publish ?? 0;
    await once.send(new PublishCommand({ TopicArn, Message: 'after clear' }));
    await once.send(new CreateTopicCommand({ Name: 'alerts' }));
    expect((sns.requests().Publish ?? 0) - requests).toBe(1);
    expect(sns.messages().at(-1)).toEqual({ topicArn: TopicArn, message: 'after clear' });
  });

  it('scopes a fault to a topic and an operation, leaving the others alone', async () => {
    const { TopicArn: other } = await client.send(new CreateTopicCommand({ Name: 'other' }));
    const alerts = sns.topicArn('alerts');
    sns.fault('Publish', { kind: 'error', topicArn: alerts });
    await once.send(new ListTopicsCommand({}));
    await once.send(new CreateTopicCommand({ Name: 'alerts' }));
    await once.send(new PublishCommand({ TopicArn: other, Message: 'unaffected' }));
    expect(sns.messages().at(-1)).toEqual({ topicArn: other, message: 'unaffected' });
    await expect(once.send(new PublishCommand({ TopicArn: alerts, Message: 'x' }))).rejects.toBeInstanceOf(InternalErrorException);
    await once.send(new PublishCommand({ TopicArn: alerts, Message: 'fired once' }));
    expect(sns.messages().at(-1)).toEqual({ topicArn: alerts, message: 'fired once' });

    // CreateTopic is scoped by the ARN it names
    sns.fault('CreateTopic', { kind: 'throttle', topicArn: sns.topicArn('scoped') });
    await once.send(new CreateTopicCommand({ Name: 'other' }));
    await expect(once.send(new CreateTopicCommand({ Name: 'scoped' }))).rejects.toBeInstanceOf(ThrottledException);
  });

  it('refuses a fault on an operation it does not have, or one that could never fire', () => {
    expect(() => sns.fault('Subscribe', { kind: 'throttle' })).toThrow('local SNS: no operation Subscribe');
    expect(() => sns.fault('ListTopics', { kind: 'error', topicArn: sns.topicArn('alerts') })).toThrow(/never fires/);
  });
});
