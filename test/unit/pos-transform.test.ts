import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative, sep } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DuckDBConnection } from '@duckdb/node-api';
import { compilePipeline, resolveLandingKey } from '../../shared/core/config/load-config';
import { retailConfig } from '../../examples/retail/config';
const pipelineConfig = retailConfig();
import { csvToParquet } from '../../shared/stages/convert/csv-to-parquet';
import { openDuckDb, type DuckDb } from '../../shared/core/duckdb/duckdb';
import { PREFIX, processedKey } from '../../shared/core/s3/layout';
import { ITEM_HEADER, POS_HEADER, writePosSample } from '../../examples/retail/data/pos-sample';
import { InvalidTransformRequestError, MissingInputError, runSqlTransform } from '../../shared/stages/transform/run-sql';
import { FileLineSink } from '../../shared/stages/validate/file-sink';
import { validateFile } from '../../shared/stages/validate/validate-file';
import { expectedPosDailySales } from '../support/expected-pos';

// v2 is v1 with a faster plan; v3 is v2 with sums that cannot overflow: all give the same answers
// where v1 succeeds (the job runs the newest).
const SQL_FILES = ['pos_daily_sales.v1.sql', 'pos_daily_sales.v2.sql', 'pos_daily_sales.v3.sql'];
/** the type of the amounts each version writes: v3 widened them (see 'sums past DECIMAL(18,2)') */
const AMOUNT_TYPE: Record<string, string> = {
  'pos_daily_sales.v1.sql': 'DECIMAL(18,2)',
  'pos_daily_sales.v2.sql': 'DECIMAL(18,2)',
  'pos_daily_sales.v3.sql': 'DECIMAL(38,2)',
};
const pipeline = compilePipeline(pipelineConfig);
const DATE = '2026-11-23';

interface ProcessedFile {
  dataset: string;
  fields: Record<string, string>;
  path: string;
}

async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)).split(sep).join('/'))
    .sort();
}

/**
 * landing/ → processed/ without AWS, through the pipeline's own code: key resolution, the streaming
 * validator, and csvToParquet with the constants convert adds (mirrors convert-object.ts).
 */
async function buildProcessed(conn: DuckDBConnection, landingDir: string, workDir: string): Promise<ProcessedFile[]> {
  const out: ProcessedFile[] = [];
  for (const rel of await listFiles(landingDir)) {
    const resolution = resolveLandingKey(pipeline, rel);
    if (resolution.kind !== 'matched') continue;
    const { dataset, fields } = resolution;
    const csvPath = join(workDir, 'validated', `${rel}.csv`);
    await mkdir(dirname(csvPath), { recursive: true });
    const good = new FileLineSink(csvPath);
    let outcome;
    try {
      outcome = await validateFile(createReadStream(join(landingDir, rel)), dataset, fields, { good, rejects: { write() {} } });
    } finally {
      await good.close();
    }
    if (outcome.state !== 'VALIDATED') continue;
    const constants: Array<[string, string]> = [
      ...Object.entries(fields).map(([k, v]): [string, string] => [`key_${k}`, v]),
      ['source_key', `${PREFIX.landing}${rel}`],
      ['source_version_id', 'null'],
    ];
    const partitions = dataset.partitionBy.map((p): [string, string] => [p, fields[p]!]);
    const parquetPath = join(workDir, processedKey(dataset.name, fields[dataset.dateField]!, partitions, rel));
    await mkdir(dirname(parquetPath), { recursive: true });
    await csvToParquet(conn, { csvPath, parquetPath, columns: dataset.columns, constants });
    out.push({ dataset: dataset.name, fields, path: parquetPath });
  }
  return out;
}

function inputsFor(processed: ProcessedFile[], province: string, date: string) {
  return {
    pos: processed.filter((f) => f.dataset === 'pos' && f.fields.province === province && f.fields.date === date).map((f) => f.path),
    item_master: processed.filter((f) => f.dataset === 'item_master' && f.fields.date === date).map((f) => f.path),
  };
}

const ORDERED = 'ORDER BY province, transaction_date, store_id, item_id';

async function readOutput(conn: DuckDBConnection, path: string) {
  const reader = await conn.runAndReadAll(`SELECT * EXCLUDE (dt) FROM read_parquet($path, hive_partitioning = false) ${ORDERED}`, { path });
  return reader.getRowObjectsJson();
}

describe.each(SQL_FILES)('POS daily sales transform (DuckDB), %s', (sqlFile) => {
  let duckdb: DuckDb;
  let conn: DuckDBConnection;
  let root: string;
  let sql: string;
  let processed: ProcessedFile[];
  let landing: string;
  let outDir: string;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'landfall-pos-transform-'));
    landing = join(root, 'landing');
    outDir = join(root, 'out');
    await mkdir(outDir, { recursive: true });
    sql = await readFile(new URL(`../../examples/retail/sql/${sqlFile}`, import.meta.url), 'utf8');
    duckdb = await openDuckDb({ workDir: join(root, 'duckdb'), functionMemoryMb: 1024 });
    conn = duckdb.conn;
    await writePosSample(landing, {
      seed: 11,
      startDate: DATE,
      days: 1,
      provinces: { ON: 3, QC: 2 },
      rowsPerFile: 60,
      filesPerStore: 3,
      items: 8,
      badFiles: true,
    });
    processed = await buildProcessed(conn, landing, join(root, 'work'));
  });

  afterAll(async () => {
    duckdb?.close();
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('matches the independent computation for every province, row for row', async () => {
    const expected = await expectedPosDailySales(landing);
    // the bad files (empty, binary, mostly bad, no header, unknown province) never become Parquet
    expect(processed.filter((f) => f.dataset === 'pos')).toHaveLength((3 + 2) * 3);
    for (const province of ['ON', 'QC']) {
      const output = join(outDir, `${province}.parquet`);
      const { rows } = await runSqlTransform(conn, {
        sql,
        inputs: inputsFor(processed, province, DATE),
        params: { province, batch_date: DATE },
        outputPath: output,
      });
      const want = expected.filter((r) => r.province === province);
      expect(want.length).toBeGreaterThan(10);
      expect(rows).toBe(want.length);
      expect(await readOutput(conn, output)).toEqual(want);
      const dts = (await conn.runAndReadAll('SELECT DISTINCT dt FROM read_parquet($path)', { path: output })).getRows();
      expect(dts).toEqual([[DATE]]);
    }
    // the sample exercises the interesting cases: zero amounts, every code, names with commas
    const on = expected.filter((r) => r.province === 'ON');
    expect(on.some((r) => r.tax_amount === '0.00')).toBe(true);
    expect(on.some((r) => r.discount_amount !== '0.00')).toBe(true);
    expect(expected.some((r) => r.item_name?.includes(','))).toBe(true);
  });

  it('writes the documented schema, in order', async () => {
    const output = join(outDir, 'schema.parquet');
    await runSqlTransform(conn, { sql, inputs: inputsFor(processed, 'ON', DATE), params: { province: 'ON', batch_date: DATE }, outputPath: output });
    const schema = (await conn.runAndReadAll('SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet($path))', { path: output })).getRows();
    expect(schema).toEqual([
      ['province', 'VARCHAR'],
      ['transaction_date', 'DATE'],
      ['store_id', 'VARCHAR'],
      ['item_id', 'VARCHAR'],
      ['item_name', 'VARCHAR'],
      ['category', 'VARCHAR'],
      ['sale_amount', AMOUNT_TYPE[sqlFile]],
      ['tax_amount', AMOUNT_TYPE[sqlFile]],
      ['discount_amount', AMOUNT_TYPE[sqlFile]],
      ['dt', 'VARCHAR'],
    ]);
  });

  it('writes exactly one record per (store, item, transaction date), even with every cumulative file and a repeated master', async () => {
    const output = join(outDir, 'unique.parquet');
    const day = inputsFor(processed, 'ON', DATE);
    expect(day.pos.length).toBe(9);
    // the master's rows twice (as if two versions were given): the join must still not multiply rows
    const inputs = { pos: day.pos, item_master: [...day.item_master, ...day.item_master] };
    await runSqlTransform(conn, { sql, inputs, params: { province: 'ON', batch_date: DATE }, outputPath: output });
    const [[total, distinct]] = (
      await conn.runAndReadAll('SELECT count(*)::INTEGER, count(DISTINCT (store_id, item_id, transaction_date))::INTEGER FROM read_parquet($path)', {
        path: output,
      })
    ).getRows() as [[number, number]];
    expect(total).toBeGreaterThan(0);
    expect(distinct).toBe(total);
  });

  it('gives identical output when run twice on the same connection', async () => {
    const request = { sql, inputs: inputsFor(processed, 'QC', DATE), params: { province: 'QC', batch_date: DATE } };
    const first = await runSqlTransform(conn, { ...request, outputPath: join(outDir, 'twice-1.parquet') });
    const second = await runSqlTransform(conn, { ...request, outputPath: join(outDir, 'twice-2.parquet') });
    expect(second).toEqual(first);
    expect(await readOutput(conn, join(outDir, 'twice-2.parquet'))).toEqual(await readOutput(conn, join(outDir, 'twice-1.parquet')));
    // the temp relations are gone afterwards
    const left = (await conn.runAndReadAll("SELECT table_name FROM duckdb_tables() WHERE temporary AND table_name IN ('pos', 'item_master')")).getRows();
    expect(left).toEqual([]);
  });

  it('binds the batch values: a hostile province selects nothing and breaks nothing', async () => {
    const output = join(outDir, 'hostile.parquet');
    const { rows } = await runSqlTransform(conn, {
      sql,
      inputs: inputsFor(processed, 'ON', DATE),
      params: { province: "ON' OR '1'='1", batch_date: DATE },
      outputPath: output,
    });
    expect(rows).toBe(0);
  });

  it('reads the inputs as stored: dt=/province= directories add no columns', async () => {
    const output = join(outDir, 'relation.parquet');
    const inputs = inputsFor(processed, 'ON', DATE);
    expect(inputs.pos[0]).toContain(`/dt=${DATE}/province=ON/`);
    await runSqlTransform(conn, { sql: 'SELECT * FROM pos;', inputs: { pos: inputs.pos }, params: {}, outputPath: output });
    const names = (await conn.runAndReadAll('SELECT column_name FROM (DESCRIBE SELECT * FROM read_parquet($path))', { path: output })).getRows().flat();
    expect(names).toEqual([
      'store_id',
      'item_id',
      'transaction_date',
      'transaction_code',
      'amount',
      'key_province',
      'key_store',
      'key_date',
      'key_time',
      'source_key',
      'source_version_id',
    ]);
  });

  describe('hand-made cumulative files', () => {
    let dir: string;
    let files: ProcessedFile[];
    const tdf = (rows: string[][]) => `${POS_HEADER}\n${rows.map((r) => r.join('\t')).join('\n')}\n`;

    beforeAll(async () => {
      dir = join(root, 'handmade');
      const d = DATE.replaceAll('-', '');
      const put = async (key: string, text: string) => {
        await mkdir(dirname(join(dir, 'landing', key)), { recursive: true });
        await writeFile(join(dir, 'landing', key), text);
      };
      await put(`master/${d}/Item.csv`, `${ITEM_HEADER}\nI0001,"Classic Burger, large",Burgers,9.99\nI0002,Fries,Sides,2.50\nI0003,Cola,Drinks,1.75\n`);
      // ON01's older file has an item (I0099) that its newest file no longer has.
      await put(
        `pos/ON/ON01_${d}_080000.tdf`,
        tdf([
          ['ON01', 'I0001', DATE, '4', '10.00'],
          ['ON01', 'I0099', DATE, '4', '99.99'],
          ['ON01', 'I0002', DATE, '5', '1.00'],
        ]),
      );
      await put(
        `pos/ON/ON01_${d}_120000.tdf`,
        tdf([
          ['ON01', 'I0001', DATE, '4', '10.00'],
          ['ON01', 'I0001', DATE, '4', '5.25'],
          ['ON01', 'I0001', DATE, '7', '100.00'],
          ['ON01', 'I0002', DATE, '5', '1.00'],
          ['ON01', 'I0002', DATE, '06', '-0.50'],
          ['ON01', 'I0003', DATE, '1', '7.00'],
          ['ON01', 'I0003', DATE, '9', '3.00'],
          ['ON01', 'I0005', DATE, '7', '4.00'],
        ]),
      );
      // ON02 sends one file; I0004 is not in the master (the LEFT JOIN keeps it, unnamed).
      await put(
        `pos/ON/ON02_${d}_090000.tdf`,
        tdf([
          ['ON02', 'I0002', DATE, '4', '2.00'],
          ['ON02', 'I0004', DATE, '4', '1.10'],
          ['ON02', 'I0004', DATE, '8', '50.00'],
        ]),
      );
      files = await buildProcessed(conn, join(dir, 'landing'), join(dir, 'work'));
    });

    const run = async (name: string) => {
      const output = join(outDir, `${name}.parquet`);
      await runSqlTransform(conn, { sql, inputs: inputsFor(files, 'ON', DATE), params: { province: 'ON', batch_date: DATE }, outputPath: output });
      return readOutput(conn, output);
    };
    const row = (store: string, item: string, name: string | null, category: string | null, sale: string, tax: string, discount: string) => ({
      province: 'ON',
      transaction_date: DATE,
      store_id: store,
      item_id: item,
      item_name: name,
      category,
      sale_amount: sale,
      tax_amount: tax,
      discount_amount: discount,
    });

    const want = [
      row('ON01', 'I0001', 'Classic Burger, large', 'Burgers', '15.25', '0.00', '0.00'),
      row('ON01', 'I0002', 'Fries', 'Sides', '0.00', '1.00', '-0.50'),
      row('ON02', 'I0002', 'Fries', 'Sides', '2.00', '0.00', '0.00'),
      row('ON02', 'I0004', null, null, '1.10', '0.00', '0.00'),
    ];

    it('counts only the newest cumulative file of a store', async () => {
      const got = await run('handmade-newest');
      expect(got).toEqual(want);
      // I0099 is only in ON01's older file; ON01's I0001 sale is the newest file's 10.00 + 5.25
      expect(got.map((r) => r.item_id)).not.toContain('I0099');
      expect(await expectedPosDailySales(join(dir, 'landing'))).toEqual(want);
    });

    it('counts only transaction codes 4, 5 and 6', async () => {
      const got = await run('handmade-codes');
      // I0003 (codes 1 and 9) and I0005 (code 7) get no record; code 7 and 8 amounts add nothing
      expect(got.map((r) => r.item_id)).not.toContain('I0003');
      expect(got.map((r) => r.item_id)).not.toContain('I0005');
      expect(got.find((r) => r.store_id === 'ON01' && r.item_id === 'I0001')?.sale_amount).toBe('15.25');
      expect(got.find((r) => r.store_id === 'ON02' && r.item_id === 'I0004')?.sale_amount).toBe('1.10');
      expect(got).toEqual(want);
    });
  });

  describe('request checks', () => {
    it('throws MissingInputError for a relation with no files', async () => {
      const inputs = { ...inputsFor(processed, 'ON', DATE), pos: [] };
      const attempt = runSqlTransform(conn, { sql, inputs, params: { province: 'ON', batch_date: DATE }, outputPath: join(outDir, 'missing.parquet') });
      await expect(attempt).rejects.toBeInstanceOf(MissingInputError);
      await expect(attempt).rejects.toThrow(/"pos" has no Parquet files/);
    });

    it('refuses an unsafe relation name', async () => {
      const { pos, item_master } = inputsFor(processed, 'ON', DATE);
      for (const name of ['pos; DROP TABLE x', 'Pos', '"pos"', '1pos']) {
        const attempt = runSqlTransform(conn, {
          sql,
          inputs: { [name]: pos, item_master },
          params: { province: 'ON', batch_date: DATE },
          outputPath: join(outDir, 'unsafe.parquet'),
        });
        await expect(attempt).rejects.toBeInstanceOf(InvalidTransformRequestError);
        await expect(attempt).rejects.toThrow(/not a safe identifier/);
      }
    });

    it('refuses glob characters in paths and parameters the SQL does not use or lacks', async () => {
      const inputs = inputsFor(processed, 'ON', DATE);
      const base = { sql, inputs, params: { province: 'ON', batch_date: DATE }, outputPath: join(outDir, 'checks.parquet') };
      await expect(runSqlTransform(conn, { ...base, inputs: { ...inputs, pos: [join(dirname(inputs.pos[0]!), '*.parquet')] } })).rejects.toThrow(
        /glob character/,
      );
      await expect(runSqlTransform(conn, { ...base, params: { province: 'ON' } })).rejects.toThrow(/missing \$batch_date/);
      await expect(runSqlTransform(conn, { ...base, params: { ...base.params, extra: 1 } })).rejects.toThrow(/not used \$extra/);
    });
  });
});

describe('sums past DECIMAL(18,2)', () => {
  let duckdb: DuckDb;
  let root: string;
  let files: ProcessedFile[];
  const biggest = '9999999999999999.99'; // the largest amount validate accepts (16 integer digits, 2 places)

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'landfall-pos-overflow-'));
    duckdb = await openDuckDb({ workDir: join(root, 'duckdb'), functionMemoryMb: 1024 });
    const d = DATE.replaceAll('-', '');
    const put = async (key: string, text: string) => {
      await mkdir(dirname(join(root, 'landing', key)), { recursive: true });
      await writeFile(join(root, 'landing', key), text);
    };
    await put(`master/${d}/Item.csv`, `${ITEM_HEADER}\nI0001,Burger,Burgers,9.99\n`);
    const rows = [
      ['ON01', 'I0001', DATE, '4', biggest],
      ['ON01', 'I0001', DATE, '4', biggest],
      ['ON01', 'I0001', DATE, '6', `-${biggest}`],
    ];
    await put(`pos/ON/ON01_${d}_120000.tdf`, `${POS_HEADER}\n${rows.map((r) => r.join('\t')).join('\n')}\n`);
    files = await buildProcessed(duckdb.conn, join(root, 'landing'), join(root, 'work'));
  });

  afterAll(async () => {
    duckdb?.close();
    if (root) await rm(root, { recursive: true, force: true });
  });

  const run = async (sqlFile: string) => {
    const sql = await readFile(new URL(`../../examples/retail/sql/${sqlFile}`, import.meta.url), 'utf8');
    const output = join(root, `${sqlFile}.parquet`);
    await runSqlTransform(duckdb.conn, { sql, inputs: inputsFor(files, 'ON', DATE), params: { province: 'ON', batch_date: DATE }, outputPath: output });
    return readOutput(duckdb.conn, output);
  };

  it('v3 sums two of the largest valid amounts exactly', async () => {
    expect(await run('pos_daily_sales.v3.sql')).toEqual([
      {
        province: 'ON',
        transaction_date: DATE,
        store_id: 'ON01',
        item_id: 'I0001',
        item_name: 'Burger',
        category: 'Burgers',
        sale_amount: '19999999999999999.98',
        tax_amount: '0.00',
        discount_amount: `-${biggest}`,
      },
    ]);
    expect(await expectedPosDailySales(join(root, 'landing'))).toEqual(await run('pos_daily_sales.v3.sql'));
  });

  it('v2 fails on them, on every attempt: why v3 exists', async () => {
    for (let attempt = 0; attempt < 2; attempt += 1) await expect(run('pos_daily_sales.v2.sql')).rejects.toThrow(/out of range/i);
  });

  it('the job runs v3', () => {
    expect(pipelineConfig.jobs.find((j) => j.name === 'pos_daily_sales')!.stages.map((s) => s.sql?.split('/').pop())).toEqual(['pos_daily_sales.v3.sql']);
  });
});
