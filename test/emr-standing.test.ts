import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CLICKSTREAM, writeClickstreamSample } from '../examples/retail/data/clickstream-sample';
import { landDirectory } from '../ops/land';
import { LOCAL_CELLS } from '../local/stack';
import { expectedClickstream } from './support/expected-clickstream';
import { metricRows } from './support/clickstream';
import { useLocalStack } from './support/local-stack';

/* emrMode=standing: the two cells' always-on clusters, as before transient clusters; nothing is created. */
const stack = useLocalStack({ emrMode: 'standing' });
const [CELL_A, CELL_B] = LOCAL_CELLS as [(typeof LOCAL_CELLS)[number], (typeof LOCAL_CELLS)[number]];

describe('the clickstream job on standing EMR clusters (local Spark)', () => {
  it("runs every stage on the active cell's configured cluster, creates none, fails over to the other cell's when it is lost, and its metrics are right", {
    timeout: 900_000,
  }, async () => {
    const date = '2026-11-08';
    stack().emr.onStepStart((step) => {
      if (step.name.includes('-metrics-') && step.clusterId === CELL_A.clusterId) stack().emr.makeUnhealthy(step.clusterId, 'terminated');
    });
    const dir = await mkdtemp(join(tmpdir(), 'landfall-click-'));
    await writeClickstreamSample(dir, { ...DEFAULT_CLICKSTREAM, seed: 20261108, startDate: date, sessionsPerDay: 50 });
    await landDirectory(stack().s3, stack().deployment.names.rawBucket, dir);
    await stack().settled(1000, 900_000);
    const execution = stack()
      .stepFunctions.executions()
      .find((e) => e.name.startsWith(`clickstream_daily-${date}-`));
    expect(execution?.status, execution?.cause).toBe('SUCCEEDED');
    expect(
      stack()
        .emr.clusters()
        .filter((c) => c.created),
    ).toEqual([]);
    const steps = stack()
      .emr.steps()
      .filter((s) => s.name.startsWith(`clickstream_daily-${date}-`));
    expect(steps.map((s) => [/-(clean|enrich|sessionize|metrics)-/.exec(s.name)![1], s.clusterId, s.state])).toEqual([
      ['clean', CELL_A.clusterId, 'COMPLETED'],
      ['enrich', CELL_A.clusterId, 'COMPLETED'],
      ['sessionize', CELL_A.clusterId, 'COMPLETED'],
      ['metrics', CELL_A.clusterId, 'INTERRUPTED'],
      ['metrics', CELL_B.clusterId, 'COMPLETED'],
    ]);
    expect(stack().arc.states()).toEqual({ [CELL_A.name]: 'Off', [CELL_B.name]: 'On' });
    const expected = await expectedClickstream(dir, date);
    const daily = await metricRows(stack(), 'gmv_daily', date, 'date');
    expect(daily.map((r) => ({ gmv: r.gmv, orders: Number(r.orders), units: Number(r.units) }))).toEqual([expected.gmvDaily]);
  });
});
