import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EMRClient, TerminateJobFlowsCommand } from '@aws-sdk/client-emr';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CLICKSTREAM, writeClickstreamSample } from '../examples/retail/data/clickstream-sample';
import { landDirectory } from '../ops/land';
import { exportCuratedTables } from '../ops/reports/curated-export';
import { loadPipeline } from '../shared/core/config/load-config';
import { LOCAL_CELLS, LOCAL_EMR_TIMING } from '../local/stack';
import { writeEmrClusters } from '../ops/reports/emr-cluster-report';
import { expectedClickstream } from './support/expected-clickstream';
import { metricRows } from './support/clickstream';
import { useLocalStack } from './support/local-stack';

/*
 * The clickstream job on the local stack with real local Spark, in transient mode: each run asks
 * the local ARC which cell is active and runs its stages as spark-submit steps on a cluster of
 * that cell, which it finds by its tags or creates with RunJobFlow; the local EMR provisions it in
 * a moment and ends it after its (scaled-down) idle timeout.
 */
const stack = useLocalStack();
const [CELL_A, CELL_B] = LOCAL_CELLS as [(typeof LOCAL_CELLS)[number], (typeof LOCAL_CELLS)[number]];
let onStart: ((step: { clusterId: string; name: string }) => void | Promise<void>) | undefined;
const emrClient = () => new EMRClient({ endpoint: stack().endpoints.emr, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });

async function landDay(date: string) {
  const dir = await mkdtemp(join(tmpdir(), 'landfall-click-'));
  await writeClickstreamSample(dir, { ...DEFAULT_CLICKSTREAM, seed: Number(date.replaceAll('-', '')), startDate: date, sessionsPerDay: 50 });
  await landDirectory(stack().s3, stack().deployment.names.rawBucket, dir);
  return dir;
}

function outcome(date: string) {
  const execution = stack()
    .stepFunctions.executions()
    .find((e) => e.name.startsWith(`clickstream_daily-${date}-`));
  const steps = stack()
    .emr.steps()
    .filter((s) => s.name.startsWith(`clickstream_daily-${date}-`));
  return { execution, steps };
}

/** Lands a day, waits for its run and for every cluster the runs created to have ended (idle timeout). */
async function runDay(date: string) {
  const since = new Date();
  const dir = await landDay(date);
  await stack().settled(1000, 900_000);
  await stack().emr.allEnded(120_000);
  return { dir, ...outcome(date), created: createdSince(since) };
}

const createdSince = (since: Date) =>
  stack()
    .emr.clusters()
    .filter((c) => c.created && c.createdAt >= since);
const cellOf = (clusterId: string) =>
  stack()
    .emr.clusters()
    .find((c) => c.id === clusterId)?.tags['landfall:cell'];
const stageOf = (name: string) => /-(clean|enrich|sessionize|metrics)-/.exec(name)![1];
const live = () =>
  stack()
    .emr.clusters()
    .filter((c) => !c.state.startsWith('TERMINATED'));

async function expectMetricsOf(dir: string, date: string) {
  const expected = await expectedClickstream(dir, date);
  // BIGINT counts come back from DuckDB's JSON rows as strings
  const n = (v: unknown) => Number(v);
  const daily = await metricRows(stack(), 'gmv_daily', date, 'date');
  expect(daily.map((r) => ({ gmv: r.gmv, orders: n(r.orders), units: n(r.units) }))).toEqual([expected.gmvDaily]);
  const hourly = await metricRows(stack(), 'gmv_hourly', date, 'hour');
  expect(hourly.map((r) => ({ hour: n(r.hour), gmv: r.gmv, orders: n(r.orders) }))).toEqual(expected.gmvHourly);
  const funnel = await metricRows(stack(), 'funnel', date, 'step_order');
  expect(funnel.map((r) => ({ step: r.step, sessions: n(r.sessions), events: n(r.events) }))).toEqual(expected.funnel);
  const perUser = await metricRows(stack(), 'sessions_per_user', date, 'customer_id');
  expect(new Map(perUser.map((r) => [r.customer_id as string, { sessions: n(r.sessions), events: n(r.events) }]))).toEqual(expected.sessionsPerUser);
}

describe('the clickstream job on transient EMR clusters (local Spark)', () => {
  it('creates one cluster in the active cell, runs every stage there, leaves none running, and its metrics equal an independent computation', {
    timeout: 900_000,
  }, async () => {
    stack().emr.onStepStart(async (ctx) => onStart?.(ctx));
    const date = '2026-11-01';
    const { dir, execution, steps, created } = await runDay(date);
    expect(execution?.status, execution?.cause).toBe('SUCCEEDED');
    // one cluster, in the active cell's subnet, made as the cluster spec says, ended by its idle timeout
    expect(created).toHaveLength(1);
    const [cluster] = created;
    expect(cluster!.subnetId).toBe(CELL_A.subnetId);
    expect(cluster!.availabilityZone).toBe(CELL_A.availabilityZone);
    expect(cluster!.tags).toMatchObject({
      'landfall:stack': `${stack().deployment.service}-${stack().deployment.stage}`,
      'landfall:cell': CELL_A.name,
      'landfall:claim': '1',
    });
    expect(cluster!.reason?.code).toBe('ALL_STEPS_COMPLETED');
    const request = cluster!.request as {
      Instances: {
        InstanceFleets: Array<{
          InstanceFleetType: string;
          TargetOnDemandCapacity?: number;
          TargetSpotCapacity?: number;
          InstanceTypeConfigs: Array<{ InstanceType: string }>;
        }>;
      };
      AutoTerminationPolicy: { IdleTimeout: number };
      LogUri: string;
    };
    expect(request.Instances.InstanceFleets.map((f) => [f.InstanceFleetType, f.TargetOnDemandCapacity ?? 0, f.TargetSpotCapacity ?? 0])).toEqual([
      ['MASTER', 1, 0],
      ['CORE', 2, 0],
      ['TASK', 0, 2],
    ]);
    // Graviton by default
    expect(request.Instances.InstanceFleets.flatMap((f) => f.InstanceTypeConfigs.map((t) => t.InstanceType)).every((t) => /^[a-z]\dg\./.test(t))).toBe(true);
    expect(request.AutoTerminationPolicy.IdleTimeout).toBe(60);
    expect(request.LogUri).toBe(`s3://${stack().deployment.names.lakeBucket}/emr-logs/`);
    expect(live()).toEqual([]);
    expect(steps.map((s) => [stageOf(s.name), s.clusterId, s.state])).toEqual(
      ['clean', 'enrich', 'sessionize', 'metrics'].map((st) => [st, cluster!.id, 'COMPLETED']),
    );
    // the job's own Spark resources (pipeline.yaml) go into every step, after the deployment's
    const job = loadPipeline().config.jobs.find((j) => j.name === 'clickstream_daily')!;
    expect(job.spark?.driverMemory).toBeDefined();
    for (const s of steps) {
      const at = s.args.lastIndexOf('--driver-memory');
      expect(s.args[at + 1], s.name).toBe(job.spark!.driverMemory);
      expect(at).toBeGreaterThan(s.args.indexOf('--driver-memory'));
    }
    await expectMetricsOf(dir, date);
    // the clickstream files went through validate/convert/track like the POS ones: malformed lines rejected, row by row
    const files = (await stack().fileStates.listAll()).filter((f) => f.key.includes(date.replaceAll('-', '')));
    expect(files.length).toBeGreaterThanOrEqual(6);
    expect(files.every((f) => f.state === 'CONVERTED')).toBe(true);
    expect(files.reduce((sum, f) => sum + (f.rows?.rejected ?? 0), 0)).toBe(DEFAULT_CLICKSTREAM.malformedPerDay);
    // and `landfall run --out` exports the metric tables like the POS table
    const out = await mkdtemp(join(tmpdir(), 'landfall-export-'));
    const written = await exportCuratedTables(stack().s3, stack().deployment.names.lakeBucket, loadPipeline().config.jobs, out);
    expect(written.map((p) => p.split('/').pop()).sort()).toEqual([
      'channel_region.csv',
      'funnel.csv',
      'gmv_daily.csv',
      'gmv_hourly.csv',
      'sessions_per_user.csv',
    ]);
    const funnelCsv = (await readFile(join(out, 'curated', 'funnel.csv'), 'utf8')).trim().split('\n');
    expect(funnelCsv[0]).toMatch(/step/);
    expect(funnelCsv).toHaveLength(1 + 5);
    // ... and OUT/emr-clusters.jsonl: the cluster, its cell, its life and why it ended
    const { path } = await writeEmrClusters(stack().emr, out, 1000);
    const lines = (await readFile(path, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toEqual([
      {
        id: cluster!.id,
        name: cluster!.name,
        cell: CELL_A.name,
        availabilityZone: CELL_A.availabilityZone,
        mode: 'transient',
        created: cluster!.createdAt.toISOString(),
        ready: cluster!.readyAt!.toISOString(),
        ended: cluster!.endedAt!.toISOString(),
        state: 'TERMINATED',
        why: expect.stringMatching(/^ALL_STEPS_COMPLETED: .*idle/i),
        steps: { COMPLETED: 4 },
      },
    ]);
    const full = steps.reduce((sum, s) => sum + (s.endedAt!.getTime() - s.startedAt!.getTime()), 0);
    console.info(
      `clean run: 4 stages, ${(full / 1000).toFixed(1)} s of step time; cluster ${cluster!.id} up ${((cluster!.endedAt!.getTime() - cluster!.createdAt.getTime()) / 1000).toFixed(1)} s`,
    );
  });

  it('retries a failed step on the same cluster', { timeout: 900_000 }, async () => {
    onStart = (step) => {
      if (step.name.includes('-2026-11-02-') && step.name.includes('-clean-') && step.name.endsWith('-a0'))
        stack().emr.failNextStep(step.clusterId, 'Container killed by YARN for exceeding memory limits');
    };
    const { execution, steps, created } = await runDay('2026-11-02');
    onStart = undefined;
    expect(execution?.status, execution?.cause).toBe('SUCCEEDED');
    expect(created).toHaveLength(1);
    const id = created[0]!.id;
    expect(steps.map((s) => [stageOf(s.name), s.clusterId, s.state])).toEqual([
      ['clean', id, 'FAILED'],
      ['clean', id, 'COMPLETED'],
      ['enrich', id, 'COMPLETED'],
      ['sessionize', id, 'COMPLETED'],
      ['metrics', id, 'COMPLETED'],
    ]);
    expect(await stack().jobRuns.listFailovers()).toEqual([]);
    expect(stack().arc.states()).toEqual({ [CELL_A.name]: 'On', [CELL_B.name]: 'Off' });
  });

  it('shares one cluster between two concurrent heavy runs: one claim wins, the other run waits and finds its cluster', { timeout: 900_000 }, async () => {
    const since = new Date();
    const dirs = await Promise.all(['2026-11-05', '2026-11-06'].map(landDay));
    await stack().settled(1000, 900_000);
    await stack().emr.allEnded(120_000);
    const created = createdSince(since);
    expect(created).toHaveLength(1);
    for (const [i, date] of ['2026-11-05', '2026-11-06'].entries()) {
      const { execution, steps } = outcome(date);
      expect(execution?.status, execution?.cause).toBe('SUCCEEDED');
      expect(steps.map((s) => [stageOf(s.name), s.clusterId, s.state])).toEqual(
        ['clean', 'enrich', 'sessionize', 'metrics'].map((st) => [st, created[0]!.id, 'COMPLETED']),
      );
      await expectMetricsOf(dirs[i]!, date);
    }
    // the runs overlapped on the cluster: the second run's first step was queued before the first run's last one ended
    const [first, second] = ['2026-11-05', '2026-11-06'].map((d) => outcome(d).steps).sort((a, b) => a[0]!.createdAt.getTime() - b[0]!.createdAt.getTime());
    expect(second![0]!.createdAt.getTime()).toBeLessThan(first!.at(-1)!.endedAt!.getTime());
  });

  it('a cluster that ends under the run is replaced in its cell; a creation failure there fails over and the run completes in the other cell from the last checkpoint', {
    timeout: 900_000,
  }, async () => {
    const date = '2026-11-03';
    let endedAt = 0;
    onStart = async (step) => {
      if (step.name.includes(`-${date}-`) && step.name.includes('-enrich-') && !endedAt) {
        endedAt = Date.now();
        // the next cluster of cell A cannot get capacity; then an operator terminates this one
        stack().emr.failCreation({ subnetId: CELL_A.subnetId }, 'capacity');
        await emrClient().send(new TerminateJobFlowsCommand({ JobFlowIds: [step.clusterId] }));
      }
    };
    const { dir, execution, steps, created } = await runDay(date);
    onStart = undefined;
    expect(execution?.status, execution?.cause).toBe('SUCCEEDED');
    // three clusters: the first (terminated by the operator), its replacement in cell A (no capacity), one in cell B
    expect(created.map((c) => [c.tags['landfall:cell'], c.state, c.reason?.code])).toEqual([
      [CELL_A.name, 'TERMINATED', 'USER_REQUEST'],
      [CELL_A.name, 'TERMINATED_WITH_ERRORS', 'INSTANCE_FLEET_TIMEOUT'],
      [CELL_B.name, 'TERMINATED', 'ALL_STEPS_COMPLETED'],
    ]);
    // clean ran once; enrich was cancelled with the cluster, then never started in cell A (no cluster came up), and ran in cell B
    expect(steps.map((s) => [stageOf(s.name), cellOf(s.clusterId), s.state])).toEqual([
      ['clean', CELL_A.name, 'COMPLETED'],
      ['enrich', CELL_A.name, 'CANCELLED'],
      ['enrich', CELL_A.name, 'CANCELLED'],
      ['enrich', CELL_B.name, 'COMPLETED'],
      ['sessionize', CELL_B.name, 'COMPLETED'],
      ['metrics', CELL_B.name, 'COMPLETED'],
    ]);
    expect(stack().arc.states()).toEqual({ [CELL_A.name]: 'Off', [CELL_B.name]: 'On' });
    const flips = await stack().jobRuns.listFailovers();
    expect(flips).toHaveLength(1);
    expect(flips[0]).toMatchObject({ from: CELL_A.name, to: CELL_B.name, reason: expect.stringMatching(/ClusterUnhealthyError.*INSTANCE_FLEET_TIMEOUT/) });
    await expectMetricsOf(dir, date);
  });

  it('fails over when the cluster is lost during stage 3 and resumes there on a cluster created in the other cell', { timeout: 900_000 }, async () => {
    const date = '2026-11-04';
    let brokeAt = 0;
    onStart = (step) => {
      if (step.name.includes(`-${date}-`) && step.name.includes('-sessionize-') && !brokeAt) {
        brokeAt = Date.now();
        stack().emr.makeUnhealthy(step.clusterId, 'az-impaired');
      }
    };
    const { dir, execution, steps, created } = await runDay(date);
    onStart = undefined;
    expect(execution?.status, execution?.cause).toBe('SUCCEEDED');
    // cell B is active since the test before: the run started there and moved to cell A
    expect(created.map((c) => c.tags['landfall:cell'])).toEqual([CELL_B.name, CELL_A.name]);
    // stages 1 and 2 ran once; stage 3 was interrupted and resumed in the other cell
    expect(steps.map((s) => [stageOf(s.name), cellOf(s.clusterId), s.state])).toEqual([
      ['clean', CELL_B.name, 'COMPLETED'],
      ['enrich', CELL_B.name, 'COMPLETED'],
      ['sessionize', CELL_B.name, 'INTERRUPTED'],
      ['sessionize', CELL_A.name, 'COMPLETED'],
      ['metrics', CELL_A.name, 'COMPLETED'],
    ]);
    expect(stack().arc.states()).toEqual({ [CELL_A.name]: 'On', [CELL_B.name]: 'Off' });
    const flip = (await stack().jobRuns.listFailovers()).at(-1);
    expect(flip).toMatchObject({ from: CELL_B.name, to: CELL_A.name, reason: expect.stringContaining('ClusterUnhealthyError') });
    await expectMetricsOf(dir, date);
    const resumed = steps.find((s) => cellOf(s.clusterId) === CELL_A.name)!;
    const replacement = created[1]!;
    const redone = steps.filter((s) => cellOf(s.clusterId) === CELL_A.name).reduce((sum, s) => sum + (s.endedAt!.getTime() - s.startedAt!.getTime()), 0);
    console.info(
      `recovery: ${resumed.startedAt!.getTime() - brokeAt} ms from the cluster failing to stage 3 starting in the other cell ` +
        `(of which ${replacement.readyAt!.getTime() - replacement.createdAt.getTime()} ms creating the cluster there, local provisioning ${LOCAL_EMR_TIMING.provisioningDelayMs + LOCAL_EMR_TIMING.bootstrapDelayMs} ms); ` +
        `${(redone / 1000).toFixed(1)} s of step time after the failover (stages 3-4)`,
    );
  });

  it('reads the active cell with 3 of 5 ARC endpoints down', { timeout: 900_000 }, async () => {
    for (const i of [0, 2, 4]) await stack().arc.takeDown(i);
    const { execution, steps, created } = await runDay('2026-11-07');
    for (const i of [0, 2, 4]) await stack().arc.bringUp(i);
    expect(execution?.status, execution?.cause).toBe('SUCCEEDED');
    // cell A is active again since the failover above
    expect(created.map((c) => c.tags['landfall:cell'])).toEqual([CELL_A.name]);
    expect(new Set(steps.map((s) => s.clusterId))).toEqual(new Set([created[0]!.id]));
    expect(stack().arc.requests()[1]! + stack().arc.requests()[3]!).toBeGreaterThan(0);
  });
});
