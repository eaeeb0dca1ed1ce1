import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import type { S3Client } from '@aws-sdk/client-s3';
import type { Pipeline } from '../config/load-config';
import { versionTag, type ObjectRef } from '../s3/event-records';
import { PREFIX, landingRelativeKey, processedKey } from '../s3/layout';
import type { Readable } from 'node:stream';
import { ObjectGoneError, downloadToFile, headObject, objectExists, readObject, uploadFile } from '../s3/object-io';
import { canStreamInput, withStreamedInput } from './streamed-input';
import { NotLandfallOutputError } from '../state/file-state';
import { lineageMetadata, parseLineage, type Lineage } from '../state/lineage';
import { csvToParquet } from './csv-to-parquet';
import { openDuckDb } from './duckdb';

/** The Parquet has another number of rows than validate wrote (retryable: the read was cut short). */
export class RowCountMismatchError extends Error {
  override readonly name = 'RowCountMismatchError';
}

/** A validated object names a dataset the configuration no longer has. */
export class UnknownDatasetError extends Error {
  override readonly name = 'UnknownDatasetError';
}

export interface ConvertDeps {
  s3: S3Client;
  pipeline: Pipeline;
  lakeBucket: string;
  functionMemoryMb: number;
  tmpDir?: string;
}

export type ConvertResult = { kind: 'converted'; key: string; rows: number } | { kind: 'already-converted'; key: string } | { kind: 'ignored'; reason: string };

/** The Parquet under `key` was converted from the same landed version (its lineage says so). */
async function convertedAlready(deps: ConvertDeps, key: string, lineage: Lineage): Promise<boolean> {
  if (!(await objectExists(deps.s3, deps.lakeBucket, key))) return false;
  try {
    const { source } = parseLineage((await headObject(deps.s3, deps.lakeBucket, key)).metadata);
    return source.key === lineage.source.key && versionTag(source.versionId) === versionTag(lineage.source.versionId) && source.eTag === lineage.source.eTag;
  } catch (err) {
    if (err instanceof ObjectGoneError || err instanceof NotLandfallOutputError) return false;
    throw err;
  }
}

/**
 * convert, for one validated object version: stream it to /tmp (above 32 MB, straight into DuckDB
 * through a pipe), let DuckDB write Parquet with the dataset's schema plus the key's fields, and
 * upload it under processed/ with the source's lineage. The Parquet key is deterministic, so a
 * re-run overwrites instead of adding a second copy; one already there is not converted again.
 */
export async function convertValidatedObject(ref: ObjectRef, deps: ConvertDeps): Promise<ConvertResult> {
  if (!ref.key.startsWith(PREFIX.validated)) return { kind: 'ignored', reason: 'not under validated/' };
  const validated = await headObject(deps.s3, ref.bucket, ref.key, ref.versionId);
  const lineage = parseLineage(validated.metadata);
  const dataset = deps.pipeline.config.datasets.find((d) => d.name === lineage.dataset);
  if (!dataset) throw new UnknownDatasetError(`dataset "${lineage.dataset}" of ${ref.key} is not in the pipeline configuration`);
  const relative = landingRelativeKey(lineage.source.key) ?? lineage.source.key;
  const partitions = dataset.partitionBy.map((p): [string, string] => [p, lineage.fields[p]!]);
  const key = processedKey(dataset.name, lineage.fields[dataset.dateField]!, partitions, relative);
  // A redelivered event, or a re-validation of the same landed version: its Parquet is there already.
  if (await convertedAlready(deps, key, lineage)) return { kind: 'already-converted', key };
  const dir = await mkdtemp(join(deps.tmpDir ?? tmpdir(), 'convert-'));
  try {
    const csvPath = join(dir, 'input.csv');
    const parquetPath = join(dir, 'output.parquet');
    const constants: Array<[string, string]> = [
      ...Object.entries(lineage.fields).map(([k, v]): [string, string] => [`key_${k}`, v]),
      ['source_key', lineage.source.key],
      ['source_version_id', versionTag(lineage.source.versionId)],
    ];
    const toParquet = async (path: string) => {
      // DuckDB is closed before the upload so that its memory is not held alongside the upload's.
      const duckdb = await openDuckDb({ workDir: dir, functionMemoryMb: deps.functionMemoryMb });
      try {
        return await csvToParquet(duckdb.conn, { csvPath: path, parquetPath, columns: dataset.columns, constants });
      } finally {
        duckdb.close();
      }
    };
    let rows: number;
    if (canStreamInput(validated.size)) {
      // DuckDB parses the CSV as it downloads: the download costs (almost) no time of its own.
      const { chunks } = await readObject(deps.s3, ref.bucket, ref.key, ref.versionId);
      rows = await withStreamedInput(csvPath, chunks as Readable, toParquet);
    } else {
      await downloadToFile(deps.s3, ref.bucket, ref.key, ref.versionId, csvPath, validated.size);
      rows = await toParquet(csvPath);
    }
    // validate counted the rows it wrote: a different count means a truncated or altered input.
    if (lineage.rows !== undefined && rows !== lineage.rows) {
      throw new RowCountMismatchError(`${ref.key}: converted ${rows} rows, validate wrote ${lineage.rows}; not uploading`);
    }
    await uploadFile(deps.s3, deps.lakeBucket, key, parquetPath, lineageMetadata({ ...lineage, rows }), 'application/vnd.apache.parquet');
    return { kind: 'converted', key, rows };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
