import { describe, expect, it } from 'vitest';
import { clusterPerHour, costPerRun, costPerThousandFiles, standingClustersPerMonth, total } from '../../bench/cost/model';
import { PRICES } from '../../bench/cost/prices';
import { renderMarkdown, renderTable } from '../../bench/lib/results';
import { fitLine, formatSummary, pairedRatios, percentile, summarize } from '../../bench/lib/stats';
import { deriveEngineThreshold, DEFAULT_DUCKDB_MAX_INPUT_BYTES, overDuckdbThreshold } from '../../shared/stages/resolve/engine-router';

const GiB = 1024 ** 3;

describe('bench statistics', () => {
  it('summarizes runs as a median with its range', () => {
    expect(summarize([3, 1, 2])).toEqual({ median: 2, min: 1, max: 3, runs: 3 });
    expect(summarize([4, 1, 3, 2])).toEqual({ median: 2.5, min: 1, max: 4, runs: 4 });
    expect(() => summarize([])).toThrow('no samples');
    expect(formatSummary(summarize([1.26, 1.5, 1.1]), 1)).toBe('1.3 (1.1–1.5)');
  });

  it('pairs ratios run by run and takes nearest-rank percentiles', () => {
    expect(pairedRatios([10, 30], [5, 10])).toEqual({ median: 2.5, min: 2, max: 3, runs: 2 });
    expect(() => pairedRatios([1], [1, 2])).toThrow('differ');
    const samples = Array.from({ length: 100 }, (_, i) => 100 - i);
    expect(percentile(samples, 50)).toBe(50);
    expect(percentile(samples, 99)).toBe(99);
  });

  it('fits a line through measured points', () => {
    const { intercept, slope } = fitLine([
      [0, 5],
      [10, 25],
      [20, 45],
    ]);
    expect(intercept).toBeCloseTo(5);
    expect(slope).toBeCloseTo(2);
    expect(() =>
      fitLine([
        [1, 1],
        [1, 2],
      ]),
    ).toThrow('distinct');
  });

  it('renders tables and targets as Markdown, escaping pipes', () => {
    expect(renderTable({ header: ['a', 'b'], rows: [['x|y', 1]] })).toBe('| a | b |\n| --- | --- |\n| x\\|y | 1 |');
    const md = renderMarkdown({
      mode: 'quick',
      startedAt: '2026-11-24T00:00:00Z',
      seconds: 12,
      machine: { cpus: 2, memoryGiB: 24, node: '24', platform: 'linux-x64' },
      suites: [{ id: 's', title: 'Suite', tables: [], targets: [{ metric: 'm', target: '≤ 1', actual: '2', met: false, note: 'slow' }], data: {} }],
    });
    expect(md).toContain('| m | ≤ 1 | 2 | no: slow |');
    expect(md).toContain('### Suite');
  });
});

describe('the engine router threshold', () => {
  const duckdb = { intercept: 0.5, slope: 10 / GiB }; // 10 s per GiB
  it('is the size whose projected Lambda time reaches half the timeout when Spark never overtakes', () => {
    const t = deriveEngineThreshold({
      duckdb,
      spark: { intercept: 8, slope: 40 / GiB },
      functionMemoryMb: 3538,
      timeoutSeconds: 900,
      parquetBytesPerInputByte: 0.1,
    });
    // 3538 MB = 2 vCPUs for 2 threads: no scaling; (450 - 0.5) / 10 = 44.95 GiB
    expect(t.crossoverBytes).toBeNull();
    expect(t.lambdaBudgetBytes / GiB).toBeCloseTo(44.95, 1);
    expect(t.bytes).toBe(44 * GiB);
  });

  it("scales the measurement to Lambda's vCPU share and stops at the crossover", () => {
    const slow = deriveEngineThreshold({
      duckdb,
      spark: { intercept: 8, slope: 40 / GiB },
      functionMemoryMb: 1769,
      measuredThreads: 2,
      timeoutSeconds: 900,
      parquetBytesPerInputByte: 0.1,
    });
    expect(slow.lambdaBudgetBytes / GiB).toBeCloseTo((450 / 2 - 0.5) / 10, 1);
    const crossing = deriveEngineThreshold({
      duckdb: { intercept: 0.5, slope: 30 / GiB },
      spark: { intercept: 20.5, slope: 10 / GiB },
      functionMemoryMb: 3538,
    });
    expect(crossing.crossoverBytes! / GiB).toBeCloseTo(1, 5);
    expect(crossing.bytes).toBe(GiB);
    expect(crossing.reason).toMatch(/Spark overtakes DuckDB at 1\.0 GiB/);
  });

  it('stops where the Parquet would fill /tmp, and extrapolates at most twice the largest measurement', () => {
    const lines = { duckdb, spark: { intercept: 8, slope: 40 / GiB }, functionMemoryMb: 3538 };
    const storage = deriveEngineThreshold({ ...lines, ephemeralStorageBytes: 10 * GiB, parquetBytesPerInputByte: 0.5 });
    expect(storage.bytes).toBe(16 * GiB); // 80 % of 10 GiB / 0.5
    expect(storage.reason).toMatch(/fills 80 % of \/tmp/);
    const capped = deriveEngineThreshold({ ...lines, parquetBytesPerInputByte: 0.1, largestMeasuredBytes: 5 * GiB });
    expect(capped.bytes).toBe(10 * GiB);
    expect(capped.reason).toMatch(/twice the largest size measured/);
  });

  it('has the default the last full engine benchmark derived (bench/results.json)', async () => {
    const { readFile } = await import('node:fs/promises');
    const report = JSON.parse(await readFile(new URL('../../bench/results.json', import.meta.url), 'utf8')) as {
      mode: string;
      suites: Array<{ id: string; data: { threshold: { bytes: number } } }>;
    };
    expect(report.mode).toBe('full');
    expect(DEFAULT_DUCKDB_MAX_INPUT_BYTES).toBe(report.suites.find((s) => s.id === 'engine')!.data.threshold.bytes);
  });

  it('flags DuckDB batches above the default threshold, and never an EMR job', () => {
    expect(overDuckdbThreshold({ engine: 'duckdb' }, DEFAULT_DUCKDB_MAX_INPUT_BYTES + 1)).toBe(true);
    expect(overDuckdbThreshold({ engine: 'duckdb' }, 1000)).toBe(false);
    expect(overDuckdbThreshold({ engine: 'emr' }, 100 * GiB)).toBe(false);
  });
});

describe('the cost model', () => {
  it('prices Lambda GB-seconds rounded up per millisecond, requests, DynamoDB units and S3 requests', () => {
    const lines = costPerThousandFiles({
      lambda: { validate: { invocations: 1, ms: 999.2, memoryMb: 1024 } },
      dynamodb: { writeUnits: 4, readUnits: 8 },
      s3: { PutObject: 2, GetObject: 3 },
    });
    const line = (item: string) => lines.find((l) => l.item === item)!.usd;
    expect(line('Lambda validate GB-s')).toBeCloseTo(1000 * 1 * PRICES.lambda.perGbSecond, 10);
    expect(line('Lambda validate requests')).toBeCloseTo((1000 * PRICES.lambda.perMillionRequests) / 1e6, 10);
    expect(line('DynamoDB writes (on-demand)')).toBeCloseTo((4000 * PRICES.dynamodb.perMillionWriteUnits) / 1e6, 10);
    expect(line('S3 requests')).toBeCloseTo(2 * PRICES.s3.perThousandPutCopyPostList + 3 * PRICES.s3.perThousandGetHead, 10);
    expect(total(lines)).toBeCloseTo(
      lines.reduce((s, l) => s + l.usd, 0),
      12,
    );
  });

  it('adds EMR cluster time only to heavy runs (on the transient shape), and the standing clusters as a monthly figure', () => {
    const light = costPerRun({ lambda: {}, stateTransitions: 6, dynamodb: { writeUnits: 0, readUnits: 0 } });
    expect(light.map((l) => l.item)).not.toContain(expect.stringMatching(/EMR/));
    const heavy = costPerRun({ lambda: {}, stateTransitions: 0, dynamodb: { writeUnits: 0, readUnits: 0 }, emrStepMinutes: 60 });
    // an hour of 3 On-Demand + 2 Spot (0.4) m7g.xlarge: 3 × (0.1632 + 0.0408) + 2 × (0.4 × 0.1632 + 0.0408)
    expect(heavy.find((l) => l.item.startsWith('EMR'))!.usd).toBeCloseTo(0.82416, 8);
    expect(clusterPerHour(PRICES.emr.transientShape)).toBeCloseTo(0.82416, 8);
    // two always-on clusters of 1 + 2 m7g.xlarge On-Demand, 720 h
    expect(standingClustersPerMonth()).toBeCloseTo(2 * 3 * (0.1632 + 0.0408) * 720, 6);
  });
});
