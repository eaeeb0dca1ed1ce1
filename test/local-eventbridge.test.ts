import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  CreateEventBusCommand,
  DescribeEventBusCommand,
  EventBridgeClient,
  InternalException,
  ListEventBusesCommand,
  PutEventsCommand,
  ResourceAlreadyExistsException,
  ResourceNotFoundException,
} from '@aws-sdk/client-eventbridge';
import { startLocalEventBridge, type LocalEventBridge } from '../local/eventbridge';

const credentials = { accessKeyId: 'test', secretAccessKey: 'test-secret' };
const entry = (detail: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  Source: 'landfall',
  DetailType: 'Run state changed',
  Detail: JSON.stringify(detail),
  EventBusName: 'landfall-test',
  ...extra,
});

describe('local EventBridge (real EventBridgeClient over HTTP)', () => {
  let bridge: LocalEventBridge;
  let client: EventBridgeClient;
  let once: EventBridgeClient;

  beforeAll(async () => {
    bridge = await startLocalEventBridge({ buses: ['landfall-test'] });
    client = new EventBridgeClient({ endpoint: bridge.endpoint, region: 'us-east-1', credentials });
    // no SDK retries: each request is answered exactly once
    once = new EventBridgeClient({ endpoint: bridge.endpoint, region: 'us-east-1', credentials, maxAttempts: 1 });
  });
  afterEach(() => bridge.clearFaults());
  afterAll(async () => {
    client.destroy();
    once.destroy();
    await bridge.stop();
  });

  it('accepts events on a bus named by name or ARN, keeping them with their detail and time', async () => {
    const before = bridge.events().length;
    const at = new Date('2026-11-23T10:00:00.000Z');
    const out = await client.send(
      new PutEventsCommand({
        Entries: [entry({ state: 'RUNNING', job: 'j' }, { Time: at }), entry({ state: 'SUCCEEDED' }, { EventBusName: bridge.busArn('landfall-test') })],
      }),
    );
    expect(out.FailedEntryCount).toBe(0);
    expect(out.Entries?.every((e) => typeof e.EventId === 'string' && !e.ErrorCode)).toBe(true);
    const got = bridge.events().slice(before);
    expect(got.map((e) => [e.bus, e.source, e.detailType, e.detail.state])).toEqual([
      ['landfall-test', 'landfall', 'Run state changed', 'RUNNING'],
      ['landfall-test', 'landfall', 'Run state changed', 'SUCCEEDED'],
    ]);
    expect(got[0]!.time).toBe(at.toISOString());
    expect(got.map((e) => e.id)).toEqual(out.Entries!.map((e) => e.EventId));
  });

  it('fails an entry (not the request) on a missing bus, a malformed detail or a missing source', async () => {
    const before = bridge.events().length;
    const failedBefore = bridge.failedEntries();
    const out = await client.send(
      new PutEventsCommand({
        Entries: [
          entry({ ok: 1 }, { EventBusName: 'nobody' }),
          entry({}, { Detail: '[1,2]' }),
          entry({}, { Detail: '{not json' }),
          { DetailType: 'x', Detail: '{}' },
          entry({ ok: 2 }),
        ],
      }),
    );
    expect(out.FailedEntryCount).toBe(4);
    expect(out.Entries?.map((e) => e.ErrorCode)).toEqual(['ResourceNotFoundException', 'MalformedDetail', 'MalformedDetail', 'InvalidArgument', undefined]);
    expect(
      bridge
        .events()
        .slice(before)
        .map((e) => e.detail),
    ).toEqual([{ ok: 2 }]);
    expect(bridge.failedEntries() - failedBefore).toBe(4);
  });

  it('refuses more than 10 entries, or none, as the request', async () => {
    const eleven = Array.from({ length: 11 }, (_, i) => entry({ i }));
    await expect(client.send(new PutEventsCommand({ Entries: eleven }))).rejects.toMatchObject({ name: 'ValidationException' });
    await expect(client.send(new PutEventsCommand({ Entries: [] }))).rejects.toMatchObject({ name: 'ValidationException' });
    const big = entry({ text: 'x'.repeat(200 * 1024) });
    await expect(client.send(new PutEventsCommand({ Entries: [big, big] }))).rejects.toThrow(/over the limit/);
  });

  it('fails injected entries in a 200 answer, by detail type when asked', async () => {
    bridge.failEntries({ entries: 1, detailType: 'File state changed' });
    const before = bridge.events().length;
    const out = await client.send(
      new PutEventsCommand({
        Entries: [entry({ n: 1 }), entry({ n: 2 }, { DetailType: 'File state changed' }), entry({ n: 3 }, { DetailType: 'File state changed' })],
      }),
    );
    expect(out.FailedEntryCount).toBe(1);
    expect(out.Entries?.map((e) => e.ErrorCode)).toEqual([undefined, 'ThrottlingException', undefined]);
    expect(
      bridge
        .events()
        .slice(before)
        .map((e) => e.detail.n),
    ).toEqual([1, 3]);
  });

  it('throttles requests: the SDK retries a throttled request by itself, and one without retries sees the error', async () => {
    const before = bridge.requests().PutEvents ?? 0;
    bridge.fault('PutEvents', { kind: 'throttle', times: 1 });
    const out = await client.send(new PutEventsCommand({ Entries: [entry({ n: 'after a throttle' })] }));
    expect(out.FailedEntryCount).toBe(0);
    expect((bridge.requests().PutEvents ?? 0) - before).toBe(2);
    bridge.fault('PutEvents', { kind: 'throttle' });
    await expect(once.send(new PutEventsCommand({ Entries: [entry({})] }))).rejects.toMatchObject({ name: 'ThrottlingException' });
    bridge.fault('PutEvents', { kind: 'error' });
    await expect(once.send(new PutEventsCommand({ Entries: [entry({})] }))).rejects.toBeInstanceOf(InternalException);
    expect(bridge.events().filter((e) => e.detail.n === 'after a throttle')).toHaveLength(1);
  });

  it('creates, describes and lists buses', async () => {
    const created = await client.send(new CreateEventBusCommand({ Name: 'another' }));
    expect(created.EventBusArn).toBe(bridge.busArn('another'));
    await expect(client.send(new CreateEventBusCommand({ Name: 'another' }))).rejects.toBeInstanceOf(ResourceAlreadyExistsException);
    expect((await client.send(new DescribeEventBusCommand({ Name: 'default' }))).Arn).toBe(bridge.busArn('default'));
    await expect(client.send(new DescribeEventBusCommand({ Name: 'missing' }))).rejects.toBeInstanceOf(ResourceNotFoundException);
    const listed = await client.send(new ListEventBusesCommand({ NamePrefix: 'an' }));
    expect(listed.EventBuses?.map((b) => b.Name)).toEqual(['another']);
  });
});
