import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { retailConfig } from '../../examples/retail/config';
import type { DatasetConfig } from '../../shared/core/config/types';
import { csvToParquet, selectToParquet } from '../../shared/stages/convert/csv-to-parquet';
import { openDuckDb, type DuckDb } from '../../shared/core/duckdb/duckdb';
import { FileLineSink } from '../../shared/stages/validate/file-sink';
import { allGoodColumnsSql, allGoodRowsSql, goodRowsSql, typedColumnsSql } from '../../shared/stages/validate/line-rules-sql';
import { localCopy, validateWithDuckDb } from '../../shared/stages/validate/validate-duckdb';
import { validateFile } from '../../shared/stages/validate/validate-file';

/**
 * convert writes the Parquet from the landed file and the verdict, in one DuckDB pass: the same
 * rows, values and types as converting the validated CSV the JavaScript validation wrote before.
 */
const config = retailConfig();
const dataset = (name: string) => config.datasets.find((d) => d.name === name)!;
const clicks = config.datasets.find((d) => d.format.kind === 'jsonl')!;
const mixed: DatasetConfig = {
  name: 'mixed',
  keyPattern: 'mixed/{date:YYYYMMDD}.csv',
  format: { kind: 'delimited', delimiter: ',' },
  columns: [
    { name: 's', kind: 'string', nullable: true },
    { name: 'i', kind: 'integer', nullable: true },
    { name: 'd', kind: 'decimal', scale: 3, nullable: true },
    { name: 'dt', kind: 'date', nullable: true },
    { name: 'ts', kind: 'timestamp', nullable: true },
  ],
  partitionBy: [],
  dateField: 'date',
  maxBadRowRatio: 0.9,
};
const t = (lines: string[], end = '\n') => `${lines.join(end)}${end}`;
const files: Array<[string, DatasetConfig, Record<string, string>, string]> = [
  [
    'POS with junk, blank lines, bad rows and CRLF',
    dataset('pos'),
    { province: 'ON', store: 'ON01', date: '2026-11-23', time: '14:00:00' },
    t(
      [
        '---- export',
        'store_id\titem_id\ttransaction_date\ttransaction_code\tamount',
        'ON01\tI0001\t2026-11-23\t4\t12.50',
        '',
        'ON01\tI0002\t2026-11-23\t04\t-0.5',
        'ON01\tI0003\t2026-11-23\t99\t1.00',
        '----',
        'ON01\tcafé 店 🍔\t2026-11-23\t9\t0',
        'ON01\tI0005\t2026-11-23\t1\t1234567890123456.99',
      ],
      '\r\n',
    ),
  ],
  [
    'quoted item master',
    dataset('item_master'),
    { date: '2026-11-23' },
    t([
      'item_id,item_name,category,unit_price',
      'I0001,"Burger, ""double""",Burgers,9.99',
      'I0002,Café 店,Sides,0',
      'I0003,"",Sides,1',
      'I0004,"bad"x,Sides,1',
      '"I0005","q",Drinks,2.5',
    ]),
  ],
  [
    'every type, empty values NULL',
    mixed,
    { date: '2026-11-23' },
    t([
      's,i,d,dt,ts',
      'a,1,1.5,2024-02-29,2026-11-23T00:00:00Z',
      ',,,,',
      '"",-0,-0.000,0000-02-29,0000-12-31T23:59:59.999999Z',
      'b,123456789012345678,123456789012345.125,9999-12-31,2026-11-23T12:00:00.5Z',
      'c,04,.5,,',
      // 16 digits before the point do not fit DECIMAL(18,3): a bad row (it once failed the whole conversion)
      'd,1,1234567890123456.125,,',
      'e,1,-999999999999999.999,,',
    ]),
  ],
  [
    'a clean POS file (every line a good row: the typed reader)',
    dataset('pos'),
    { province: 'ON', store: 'ON01', date: '2026-11-23', time: '14:00:00' },
    t(
      [
        'store_id\titem_id\ttransaction_date\ttransaction_code\tamount',
        'ON01\tI0001\t2026-11-23\t4\t12.50',
        'ON01\t"q" x\t2026-11-23\t04\t-0.5',
        "ON01\tcafé '店' 🍔\t2026-11-23\t9\t0",
        'ON01\t  sp  \t2026-11-23\t1\t1234567890123456.99',
      ],
      '\r\n',
    ),
  ],
  [
    'a clean quoted CSV (the typed reader)',
    dataset('item_master'),
    { date: '2026-11-23' },
    t([
      'item_id,item_name,category,unit_price',
      'I0001,"Burger, ""double""",Burgers,9.99',
      'I0002,Café 店,Sides,0',
      'I0003,"""",Sides,1',
      '"I0005","q","""",2.5',
      'I0006," a ",Sides,-0.01',
    ]).slice(0, -1),
  ],
  [
    'clean, every type (the typed reader)',
    mixed,
    { date: '2026-11-23' },
    t([
      's,i,d,dt,ts',
      'a,1,1.5,2024-02-29,2026-11-23T00:00:00Z',
      ',,,,',
      '"",-0,-0.000,0000-02-29,0000-12-31T23:59:59.999999Z',
      'b,123456789012345678,123456789012345.125,9999-12-31,2026-11-23T12:00:00.5Z',
      'c,04,1,0001-01-01,2026-11-23T12:00:00.123Z',
    ]),
  ],
  [
    'clickstream JSON lines',
    clicks,
    { date: '2026-05-01' },
    t([
      '{"event_id":"e1","customer_id":"C1","event_type":"view","product_id":"P1","event_ts":"2026-05-01T10:00:00Z","channel":"web","region":"WEST","order_id":null}',
      '{"event_id":"e2","customer_id":"C1","event_type":"purchase","product_id":"P1","event_ts":"2026-05-01T10:05:00.123Z","channel":"mobile","region":"WEST","order_id":"O1"}',
      '{"event_id":"e3","customer_id":"C2","event_type":"click","event_ts":"2026-05-01T10:00:00Z","channel":"web","region":"EAST"}',
      '{"event_id":"e4, \\"q\\"","customer_id":"C2","event_type":"search","event_ts":"2026-05-01T23:59:59Z","channel":"store","region":"EAST","extra":[1,2]}',
    ]),
  ],
];

describe('convert from the landed file and the verdict', () => {
  let dir: string;
  let duckdb: DuckDb;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'landfall-landed-'));
    duckdb = await openDuckDb({ workDir: dir, functionMemoryMb: 2048, preserveOrder: true });
  });
  afterAll(async () => {
    duckdb.close();
    await rm(dir, { recursive: true, force: true });
  });

  it.each(files)('%s: the same Parquet as converting the JavaScript validation’s CSV', async (name, ds, keys, content) => {
    const landed = join(dir, `${ds.name}.landed`);
    await writeFile(landed, content);
    const constants: Array<[string, string]> = [
      ['key_date', keys.date!],
      ['source_key', `landing/${name}`],
    ];
    // before: the JavaScript's good rows as CSV, converted
    const csv = new FileLineSink(join(dir, `${ds.name}.csv`));
    const js = await validateFile(
      (async function* () {
        yield new TextEncoder().encode(content);
      })(),
      ds,
      keys,
      { good: csv, rejects: { write() {} } },
    );
    await csv.close();
    const before = join(dir, `${ds.name}.before.parquet`);
    const beforeRows = await csvToParquet(duckdb.conn, { csvPath: csv.path, parquetPath: before, columns: ds.columns, constants });
    // now: the verdict, and one pass over the landed file
    const verdict = await validateWithDuckDb(duckdb.conn, localCopy(landed, Buffer.byteLength(content)), ds, keys, { write() {} });
    expect(verdict.kind).toBe('decided');
    if (verdict.kind !== 'decided') return;
    expect(verdict.outcome).toEqual(js);
    expect(verdict.allGood ?? false, 'a clean file').toBe(name.includes('clean'));
    const schema = async (path: string) =>
      (
        await duckdb.conn.runAndReadAll('SELECT name, type, logical_type, converted_type, scale, precision FROM parquet_schema($1)', [path])
      ).getRowObjectsJson();
    const differ = async (a: string, b: string) =>
      (
        await duckdb.conn.runAndReadAll('SELECT count(*)::INTEGER AS n FROM (SELECT * FROM read_parquet($1) EXCEPT ALL SELECT * FROM read_parquet($2))', [a, b])
      ).getRowObjects()[0]!.n;
    // every line classified again (any file), and the typed reader (a clean file)
    const ways: Array<[string, string, string[]]> = [['classified', goodRowsSql(ds, keys, verdict.skipLines), typedColumnsSql(ds)]];
    const typed = allGoodRowsSql(ds, verdict.skipLines);
    if (verdict.allGood && typed) ways.push(['typed', typed, allGoodColumnsSql(ds)]);
    for (const [way, from, select] of ways) {
      const after = join(dir, `${ds.name}.${way}.parquet`);
      const afterRows = await selectToParquet(duckdb.conn, { from, select, path: landed, parquetPath: after, constants });
      expect(afterRows, way).toBe(beforeRows);
      expect(afterRows, way).toBe(js.rows.out);
      expect(await schema(after), way).toEqual(await schema(before));
      expect(await differ(before, after), way).toBe(0);
      expect(await differ(after, before), way).toBe(0);
    }
  });
});
