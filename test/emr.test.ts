import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CLICKSTREAM, writeClickstreamSample } from '../examples/retail/data/clickstream-sample';
import { landDirectory } from '../local/land';
import { exportCuratedTables } from '../local/curated-export';
import { loadPipeline } from '../shared/config/load-config';
import { LOCAL_CLUSTERS } from '../local/stack';
import { expectedClickstream } from './support/expected-clickstream';
import { metricRows } from './support/clickstream';
import { useLocalStack } from './support/local-stack';

/*
 * The clickstream job on the local stack with real local Spark: each stage is a spark-submit step
 * on the local EMR cluster that the local ARC says is active.
 */
const stack = useLocalStack();
const [PRIMARY, STANDBY] = LOCAL_CLUSTERS.map((c) => c.clusterId) as [string, string];
let onStart: ((step: { clusterId: string; name: string }) => void) | undefined;

async function runDay(date: string) {
  const dir = await mkdtemp(join(tmpdir(), 'landfall-click-'));
  await writeClickstreamSample(dir, { ...DEFAULT_CLICKSTREAM, seed: Number(date.replaceAll('-', '')), startDate: date, sessionsPerDay: 50 });
  await landDirectory(stack().s3, stack().deployment.names.rawBucket, dir);
  await stack().settled(1000, 900_000);
  const execution = stack().stepFunctions.executions().find((e) => e.name.startsWith(`clickstream_daily-${date}-`));
  const steps = stack().emr.steps().filter((s) => s.name.startsWith(`clickstream_daily-${date}-`));
  return { dir, execution, steps };
}

const stageOf = (name: string) => /-(clean|enrich|sessionize|metrics)-/.exec(name)![1];

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

describe('the clickstream job on EMR (local Spark)', () => {
  it('runs end to end and its metrics equal an independent computation', { timeout: 900_000 }, async () => {
    stack().emr.onStepStart((ctx) => onStart?.(ctx));
    const date = '2026-11-01';
    const { dir, execution, steps } = await runDay(date);
    expect(execution?.status, execution?.cause).toBe('SUCCEEDED');
    expect(steps.map((s) => [stageOf(s.name), s.clusterId, s.state])).toEqual([
      ['clean', PRIMARY, 'COMPLETED'],
      ['enrich', PRIMARY, 'COMPLETED'],
      ['sessionize', PRIMARY, 'COMPLETED'],
      ['metrics', PRIMARY, 'COMPLETED'],
    ]);
    await expectMetricsOf(dir, date);
    // the clickstream files went through validate/convert/track like the POS ones: malformed lines rejected, row by row
    const files = (await stack().fileStates.listAll()).filter((f) => f.key.includes(date.replaceAll('-', '')));
    expect(files.length).toBeGreaterThanOrEqual(6);
    expect(files.every((f) => f.state === 'CONVERTED')).toBe(true);
    expect(files.reduce((sum, f) => sum + (f.rows?.rejected ?? 0), 0)).toBe(DEFAULT_CLICKSTREAM.malformedPerDay);
    // and `landfall run --out` exports the metric tables like the POS table
    const out = await mkdtemp(join(tmpdir(), 'landfall-export-'));
    const written = await exportCuratedTables(stack().s3, stack().deployment.names.lakeBucket, loadPipeline().config.jobs, out);
    expect(written.map((p) => p.split('/').pop()).sort()).toEqual(['channel_region.csv', 'funnel.csv', 'gmv_daily.csv', 'gmv_hourly.csv', 'sessions_per_user.csv']);
    const funnelCsv = (await readFile(join(out, 'curated', 'funnel.csv'), 'utf8')).trim().split('\n');
    expect(funnelCsv[0]).toMatch(/step/);
    expect(funnelCsv).toHaveLength(1 + 5);
    const full = steps.reduce((sum, s) => sum + (s.endedAt!.getTime() - s.startedAt!.getTime()), 0);
    console.info(`clean run: 4 stages, ${(full / 1000).toFixed(1)} s of step time`);
  });

  it('retries a failed step on the same cluster', { timeout: 900_000 }, async () => {
    stack().emr.failNextStep(PRIMARY, 'Container killed by YARN for exceeding memory limits');
    const { execution, steps } = await runDay('2026-11-02');
    expect(execution?.status, execution?.cause).toBe('SUCCEEDED');
    expect(steps.map((s) => [stageOf(s.name), s.clusterId, s.state])).toEqual([
      ['clean', PRIMARY, 'FAILED'],
      ['clean', PRIMARY, 'COMPLETED'],
      ['enrich', PRIMARY, 'COMPLETED'],
      ['sessionize', PRIMARY, 'COMPLETED'],
      ['metrics', PRIMARY, 'COMPLETED'],
    ]);
    expect(await stack().jobRuns.listFailovers()).toEqual([]);
    expect(stack().arc.states()).toEqual({ primary: 'On', standby: 'Off' });
  });

  it('fails over when the cluster goes unhealthy during stage 3 and resumes there on the standby', { timeout: 900_000 }, async () => {
    const date = '2026-11-03';
    let brokeAt = 0;
    onStart = (step) => {
      if (step.clusterId === PRIMARY && step.name.includes(`-${date}-`) && step.name.includes('-sessionize-') && !brokeAt) {
        brokeAt = Date.now();
        stack().emr.makeUnhealthy(PRIMARY, 'az-impaired');
      }
    };
    const { dir, execution, steps } = await runDay(date);
    onStart = undefined;
    expect(execution?.status, execution?.cause).toBe('SUCCEEDED');
    // stages 1 and 2 ran once, on the primary; stage 3 was interrupted there and resumed on the standby
    expect(steps.map((s) => [stageOf(s.name), s.clusterId, s.state])).toEqual([
      ['clean', PRIMARY, 'COMPLETED'],
      ['enrich', PRIMARY, 'COMPLETED'],
      ['sessionize', PRIMARY, 'INTERRUPTED'],
      ['sessionize', STANDBY, 'COMPLETED'],
      ['metrics', STANDBY, 'COMPLETED'],
    ]);
    expect(stack().arc.states()).toEqual({ primary: 'Off', standby: 'On' });
    const [flip] = await stack().jobRuns.listFailovers();
    expect(flip).toMatchObject({ from: 'primary', to: 'standby', reason: expect.stringContaining('ClusterUnhealthyError') });
    await expectMetricsOf(dir, date);
    const standbyStart = steps.find((s) => s.clusterId === STANDBY)!.startedAt!.getTime();
    const redone = steps.filter((s) => s.clusterId === STANDBY).reduce((sum, s) => sum + (s.endedAt!.getTime() - s.startedAt!.getTime()), 0);
    console.info(`failover: ${standbyStart - brokeAt} ms from the cluster failing to stage 3 starting on the standby; ${(redone / 1000).toFixed(1)} s of step time after the failover (stages 3-4)`);
    stack().emr.makeHealthy(PRIMARY);
  });

  it('reads the active cluster with 3 of 5 ARC endpoints down', { timeout: 900_000 }, async () => {
    for (const i of [0, 2, 4]) await stack().arc.takeDown(i);
    const { execution, steps } = await runDay('2026-11-04');
    for (const i of [0, 2, 4]) await stack().arc.bringUp(i);
    expect(execution?.status, execution?.cause).toBe('SUCCEEDED');
    // the standby is active since the failover above
    expect(new Set(steps.map((s) => s.clusterId))).toEqual(new Set([STANDBY]));
    expect(stack().arc.requests()[1]! + stack().arc.requests()[3]!).toBeGreaterThan(0);
  });
});
