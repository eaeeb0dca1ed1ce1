import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { paginateListObjectsV2, type S3Client } from '@aws-sdk/client-s3';
import type { JobConfig } from '../shared/config/types';
import { LIST, VARCHAR, listValue } from '@duckdb/node-api';
import { openDuckDb } from '../shared/convert/duckdb';
import { downloadToFile } from '../shared/s3/object-io';
import { CURATED_PREFIX } from '../shared/transform/run-stage';

const IDENTIFIER = /^[a-z_][a-z0-9_]*$/;

/**
 * `OUT/curated/<table>.csv` for each job's output table: every partition's Parquet in the lake,
 * one CSV with a header, rows sorted by the table's key.
 */
export async function exportCuratedTables(s3: S3Client, bucket: string, jobs: JobConfig[], outDir: string): Promise<string[]> {
  const written: string[] = [];
  const work = await mkdtemp(join(tmpdir(), 'landfall-export-'));
  try {
    await mkdir(join(outDir, 'curated'), { recursive: true });
    for (const job of jobs) {
      const { table, key } = job.output;
      const files: string[] = [];
      for await (const page of paginateListObjectsV2({ client: s3 }, { Bucket: bucket, Prefix: `${CURATED_PREFIX}${table}/` })) {
        for (const object of page.Contents ?? []) {
          if (!object.Key!.endsWith('.parquet')) continue;
          const path = join(work, `${table}-${files.length}.parquet`);
          await downloadToFile(s3, bucket, object.Key!, undefined, path);
          files.push(path);
        }
      }
      if (files.length === 0) continue;
      for (const column of key) if (!IDENTIFIER.test(column)) throw new Error(`unsafe key column ${column}`);
      const duckdb = await openDuckDb({ workDir: work, functionMemoryMb: 2048 });
      try {
        const path = join(outDir, 'curated', `${table}.csv`);
        // the key identifies a row (one record per key), so it orders the rows completely
        const order = key.map((c) => `"${c}"`).join(', ');
        await duckdb.conn.run(
          `COPY (SELECT * FROM read_parquet($files, hive_partitioning = false) ORDER BY ${order}) TO $out (FORMAT csv, HEADER true)`,
          { files: listValue(files), out: path },
          { files: LIST(VARCHAR), out: VARCHAR },
        );
        written.push(path);
      } finally {
        duckdb.close();
      }
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  return written;
}
