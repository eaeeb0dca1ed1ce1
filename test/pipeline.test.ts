import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GetObjectCommand, ListObjectVersionsCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { DuckDBInstance } from '@duckdb/node-api';
import { PREFIX } from '../shared/core/s3/layout';
import { downloadToFile } from '../shared/core/s3/object-io';
import { POS_HEADER, writePosSample, type PosSample } from '../examples/retail/data/pos-sample';
import type { FileStateItem } from '../shared/core/state/file-state-store';
import { compareWithExpected, latestPerKey } from '../ops/reports/file-state-report';
import { landDirectory } from '../ops/land';
import { encodeKeyAsAws } from '../local/s3-notifications';
import { landAndSettle, useLocalStack } from './support/local-stack';

const stack = useLocalStack();
const ROWS = 40;

async function readParquet(key: string): Promise<{ rows: Record<string, unknown>[]; types: Record<string, string> }> {
  const dir = await mkdtemp(join(tmpdir(), 'landfall-test-'));
  const path = join(dir, 'f.parquet');
  await downloadToFile(stack().s3, stack().deployment.names.lakeBucket, key, undefined, path);
  const conn = await (await DuckDBInstance.create(':memory:')).connect();
  const rows = (await conn.runAndReadAll('SELECT * FROM read_parquet($1)', [path])).getRowObjectsJson() as Record<string, unknown>[];
  const described = (await conn.runAndReadAll('DESCRIBE SELECT * FROM read_parquet($1)', [path])).getRowObjectsJson() as Array<{
    column_name: string;
    column_type: string;
  }>;
  conn.closeSync();
  return { rows, types: Object.fromEntries(described.map((d) => [d.column_name, d.column_type])) };
}

async function item(key: string): Promise<FileStateItem> {
  const items = latestPerKey(await stack().fileStates.listAll());
  const found = items.find((i) => i.key === `${PREFIX.landing}${key}`);
  if (!found) throw new Error(`no file state for ${key}`);
  return found;
}

async function rawText(key: string): Promise<string> {
  const out = await stack().s3.send(new GetObjectCommand({ Bucket: stack().deployment.names.rawBucket, Key: key }));
  return out.Body!.transformToString();
}

describe('the file pipeline on the local stack', () => {
  let sample: PosSample;

  it('brings every sample file to its expected state (each state for good and bad files)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'landfall-sample-'));
    sample = await writePosSample(dir, {
      seed: 3,
      startDate: '2026-11-23',
      days: 1,
      provinces: { ON: 5, QC: 4, BC: 3 },
      rowsPerFile: ROWS,
      filesPerStore: 2,
      items: 12,
      badFiles: true,
    });
    await landDirectory(stack().s3, stack().deployment.names.rawBucket, dir);
    await stack().lambdas.settled(500);
    const items = await stack().fileStates.listAll();
    expect(compareWithExpected(items, sample.files)).toEqual([]);
    expect(new Set(items.map((i) => i.state))).toEqual(new Set(['CONVERTED', 'REJECTED', 'UNRECOGNISED']));
    expect(stack().lambdas.failures).toEqual([]);
  });

  it('records the history of a converted file with timestamps', async () => {
    const converted = await item('pos/ON/ON02_20261123_200000.tdf');
    expect(converted.history.map((h) => h.state).sort()).toEqual(['CONVERTED', 'RECEIVED', 'VALIDATED']);
    for (const h of converted.history) expect(Date.parse(h.at)).not.toBeNaN();
    expect(converted).toMatchObject({ dataset: 'pos', fields: { province: 'ON', store: 'ON02', date: '2026-11-23', time: '20:00:00' }, parquetRows: ROWS });
    expect(converted.eTag).toMatch(/^[0-9a-f]{32}$/);
    expect(converted.size).toBeGreaterThan(0);
  });

  it('writes a rejects report with the line number and reason of each bad row', async () => {
    const file = await item('pos/ON/ON01_20261123_200000.tdf');
    expect(file.rows).toEqual({ in: ROWS + 3, out: ROWS, rejected: 3, junk: 0 });
    const report = (await rawText((file as FileStateItem & { rejectsKey: string }).rejectsKey)).trim().split('\n');
    expect(report[0]).toBe('line,reason,text');
    // header on line 1, ROWS good rows, then the three bad ones
    expect(report.slice(1).map((l) => Number(l.split(',')[0]))).toEqual([ROWS + 2, ROWS + 3, ROWS + 4]);
    expect(report[1]).toContain('not a decimal with at most 2 places');
    expect(report[2]).toContain('is not a known value');
    expect(report[3]).toContain('expected 5 columns, found 4');
  });

  it('converts to Parquet with the explicit schema, the key fields and the row count', async () => {
    const file = (await item('pos/ON/ON01_20261123_200000.tdf')) as FileStateItem & { processedKey: string };
    expect(file.processedKey).toBe('processed/pos/dt=2026-11-23/province=ON/ON01_20261123_200000.parquet');
    const { rows, types } = await readParquet(file.processedKey);
    expect(rows).toHaveLength(ROWS);
    expect(types).toMatchObject({
      store_id: 'VARCHAR',
      transaction_date: 'DATE',
      transaction_code: 'BIGINT',
      amount: 'DECIMAL(18,2)',
      key_province: 'VARCHAR',
      key_time: 'VARCHAR',
      source_version_id: 'VARCHAR',
    });
    expect(rows[0]).toMatchObject({
      store_id: 'ON01',
      key_province: 'ON',
      key_store: 'ON01',
      source_key: 'landing/pos/ON/ON01_20261123_200000.tdf',
      source_version_id: file.versionId,
    });
  });

  it('drops junk lines and counts them', async () => {
    const file = await item('pos/ON/ON03_20261123_200000.tdf');
    expect(file.rows).toEqual({ in: ROWS, out: ROWS, rejected: 0, junk: 2 });
    expect(file.parquetRows).toBe(ROWS);
  });

  it('keeps raw objects unchanged', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'landfall-sample-'));
    await writePosSample(dir, {
      seed: 3,
      startDate: '2026-11-23',
      days: 1,
      provinces: { ON: 5, QC: 4, BC: 3 },
      rowsPerFile: ROWS,
      filesPerStore: 2,
      items: 12,
      badFiles: true,
    });
    for (const key of ['pos/ON/ON01_20261123_200000.tdf', 'pos/QC/QC01_20261123_060500.tdf']) {
      const landed = await stack().s3.send(new GetObjectCommand({ Bucket: stack().deployment.names.rawBucket, Key: `${PREFIX.landing}${key}` }));
      expect(Buffer.from(await landed.Body!.transformToByteArray()).equals(await readFile(join(dir, key)))).toBe(true);
    }
  });

  it('changes nothing when identical bytes land again', async () => {
    const key = 'pos/BC/BC02_20261123_200000.tdf';
    const before = await stack().fileStates.listAll();
    const invocations = new Map(stack().lambdas.invocations);
    const body = await rawText(`${PREFIX.landing}${key}`);
    await landAndSettle(stack(), key, body);
    expect(await stack().fileStates.listAll()).toEqual(before);
    expect(stack().lambdas.invocations.get('validate')).toBe(invocations.get('validate')! + 1);
    expect(stack().lambdas.invocations.get('convert')).toBe(invocations.get('convert'));
    const versions = await stack().s3.send(
      new ListObjectVersionsCommand({ Bucket: stack().deployment.names.lakeBucket, Prefix: 'processed/pos/dt=2026-11-23/province=BC/BC02_20261123_200000' }),
    );
    expect(versions.Versions).toHaveLength(1);
  });

  it('processes identical bytes again when the put asks for a replay', async () => {
    const key = 'pos/BC/BC03_20261123_200000.tdf';
    const previous = await item(key);
    const out = await stack().s3.send(
      new PutObjectCommand({
        Bucket: stack().deployment.names.rawBucket,
        Key: `${PREFIX.landing}${key}`,
        Body: await rawText(`${PREFIX.landing}${key}`),
        Metadata: { 'landfall-replay': '2026-11-24T05:00:00Z' },
      }),
    );
    await stack().lambdas.settled(400);
    const replayed = await item(key);
    expect(replayed.versionId).toBe(out.VersionId);
    expect(replayed).toMatchObject({ state: 'CONVERTED', eTag: previous.eTag, rows: previous.rows, parquetRows: previous.parquetRows });
    const versions = await stack().s3.send(
      new ListObjectVersionsCommand({ Bucket: stack().deployment.names.lakeBucket, Prefix: 'processed/pos/dt=2026-11-23/province=BC/BC03_20261123_200000' }),
    );
    expect(versions.Versions).toHaveLength(2);
  });

  it('processes changed bytes under the same key as a new version (held out of use when it has fewer rows than the store had)', async () => {
    const key = 'pos/BC/BC02_20261123_200000.tdf';
    const previous = await item(key);
    const body = `${POS_HEADER}\nBC02\tI0001\t2026-11-23\t4\t10.00\nBC02\tI0002\t2026-11-23\t5\t1.30\n`;
    const versionId = await landAndSettle(stack(), key, body);
    const latest = await item(key);
    expect(latest.versionId).toBe(versionId);
    expect(latest.versionId).not.toBe(previous.versionId);
    // converted as any version is, then quarantined by the resolver: a cumulative store file that
    // shrank from the store's earlier file would silently drop that store's rows
    expect(latest).toMatchObject({
      state: 'QUARANTINED',
      parquetRows: 2,
      rows: { in: 2, out: 2, rejected: 0, junk: 0 },
      reason: expect.stringMatching(/^2 rows, fewer than the \d+ of the earlier file landing\/pos\/BC\/BC02_20261123_\d+\.tdf of store BC02/),
    });
    expect(await stack().fileStates.get(previous.key, previous.versionId)).toMatchObject({ state: 'CONVERTED', parquetRows: ROWS });
    const { rows } = await readParquet('processed/pos/dt=2026-11-23/province=BC/BC02_20261123_200000.parquet');
    expect(rows.map((r) => r.amount)).toEqual(['10.00', '1.30']);
  });

  it('handles keys with spaces, +, % and non-ASCII characters', async () => {
    const part = 'Café+Étoile 100%';
    const key = `clickstream/orders/20261123/${part}.csv`;
    await landAndSettle(
      stack(),
      key,
      'order_id,order_line,customer_id,order_ts,channel,store_id,product_id,quantity,unit_price\nO1,1,C1,2026-11-23T10:00:00Z,web,,P1,2,3.50\n',
    );
    const file = (await item(key)) as FileStateItem & { processedKey: string };
    expect(file).toMatchObject({ state: 'CONVERTED', fields: { part }, parquetRows: 1 });
    // the same characters in a POS store id are not a store of ON: rejected with a reason, not lost
    const store = `pos/ON/${part}_20261123_150000.tdf`;
    await landAndSettle(stack(), store, `${POS_HEADER}\n${part}\tI0001\t2026-11-23\t4\t3.50\n`);
    expect(await item(store)).toMatchObject({ state: 'REJECTED', reason: `unknown store "${part}" for province ON (known: ON01, ON02, ON03, ON04, ON05)` });
    expect((await readParquet(file.processedKey)).rows[0]).toMatchObject({ order_id: 'O1', key_part: part, source_key: `landing/${key}` });
    const stray = 'pos/ON/日本 notes+%.txt';
    await landAndSettle(stack(), stray, 'hello');
    expect(await item(stray)).toMatchObject({ state: 'UNRECOGNISED', key: `landing/${stray}` });
  });

  it('records a redelivered S3 event once (its report exists: validate stops there)', async () => {
    const file = await item('pos/QC/QC03_20261123_140000.tdf');
    const event = {
      Records: [
        {
          eventVersion: '2.1',
          eventSource: 'aws:s3',
          awsRegion: 'us-east-1',
          eventTime: file.landedAt,
          eventName: 'ObjectCreated:Put',
          s3: {
            s3SchemaVersion: '1.0',
            bucket: { name: file.bucket },
            object: { key: encodeKeyAsAws(file.key), size: file.size, eTag: file.eTag, versionId: file.versionId, sequencer: file.sequencer },
          },
        },
      ],
    };
    const before = new Map(stack().lambdas.invocations);
    stack().lambdas.invokeAsync('validate', event);
    stack().lambdas.invokeAsync('validate', event);
    await stack().lambdas.settled(400);
    expect(stack().lambdas.invocations.get('validate')).toBe(before.get('validate')! + 2);
    expect(stack().lambdas.invocations.get('convert')).toBe(before.get('convert'));
    expect(await item('pos/QC/QC03_20261123_140000.tdf')).toEqual(file);
  });

  it('converts a redelivered validated object once (its Parquet has the same lineage)', async () => {
    const file = await item('pos/QC/QC03_20261123_140000.tdf');
    const versionsOf = async (bucket: string, prefix: string) =>
      (await stack().s3.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: prefix }))).Versions ?? [];
    const [validated] = await versionsOf(file.bucket, `${PREFIX.validated}pos/QC/QC03_20261123_140000.tdf`);
    const processedBefore = await versionsOf(stack().deployment.names.lakeBucket, file.processedKey!);
    expect(processedBefore).toHaveLength(1);
    const event = {
      Records: [
        {
          eventVersion: '2.1',
          eventSource: 'aws:s3',
          awsRegion: 'us-east-1',
          eventTime: new Date().toISOString(),
          eventName: 'ObjectCreated:Put',
          s3: {
            s3SchemaVersion: '1.0',
            bucket: { name: file.bucket },
            object: {
              key: encodeKeyAsAws(validated!.Key!),
              size: validated!.Size,
              eTag: validated!.ETag!.replaceAll('"', ''),
              versionId: validated!.VersionId,
              sequencer: 'FFFFFFFFFFFFFFFF',
            },
          },
        },
      ],
    };
    const before = new Map(stack().lambdas.invocations);
    stack().lambdas.invokeAsync('convert', event);
    stack().lambdas.invokeAsync('convert', event);
    await stack().lambdas.settled(400);
    expect(stack().lambdas.failures).toEqual([]);
    expect(stack().lambdas.invocations.get('convert')).toBe(before.get('convert')! + 2);
    expect(stack().lambdas.invocations.get('track')).toBe(before.get('track'));
    expect((await versionsOf(stack().deployment.names.lakeBucket, file.processedKey!)).map((v) => v.VersionId)).toEqual(
      processedBefore.map((v) => v.VersionId),
    );
    expect(await item('pos/QC/QC03_20261123_140000.tdf')).toEqual(file);
  });

  it('records an object version that vanished before validation as REJECTED (unreadable)', async () => {
    const key = 'landing/pos/ON/ON05_20261123_130000.tdf';
    const versionId = '6f1c9a52-1b7e-4d8e-9a57-0d3c2f9b8e11';
    stack().lambdas.invokeAsync('validate', {
      Records: [
        {
          eventVersion: '2.1',
          eventSource: 'aws:s3',
          awsRegion: 'us-east-1',
          eventTime: new Date().toISOString(),
          eventName: 'ObjectCreated:Put',
          s3: {
            s3SchemaVersion: '1.0',
            bucket: { name: stack().deployment.names.rawBucket },
            object: { key, size: 10, eTag: 'd41d8cd98f00b204e9800998ecf8427e', versionId, sequencer: 'FFFF' },
          },
        },
      ],
    });
    await stack().lambdas.settled(400);
    expect(stack().lambdas.failures).toEqual([]);
    expect(await stack().fileStates.get(key, versionId)).toMatchObject({ state: 'REJECTED', reason: expect.stringContaining('unreadable') });
  });

  it('skips a malformed event record without throwing', async () => {
    const { handler } = await import('../functions/validate/handler');
    const context = { functionName: 'validate', memoryLimitInMB: '1024', awsRequestId: 'r1', getRemainingTimeInMillis: () => 60_000 } as never;
    await expect(handler({ Records: [{} as never] }, context)).resolves.toEqual({ processed: 0, results: [] });
  });
});
