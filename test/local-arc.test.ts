import { afterEach, beforeAll, afterAll, describe, expect, it, vi } from 'vitest';
import {
  ConflictException,
  EndpointTemporarilyUnavailableException,
  GetRoutingControlStateCommand,
  ListRoutingControlsCommand,
  ResourceNotFoundException,
  Route53RecoveryClusterClient,
  Route53RecoveryClusterServiceException,
  ThrottlingException,
  UpdateRoutingControlStateCommand,
  UpdateRoutingControlStatesCommand,
  ValidationException,
} from '@aws-sdk/client-route53-recovery-cluster';
import { startLocalArc, type LocalArc } from '../local/arc';

describe('local ARC (real Route53RecoveryClusterClient over HTTP)', () => {
  let arc: LocalArc | undefined;
  const clients: Route53RecoveryClusterClient[] = [];
  const clientFor = (endpoint: string, region = 'us-east-1') => {
    const client = new Route53RecoveryClusterClient({ endpoint, region, maxAttempts: 1 });
    clients.push(client);
    return client;
  };
  const start = async (clusters = ['emr-a', 'emr-b'], active = 'emr-a') => {
    arc = await startLocalArc({ clusters, active });
    return arc;
  };
  const failure = (p: Promise<unknown>) =>
    p.then(
      () => expect.fail('expected the call to fail'),
      (e: unknown) => e,
    );

  beforeAll(() => {
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'test');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'test-secret');
  });
  afterAll(() => vi.unstubAllEnvs());
  afterEach(async () => {
    for (const client of clients.splice(0)) client.destroy();
    await arc?.stop();
    arc = undefined;
  });

  it('has five endpoints sharing one state and lists both routing controls', async () => {
    const arc = await start();
    expect(arc.endpoints).toHaveLength(5);
    expect(new Set(arc.endpoints).size).toBe(5);
    for (const endpoint of arc.endpoints) expect(endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(arc.controlArn('emr-a')).toMatch(/^arn:aws:route53-recovery-control::000000000000:controlpanel\/[0-9a-f]{32}\/routingcontrol\/emr-a$/);
    expect(arc.states()).toEqual({ 'emr-a': 'On', 'emr-b': 'Off' });

    const listed = await clientFor(arc.endpoints[3]!).send(new ListRoutingControlsCommand({ ControlPanelArn: arc.controlPanelArn }));
    expect(listed.NextToken).toBeUndefined();
    expect(listed.RoutingControls).toEqual([
      {
        ControlPanelArn: arc.controlPanelArn,
        ControlPanelName: 'landfall-emr',
        RoutingControlArn: arc.controlArn('emr-a'),
        RoutingControlName: 'emr-a',
        RoutingControlState: 'On',
        Owner: '000000000000',
      },
      {
        ControlPanelArn: arc.controlPanelArn,
        ControlPanelName: 'landfall-emr',
        RoutingControlArn: arc.controlArn('emr-b'),
        RoutingControlName: 'emr-b',
        RoutingControlState: 'Off',
        Owner: '000000000000',
      },
    ]);

    // paginated
    const client = clientFor(arc.endpoints[0]!);
    const first = await client.send(new ListRoutingControlsCommand({ MaxResults: 1 }));
    expect(first.RoutingControls?.map((c) => c.RoutingControlName)).toEqual(['emr-a']);
    const second = await client.send(new ListRoutingControlsCommand({ MaxResults: 1, NextToken: first.NextToken }));
    expect(second.RoutingControls?.map((c) => c.RoutingControlName)).toEqual(['emr-b']);
    expect(second.NextToken).toBeUndefined();

    const err = await failure(client.send(new ListRoutingControlsCommand({ ControlPanelArn: `${arc.controlPanelArn}0` })));
    expect(err).toBeInstanceOf(ResourceNotFoundException);
    expect((err as ResourceNotFoundException).resourceType).toBe('ControlPanel');
  });

  it('reads a state from every endpoint and refuses unknown or malformed input with typed errors', async () => {
    const arc = await start();
    for (const endpoint of arc.endpoints) {
      const out = await clientFor(endpoint).send(new GetRoutingControlStateCommand({ RoutingControlArn: arc.controlArn('emr-b') }));
      expect(out).toMatchObject({ RoutingControlArn: arc.controlArn('emr-b'), RoutingControlState: 'Off', RoutingControlName: 'emr-b' });
    }
    const client = clientFor(arc.endpoints[0]!);
    const missing = await failure(client.send(new GetRoutingControlStateCommand({ RoutingControlArn: arc.controlArn('emr-c') })));
    expect(missing).toBeInstanceOf(ResourceNotFoundException);
    expect((missing as ResourceNotFoundException).resourceId).toBe(arc.controlArn('emr-c'));
    expect((missing as ResourceNotFoundException).$metadata.httpStatusCode).toBe(404);

    const bad = await failure(
      client.send(new UpdateRoutingControlStateCommand({ RoutingControlArn: arc.controlArn('emr-a'), RoutingControlState: 'Maybe' as 'On' })),
    );
    expect(bad).toBeInstanceOf(ValidationException);
    expect((bad as ValidationException).reason).toBe('fieldValidationFailed');
    expect((bad as ValidationException).fields).toEqual([{ name: 'RoutingControlState', message: expect.stringContaining('[On, Off]') }]);
    expect(arc.states()).toEqual({ 'emr-a': 'On', 'emr-b': 'Off' });
  });

  it('applies a batch flip atomically and it is seen on every endpoint', async () => {
    const arc = await start();
    await clientFor(arc.endpoints[2]!).send(
      new UpdateRoutingControlStatesCommand({
        UpdateRoutingControlStateEntries: [
          { RoutingControlArn: arc.controlArn('emr-a'), RoutingControlState: 'Off' },
          { RoutingControlArn: arc.controlArn('emr-b'), RoutingControlState: 'On' },
        ],
      }),
    );
    expect(arc.states()).toEqual({ 'emr-a': 'Off', 'emr-b': 'On' });
    const read = await clientFor(arc.endpoints[4]!).send(new GetRoutingControlStateCommand({ RoutingControlArn: arc.controlArn('emr-b') }));
    expect(read.RoutingControlState).toBe('On');
  });

  it('refuses, with ConflictException naming the safety rule, any update leaving both On or both Off, and changes nothing', async () => {
    const arc = await start();
    const client = clientFor(arc.endpoints[1]!);
    const a = arc.controlArn('emr-a');
    const b = arc.controlArn('emr-b');
    const attempts = [
      new UpdateRoutingControlStatesCommand({
        UpdateRoutingControlStateEntries: [
          { RoutingControlArn: a, RoutingControlState: 'On' },
          { RoutingControlArn: b, RoutingControlState: 'On' },
        ],
      }),
      new UpdateRoutingControlStatesCommand({
        UpdateRoutingControlStateEntries: [
          { RoutingControlArn: a, RoutingControlState: 'Off' },
          { RoutingControlArn: b, RoutingControlState: 'Off' },
        ],
      }),
      new UpdateRoutingControlStateCommand({ RoutingControlArn: b, RoutingControlState: 'On' }), // would leave two On
      new UpdateRoutingControlStateCommand({ RoutingControlArn: a, RoutingControlState: 'Off' }), // would leave none On
    ];
    for (const command of attempts) {
      const err = await failure(client.send(command as UpdateRoutingControlStatesCommand));
      expect(err).toBeInstanceOf(ConflictException);
      const conflict = err as ConflictException;
      expect(conflict.$metadata.httpStatusCode).toBe(409);
      expect(conflict.resourceId).toBe(arc.safetyRuleArn);
      expect(conflict.resourceType).toBe('SafetyRule');
      expect(conflict.message).toContain(arc.safetyRuleArn);
      expect(conflict.message).toMatch(/exactly one .* must be On/);
      expect(arc.states()).toEqual({ 'emr-a': 'On', 'emr-b': 'Off' });
    }

    // A batch that mentions an unknown control changes nothing either, even the known entry.
    const unknown = await failure(
      client.send(
        new UpdateRoutingControlStatesCommand({
          UpdateRoutingControlStateEntries: [
            { RoutingControlArn: a, RoutingControlState: 'Off' },
            { RoutingControlArn: arc.controlArn('emr-c'), RoutingControlState: 'On' },
          ],
        }),
      ),
    );
    expect(unknown).toBeInstanceOf(ResourceNotFoundException);
    expect(arc.states()).toEqual({ 'emr-a': 'On', 'emr-b': 'Off' });

    // Break glass: overriding the rule by its ARN lets the update through, as in AWS.
    await client.send(new UpdateRoutingControlStateCommand({ RoutingControlArn: b, RoutingControlState: 'On', SafetyRulesToOverride: [arc.safetyRuleArn] }));
    expect(arc.states()).toEqual({ 'emr-a': 'On', 'emr-b': 'On' });
  });

  it('keeps exactly one On under concurrent conflicting updates on all endpoints', async () => {
    const arc = await start();
    const a = arc.controlArn('emr-a');
    const b = arc.controlArn('emr-b');
    const toB = [
      { RoutingControlArn: a, RoutingControlState: 'Off' as const },
      { RoutingControlArn: b, RoutingControlState: 'On' as const },
    ];
    const toA = [
      { RoutingControlArn: a, RoutingControlState: 'On' as const },
      { RoutingControlArn: b, RoutingControlState: 'Off' as const },
    ];
    const endpointClients = arc.endpoints.map((e) => clientFor(e));
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) =>
        endpointClients[i % 5]!.send(new UpdateRoutingControlStatesCommand({ UpdateRoutingControlStateEntries: i % 2 ? toA : toB })),
      ),
    );
    expect(results.every((r) => r.status === 'fulfilled')).toBe(true);
    expect(Object.values(arc.states()).filter((s) => s === 'On')).toHaveLength(1);
  });

  it('takeDown really refuses connections, bringUp serves again on the same port, and only arrivals are counted', async () => {
    const arc = await start();
    const client = clientFor(arc.endpoints[2]!);
    const read = () => client.send(new GetRoutingControlStateCommand({ RoutingControlArn: arc.controlArn('emr-a') }));
    await read(); // a pooled keep-alive connection exists now
    await arc.takeDown(2);
    // The pooled connection was cut (a reset, if the client still had it); a new one is refused.
    const first = await failure(read());
    expect(['ECONNRESET', 'ECONNREFUSED']).toContain((first as { code?: string }).code);
    const refused = await failure(read());
    expect((refused as { code?: string }).code).toBe('ECONNREFUSED');
    expect(arc.requests()).toEqual([0, 0, 1, 0, 0]);
    await arc.bringUp(2);
    expect((await read()).RoutingControlState).toBe('On');
    expect(arc.requests()).toEqual([0, 0, 2, 0, 0]);
  });

  it('throttles and reports temporary unavailability per endpoint, with the typed exceptions', async () => {
    const arc = await start();
    const read = (i: number) => clientFor(arc.endpoints[i]!).send(new GetRoutingControlStateCommand({ RoutingControlArn: arc.controlArn('emr-a') }));
    arc.throttle(0, true);
    arc.fault(1, 'unavailable');
    const throttled = await failure(read(0));
    expect(throttled).toBeInstanceOf(ThrottlingException);
    expect((throttled as ThrottlingException).$metadata.httpStatusCode).toBe(429);
    const unavailable = await failure(read(1));
    expect(unavailable).toBeInstanceOf(EndpointTemporarilyUnavailableException);
    expect((unavailable as EndpointTemporarilyUnavailableException).$metadata.httpStatusCode).toBe(503);
    expect((await read(2)).RoutingControlState).toBe('On');
    arc.throttle(0, false);
    arc.fault(1, undefined);
    expect((await read(0)).RoutingControlState).toBe('On');
    expect((await read(1)).RoutingControlState).toBe('On');
    expect(arc.requests()).toEqual([2, 2, 1, 0, 0]);
    expect(arc.calls().map((c) => [c.endpoint, c.operation, c.status, c.error])).toEqual([
      [0, 'GetRoutingControlState', 429, 'ThrottlingException'],
      [1, 'GetRoutingControlState', 503, 'EndpointTemporarilyUnavailableException'],
      [2, 'GetRoutingControlState', 200, undefined],
      [0, 'GetRoutingControlState', 200, undefined],
      [1, 'GetRoutingControlState', 200, undefined],
    ]);
  });

  it('refuses requests signed for another region', async () => {
    const arc = await start();
    const err = await failure(
      clientFor(arc.endpoints[0]!, 'eu-west-1').send(new GetRoutingControlStateCommand({ RoutingControlArn: arc.controlArn('emr-a') })),
    );
    expect(err).toBeInstanceOf(Route53RecoveryClusterServiceException);
    expect((err as Error).name).toBe('InvalidSignatureException');
  });
});
