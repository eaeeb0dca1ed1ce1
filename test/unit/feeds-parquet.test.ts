import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ColumnSpec, DatasetConfig } from '../../shared/core/config/types';
import { type DuckDb, openDuckDb } from '../../shared/core/duckdb/duckdb';
import { FeedRejection } from '../../shared/core/feeds/canonical';
import { parquetColumnDiff, parquetToCanonical } from '../../shared/core/feeds/parquet-input';

let dir: string;
let duckdb: DuckDb;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'landfall-parquet-'));
  duckdb = await openDuckDb({ workDir: dir, functionMemoryMb: 512, preserveOrder: true });
});

afterAll(async () => {
  duckdb.close();
  await rm(dir, { recursive: true, force: true });
});

function dataset(columns: ColumnSpec[], schemaPolicy: 'strict' | 'additive' = 'strict'): DatasetConfig {
  const ds: DatasetConfig = {
    name: 'orders',
    keyPattern: 'orders/{date:YYYYMMDD}/{part}.parquet',
    dateField: 'date',
    format: { kind: 'parquet' },
    columns,
    schemaPolicy,
    partitionBy: [],
    maxBadRowRatio: 0.5,
  };
  return ds;
}

let files = 0;
/** A Parquet file DuckDB writes from `select` (trusted SQL of the test). */
async function parquet(select: string): Promise<string> {
  const path = join(dir, `in-${files++}.parquet`);
  await duckdb.conn.run(`COPY (${select}) TO '${path}' (FORMAT parquet)`);
  return path;
}

/** The canonical lines written for a file, as text and as parsed objects. */
async function canonical(path: string, ds: DatasetConfig): Promise<{ rows: number; lines: string[]; records: Array<Record<string, unknown>> }> {
  const out = `${path}.jsonl`;
  const { rows } = await parquetToCanonical(duckdb.conn, path, out, ds);
  const lines = (await readFile(out, 'utf8')).split('\n').filter((l) => l !== '');
  return { rows, lines, records: lines.map((l) => JSON.parse(l)) };
}

async function rejection(path: string, ds: DatasetConfig): Promise<string> {
  const error = await parquetToCanonical(duckdb.conn, path, `${path}.jsonl`, ds).then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(FeedRejection);
  return (error as FeedRejection).message;
}

describe('Parquet columns that convert without loss', () => {
  it('writes every scalar kind as its canonical text, in declared order, one line per row', async () => {
    const file = await parquet(`
      SELECT * FROM (VALUES
        ('a1', 7::TINYINT, 9223372036854775807::BIGINT, 4294967295::UINTEGER, 12345678901234.56::DECIMAL(16,2), 42::INTEGER, 0.1::DOUBLE, 0.5::FLOAT, 1e300::DOUBLE,
         true, DATE '2024-02-29', TIMESTAMP '2024-03-01 13:04:05.123456', TIME '23:59:58.25', '0b7c0d4e-0c33-4a4e-9d1c-7a4b7c0c3a11'::UUID),
        ('a2', (-128)::TINYINT, (-9223372036854775808)::BIGINT, 0::UINTEGER, (-0.05)::DECIMAL(16,2), (-2147483648)::INTEGER, 1.5e-7::DOUBLE, (-3.25)::FLOAT, 123456789012345678::DOUBLE,
         false, DATE '0099-01-02', TIMESTAMP '1970-01-01 00:00:00', TIME '00:00:00', NULL::UUID)
      ) t(id, tiny, big, uint, amount, amount_int, ratio, ratio_f, huge, flag, day, "at", clock, ref)`);
    const ds = dataset([
      { name: 'id', kind: 'string' },
      { name: 'tiny', kind: 'integer' },
      { name: 'big', kind: 'integer' },
      { name: 'uint', kind: 'integer' },
      { name: 'amount', kind: 'decimal', precision: 18, scale: 2 },
      { name: 'amount_int', kind: 'decimal', precision: 12, scale: 2 },
      { name: 'ratio', kind: 'double' },
      { name: 'ratio_f', kind: 'double' },
      { name: 'huge', kind: 'double' },
      { name: 'flag', kind: 'boolean' },
      { name: 'day', kind: 'date' },
      { name: 'at', kind: 'timestamp' },
      { name: 'clock', kind: 'time' },
      { name: 'ref', kind: 'string', nullable: true },
    ]);
    const { rows, lines, records } = await canonical(file, ds);
    expect(rows).toBe(2);
    expect(lines).toHaveLength(2);
    expect(Object.keys(records[0]!)).toEqual(ds.columns.map((c) => c.name));
    expect(records[0]).toEqual({
      id: 'a1',
      tiny: '7',
      big: '9223372036854775807',
      uint: '4294967295',
      amount: '12345678901234.56',
      amount_int: '42',
      ratio: '0.1',
      ratio_f: '0.5',
      huge: '1e+300',
      flag: 'true',
      day: '2024-02-29',
      at: '2024-03-01T13:04:05.123456Z',
      clock: '23:59:58.25',
      ref: '0b7c0d4e-0c33-4a4e-9d1c-7a4b7c0c3a11',
    });
    expect(records[1]).toMatchObject({
      tiny: '-128',
      big: '-9223372036854775808',
      amount: '-0.05',
      amount_int: '-2147483648',
      flag: 'false',
      day: '0099-01-02',
      at: '1970-01-01T00:00:00.000000Z',
      clock: '00:00:00',
      ref: null,
    });
    // doubles read back as the very same number
    expect(Number(records[0]!.ratio)).toBe(0.1);
    expect(Number(records[0]!.huge)).toBe(1e300);
    expect(Number(records[1]!.ratio)).toBe(1.5e-7);
    expect(Number(records[1]!.huge)).toBe(1.2345678901234568e17);
    expect(Number(records[1]!.ratio_f)).toBe(-3.25);
  });

  it('writes a FLOAT as its exact value, not its shortest float text', async () => {
    const file = await parquet(`SELECT 0.1::FLOAT AS f`);
    const { records } = await canonical(file, dataset([{ name: 'f', kind: 'double' }]));
    expect(records[0]!.f).toBe('0.10000000149011612');
    expect(Math.fround(Number(records[0]!.f))).toBe(Math.fround(0.1));
  });

  it('writes inf and nan as text the engine rejects (not a finite number), without failing', async () => {
    const file = await parquet(`SELECT * FROM (VALUES ('inf'::DOUBLE), ('-inf'::DOUBLE), ('nan'::DOUBLE), (2.5::DOUBLE)) t(x)`);
    const { records } = await canonical(file, dataset([{ name: 'x', kind: 'double' }]));
    const values = records.map((r) => r.x as string);
    expect(values).toEqual(['inf', '-inf', 'nan', '2.5']);
    expect(values.map((v) => Number.isFinite(Number(v)))).toEqual([false, false, false, true]);
  });

  it('leaves a nested nan as a line that is not JSON (a bad row for the engine), the other lines intact', async () => {
    const file = await parquet(`SELECT * FROM (VALUES ({'x': 'nan'::DOUBLE}), ({'x': 1.25::DOUBLE})) t(s)`);
    const out = `${file}.jsonl`;
    expect(await parquetToCanonical(duckdb.conn, file, out, dataset([{ name: 's', kind: 'struct', fields: [{ name: 'x', kind: 'double' }] }]))).toEqual({
      rows: 2,
    });
    const lines = (await readFile(out, 'utf8')).split('\n');
    expect(() => JSON.parse(lines[0]!)).toThrow();
    expect(JSON.parse(lines[1]!)).toEqual({ s: { x: 1.25 } });
  });

  it('converts TIMESTAMP WITH TIME ZONE to UTC, whatever the session time zone', async () => {
    const file = await parquet(`SELECT TIMESTAMPTZ '2024-06-30 23:30:00.5+02:00' AS at UNION ALL SELECT TIMESTAMPTZ '2024-01-01 00:00:00-05:00'`);
    const ds = dataset([{ name: 'at', kind: 'timestamp' }]);
    await duckdb.conn.run(`SET TimeZone = 'America/Los_Angeles'`);
    try {
      const { records } = await canonical(file, ds);
      expect(records.map((r) => r.at)).toEqual(['2024-06-30T21:30:00.500000Z', '2024-01-01T05:00:00.000000Z']);
    } finally {
      await duckdb.conn.run(`SET TimeZone = 'UTC'`);
    }
  });

  it('keeps millisecond and second timestamps exact', async () => {
    const file = await parquet(`SELECT '2024-01-02 03:04:05.678'::TIMESTAMP_MS AS ms, '2024-01-02 03:04:05'::TIMESTAMP_S AS s`);
    const { records } = await canonical(
      file,
      dataset([
        { name: 'ms', kind: 'timestamp' },
        { name: 's', kind: 'timestamp' },
      ]),
    );
    expect(records[0]).toEqual({ ms: '2024-01-02T03:04:05.678000Z', s: '2024-01-02T03:04:05.000000Z' });
  });

  it('keeps decimals of any precision exact, at the top level and nested', async () => {
    const file = await parquet(`SELECT '1234567890123456789012345678.1234567890'::DECIMAL(38,10) AS wide, 1.50::DECIMAL(4,2) AS narrow,
      {'price': '9876543210987654321.12'::DECIMAL(21,2)} AS line, ['1234567890123456.78'::DECIMAL(18,2)] AS amounts`);
    const ds = dataset([
      { name: 'wide', kind: 'decimal', precision: 38, scale: 10 },
      { name: 'narrow', kind: 'decimal', precision: 10, scale: 4 },
      { name: 'line', kind: 'struct', fields: [{ name: 'price', kind: 'decimal', precision: 30, scale: 2 }] },
      { name: 'amounts', kind: 'list', items: { kind: 'decimal', precision: 18, scale: 2 } },
    ]);
    const { lines, records } = await canonical(file, ds);
    expect(records[0]!.wide).toBe('1234567890123456789012345678.1234567890');
    expect(records[0]!.narrow).toBe('1.50');
    // nested numbers are JSON numbers, written with every digit (JSON.parse would round them)
    expect(lines[0]).toContain('"line":{"price":9876543210987654321.12}');
    expect(lines[0]).toContain('"amounts":[1234567890123456.78]');
  });

  it('writes structs and lists as JSON with canonical leaves, ignoring undeclared fields', async () => {
    const file = await parquet(`
      SELECT * FROM (VALUES
        (1, {'name': 'Zoë "Z"', 'geo': {'lat': 45.5::DOUBLE, 'country': 'CA', 'extra': 1}, 'since': DATE '2020-05-01', 'seen': TIMESTAMPTZ '2024-01-01 01:00:00+01:00', 'vip': true, 'internal': 'x'},
            [{'sku': 'A', 'qty': 2::SMALLINT}, {'sku': 'B', 'qty': 3::SMALLINT}], [[1, 2], [3]]::INTEGER[][]),
        (2, NULL, [], NULL)
      ) t(id, customer, items, grid)`);
    const ds = dataset([
      { name: 'id', kind: 'integer' },
      {
        name: 'customer',
        kind: 'struct',
        nullable: true,
        fields: [
          { name: 'name', kind: 'string' },
          {
            name: 'geo',
            kind: 'struct',
            fields: [
              { name: 'country', kind: 'string' },
              { name: 'lat', kind: 'double' },
            ],
          },
          { name: 'since', kind: 'date' },
          { name: 'seen', kind: 'timestamp' },
          { name: 'vip', kind: 'boolean' },
          { name: 'tier', kind: 'string', nullable: true },
        ],
      },
      {
        name: 'items',
        kind: 'list',
        items: {
          kind: 'struct',
          fields: [
            { name: 'sku', kind: 'string' },
            { name: 'qty', kind: 'integer' },
          ],
        },
      },
      { name: 'grid', kind: 'list', nullable: true, items: { kind: 'list', items: { kind: 'integer' } } },
    ]);
    const { records } = await canonical(file, ds);
    expect(records).toEqual([
      {
        id: '1',
        customer: { name: 'Zoë "Z"', geo: { country: 'CA', lat: 45.5 }, since: '2020-05-01', seen: '2024-01-01T00:00:00.000000Z', vip: true, tier: null },
        items: [
          { sku: 'A', qty: 2 },
          { sku: 'B', qty: 3 },
        ],
        grid: [[1, 2], [3]],
      },
      { id: '2', customer: null, items: [], grid: null },
    ]);
    expect(Object.keys(records[0]!.customer as object)).toEqual(['name', 'geo', 'since', 'seen', 'vip', 'tier']);
  });

  it('reads a missing nullable column as null', async () => {
    const file = await parquet(`SELECT 'o1' AS order_id`);
    const ds = dataset([
      { name: 'order_id', kind: 'string' },
      { name: 'note', kind: 'string', nullable: true },
    ]);
    expect((await canonical(file, ds)).records).toEqual([{ order_id: 'o1', note: null }]);
  });

  it('ignores an extra column under additive, and lists it under strict', async () => {
    const file = await parquet(`SELECT 'o1' AS order_id, 'I' AS _dms_op, 5 AS "Audit Ts"`);
    const columns: ColumnSpec[] = [{ name: 'order_id', kind: 'string' }];
    expect((await canonical(file, dataset(columns, 'additive'))).records).toEqual([{ order_id: 'o1' }]);
    const reason = await rejection(file, dataset(columns, 'strict'));
    expect(reason).toBe('columns differ from dataset orders: extra columns _dms_op, "Audit Ts" (schemaPolicy strict)');
  });

  it('writes no line for a file of no rows', async () => {
    const file = await parquet(`SELECT 'x' AS order_id WHERE false`);
    const { rows, lines } = await canonical(file, dataset([{ name: 'order_id', kind: 'string' }]));
    expect(rows).toBe(0);
    expect(lines).toEqual([]);
  });
});

describe('Parquet columns that do not convert', () => {
  async function diffOf(select: string, columns: ColumnSpec[], policy: 'strict' | 'additive' = 'strict'): Promise<string> {
    const file = await parquet(select);
    const result = await parquetColumnDiff(duckdb.conn, file, dataset(columns, policy));
    expect(result).toHaveProperty('diff');
    // the whole file is rejected with the same reason
    expect(await rejection(file, dataset(columns, policy))).toBe((result as { diff: string }).diff);
    return (result as { diff: string }).diff;
  }

  it('lists every difference in one reason', async () => {
    const diff = await diffOf(`SELECT 1.5::DOUBLE AS amount, 'I' AS _dms_op`, [
      { name: 'amount', kind: 'decimal', scale: 2 },
      { name: 'customer_id', kind: 'string' },
    ]);
    expect(diff).toBe(
      'columns differ from dataset orders: amount is DOUBLE, declared decimal(18,2) (would lose precision); missing required customer_id; extra column _dms_op (schemaPolicy strict)',
    );
  });

  it('refuses integers that may not fit a BIGINT, and fractions', async () => {
    const diff = await diffOf(`SELECT 1::UBIGINT AS a, 1::HUGEINT AS b, 1.5::DECIMAL(4,1) AS c, 1::DECIMAL(20,0) AS d, 1.0::FLOAT AS e, 'x' AS f`, [
      { name: 'a', kind: 'integer' },
      { name: 'b', kind: 'integer' },
      { name: 'c', kind: 'integer' },
      { name: 'd', kind: 'integer' },
      { name: 'e', kind: 'integer' },
      { name: 'f', kind: 'integer' },
    ]);
    expect(diff).toContain('a is UBIGINT, declared integer (values may exceed the 64-bit integer range)');
    // DuckDB writes a HUGEINT to Parquet as a DOUBLE
    expect(diff).toContain('b is DOUBLE, declared integer (would lose the fraction)');
    expect(diff).toContain('c is DECIMAL(4,1), declared integer (would lose the fraction)');
    expect(diff).toContain('d is DECIMAL(20,0), declared integer (values may exceed the 64-bit integer range)');
    expect(diff).toContain('e is FLOAT, declared integer (would lose the fraction)');
    expect(diff).toMatch(/f is VARCHAR, declared integer(;|$)/);
  });

  it('accepts an integer DECIMAL(p,0) of up to 18 digits as an integer (DMS writes NUMBER(p) so)', async () => {
    const file = await parquet(`SELECT 123456789012345678::DECIMAL(18,0) AS id`);
    expect((await canonical(file, dataset([{ name: 'id', kind: 'integer' }]))).records).toEqual([{ id: '123456789012345678' }]);
  });

  it('compares decimal scale and integer digits, and integer widths against a decimal', async () => {
    const diff = await diffOf(`SELECT 1.005::DECIMAL(10,3) AS fine, 1::DECIMAL(20,2) AS wide, 1::BIGINT AS big, 1::INTEGER AS int`, [
      { name: 'fine', kind: 'decimal', scale: 2 },
      { name: 'wide', kind: 'decimal', scale: 2 },
      { name: 'big', kind: 'decimal', precision: 18, scale: 2 },
      { name: 'int', kind: 'decimal', precision: 12, scale: 2 },
    ]);
    expect(diff).toBe(
      'columns differ from dataset orders: fine is DECIMAL(10,3), declared decimal(18,2) (would lose precision); wide is DECIMAL(20,2), declared decimal(18,2) (values may not fit decimal(18,2)); big is BIGINT, declared decimal(18,2) (values may not fit decimal(18,2))',
    );
  });

  it('refuses 64-bit integers and decimals as a double', async () => {
    const diff = await diffOf(`SELECT 1::BIGINT AS a, 1.5::DECIMAL(4,1) AS b, 1::INTEGER AS c`, [
      { name: 'a', kind: 'double' },
      { name: 'b', kind: 'double' },
      { name: 'c', kind: 'double' },
    ]);
    expect(diff).toBe(
      'columns differ from dataset orders: a is BIGINT, declared double (would lose precision); b is DECIMAL(4,1), declared double (would lose precision)',
    );
  });

  it('refuses nanosecond timestamps and times (they would be truncated)', async () => {
    const diff = await diffOf(`SELECT '2024-01-02 03:04:05.123456789'::TIMESTAMP_NS AS at, DATE '2024-01-02' AS day, TIMESTAMP '2024-01-02' AS d2`, [
      { name: 'at', kind: 'timestamp' },
      { name: 'day', kind: 'timestamp' },
      { name: 'd2', kind: 'date' },
    ]);
    expect(diff).toBe(
      'columns differ from dataset orders: at is TIMESTAMP_NS, declared timestamp (nanoseconds would be truncated to microseconds); day is DATE, declared timestamp; d2 is TIMESTAMP, declared date',
    );
  });

  it('names nested differences by their path', async () => {
    const diff = await diffOf(`SELECT {'zip': 12345, 'city': 'Ottawa'} AS address, [{'qty': 1.5::DOUBLE}] AS items, 'x' AS tags, {'a': 1} AS notalist`, [
      {
        name: 'address',
        kind: 'struct',
        fields: [
          { name: 'zip', kind: 'string' },
          { name: 'street', kind: 'string' },
          { name: 'unit', kind: 'string', nullable: true },
        ],
      },
      { name: 'items', kind: 'list', items: { kind: 'struct', fields: [{ name: 'qty', kind: 'integer' }] } },
      { name: 'tags', kind: 'list', items: { kind: 'string' } },
      { name: 'notalist', kind: 'list', items: { kind: 'integer' } },
    ]);
    expect(diff).toBe(
      'columns differ from dataset orders: address.zip is INTEGER, declared string; missing required address.street; items[].qty is DOUBLE, declared integer (would lose the fraction); tags is VARCHAR, declared list; notalist is STRUCT("a" INTEGER), declared list',
    );
  });

  it('names a column present only under another case (an AWS DMS file), even when nullable', async () => {
    const select = `SELECT 'o1' AS ORDER_ID, 'c1' AS CUSTOMER_ID, {'Zip': 'K1A'} AS address, 'I' AS Op`;
    const columns: ColumnSpec[] = [
      { name: 'order_id', kind: 'string' },
      { name: 'customer_id', kind: 'string', nullable: true },
      { name: 'address', kind: 'struct', fields: [{ name: 'zip', kind: 'string', nullable: true }] },
    ];
    expect(await diffOf(select, columns, 'additive')).toBe(
      'columns differ from dataset orders: missing required order_id (the file has ORDER_ID; names are case-sensitive); missing customer_id (the file has CUSTOMER_ID; names are case-sensitive); missing address.zip (the file has Zip; names are case-sensitive)',
    );
    // under strict, the columns already named are not listed again as extra
    expect(await diffOf(select, columns, 'strict')).toMatch(/; extra column Op \(schemaPolicy strict\)$/);
  });
  it("reads a column by the file's own name when `path` gives it (an AWS DMS file of upper-case names)", async () => {
    const file = await parquet(`SELECT 'o1' AS ORDER_ID, 12.5::DECIMAL(9,2) AS "Amount ""net""", 'I' AS Op`);
    const columns: ColumnSpec[] = [
      { name: 'order_id', kind: 'string', path: 'ORDER_ID' },
      { name: 'amount', kind: 'decimal', scale: 2, path: 'Amount "net"' },
    ];
    expect((await canonical(file, dataset(columns, 'additive'))).records).toEqual([{ order_id: 'o1', amount: '12.50' }]);
    // strict: the file's columns no declared column reads are extra; those read by path are not
    expect(await rejection(file, dataset(columns, 'strict'))).toBe('columns differ from dataset orders: extra column Op (schemaPolicy strict)');
  });
});

describe('files that are not readable Parquet', () => {
  it('rejects a truncated file, a text file and an empty file with a reason, not a crash', async () => {
    const good = await readFile(await parquet(`SELECT range AS id, 'x' || range AS name FROM range(5000)`));
    const ds = dataset([
      { name: 'id', kind: 'integer' },
      { name: 'name', kind: 'string' },
    ]);
    const cases: Array<[string, Buffer, RegExp]> = [
      ['truncated', good.subarray(0, Math.floor(good.length / 2)), /^not a readable Parquet file: No magic bytes found at end of file$/],
      ['text', Buffer.from('id,name\n1,a\n'), /^not a readable Parquet file: No magic bytes found/],
      ['empty', Buffer.alloc(0), /^not a readable Parquet file: .*too small to be a Parquet file$/],
    ];
    for (const [name, bytes, reason] of cases) {
      const path = join(dir, `${name}.parquet`);
      await writeFile(path, bytes);
      expect(await rejection(path, ds)).toMatch(reason);
      // the local path is not part of the reason
      expect(await rejection(path, ds)).not.toContain(dir);
    }
  });

  it('rejects a file whose pages do not decompress', async () => {
    const path = await parquet(`SELECT range AS id, md5(range::VARCHAR) AS name FROM range(20000)`);
    const bytes = await readFile(path);
    // the data pages sit between the leading magic and the footer
    for (let i = 64; i < bytes.length - 4096; i += 97) bytes[i] = bytes[i]! ^ 0xff;
    await writeFile(path, bytes);
    const reason = await rejection(
      path,
      dataset([
        { name: 'id', kind: 'integer' },
        { name: 'name', kind: 'string' },
      ]),
    );
    expect(reason).toMatch(/^not a readable Parquet file: /);
  });

  it('throws other errors as they are (no such file is not a bad file)', async () => {
    const error = await parquetToCanonical(
      duckdb.conn,
      join(dir, 'absent.parquet'),
      join(dir, 'absent.jsonl'),
      dataset([{ name: 'id', kind: 'integer' }]),
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect(error).not.toBeInstanceOf(FeedRejection);
  });
});

describe('paths are bound, never spliced', () => {
  it('reads and writes paths holding quotes', async () => {
    const path = join(dir, `o'brien "x".parquet`);
    await duckdb.conn.run(`COPY (SELECT 'o1' AS order_id) TO $p (FORMAT parquet)`, { p: path });
    const out = join(dir, `o'brien "x".jsonl`);
    expect(await parquetToCanonical(duckdb.conn, path, out, dataset([{ name: 'order_id', kind: 'string' }]))).toEqual({ rows: 1 });
    expect(await readFile(out, 'utf8')).toBe('{"order_id":"o1"}\n');
  });
});
