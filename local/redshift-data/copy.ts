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
 * COPY … FROM 's3://…' FORMAT AS PARQUET [SERIALIZETOJSON] on PGlite: every object under the key
 * prefix is read from the local S3, opened with DuckDB and inserted into the table by column
 * position, inside the caller's transaction. What Redshift checks that PostgreSQL would not is
 * checked here: a VARCHAR's limit counts bytes, and a nested column (struct, list, map) loads only
 * into SUPER (or VARCHAR) and only with SERIALIZETOJSON, as its JSON text.
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

/** A column COPY fills: how the INSERT names it, and what Redshift would check its values against. */
export interface TargetColumn {
  /** the quoted identifier, for the INSERT */
  ident: string;
  /** the column's name */
  name: string;
  /** its type as Redshift names it in errors (VARCHAR(10), SUPER, INTEGER, …) */
  redshiftType: string;
  /** SUPER: values are JSON text */
  isSuper: boolean;
  /** VARCHAR/CHAR: the limit in BYTES (Redshift's; PostgreSQL's counts characters), and the type as its error names it */
  bytes?: { limit: number; typeName: string };
}

/** Redshift's VARCHAR and CHAR without a length (and TEXT, which Redshift turns into VARCHAR) hold 256 bytes. */
const DEFAULT_CHARACTER_BYTES = 256;

/** A column as the catalog describes it → what COPY checks (exported for the unit tests). */
export function targetColumn(name: string, typeName: string, typeModifier: number, formatted: string): TargetColumn {
  const ident = quoteIdent(name);
  if (typeName === 'super') return { ident, name, redshiftType: 'SUPER', isSuper: true };
  const character = typeName === 'varchar' || typeName === 'bpchar' || typeName === 'text';
  if (!character) return { ident, name, redshiftType: formatted.toUpperCase(), isSuper: false };
  const limit = typeName !== 'text' && typeModifier >= 4 ? typeModifier - 4 : DEFAULT_CHARACTER_BYTES;
  const fixed = typeName === 'bpchar';
  return {
    ident,
    name,
    redshiftType: `${fixed ? 'CHAR' : 'VARCHAR'}(${limit})`,
    isSuper: false,
    bytes: { limit, typeName: `${fixed ? 'character' : 'character varying'}(${limit})` },
  };
}

/** A name of COPY's column list as PostgreSQL stores it (quoted: as written; unquoted: lower case). */
const storedName = (written: string) => (written.startsWith('"') ? written.slice(1, -1).replace(/""/g, '"') : written.toLowerCase());

/** The columns COPY fills, in order: its column list, or the table's columns (without generated and identity ones). */
async function targetColumns(db: PGlite, copy: CopyStatement): Promise<TargetColumn[]> {
  let relation: string | null;
  try {
    relation = (await execute(db, 'SELECT to_regclass($1)::oid::int8', [copy.table])).rows[0]?.[0] ?? null;
  } catch {
    relation = null;
  }
  const tableName = copy.table.replace(/"/g, '');
  if (relation === null) throw new CopyError(`ERROR: relation "${tableName}" does not exist`);
  const attributes = await execute(
    db,
    `SELECT a.attname, t.typname, a.atttypmod, format_type(a.atttypid, a.atttypmod), a.attgenerated = '' AND a.attidentity = ''
       FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
      WHERE a.attrelid = $1::oid AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`,
    [relation],
  );
  const all = attributes.rows.map(([name, typeName, modifier, formatted, fillable]) => ({
    column: targetColumn(name!, typeName!, Number(modifier), formatted!),
    fillable: fillable === 't',
  }));
  if (!copy.columns) return all.filter((a) => a.fillable).map((a) => a.column);
  return copy.columns.map((written) => {
    const found = all.find((a) => a.column.name === storedName(written));
    if (!found) throw new CopyError(`ERROR: column "${storedName(written)}" of relation "${tableName.split('.').pop()}" does not exist`);
    return found.column;
  });
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

/** DuckDB's type of a nested Parquet column: a struct, a list (`…[]`), a map or a union. */
const NESTED_TYPE = /^(?:STRUCT|MAP|UNION)\(|\]$/;

export const isNestedType = (duckType: string) => NESTED_TYPE.test(duckType);

/**
 * The DuckDB expression giving a Parquet column as the text PostgreSQL reads back exactly for its
 * target column: JSON (compact, fields in order) for a SUPER column or a nested column Redshift
 * serializes (SERIALIZETOJSON), decimals with their scale, blobs as bytea hex. A nested column
 * Redshift would not load is a CopyError, in Redshift's words.
 */
export function sourceExpression(
  source: { name: string; type: string },
  target: TargetColumn,
  copy: Pick<CopyStatement, 'serializeToJson'>,
  uri: string,
): string {
  const column = quoteIdent(source.name);
  if (isNestedType(source.type)) {
    if (!copy.serializeToJson || !(target.isSuper || target.bytes)) {
      const hint = target.isSuper && !copy.serializeToJson ? ' (a nested Parquet column loads into a SUPER column only with SERIALIZETOJSON)' : '';
      throw new CopyError(
        `ERROR: Spectrum Scan Error DETAIL: error: Spectrum Scan Error code: 15007 context: File '${uri}' has an incompatible Parquet schema for column '${uri}.${source.name}'. Column type: ${target.redshiftType}, Parquet schema: ${source.type}${hint}`,
      );
    }
    return `CAST(to_json(${column}) AS VARCHAR)`;
  }
  if (target.isSuper) return `CAST(to_json(${column}) AS VARCHAR)`;
  return source.type === 'BLOB' ? `CASE WHEN ${column} IS NULL THEN NULL ELSE '\\x' || hex(${column}) END` : `CAST(${column} AS VARCHAR)`;
}

/** Redshift's check of a VARCHAR/CHAR value: its length in bytes (UTF-8), not in characters. */
function checkBytes(value: string, target: TargetColumn, uri: string) {
  if (!target.bytes) return;
  const bytes = Buffer.byteLength(value, 'utf8');
  if (bytes <= target.bytes.limit) return;
  throw new CopyError(
    `ERROR: value too long for type ${target.bytes.typeName} DETAIL: error: The length of the data column ${target.name} is longer than the length defined in the table. Table: ${target.bytes.limit}, Data: ${bytes} (bytes), File name: ${uri}`,
  );
}

/**
 * Runs the COPY: checks every file's columns against the target columns first (their count; a
 * nested column only into SUPER or VARCHAR, with SERIALIZETOJSON) so nothing is inserted if one
 * does not match, then inserts the rows of each file, in key order, each VARCHAR value checked
 * against its column's byte limit. The caller's transaction makes it all or nothing.
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
      files.push({ uri, path, select: `SELECT ${described.map((c, n) => sourceExpression(c, columns[n]!, copy, uri)).join(', ')} FROM read_parquet(?)` });
    }
    const perInsert = Math.max(1, Math.min(ROWS_PER_INSERT, Math.floor(VALUES_PER_INSERT / columns.length)));
    const insert = (count: number) =>
      `INSERT INTO ${copy.table} (${columns.map((c) => c.ident).join(', ')}) VALUES ${Array.from({ length: count }, (_, r) => `(${columns.map((_, c) => `$${r * columns.length + c + 1}`).join(', ')})`).join(', ')}`;
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
          for (const [c, value] of row.entries()) {
            if (value === null) {
              pending.push(null);
              continue;
            }
            const text = String(value);
            checkBytes(text, columns[c]!, file.uri);
            pending.push(text);
          }
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
