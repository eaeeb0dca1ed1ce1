import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { DuckDBInstance } from '@duckdb/node-api';
import { retailConfig } from '../examples/retail/config';
import { loadPipeline } from '../shared/core/config/load-config';
import { convertValidatedObject } from '../shared/stages/convert/convert-object';
import { PREFIX } from '../shared/core/s3/layout';
import { downloadToFile } from '../shared/core/s3/object-io';
import type { FileStateItem } from '../shared/core/state/file-state-store';
import { lineageMetadata } from '../shared/core/state/lineage';
import { parseVerdict } from '../shared/stages/validate/verdict';
import { latestPerKey } from '../ops/reports/file-state-report';
import { landAndSettle, useLocalStack } from './support/local-stack';
import { validateInJavaScript } from './support/validation-parity';

/**
 * validate writes a verdict, not a copy of the rows; convert reads the landed object and keeps the
 * rows the verdict's rules call good: in DuckDB, or in JavaScript for a file DuckDB cannot read as
 * the rules do.
 */
const stack = useLocalStack();
const pos = retailConfig().datasets.find((d) => d.name === 'pos')!;
const HEADER = 'store_id\titem_id\ttransaction_date\ttransaction_code\tamount';
const keyFields = (store: string, time: string) => ({ province: store.slice(0, 2), store, date: '2026-11-23', time });

async function item(relative: string): Promise<FileStateItem> {
  const found = latestPerKey(await stack().fileStates.listAll()).find((i) => i.key === `${PREFIX.landing}${relative}`);
  if (!found) throw new Error(`no file state for ${relative}`);
  return found;
}

async function text(bucket: string, key: string): Promise<{ body: string; contentType?: string }> {
  const out = await stack().s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return { body: await out.Body!.transformToString(), ...(out.ContentType ? { contentType: out.ContentType } : {}) };
}

async function parquetRows(key: string, bucket = stack().deployment.names.lakeBucket): Promise<string[]> {
  const dir = await mkdtemp(join(tmpdir(), 'landfall-verdict-'));
  const path = join(dir, 'f.parquet');
  await downloadToFile(stack().s3, bucket, key, undefined, path);
  const conn = await (await DuckDBInstance.create(':memory:')).connect();
  const rows = (
    await conn.runAndReadAll(
      `SELECT concat_ws(',', store_id, item_id, strftime(transaction_date, '%Y-%m-%d'), transaction_code, amount) FROM read_parquet($1) ORDER BY ALL`,
      [path],
    )
  ).getRows();
  conn.closeSync();
  return rows.map(([r]) => r as string);
}

/** The JavaScript rules' good rows, as the Parquet holds them (integers and decimals normalised). */
async function expectedRows(content: string, store: string, time: string): Promise<string[]> {
  const reference = await validateInJavaScript(new TextEncoder().encode(content), pos, keyFields(store, time));
  return reference.good
    .map((line) => {
      const [s, i, d, code, amount] = line.split(',');
      return [s, i, d, String(Number(code)), Number(amount).toFixed(2)].join(',');
    })
    .sort();
}

describe('the verdict between validate and convert', () => {
  const lines = [
    HEADER,
    'ON01\tI0001\t2026-11-23\t4\t12.50',
    '---- page 2',
    'ON01\tI0002\t2026-11-23\t99\t1.00',
    '',
    'ON01\tI0003\t2026-11-23\t04\t-0.5',
    'ON01\tI0004\t2026-11-23\t5\t1.234',
  ];

  it('is a small JSON verdict; the Parquet holds exactly the good rows of the landed file; no copy of the rows is written', async () => {
    const relative = 'pos/ON/ON01_20261123_140000.tdf';
    const content = `${lines.join('\r\n')}\r\n`;
    await landAndSettle(stack(), relative, content);
    const file = await item(relative);
    expect(file).toMatchObject({ state: 'CONVERTED', rows: { in: 4, out: 2, rejected: 2, junk: 1 }, parquetRows: 2 });
    const raw = stack().deployment.names.rawBucket;
    const verdictObject = await text(raw, `${PREFIX.validated}${relative}`);
    expect(verdictObject.contentType).toBe('application/json');
    expect(parseVerdict(verdictObject.body)).toEqual({
      landfall: 'verdict/1',
      rules: { engine: 'duckdb', skipLines: 1 },
      rows: { in: 4, out: 2, rejected: 2, junk: 1 },
    });
    expect(await parquetRows(file.processedKey!)).toEqual(await expectedRows(content, 'ON01', '14:00:00'));
    // the raw bucket holds the landed file, its verdict, its rejects report and its report: nothing else
    const listed = await stack().s3.send(new ListObjectsV2Command({ Bucket: raw }));
    const keys = (listed.Contents ?? []).map((o) => o.Key!).filter((k) => k.includes('ON01_20261123_140000'));
    expect(keys.map((k) => k.split('/')[0]).sort()).toEqual(['landing', 'rejected', 'reports', 'validated']);
    expect((listed.Contents ?? []).find((o) => o.Key === `${PREFIX.validated}${relative}`)!.Size).toBeLessThan(400);
    const rejects = (await text(raw, (file as { rejectsKey?: string }).rejectsKey!)).body.trim().split('\n');
    expect(rejects.map((r) => r.split(',')[0])).toEqual(['line', '4', '7']);
  });

  it('hands a file with mixed line ends to the JavaScript rules, in validate and in convert alike', async () => {
    const relative = 'pos/ON/ON02_20261123_140000.tdf';
    const store = lines.map((l) => l.replace('ON01', 'ON02'));
    const content = `${store[0]}\r\n${store.slice(1, 4).join('\n')}\r\n${store.slice(4).join('\n')}\n`;
    await landAndSettle(stack(), relative, content);
    const file = await item(relative);
    expect(file).toMatchObject({ state: 'CONVERTED', rows: { in: 4, out: 2, rejected: 2, junk: 1 }, parquetRows: 2 });
    const verdict = parseVerdict((await text(stack().deployment.names.rawBucket, `${PREFIX.validated}${relative}`)).body);
    expect(verdict.rules).toEqual({ engine: 'javascript', why: expect.stringContaining('DuckDB could not read the file as lines') });
    expect(await parquetRows(file.processedKey!)).toEqual(await expectedRows(content, 'ON02', '14:00:00'));
  });

  it('still converts a validated CSV of the older layout (written before verdicts)', async () => {
    // buckets of their own, without notifications: convert is called as its handler would be
    const raw = `legacy-raw-${Date.now()}`;
    const lake = `legacy-lake-${Date.now()}`;
    for (const bucket of [raw, lake]) await stack().s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const relative = 'pos/ON/ON03_20261123_140000.tdf';
    // what validate wrote before: the good rows as CSV, with the lineage of the landed version
    const csv = 'store_id,item_id,transaction_date,transaction_code,amount\nON03,I0001,2026-11-23,4,1.00\nON03,I0009,2026-11-23,5,2.50\n';
    const source = {
      bucket: raw,
      key: `${PREFIX.landing}${relative}`,
      versionId: 'v1',
      eTag: 'e1',
      size: 99,
      sequencer: '0A',
      eventTime: new Date().toISOString(),
    };
    const put = await stack().s3.send(
      new PutObjectCommand({
        Bucket: raw,
        Key: `${PREFIX.validated}${relative}`,
        Body: csv,
        ContentType: 'text/csv',
        Metadata: lineageMetadata({ source, dataset: 'pos', fields: keyFields('ON03', '14:00:00'), date: '2026-11-23', rows: 2 }),
      }),
    );
    const ref = {
      bucket: raw,
      key: `${PREFIX.validated}${relative}`,
      ...(put.VersionId ? { versionId: put.VersionId } : {}),
      eTag: put.ETag!.replaceAll('"', ''),
      size: csv.length,
      sequencer: '0B',
      eventTime: new Date().toISOString(),
    };
    const result = await convertValidatedObject(ref, { s3: stack().s3, pipeline: loadPipeline(), lakeBucket: lake, functionMemoryMb: 1024 });
    expect(result).toMatchObject({ kind: 'converted', rows: 2 });
    expect(await parquetRows((result as { key: string }).key, lake)).toEqual(['ON03,I0001,2026-11-23,4,1.00', 'ON03,I0009,2026-11-23,5,2.50']);
  });
});

describe('a large object counted as it streams past', () => {
  it('finds a header after 5 MB of junk (past the first bytes kept), and numbers the bad lines from the whole file', { timeout: 120_000 }, async () => {
    const relative = 'pos/ON/ON04_20261123_140000.tdf';
    const junk = Array.from({ length: 80_000 }, (_, i) => `---- page header ${i} ${'-'.repeat(40)}`);
    const rows = Array.from({ length: 1_200_000 }, (_, i) => `ON04\tI${i}\t2026-11-23\t${(i % 9) + 1}\t${i % 1000 === 7 ? 'n/a' : '1.25'}`);
    const content = `${[...junk, HEADER, ...rows].join('\n')}\n`;
    expect(Buffer.byteLength(content)).toBeGreaterThan(33 * 1024 * 1024); // streamed (over 32 MB)
    await landAndSettle(stack(), relative, content);
    const file = await item(relative);
    const reference = await validateInJavaScript(new TextEncoder().encode(content), pos, keyFields('ON04', '14:00:00'));
    expect(file).toMatchObject({ state: 'CONVERTED', rows: reference.outcome.rows, parquetRows: reference.outcome.rows.out });
    expect(reference.outcome.rows.rejected).toBe(1200);
    const verdict = parseVerdict((await text(stack().deployment.names.rawBucket, `${PREFIX.validated}${relative}`)).body);
    expect(verdict.rules).toEqual({ engine: 'duckdb', skipLines: junk.length + 1 });
    const rejects = (await text(stack().deployment.names.rawBucket, (file as { rejectsKey?: string }).rejectsKey!)).body.trim().split('\n');
    expect(rejects.slice(1)).toEqual(reference.rejects);
  });
});
