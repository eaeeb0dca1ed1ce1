import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListObjectVersionsCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { DuckDBInstance } from '@duckdb/node-api';
import { PREFIX } from '../../shared/core/s3/layout';
import { downloadToFile } from '../../shared/core/s3/object-io';
import type { LocalStack } from '../../local/stack';

/** Puts files (keys relative to landing/, read from `dir`) one after the other, settling after each. */
export async function landEach(stack: LocalStack, dir: string, keys: string[]): Promise<Date[]> {
  const times: Date[] = [];
  for (const key of keys) {
    times.push(new Date());
    await stack.s3.send(
      new PutObjectCommand({ Bucket: stack.deployment.names.rawBucket, Key: `${PREFIX.landing}${key}`, Body: await readFile(join(dir, key)) }),
    );
    await stack.settled(400);
  }
  return times;
}

/** The executions of one batch (by the province and date in their deterministic names). */
export function executionsOf(stack: LocalStack, province: string, date: string) {
  return stack.stepFunctions.executions().filter((e) => e.name.startsWith(`pos_daily_sales-${province}-${date}-`));
}

export const curatedKeyOf = (province: string, date: string) => `curated/pos_daily_sales/province=${province}/date=${date}/data.parquet`;

/** The rows of one curated partition, as JSON values (decimals and dates as strings), sorted. */
export async function curatedRows(stack: LocalStack, province: string, date: string): Promise<Record<string, unknown>[]> {
  const dir = await mkdtemp(join(tmpdir(), 'landfall-curated-'));
  const path = join(dir, 'data.parquet');
  await downloadToFile(stack.s3, stack.deployment.names.lakeBucket, curatedKeyOf(province, date), undefined, path);
  const conn = await (await DuckDBInstance.create(':memory:')).connect();
  const rows = (
    await conn.runAndReadAll('SELECT * EXCLUDE (dt) FROM read_parquet($1) ORDER BY province, transaction_date, store_id, item_id', [path])
  ).getRowObjectsJson();
  conn.closeSync();
  return rows as Record<string, unknown>[];
}

export async function curatedVersions(stack: LocalStack, province: string, date: string): Promise<string[]> {
  const out = await stack.s3.send(new ListObjectVersionsCommand({ Bucket: stack.deployment.names.lakeBucket, Prefix: curatedKeyOf(province, date) }));
  return (out.Versions ?? []).map((v) => v.VersionId!);
}
