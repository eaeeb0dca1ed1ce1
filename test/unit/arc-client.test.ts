import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { ResourceNotFoundException, Route53RecoveryClusterClient, UpdateRoutingControlStateCommand } from '@aws-sdk/client-route53-recovery-cluster';
import { startLocalArc, type LocalArc } from '../../local/arc';
import {
  ArcConfigError,
  ArcRouter,
  InconsistentRoutingError,
  NoArcEndpointError,
  type ArcCells,
  type ArcRouterOptions,
  type FlipRecord,
} from '../../shared/core/failover/arc-client';

// ArcRouter against the local ARC stand-in: the real SDK client over HTTP, no mocks.
describe('ArcRouter', () => {
  let arc: LocalArc | undefined;
  const routers: ArcRouter[] = [];

  beforeAll(() => {
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'test');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'test-secret');
  });
  afterAll(() => vi.unstubAllEnvs());
  afterEach(async () => {
    for (const router of routers.splice(0)) router.destroy();
    await arc?.stop();
    arc = undefined;
  });

  const start = async (clusters = ['emr-a', 'emr-b']) => {
    arc = await startLocalArc({ clusters, active: clusters[0]! });
    const config: ArcCells = {
      cells: clusters.map((name) => ({ name, routingControlArn: arc!.controlArn(name) })),
      endpoints: arc.endpoints,
      region: 'us-east-1',
    };
    return { arc, config };
  };
  const router = (config: ArcCells, options: ArcRouterOptions = {}) => {
    const r = new ArcRouter(config, options);
    routers.push(r);
    return r;
  };
  /** starts the rotation at endpoint i */
  const startAt = (i: number) => () => (i + 0.5) / 5;
  const updates = (arc: LocalArc) => arc.calls().filter((c) => c.operation === 'UpdateRoutingControlStates');
  const onCount = (arc: LocalArc) => Object.values(arc.states()).filter((s) => s === 'On').length;

  it('reads the active cluster with 3 of 5 endpoints really closed, from whichever endpoint it starts', async () => {
    const { arc, config } = await start();
    for (const i of [0, 2, 3]) await arc.takeDown(i);
    for (let i = 0; i < 5; i++) expect(await router(config, { random: startAt(i) }).activeCell()).toBe('emr-a');
    const requests = arc.requests();
    expect([requests[0], requests[2], requests[3]]).toEqual([0, 0, 0]);
    expect(requests[1]! + requests[4]!).toBe(10); // 5 reads × 2 controls, all on the live endpoints
  });

  it('fails over with 3 of 5 endpoints really closed', async () => {
    const { arc, config } = await start();
    for (const i of [0, 1, 2]) await arc.takeDown(i);
    const result = await router(config, { random: startAt(0) }).failover('emr-a', 'EMR step failed 3 times in use1-az1');
    expect(result).toMatchObject({ flipped: true, from: 'emr-a', to: 'emr-b', confirmed: true, endpoint: arc.endpoints[3] });
    expect(arc.states()).toEqual({ 'emr-a': 'Off', 'emr-b': 'On' });
    expect(updates(arc)).toHaveLength(1);
  });

  it('throws NoArcEndpointError naming every endpoint when all are throttling, unavailable or down', async () => {
    const { arc, config } = await start();
    arc.throttle(0, true);
    arc.throttle(1, true);
    arc.fault(2, 'unavailable');
    await arc.takeDown(3);
    await arc.takeDown(4);
    const r = router(config);
    for (const call of [() => r.activeCell(), () => r.failover('emr-a', 'AZ impaired')]) {
      const err = await call().then(
        () => expect.fail('expected NoArcEndpointError'),
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(NoArcEndpointError);
      const failures = (err as NoArcEndpointError).failures;
      expect(failures.map((f) => f.endpoint).sort()).toEqual([...arc.endpoints].sort());
      const byEndpoint = Object.fromEntries(failures.map((f) => [f.endpoint, f.error]));
      expect(byEndpoint[arc.endpoints[0]!]).toMatch(/^ThrottlingException: Rate exceeded/);
      expect(byEndpoint[arc.endpoints[1]!]).toMatch(/^ThrottlingException/);
      expect(byEndpoint[arc.endpoints[2]!]).toMatch(/^EndpointTemporarilyUnavailableException/);
      expect(byEndpoint[arc.endpoints[3]!]).toMatch(/ECONNREFUSED/);
      expect(byEndpoint[arc.endpoints[4]!]).toMatch(/ECONNREFUSED/);
      for (const endpoint of arc.endpoints) expect((err as Error).message).toContain(endpoint);
    }
    expect(arc.states()).toEqual({ 'emr-a': 'On', 'emr-b': 'Off' });
    expect(updates(arc)).toHaveLength(0);
  });

  it('tries every endpoint maxAttemptsPerEndpoint times before giving up', async () => {
    const { arc, config } = await start();
    for (let i = 0; i < 5; i++) arc.throttle(i, true);
    const err = await router(config, { maxAttemptsPerEndpoint: 2, roundBackoffMs: 0 })
      .activeCell()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NoArcEndpointError);
    expect((err as NoArcEndpointError).failures).toHaveLength(10);
    expect(arc.requests()).toEqual([2, 2, 2, 2, 2]);
  });

  it('a failover is one UpdateRoutingControlStates call with both entries, recorded through onFlip', async () => {
    const { arc, config } = await start();
    const flips: FlipRecord[] = [];
    const result = await router(config, { onFlip: (record) => void flips.push(record) }).failover('emr-a', 'EMR step failed 3 times');
    expect(arc.states()).toEqual({ 'emr-a': 'Off', 'emr-b': 'On' });
    const calls = updates(arc);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.input).toEqual({
      UpdateRoutingControlStateEntries: [
        { RoutingControlArn: arc.controlArn('emr-a'), RoutingControlState: 'Off' },
        { RoutingControlArn: arc.controlArn('emr-b'), RoutingControlState: 'On' },
      ],
    });
    expect(calls[0]!.status).toBe(200);
    expect(arc.calls().filter((c) => c.operation !== 'GetRoutingControlState' && c.operation !== 'UpdateRoutingControlStates')).toEqual([]);
    expect(result).toEqual({
      flipped: true,
      from: 'emr-a',
      to: 'emr-b',
      at: expect.any(String),
      reason: 'EMR step failed 3 times',
      endpoint: arc.endpoints[calls[0]!.endpoint],
      confirmed: true,
    });
    expect(new Date((result as FlipRecord).at).toISOString()).toBe((result as FlipRecord).at);
    const { flipped: _, ...record } = result as FlipRecord & { flipped: true };
    expect(flips).toEqual([record]);
    expect(await router(config).activeCell()).toBe('emr-b');
  });

  it('a second failover from the same cluster (a stale caller) does nothing', async () => {
    const { arc, config } = await start();
    await router(config).failover('emr-a', 'first');
    const flips: FlipRecord[] = [];
    const stale = await router(config, { onFlip: (r) => void flips.push(r) }).failover('emr-a', 'stale');
    expect(stale).toEqual({ flipped: false, active: 'emr-b' });
    expect(flips).toEqual([]);
    expect(updates(arc)).toHaveLength(1);
    expect(arc.states()).toEqual({ 'emr-a': 'Off', 'emr-b': 'On' });
  });

  it('10 concurrent failovers from A leave exactly one cluster On, B, flipped once', async () => {
    const { arc, config } = await start();
    const shared = router(config);
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? shared : router(config)).failover('emr-a', `concurrent ${i}`)));
    expect(results.filter((r) => r.flipped)).toHaveLength(1);
    expect(results.filter((r) => !r.flipped)).toEqual(Array.from({ length: 9 }, () => ({ flipped: false, active: 'emr-b' })));
    expect(updates(arc)).toHaveLength(1);
    expect(onCount(arc)).toBe(1);
    expect(arc.states()).toEqual({ 'emr-a': 'Off', 'emr-b': 'On' });
    expect(await shared.activeCell()).toBe('emr-b');
  });

  it('fails back the other way when asked to fail over from the now active cluster', async () => {
    const { arc, config } = await start();
    const r = router(config);
    await r.failover('emr-a', 'AZ impaired');
    expect(await r.failover('emr-b', 'AZ impaired')).toMatchObject({ flipped: true, from: 'emr-b', to: 'emr-a' });
    expect(arc.states()).toEqual({ 'emr-a': 'On', 'emr-b': 'Off' });
  });

  it('abandons a stalled endpoint after requestTimeoutMs and reads from the next', async () => {
    const { arc, config } = await start();
    arc.fault(1, 'stall');
    const started = Date.now();
    expect(await router(config, { random: startAt(1), requestTimeoutMs: 150 }).activeCell()).toBe('emr-a');
    expect(Date.now() - started).toBeLessThan(2000);
    expect(arc.requests()[1]).toBe(1);
    expect(arc.requests()[2]).toBe(2);
  });

  it('reports an update whose answer was lost as an unconfirmed flip, not as a no-op', async () => {
    const { arc, config } = await start();
    arc.fault(0, 'reset-after-apply');
    const flips: FlipRecord[] = [];
    const result = await router(config, { random: startAt(0), onFlip: (r) => void flips.push(r) }).failover('emr-a', 'AZ impaired');
    expect(result).toMatchObject({ flipped: true, from: 'emr-a', to: 'emr-b', confirmed: false, endpoint: arc.endpoints[1] });
    expect(flips).toHaveLength(1);
    expect(updates(arc)).toHaveLength(1); // applied once, on endpoint 0; endpoint 1 only re-read
    expect(arc.states()).toEqual({ 'emr-a': 'Off', 'emr-b': 'On' });
  });

  it('throws InconsistentRoutingError when zero or two controls are On, and does not touch them', async () => {
    const { arc, config } = await start();
    const admin = new Route53RecoveryClusterClient({ endpoint: arc.endpoints[0], region: 'us-east-1', maxAttempts: 1 });
    try {
      // Only a break-glass override of the safety rule can get here.
      await admin.send(
        new UpdateRoutingControlStateCommand({
          RoutingControlArn: arc.controlArn('emr-b'),
          RoutingControlState: 'On',
          SafetyRulesToOverride: [arc.safetyRuleArn],
        }),
      );
      const r = router(config);
      const read = await r.activeCell().catch((e: unknown) => e);
      expect(read).toBeInstanceOf(InconsistentRoutingError);
      expect((read as InconsistentRoutingError).states).toEqual({ 'emr-a': 'On', 'emr-b': 'On' });
      await expect(r.failover('emr-a', 'x')).rejects.toBeInstanceOf(InconsistentRoutingError);
      expect(updates(arc)).toHaveLength(0);

      await admin.send(
        new UpdateRoutingControlStateCommand({
          RoutingControlArn: arc.controlArn('emr-a'),
          RoutingControlState: 'Off',
          SafetyRulesToOverride: [arc.safetyRuleArn],
        }),
      );
      await admin.send(
        new UpdateRoutingControlStateCommand({
          RoutingControlArn: arc.controlArn('emr-b'),
          RoutingControlState: 'Off',
          SafetyRulesToOverride: [arc.safetyRuleArn],
        }),
      );
      await expect(r.activeCell()).rejects.toThrow(/exactly one On, found none/);
    } finally {
      admin.destroy();
    }
  });

  it('does not rotate on an answer that another endpoint would repeat (unknown routing control)', async () => {
    const { arc, config } = await start();
    const wrong = { ...config, cells: [config.cells[0]!, { name: 'emr-x', routingControlArn: `${arc.controlPanelArn}/routingcontrol/emr-x` }] };
    await expect(router(wrong).activeCell()).rejects.toBeInstanceOf(ResourceNotFoundException);
    expect(arc.requests().reduce((a, b) => a + b)).toBe(2); // emr-a, then emr-x on the same endpoint; no rotation
  });

  it('refuses failover unless the configuration has exactly two clusters, a known source and a reason', async () => {
    const { arc, config } = await start(['emr-a', 'emr-b', 'emr-c']);
    const three = router(config);
    expect(await three.activeCell()).toBe('emr-a');
    await expect(three.failover('emr-a', 'x')).rejects.toThrow(ArcConfigError);
    await expect(three.failover('emr-a', 'x')).rejects.toThrow(/exactly two cells, the configuration has 3/);
    const two = router({ ...config, cells: config.cells.slice(0, 2) });
    await expect(two.failover('emr-z', 'x')).rejects.toThrow(ArcConfigError);
    await expect(two.failover('emr-a', '  ')).rejects.toThrow(/reason is required/);
    expect(() => new ArcRouter({ ...config, endpoints: [] })).toThrow(ArcConfigError);
    expect(() => new ArcRouter({ ...config, cells: [config.cells[0]!, { ...config.cells[0]!, name: 'other' }] })).toThrow(ArcConfigError);
    expect(updates(arc)).toHaveLength(0);
  });
});
