import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/**
 * Data for the meters pipeline of test/fixtures/meters (nothing shared with the samples), and the
 * results computed independently of the engine: exact decimals in integers (kWh in thousandths,
 * rates in ten-thousandths, costs in 1e-7).
 */
export const METERS_PIPELINE = join(import.meta.dirname, '..', 'fixtures', 'meters', 'pipeline.yaml');
export const DAY = '2026-05-01';
const COMPACT = DAY.replaceAll('-', '');

export const RATES: Record<string, bigint> = { north: 1234n, south: 987n }; // 0.1234, 0.0987
const PARTS: Record<string, string[]> = { north: ['0001', '0002', '0003'], south: ['0001', '0002'] };

export interface Reading {
  region: string;
  part: string;
  meter: string;
  milliKwh: bigint;
}

/** A small deterministic sequence (no Math.random: the expected results must repeat). */
function* numbers(seed: number): Generator<number> {
  let x = seed;
  for (;;) {
    x = (x * 1103515245 + 12345) % 2147483648;
    yield x;
  }
}

export function meterReadings(scale = 1): Reading[] {
  const rng = numbers(42);
  const out: Reading[] = [];
  for (const [region, parts] of Object.entries(PARTS)) {
    for (const part of parts) {
      for (let i = 0; i < 12 * scale; i += 1) {
        const meter = `${region.slice(0, 1).toUpperCase()}M${String(rng.next().value! % 5).padStart(3, '0')}`;
        out.push({ region, part, meter, milliKwh: BigInt(rng.next().value! % 900_000) + 1n });
      }
    }
  }
  return out;
}

export const partKey = (region: string, part: string) => `meters/${region}/${COMPACT}/part-${part}.csv`;
export const manifestKey = (region: string) => `meters/${region}/${COMPACT}/manifest.csv`;
export const tariffKey = () => `tariffs/${COMPACT}.jsonl`;

const kwhText = (milli: bigint) => `${milli / 1000n}.${String(milli % 1000n).padStart(3, '0')}`;

export function partFile(readings: Reading[], region: string, part: string, extraLines: string[] = []): string {
  const rows = readings
    .filter((r) => r.region === region && r.part === part)
    .map((r, i) => `${r.meter},${DAY}T${String(i % 24).padStart(2, '0')}:15:00Z,${kwhText(r.milliKwh)}`);
  return `${['meter_id,reading_ts,kwh', ...rows, ...extraLines].join('\n')}\n`;
}

export const manifestFile = (region: string) => `${['part', ...PARTS[region]!].join('\n')}\n`;
export const tariffFile = () =>
  `${Object.entries(RATES)
    .map(([region, rate]) => JSON.stringify({ region, rate: `0.${String(rate).padStart(4, '0')}` }))
    .join('\n')}\n`;

/** Every file of the day, keyed by its path under landing/; north's part 0002 has a bad row. */
export function meterFiles(readings: Reading[]): Record<string, string> {
  const files: Record<string, string> = { [tariffKey()]: tariffFile() };
  for (const [region, parts] of Object.entries(PARTS)) {
    files[manifestKey(region)] = manifestFile(region);
    for (const part of parts)
      files[partKey(region, part)] = partFile(readings, region, part, region === 'north' && part === '0002' ? [`NM999,${DAY}T01:00:00Z,not-a-number`] : []);
  }
  return files;
}

export async function writeTree(dir: string, files: Record<string, string>): Promise<void> {
  for (const [key, text] of Object.entries(files)) {
    await mkdir(dirname(join(dir, key)), { recursive: true });
    await writeFile(join(dir, key), text);
  }
}

const fixed = (value: bigint, scale: number) => {
  const unit = 10n ** BigInt(scale);
  return `${value / unit}.${String(value % unit).padStart(scale, '0')}`;
};

/** The three output tables as `landfall run` writes them (CSV rows, sorted by each table's key). */
export function expectedMeterTables(readings: Reading[]) {
  const usage = new Map<string, { region: string; meter: string; readings: number; milliKwh: bigint; cost: bigint }>();
  for (const r of readings) {
    const id = `${r.region}|${r.meter}`;
    const row = usage.get(id) ?? { region: r.region, meter: r.meter, readings: 0, milliKwh: 0n, cost: 0n };
    row.readings += 1;
    row.milliKwh += r.milliKwh;
    row.cost += r.milliKwh * RATES[r.region]!; // 1e-3 × 1e-4 = 1e-7
    usage.set(id, row);
  }
  const usageRows = [...usage.values()].sort((a, b) => a.region.localeCompare(b.region) || a.meter.localeCompare(b.meter));
  const regions = [...new Set(usageRows.map((u) => u.region))].sort();
  const grid = regions.map((region) => {
    const rows = usageRows.filter((u) => u.region === region);
    return { region, meters: rows.length, milliKwh: rows.reduce((s, u) => s + u.milliKwh, 0n), cost: rows.reduce((s, u) => s + u.cost, 0n) };
  });
  return {
    region_usage: usageRows.map((u) => [u.region, u.meter, u.readings, fixed(u.milliKwh, 3), fixed(u.cost, 7), DAY].join(',')),
    grid_daily: grid.map((g) => [g.region, g.meters, fixed(g.milliKwh, 3), fixed(g.cost, 7), DAY].join(',')),
    grid_summary: [
      [
        DAY,
        grid.length,
        grid.reduce((s, g) => s + g.meters, 0),
        fixed(
          grid.reduce((s, g) => s + g.milliKwh, 0n),
          3,
        ),
        fixed(
          grid.reduce((s, g) => s + g.cost, 0n),
          7,
        ),
      ].join(','),
    ],
  };
}
