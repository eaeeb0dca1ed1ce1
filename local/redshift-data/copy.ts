import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import type { PGlite } from '@electric-sql/pglite';
import { openDuckDb } from '../../shared/core/duckdb/duckdb';
import { downloadToFile } from '../../shared/core/s3/object-io';
import { execute } from './pg';
import type { CopyStatement } from './sql';

/*
 * COPY … FROM 's3://…' FORMAT AS PARQUET on PGlite: every object under the key prefix is read
 * from the local S3, opened with DuckDB and inserted into the table by column position, inside the
 * caller's transaction.
 */

/** A COPY that failed the way Redshift's fails; `message` is the Data API's Error text. */
export class CopyError extends Error {}

export interface CopyOutcome {
  rows: number;
  /** the s3:// URIs read, in key order */
  objects: string[];
}

/** Rows per INSERT, and bound values per INSERT at most (PostgreSQL allows 65,535). */
const ROWS_PER_INSERT = 1000;
const VALUES_PER_INSERT = 30_000;

const quoteIdent = (name: string) => `"${name.replace(/"/g, '""')}"`;

/** The table's columns a COPY without a column list fills, in order (generated and identity columns are left to the table). */
async function targetColumns(db: PGlite, copy: CopyStatement): Promise<string[]> {
  let relation: string | null;
  try {
    relation = (await execute(db, 'SELECT to_regclass($1)::oid::int8', [copy.table])).rows[0]?.[0] ?? null;
  } catch {
    relation = null;
  }
  if (relation === null) throw new CopyError(`ERROR: relation "${copy.table.replace(/"/g, '')}" does not exist`);
  if (copy.columns) return copy.columns;
  const columns = await execute(
    db,
    `SELECT attname FROM pg_attribute WHERE attrelid = $1::oid AND attnum > 0 AND NOT attisdropped AND attgenerated = '' AND attidentity = '' ORDER BY attnum`,
    [relation],
  );
  return columns.rows.map((r) => quoteIdent(r[0]!));
}

/** The objects COPY reads: every key that starts with the prefix (Redshift's prefix semantics), without zero-byte objects and "folders". */
async function objectsUnder(s3: S3Client, copy: CopyStatement): Promise<Array<{ key: string; size: number }>> {
  const found: Array<{ key: string; size: number }> = [];
  let token: string | undefined;
  do {
    let page;
    try {
      page = await s3.send(new ListObjectsV2Command({ Bucket: copy.bucket, Prefix: copy.prefix, ...(token ? { ContinuationToken: token } : {}) }));
    } catch (err) {
      const e = err as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
      throw new CopyError(
        `ERROR: S3ServiceException:${e.name === 'NoSuchBucket' ? 'The specified bucket does not exist' : e.message},Status ${e.$metadata?.httpStatusCode ?? 500},Error ${e.name} DETAIL: context: s3://${copy.bucket}/${copy.prefix}`,
      );
    }
    for (const o of page.Contents ?? []) {
      if (o.Key && !o.Key.endsWith('/') && (o.Size ?? 0) > 0) found.push({ key: o.Key, size: o.Size ?? 0 });
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  if (found.length === 0) {
    throw new CopyError(
      `ERROR: The specified S3 prefix '${copy.prefix}' does not exist DETAIL: error: The specified S3 prefix '${copy.prefix}' does not exist code: 8001 context: s3://${copy.bucket}/${copy.prefix}`,
    );
  }
  return found.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/** A DuckDB expression giving a Parquet column as text PostgreSQL reads back exactly (decimals keep their scale; blobs as bytea hex). */
function asText(name: string, type: string): string {
  const column = quoteIdent(name);
  return type === 'BLOB' ? `CASE WHEN ${column} IS NULL THEN NULL ELSE '\\x' || hex(${column}) END` : `CAST(${column} AS VARCHAR)`;
}

/**
 * Runs the COPY: checks every file's column count against the target columns first (nothing is
 * inserted if one does not match), then inserts the rows of each file, in key order. The caller's
 * transaction makes it all or nothing.
 */
export async function runCopy(db: PGlite, s3: S3Client, copy: CopyStatement): Promise<CopyOutcome> {
  const columns = await targetColumns(db, copy);
  const objects = await objectsUnder(s3, copy);
  const workDir = await mkdtemp(join(tmpdir(), 'landfall-redshift-copy-'));
  const duck = await openDuckDb({ workDir, functionMemoryMb: 1024, threads: 1 });
  try {
    await duck.conn.run(`SET TimeZone = 'UTC'`);
    const files: Array<{ uri: string; path: string; select: string }> = [];
    for (const [i, object] of objects.entries()) {
      const uri = `s3://${copy.bucket}/${object.key}`;
      const path = join(workDir, `${i}.parquet`);
      await downloadToFile(s3, copy.bucket, object.key, undefined, path, object.size);
      let described: Array<{ name: string; type: string }>;
      try {
        const reader = await duck.conn.runAndReadAll('DESCRIBE SELECT * FROM read_parquet(?)', [path]);
        described = reader.getRowObjectsJS().map((r) => ({ name: String(r.column_name), type: String(r.column_type) }));
      } catch (err) {
        throw new CopyError(`ERROR: Spectrum Scan Error DETAIL: error: ${(err as Error).message.split('\n')[0]}, File name: ${uri}`);
      }
      if (described.length !== columns.length) {
        throw new CopyError(
          `ERROR: Spectrum Scan Error DETAIL: error: Unmatched number of columns between table and file. Table columns: ${columns.length}, Data columns: ${described.length}, File name: ${uri}`,
        );
      }
      files.push({ uri, path, select: `SELECT ${described.map((c) => asText(c.name, c.type)).join(', ')} FROM read_parquet(?)` });
    }
    const perInsert = Math.max(1, Math.min(ROWS_PER_INSERT, Math.floor(VALUES_PER_INSERT / columns.length)));
    const insert = (count: number) =>
      `INSERT INTO ${copy.table} (${columns.join(', ')}) VALUES ${Array.from({ length: count }, (_, r) => `(${columns.map((_, c) => `$${r * columns.length + c + 1}`).join(', ')})`).join(', ')}`;
    let rows = 0;
    for (const file of files) {
      const result = await duck.conn.stream(file.select, [file.path]);
      let pending: Array<string | null> = [];
      let pendingRows = 0;
      const flush = async () => {
        if (pendingRows === 0) return;
        rows += (await execute(db, insert(pendingRows), pending)).rowCount;
        pending = [];
        pendingRows = 0;
      };
      for await (const chunk of result.yieldRows()) {
        for (const row of chunk) {
          for (const value of row) pending.push(value === null ? null : String(value));
          if (++pendingRows === perInsert) await flush();
        }
      }
      await flush();
    }
    return { rows, objects: files.map((f) => f.uri) };
  } finally {
    duck.close();
    await rm(workDir, { recursive: true, force: true });
  }
}
