/**
 * A generated pipeline configuration at scale (the config-scale benchmark and its unit test):
 * `generatedPipeline({ datasets: 200, jobs: 700, dir })` writes `dir/pipeline.json` and the SQL
 * files it names (`dir/sql/job_0001_s1.v1.sql`, …). Deterministic for a given seed.
 *
 * The mix:
 * - lookup families (`stores_fN`: region → its stores, `quorum_fN`: region → a count, `regions_fN`:
 *   the regions); every dataset belongs to one family;
 * - datasets: grouped by region and store per day (`gen/ds_0007/{region}/{store}_{date:YYYYMMDD}.csv`,
 *   CSV, TSV or JSON lines; half with `members`), cumulative ones with a time
 *   (`…_{time:HHMMSS}.tdf`), daily reference snapshots (date only), and manifests (lists or counts);
 * - jobs: regional (batch key region + date) or daily (date), reading 1–3 datasets of their
 *   family (and reference snapshots); about a third also read 1–2 earlier jobs of their family
 *   (a DAG up to depth 4, no cycles: a job only reads jobs generated before it); every kind of
 *   precondition, `minDistinct` counts as numbers and as `{ lookup, by }`; 1–3 SQL stages each.
 *
 * The measured dataset (`MEASURED_DATASET`, ds_0000) is read by exactly the jobs of
 * `MEASURED_READERS`, all among the first `SMALL_JOBS` jobs; a job reads only jobs generated before
 * it. So `jobs: 7` is a prefix of `jobs: 700` (same 200 datasets, the same first 7 jobs), and a file
 * of ds_0000 is read by the same jobs in both.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const MEASURED_DATASET = 'ds_0000';
/** the jobs that read MEASURED_DATASET, in every generated configuration with enough jobs */
export const MEASURED_READERS = ['job_0000', 'job_0002', 'job_0005'];
/** the small variant: a prefix of the jobs that holds every reader of MEASURED_DATASET */
export const SMALL_JOBS = 7;
const MAX_DEPTH = 4;

export interface GeneratedPipelineOptions {
  datasets: number;
  jobs: number;
  /** the folder to write pipeline.json and sql/ into (created if missing) */
  dir: string;
  seed?: number;
  /** lookup families (region/store sets); default 10 */
  families?: number;
}

export type DatasetKind = 'grouped' | 'cumulative' | 'reference' | 'manifest';

export interface GeneratedDataset {
  name: string;
  kind: DatasetKind;
  family: number;
  /** a key (relative to landing/) of one file of this dataset on `date`, and the fields it captures */
  sampleKey: (date: string, region?: string, store?: string) => { key: string; fields: Record<string, string> };
}

export interface GeneratedPipeline {
  dir: string;
  /** dir/pipeline.json */
  file: string;
  /** the raw configuration written to `file` */
  config: RawConfig;
  datasets: GeneratedDataset[];
  /** each family's regions and their stores */
  families: Array<Record<string, string[]>>;
  /** job name → the depth of its chain of upstream jobs (1: reads datasets only) */
  depth: Map<string, number>;
  /** SQL files written */
  sqlFiles: number;
}

type Raw = Record<string, unknown>;
export interface RawConfig {
  lookups: Record<string, unknown>;
  datasets: Raw[];
  jobs: Raw[];
}

/** mulberry32: a small deterministic PRNG. */
function rng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (min: number, max: number) => min + Math.floor(next() * (max - min + 1));
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
  return { next, int, pick, chance: (p: number) => next() < p };
}

const pad = (n: number) => String(n).padStart(4, '0');
const datasetName = (i: number) => `ds_${pad(i)}`;
const jobName = (i: number) => `job_${pad(i)}`;
const compact = (date: string) => date.replaceAll('-', '');
const TIME_ZONES = ['America/Toronto', 'America/Vancouver', 'Europe/Paris', 'UTC', 'Asia/Tokyo'];

function families(count: number, r: ReturnType<typeof rng>): Array<Record<string, string[]>> {
  return Array.from({ length: count }, (_, f) => {
    const regions: Record<string, string[]> = {};
    const n = r.int(2, 7);
    for (let g = 1; g <= n; g += 1) {
      const region = `F${f}R${g}`;
      regions[region] = Array.from({ length: r.int(2, 6) }, (_, s) => `${region}S${String(s + 1).padStart(2, '0')}`);
    }
    return regions;
  });
}

function columns(kind: DatasetKind, r: ReturnType<typeof rng>): Raw[] {
  if (kind === 'manifest') return r.chance(0.5) ? [{ name: 'store_id', kind: 'string' }] : [{ name: 'parts', kind: 'integer' }];
  const cols: Raw[] = [];
  if (kind !== 'reference') cols.push({ name: 'store_id', kind: 'string', equalsKeyField: 'store' });
  cols.push({ name: 'business_date', kind: 'date', equalsKeyField: 'date' });
  cols.push({ name: 'item_id', kind: 'string' });
  const extra: Raw[] = [
    { name: 'quantity', kind: 'integer' },
    { name: 'amount', kind: 'decimal', scale: 2 },
    { name: 'code', kind: 'integer', allowed: [1, 2, 3, 4, 5] },
    { name: 'channel', kind: 'string', allowed: ['web', 'mobile', 'store'] },
    { name: 'note', kind: 'string', nullable: true },
    { name: 'updated_at', kind: 'timestamp', equalsKeyField: 'date' },
  ];
  for (const c of extra) if (r.chance(0.5)) cols.push(c);
  return cols;
}

/**
 * Writes the configuration and its SQL files. The first `min(jobs, SMALL_JOBS)` jobs do not
 * depend on `jobs`: a smaller configuration is a prefix of a larger one with the same seed.
 */
export function generatedPipeline(options: GeneratedPipelineOptions): GeneratedPipeline {
  const seed = options.seed ?? 20261127;
  const familyCount = options.families ?? 10;
  if (options.datasets < familyCount * 2) throw new Error(`at least ${familyCount * 2} datasets (two per family)`);
  const dr = rng(seed);
  const fams = families(familyCount, dr);
  const lookups: Record<string, unknown> = {};
  fams.forEach((regions, f) => {
    lookups[`stores_f${f}`] = regions;
    lookups[`quorum_f${f}`] = Object.fromEntries(Object.entries(regions).map(([g, stores]) => [g, Math.max(2, stores.length - 1)]));
    lookups[`regions_f${f}`] = Object.keys(regions);
  });

  // ---- datasets: the first 2·families are grouped (every family has grouped data), then a mix ----
  const datasets: GeneratedDataset[] = [];
  const rawDatasets: Raw[] = [];
  for (let i = 0; i < options.datasets; i += 1) {
    const name = datasetName(i);
    const family = i % familyCount;
    const roll = dr.next();
    const kind: DatasetKind = i < familyCount * 2 ? 'grouped' : roll < 0.66 ? 'grouped' : roll < 0.78 ? 'cumulative' : roll < 0.9 ? 'reference' : 'manifest';
    const format = kind === 'manifest' ? 'csv' : dr.pick(['csv', 'csv', 'tdf', 'jsonl'] as const);
    const base = `gen/${name}`;
    let keyPattern: string;
    if (kind === 'grouped') keyPattern = `${base}/{region}/{store}_{date:YYYYMMDD}.${format}`;
    else if (kind === 'cumulative') keyPattern = `${base}/{region}/{store}_{date:YYYYMMDD}_{time:HHMMSS}.${format}`;
    else if (kind === 'reference') keyPattern = `${base}/{date:YYYYMMDD}/snapshot.${format}`;
    else keyPattern = `${base}/{region}/{date:YYYYMMDD}/manifest.csv`;
    const cols = columns(kind, dr);
    const raw: Raw = {
      name,
      keyPattern,
      format: format === 'jsonl' ? { kind: 'jsonl' } : { kind: 'delimited', delimiter: format === 'tdf' ? '\t' : ',' },
      columns: cols,
      dateField: 'date',
      partitionBy: kind === 'reference' ? [] : ['region'],
    };
    if (kind !== 'reference') {
      raw.keyFieldValues = { region: dr.chance(0.5) ? { lookup: `stores_f${family}` } : { lookup: `regions_f${family}` } };
      // the measured dataset rejects stray stores, like the POS files
      if ((kind === 'grouped' || kind === 'cumulative') && (i === 0 || dr.chance(0.5)))
        raw.members = { field: 'store', per: 'region', lookup: `stores_f${family}` };
    }
    if (kind === 'manifest') raw.manifest = cols[0]!.name === 'parts' ? { column: 'parts', kind: 'counts' } : { column: 'store_id', kind: 'lists' };
    if (dr.chance(0.3)) raw.maxBadRowRatio = 0.1;
    rawDatasets.push(raw);
    datasets.push({
      name,
      kind,
      family,
      sampleKey: (date, region = Object.keys(fams[family]!)[0]!, store = fams[family]![region]![0]!): { key: string; fields: Record<string, string> } => {
        const d = compact(date);
        if (kind === 'grouped') return { key: `${base}/${region}/${store}_${d}.${format}`, fields: { region, store, date } };
        if (kind === 'cumulative') return { key: `${base}/${region}/${store}_${d}_120000.${format}`, fields: { region, store, date, time: '12:00:00' } };
        if (kind === 'reference') return { key: `${base}/${d}/snapshot.${format}`, fields: { date } };
        return { key: `${base}/${region}/${d}/manifest.csv`, fields: { region, date } };
      },
    });
  }
  const byFamily = (f: number, kinds: DatasetKind[]) => datasets.filter((d) => d.family === f && kinds.includes(d.kind) && d.name !== MEASURED_DATASET);
  const references = datasets.filter((d) => d.kind === 'reference');

  // ---- jobs: generated in order; a job reads only earlier jobs (so no cycle, and prefixes are closed) ----
  const jr = rng(seed ^ 0x5bd1e995);
  const measured = datasets[0]!;
  const rawJobs: Raw[] = [];
  const depth = new Map<string, number>();
  const meta: Array<{ name: string; family: number; regional: boolean }> = [];
  const sql = new Map<string, string>();
  for (let i = 0; i < options.jobs; i += 1) {
    const name = jobName(i);
    const readsMeasured = MEASURED_READERS.includes(name);
    const family = readsMeasured ? measured.family : i < SMALL_JOBS ? i % familyCount : jr.int(0, familyCount - 1);
    let regional = readsMeasured ? name !== MEASURED_READERS[2] : jr.chance(0.7);
    const eligible = meta.filter((m) => m.family === family && depth.get(m.name)! < MAX_DEPTH);
    const upstreams: typeof meta = [];
    if (!readsMeasured && eligible.length > 0 && jr.chance(0.38)) {
      const want = jr.chance(0.3) ? 2 : 1;
      while (upstreams.length < Math.min(want, eligible.length)) {
        const u = jr.pick(eligible);
        if (!upstreams.includes(u)) upstreams.push(u);
      }
    }
    // datasets: a primary grouped (or cumulative) dataset of the family, then others
    const grouped = byFamily(family, ['grouped', 'cumulative']);
    const wanted = upstreams.length > 0 ? jr.int(0, 2) : jr.int(1, 3);
    const picked: GeneratedDataset[] = [];
    if (readsMeasured) picked.push(measured);
    for (let attempt = 0; picked.length < wanted && attempt < 50; attempt += 1) {
      const roll = jr.next();
      const pool = picked.length === 0 ? grouped : roll < 0.65 ? grouped : roll < 0.85 ? references : byFamily(family, ['manifest']);
      if (pool.length === 0) continue;
      const d = jr.pick(pool);
      if (picked.includes(d)) continue;
      // one manifest per job, and only beside a grouped primary of a regional job
      if (d.kind === 'manifest' && (!regional || picked.length === 0 || picked.some((p) => p.kind === 'manifest'))) continue;
      picked.push(d);
    }
    // a regional job needs an input that matches region: a grouped dataset or a regional upstream
    if (regional && !picked.some((d) => d.kind === 'grouped' || d.kind === 'cumulative') && !upstreams.some((u) => u.regional)) regional = false;
    if (!regional) {
      // a daily job cannot pair a manifest (its parts are per region)
      for (let k = picked.length - 1; k >= 0; k -= 1) if (picked[k]!.kind === 'manifest') picked.splice(k, 1);
    }
    const batchKey = regional ? ['region', 'date'] : ['date'];
    const inputs: Raw[] = [];
    const preconditions: Raw[] = [];
    picked.forEach((d, k) => {
      const match = regional && d.kind !== 'reference' ? ['region', 'date'] : ['date'];
      const input: Raw = { relation: d.name, dataset: d.name, match };
      if (d.kind === 'cumulative') Object.assign(input, { mode: 'cumulative', newestPer: 'store', newestBy: 'time' });
      inputs.push(input);
      if (k === 0) {
        // the completeness of the primary input: its stores per region, or its regions per day
        const count = regional
          ? jr.pick([{ lookup: `stores_f${family}`, by: 'region' }, { lookup: `quorum_f${family}`, by: 'region' }, 2] as const)
          : jr.pick([{ lookup: `regions_f${family}` }, { lookup: `stores_f${family}` }, 2] as const);
        preconditions.push({ kind: 'minDistinct', input: d.name, field: regional ? 'store' : 'region', count });
      } else if (d.kind === 'manifest') {
        preconditions.push({ kind: 'manifest', input: picked[0]!.name, manifest: d.name, field: 'store' });
      } else if (d.kind === 'reference') {
        preconditions.push({ kind: 'present', input: d.name });
      } else {
        const roll = jr.next();
        if (roll < 0.6) preconditions.push({ kind: 'present', input: d.name });
        else if (roll < 0.85) preconditions.push({ kind: 'minTotalBytes', input: d.name, bytes: jr.pick([1, 1024, 65536]) });
      }
    });
    for (const u of upstreams) {
      const match = regional && u.regional ? ['region', 'date'] : ['date'];
      inputs.push({ relation: u.name, job: u.name, match });
      // a daily job over a regional job's partitions waits for every region of the day
      if (!regional && u.regional) preconditions.push({ kind: 'minDistinct', input: u.name, field: 'region', count: { lookup: `stores_f${family}` } });
      else preconditions.push({ kind: 'present', input: u.name });
    }
    if (jr.chance(0.7)) preconditions.push({ kind: 'newerThanLastRun' });
    const stages: Raw[] = [];
    const stageCount = jr.int(1, 3);
    const first = inputs[0]!.relation as string;
    for (let s = 1; s <= stageCount; s += 1) {
      const file = `sql/${name}_s${s}.v${jr.int(1, 3)}.sql`;
      stages.push({ name: `s${s}`, sql: file });
      sql.set(file, s === 1 ? `-- ${name}, stage s1\nSELECT * FROM ${first};\n` : `-- ${name}, stage s${s}\nSELECT * FROM s${s - 1};\n`);
    }
    const job: Raw = {
      name,
      batchKey,
      inputs,
      preconditions,
      engine: 'duckdb',
      stages,
      output: { table: name, partitionBy: batchKey, key: regional ? ['store_id', 'item_id'] : ['item_id'] },
    };
    if (jr.chance(0.3))
      job.freshness = { deadline: `${String(jr.int(6, 22)).padStart(2, '0')}:${jr.pick(['00', '15', '30', '45'])}`, timeZone: jr.pick(TIME_ZONES) };
    if (jr.chance(0.15)) job.cutoff = { at: '23:00', timeZone: jr.pick(TIME_ZONES), dayOffset: 1 };
    rawJobs.push(job);
    depth.set(name, 1 + Math.max(0, ...upstreams.map((u) => depth.get(u.name)!)));
    meta.push({ name, family, regional });
  }

  const config: RawConfig = { lookups, datasets: rawDatasets, jobs: rawJobs };
  mkdirSync(join(options.dir, 'sql'), { recursive: true });
  for (const [file, text] of sql) writeFileSync(join(options.dir, file), text);
  const file = join(options.dir, 'pipeline.json');
  writeFileSync(file, `${JSON.stringify(config, null, 2)}\n`);
  return { dir: options.dir, file, config, datasets, families: fams, depth, sqlFiles: sql.size };
}
