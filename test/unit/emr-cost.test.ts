import { describe, expect, it } from 'vitest';
import {
  clusterPerHour,
  crossoverRunsPerDay,
  crossoverStepMinutes,
  emrParams,
  fleetPerHour,
  heavyPathMonth,
  standingClustersPerMonth,
  transientCeilingPerMonth,
  transientDay,
} from '../../bench/cost/model';
import { PRICES, type ClusterShape } from '../../bench/cost/prices';

// the default transient shape, by hand: 3 On-Demand m7g.xlarge + 2 Spot at 0.4 of On-Demand, EMR uplift in full
const TRANSIENT_PER_HOUR = 3 * (0.1632 + 0.0408) + 2 * (0.4 * 0.1632 + 0.0408); // 0.82416
const STANDING_PER_MONTH = 2 * 3 * (0.1632 + 0.0408) * 720; // 881.28

/**
 * An independent check: 30 days of runs one every g minutes, played out on a timeline. A run reuses
 * the cluster if it arrives before the cluster's idle timeout ends, else a new one is launched
 * (billed from then, steps after P). Returns the cluster-minutes of the month.
 */
function simulateMonth(runsPerDay: number, S: number, P: number, I: number): number {
  const g = 1440 / runsPerDay;
  let billed = 0;
  let launched = -1;
  let busyUntil = 0;
  let upUntil = -Infinity;
  for (let k = 0; k < 30 * runsPerDay; k++) {
    const arrival = k * g;
    if (launched >= 0 && arrival < upUntil) {
      busyUntil = Math.max(arrival, busyUntil) + S;
    } else {
      if (launched >= 0) billed += upUntil - launched;
      launched = arrival;
      busyUntil = arrival + P + S;
    }
    upUntil = busyUntil + I;
  }
  return billed + (upUntil - launched);
}

describe('the EMR cost model: standing against transient clusters', () => {
  it('prices fleets from the per-type EC2 and EMR prices, Spot as a fraction of EC2 On-Demand only', () => {
    expect(clusterPerHour(PRICES.emr.transientShape)).toBeCloseTo(TRANSIENT_PER_HOUR, 10);
    expect(clusterPerHour(PRICES.emr.standingShape)).toBeCloseTo(3 * 0.204, 10);
    expect(clusterPerHour(PRICES.emr.legacyStandingShape)).toBeCloseTo(3 * 0.24, 10);
    expect(standingClustersPerMonth(emrParams({ standingShape: PRICES.emr.legacyStandingShape }))).toBeCloseTo(1036.8, 6);
  });

  it('with a Spot fraction of 1.0 the task fleet costs what On-Demand does', () => {
    const emr = emrParams({ spotFraction: 1 });
    const task = PRICES.emr.transientShape.task!;
    expect(fleetPerHour(task, emr)).toBeCloseTo(fleetPerHour({ ...task, market: 'ON_DEMAND' }, emr), 12);
    expect(clusterPerHour(PRICES.emr.transientShape, emr)).toBeCloseTo(5 * (0.1632 + 0.0408), 10);
    // and the default fraction does discount it
    expect(fleetPerHour(task)).toBeLessThan(fleetPerHour(task, emr));
  });

  it('one run a day pays provisioning + steps + idle timeout at the full shape, 30 times (within a cent)', () => {
    for (const S of [3.7, 30]) {
      const m = heavyPathMonth(1, S);
      expect(m.transient.clusterUsd).toBeCloseTo(((8 + S + 10) / 60) * TRANSIENT_PER_HOUR * 30, 2);
      expect(m.transient.day.runsPerCluster).toBe(1);
      expect(m.transient.clustersCreated).toBe(30);
    }
    expect(heavyPathMonth(1, 30).transient.clusterUsd).toBeCloseTo(19.78, 2);
  });

  it('standing costs the same at any rate of runs; the per-run costs are the same in both modes', () => {
    for (const R of [0.5, 1, 4, 24, 100, 1000]) {
      const m = heavyPathMonth(R, 30, { perRunUsd: 0.01 });
      expect(m.standing.clusterUsd).toBeCloseTo(STANDING_PER_MONTH, 6);
      expect(m.standing.runsUsd).toBeCloseTo(R * 30 * 0.01, 10);
      expect(m.transient.runsUsd).toBe(m.standing.runsUsd);
      expect(m.standing.usd).toBeCloseTo(m.standing.clusterUsd + m.standing.runsUsd, 10);
    }
  });

  it('runs closer together than step + idle share one cluster all day, never more than standing + a provisioning', () => {
    const emr = emrParams({ idleTimeoutMinutes: 15 });
    const m = heavyPathMonth(24, 50, { emr });
    expect(m.transient.day.continuous).toBe(true);
    expect(m.transient.clusterHours).toBeCloseTo(720, 10);
    expect(m.transient.clusterUsd).toBeCloseTo(720 * TRANSIENT_PER_HOUR, 6);
    expect(m.transient.clusterUsd).toBeLessThanOrEqual(m.standing.clusterUsd + (8 / 60) * clusterPerHour(emr.transientShape, emr));
    // the same runs with room between them: a cluster each, 8 + 30 + 10 min
    const apart = heavyPathMonth(24, 30);
    expect(apart.transient.day.runsPerCluster).toBe(1);
    expect(apart.transient.clusterHours).toBeCloseTo((24 * 48 * 30) / 60, 10);
  });

  it('chains runs queued behind a cluster still provisioning, paying provisioning and the idle tail once', () => {
    // one run every 24 min of 10 min, idle 10: the second arrives (24) before the first's idle end (8 + 10 + 10 = 28) and starts on arrival; the third (48) finds it gone (24 + 10 + 10 = 44)
    const day = transientDay(60, 10);
    expect(day.runsPerCluster).toBe(2);
    expect(day.clusterLifetimeMinutes).toBeCloseTo(44, 10);
    expect(day.clusterMinutesPerDay).toBeCloseTo(30 * 44, 10);
    expect(day.continuous).toBe(false);
    // one every 6 min of 4, idle 1: runs queue behind the provisioning and catch up at the 5th (24), whose steps end at 28; the 6th (30) finds the cluster gone (29)
    const queued = transientDay(1440 / 6, 4, emrParams({ provisioningMinutes: 8, idleTimeoutMinutes: 1 }));
    expect(queued.runsPerCluster).toBe(5);
    expect(queued.clusterLifetimeMinutes).toBeCloseTo(8 + 5 * 4 + 1, 10);
    expect(queued.clusterMinutesPerDay).toBeCloseTo((240 / 5) * 29, 10);
  });

  it('agrees with a timeline simulation of the month at many rates, step times and timeouts', () => {
    let compared = 0;
    for (const R of [1, 2, 3, 4, 6, 12, 24, 36, 48, 60, 72, 96, 144, 288])
      for (const S of [1, 3.7, 10, 30, 50, 90])
        for (const P of [0, 8])
          for (const I of [1, 10, 15]) {
            if (R * S > 1440) continue; // saturated: the model prices one cluster, the timeline queues forever
            const model = heavyPathMonth(R, S, { emr: emrParams({ provisioningMinutes: P, idleTimeoutMinutes: I }) }).transient.clusterHours * 60;
            const simulated = simulateMonth(R, S, P, I);
            // the month's edges: a partial last chain, a first provisioning
            expect(Math.abs(model - simulated), `R=${R} S=${S} P=${P} I=${I}: model ${model} simulated ${simulated}`).toBeLessThanOrEqual(
              2 * (P + S + I) + 1e-6,
            );
            expect(model).toBeLessThanOrEqual(30 * 1440 + 1e-6);
            compared++;
          }
    expect(compared).toBeGreaterThan(300);
  });

  it('flags more step time a day than a day as saturated (one cluster, queued)', () => {
    const day = transientDay(48, 40);
    expect(day.saturated).toBe(true);
    expect(day.continuous).toBe(true);
    expect(transientDay(24, 50).saturated).toBe(false);
  });

  it('finds no crossover when even a cluster up all month costs less than standing', () => {
    expect(transientCeilingPerMonth()).toBeCloseTo(720 * TRANSIENT_PER_HOUR, 6);
    expect(transientCeilingPerMonth()).toBeLessThan(standingClustersPerMonth());
    expect(crossoverRunsPerDay(3.7)).toBeNull();
    expect(crossoverStepMinutes(1)).toBeNull();
    for (const R of [1, 10, 50, 66, 67, 100, 500]) expect(heavyPathMonth(R, 3.7).transient.clusterUsd).toBeLessThan(standingClustersPerMonth());
  });

  it('solves transient = standing for the runs a day where a crossover exists', () => {
    const single = emrParams({ standingClusters: 1 });
    const big: ClusterShape = { ...PRICES.emr.transientShape, task: { instanceType: 'm7g.xlarge', count: 6, market: 'SPOT' } };
    for (const emr of [single, emrParams({ transientShape: big })]) {
      for (const S of [3.7, 30]) {
        const r = crossoverRunsPerDay(S, emr)!;
        expect(r).toBeGreaterThan(0);
        expect(heavyPathMonth(r, S, { emr }).transient.clusterUsd).toBeCloseTo(standingClustersPerMonth(emr), 2);
        expect(heavyPathMonth(r * 0.99, S, { emr }).transient.clusterUsd).toBeLessThan(standingClustersPerMonth(emr));
        expect(heavyPathMonth(r * 1.01, S, { emr }).transient.clusterUsd).toBeGreaterThan(standingClustersPerMonth(emr));
      }
    }
    // against one standing cluster, by hand: 440.64 / (30 × (8 + 30 + 10) / 60 × 0.82416)
    expect(crossoverRunsPerDay(30, single)).toBeCloseTo(440.64 / (30 * 0.8 * TRANSIENT_PER_HOUR), 8);
  });

  it('solves transient = standing for the step minutes, in the closed-form range and where runs share clusters', () => {
    const single = emrParams({ standingClusters: 1 });
    const standing = standingClustersPerMonth(single);
    // 1 run a day: (8 + S + 10) / 60 × 0.82416 × 30 = 440.64
    expect(crossoverStepMinutes(1, single)).toBeCloseTo((440.64 * 60) / (30 * TRANSIENT_PER_HOUR) - 18, 4);
    const check = (R: number, emr: ReturnType<typeof emrParams>) => {
      const s = crossoverStepMinutes(R, emr)!;
      expect(s).toBeGreaterThan(0);
      expect(heavyPathMonth(R, s, { emr }).transient.clusterUsd).toBeCloseTo(standingClustersPerMonth(emr), 2);
      expect(heavyPathMonth(R, s * 0.99, { emr }).transient.clusterUsd).toBeLessThan(standingClustersPerMonth(emr));
      return s;
    };
    for (const R of [1, 4, 24, 48]) check(R, single);
    // 48 a day: still a cluster a run, so the closed form holds: 48 × (18 + S) / 60 × 0.82416 × 30 = 440.64
    expect(crossoverStepMinutes(48, single)).toBeCloseTo((440.64 * 60) / (48 * 30 * TRANSIENT_PER_HOUR) - 18, 4);
    // 160 a day with a 2 min idle timeout (one every 9 min < provisioning + idle): runs share clusters from the start, and the closed form would say < 0
    const shortIdle = emrParams({ standingClusters: 1, idleTimeoutMinutes: 2 });
    expect(transientDay(160, 0, shortIdle).runsPerCluster).toBe(2);
    expect(check(160, shortIdle)).toBeGreaterThan(0);
    expect(standing).toBeCloseTo(440.64, 6);
    // standing dearer than the overheads alone: 0; ceiling below standing: none
    expect(crossoverStepMinutes(1000, single)).toBe(0);
    expect(crossoverStepMinutes(4)).toBeNull();
  });
});
