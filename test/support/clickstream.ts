import { mkdir, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { paginateListObjectsV2 } from '@aws-sdk/client-s3';
import { DuckDBInstance } from '@duckdb/node-api';
import { downloadToFile } from '../../shared/core/s3/object-io';
import type { LocalStack } from '../../local/stack';

/** One day's rows of a clickstream metrics table, as JSON values, sorted by `orderBy`. */
export async function metricRows(stack: LocalStack, table: string, date: string, orderBy: string): Promise<Record<string, unknown>[]> {
  const dir = await mkdtemp(join(tmpdir(), 'landfall-metrics-'));
  const bucket = stack.deployment.names.lakeBucket;
  let files = 0;
  for await (const page of paginateListObjectsV2({ client: stack.s3 }, { Bucket: bucket, Prefix: `curated/clickstream/${table}/date=${date}/` })) {
    for (const object of page.Contents ?? []) {
      if (!object.Key!.endsWith('.parquet')) continue;
      const path = join(dir, object.Key!);
      await mkdir(dirname(path), { recursive: true });
      await downloadToFile(stack.s3, bucket, object.Key!, undefined, path);
      files += 1;
    }
  }
  if (files === 0) return [];
  const conn = await (await DuckDBInstance.create(':memory:')).connect();
  const rows = (
    await conn.runAndReadAll(`SELECT * FROM read_parquet($1, hive_partitioning = true) ORDER BY ${orderBy}`, [
      `${dir}/curated/clickstream/${table}/**/*.parquet`,
    ])
  ).getRowObjectsJson();
  conn.closeSync();
  return rows as Record<string, unknown>[];
}
