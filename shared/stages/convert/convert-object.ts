import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import type { S3Client } from '@aws-sdk/client-s3';
import type { Pipeline } from '../../core/config/load-config';
import { compareSequencers, versionTag, type ObjectRef } from '../../core/s3/event-records';
import { PREFIX, processedKeyOf } from '../../core/s3/layout';
import type { Readable } from 'node:stream';
import { WriteConflictError, bodyText, downloadToFile, headIfExists, readObject, uploadFile, type WriteCondition } from '../../core/s3/object-io';
import { feedOf } from '../../core/feeds/feed';
import { landedInput } from '../../core/feeds/landed-input';
import { NotLandfallOutputError, type SourceVersion } from '../../core/state/file-state';
import { lineageMetadata, parseLineage } from '../../core/state/lineage';
import { csvToParquet, lineageColumns, selectToParquet } from './csv-to-parquet';
import { openDuckDb, type DuckDb } from '../../core/duckdb/duckdb';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { DatasetConfig } from '../../core/config/types';
import {
  allGoodColumnsSql,
  allGoodRowsSql,
  goodRowsSql,
  typedColumnsSql,
  FileLineSink,
  textLayout,
  parseVerdict,
  type Verdict,
  discardLines,
  validateFileAt,
} from '../validate';
import { LandfallError } from '../../core/errors';
import type { GlueClient } from '@aws-sdk/client-glue';
import { glueClient } from '../../core/aws/clients';
import { ensureTableColumns } from '../../core/catalog/glue-columns';
import { setting } from '../../core/settings';

/** The Parquet has another number of rows than validate counted (retryable: the read was cut short). */
export class RowCountMismatchError extends LandfallError {
  override readonly name = 'RowCountMismatchError';
  readonly code = 'ROW_COUNT_MISMATCH';
}

/** A validated object names a dataset the configuration no longer has. */
export class UnknownDatasetError extends LandfallError {
  override readonly name = 'UnknownDatasetError';
  readonly code = 'DATASET_UNKNOWN';
}

export interface ConvertDeps {
  s3: S3Client;
  pipeline: Pipeline;
  lakeBucket: string;
  functionMemoryMb: number;
  tmpDir?: string;
  /**
   * Where the columns an additive dataset's files add are appended (the processed Glue database);
   * default: GLUE_PROCESSED_DATABASE's, through the Glue client; null: no table is updated.
   */
  catalog?: ProcessedCatalog | null;
}

export interface ProcessedCatalog {
  glue: GlueClient;
  databaseName: string;
}

/** The processed Glue database the settings name, or null when they name none (a local run without the stand-in). */
function catalogOf(deps: ConvertDeps): ProcessedCatalog | null {
  if (deps.catalog !== undefined) return deps.catalog;
  const databaseName = setting('GLUE_PROCESSED_DATABASE');
  return databaseName ? { glue: glueClient(), databaseName } : null;
}

export type ConvertResult =
  | { kind: 'converted'; key: string; rows: number }
  | { kind: 'already-converted'; key: string }
  /** the Parquet at `key` came from a newer landed version of the key (`by`: its version id) and stays */
  | { kind: 'superseded'; key: string; by: string }
  | { kind: 'ignored'; reason: string };

/**
 * What a convert of landed version `ours` may do to the Parquet at its key, converted from
 * `current` (undefined: no Parquet there, or one without lineage):
 * - `already-converted`: the same landed version (a redelivered event, a re-validation);
 * - `superseded`: a newer version of the same landed key, by S3 sequencer: never replaced, so
 *   `processed/` never goes back in time;
 * - `replace`: an older version, or one whose order cannot be known: another landed key mapping to
 *   the same Parquet key (sequencers order the events of one key only) or a sequencer missing on
 *   either side; there the last writer wins, as before.
 */
export function placeAgainst(ours: SourceVersion, current: SourceVersion | undefined): 'already-converted' | 'superseded' | 'replace' {
  if (!current || current.key !== ours.key) return 'replace';
  if (versionTag(current.versionId) === versionTag(ours.versionId) && current.eTag === ours.eTag) return 'already-converted';
  if (current.sequencer && ours.sequencer && compareSequencers(current.sequencer, ours.sequencer) > 0) return 'superseded';
  return 'replace';
}

/** The Parquet at `key` now: its ETag (what a conditional write names) and the landed version it came from. */
async function currentParquet(deps: ConvertDeps, key: string): Promise<{ eTag: string; source?: SourceVersion } | undefined> {
  // none there (or deleted since the LIST): If-None-Match then
  const head = await headIfExists(deps.s3, deps.lakeBucket, key);
  if (!head) return undefined;
  try {
    return { eTag: head.eTag, source: parseLineage(head.metadata).source };
  } catch (err) {
    if (err instanceof NotLandfallOutputError) return { eTag: head.eTag }; // not ours: replaced, on its ETag
    throw err;
  }
}

/** A Parquet up to this size is one streamed PutObject (a 100 MB landed file gives ~14 MB), larger ones multipart. */
const SINGLE_PUT_BYTES = 32 * 1024 * 1024;

/** Conditional writes lost in a row before the invocation fails (and Lambda retries it). */
const MAX_WRITE_ATTEMPTS = 5;

/**
 * convert, for one verdict of validate (validated/<key>): read the landed object version it names
 * (above 32 MB streamed into DuckDB through a pipe as it downloads), keep the rows the verdict's
 * rules call good, let DuckDB write Parquet with the dataset's schema plus the key's fields, and
 * upload it under processed/ with the source's lineage. The Parquet key is deterministic per landed
 * key, so a re-run overwrites instead of adding a second copy; one already there is not converted
 * again, and one of a newer landed version is never overwritten (see placeAgainst). The upload is
 * an S3 conditional write on what was seen at the key (If-Match its ETag, or If-None-Match * when
 * nothing was there), so of two converts of one key racing only one can write on what it saw: the
 * other looks again and decides again.
 */
export async function convertValidatedObject(ref: ObjectRef, deps: ConvertDeps): Promise<ConvertResult> {
  if (!ref.key.startsWith(PREFIX.validated)) return { kind: 'ignored', reason: 'not under validated/' };
  // One GET: its headers are the HEAD (lineage, content type, size), its body the verdict.
  const validated = await readObject(deps.s3, ref.bucket, ref.key, ref.versionId);
  let verdict: Verdict | undefined;
  let lineage: Lineage;
  let dataset: DatasetConfig | undefined;
  try {
    lineage = parseLineage(validated.metadata);
    dataset = deps.pipeline.config.datasets.find((d) => d.name === lineage.dataset);
    if (!dataset) throw new UnknownDatasetError(`dataset "${lineage.dataset}" of ${ref.key} is not in the pipeline configuration`);
    // A verdict (JSON); before verdicts, validate wrote the good rows as CSV here, which still converts.
    if (validated.contentType?.startsWith('application/json')) verdict = parseVerdict(await bodyText(validated));
  } finally {
    // (an older layout's CSV is read again below, as the input)
    (validated.chunks as Readable).destroy();
  }
  return convertFor(ref, deps, { lineage, dataset, verdict, size: validated.size });
}

type Lineage = ReturnType<typeof parseLineage>;

async function convertFor(
  ref: ObjectRef,
  deps: ConvertDeps,
  { lineage, dataset, verdict, size }: { lineage: Lineage; dataset: DatasetConfig; verdict: Verdict | undefined; size: number },
): Promise<ConvertResult> {
  const key = processedKeyOf(dataset, lineage.fields, lineage.source.key);
  const dir = await mkdtemp(join(deps.tmpDir ?? tmpdir(), 'convert-'));
  // DuckDB starts while the Parquet already at the key is looked at (a file DuckDB cannot read goes
  // through the JavaScript rules first, and DuckDB opens after them).
  const open = () => openDuckDb({ workDir: dir, functionMemoryMb: deps.functionMemoryMb });
  // JSON lines go the JavaScript way too (its rules find the same good rows): DuckDB's JSON
  // classification streamed into a COPY held the parsed lines of the whole file (a 17 MB file
  // exhausted convert's 781 MiB), while the JavaScript streams them to a CSV in bounded memory;
  // unless every line is a canonical JSON line (`canonicalJson`), which DuckDB's JSON reader reads with the declared types, as the floor does.
  // (a dataset that has lost its fast path since validate goes the JavaScript way)
  const canonicalJson =
    verdict?.rules.engine === 'duckdb' &&
    verdict.rules.allGood === true &&
    verdict.rules.canonicalJson === true &&
    allGoodRowsSql(feedOf(dataset).canonical, 0, { canonicalJson: true }) !== null;
  const inJavaScript =
    verdict?.rules.engine === 'javascript' || (verdict !== undefined && !canonicalJson && textLayout(feedOf(dataset).canonical).kind === 'jsonl');
  let opening: Promise<DuckDb> | undefined = inJavaScript ? undefined : open();
  opening?.catch(() => undefined);
  try {
    let current = await currentParquet(deps, key);
    // Decided before converting too: a redelivered or late event costs no conversion.
    const early = placeAgainst(lineage.source, current?.source);
    if (early !== 'replace') return settledBy(early, key, current?.source);
    const parquetPath = join(dir, 'output.parquet');
    const constants = lineageColumns(lineage.fields, { key: lineage.source.key, versionTag: versionTag(lineage.source.versionId) });
    const withDuckDb = async <T>(use: (conn: DuckDBConnection) => Promise<T>): Promise<T> => {
      // DuckDB is closed before the upload so that its memory is not held alongside the upload's.
      const duckdb = await (opening ?? open());
      opening = undefined;
      try {
        return await use(duckdb.conn);
      } finally {
        duckdb.close();
      }
    };
    // The input: the landed object's text as the engine reads it (decoded when its dataset's files
    // are compressed, in another encoding or layout), or an older layout's validated CSV.
    const { source } = lineage;
    const landed = verdict
      ? await landedInput(deps.s3, { bucket: source.bucket, key: source.key, versionId: source.versionId, size: source.size ?? 0 }, dataset, {
          dir,
          functionMemoryMb: deps.functionMemoryMb,
          // the columns validate kept, and no others: the Parquet holds what the verdict says
          keptColumns: verdict.keptColumns ?? [],
        })
      : undefined;
    // the dataset as the engine reads that text
    const read = landed?.dataset ?? dataset;
    const fromInput = async (consume: (path: string) => Promise<number>): Promise<number> => {
      if (landed) {
        // DuckDB parses a large object as it downloads: the download costs (almost) no time of its own.
        return inJavaScript ? consume(await landed.whole()) : landed.stream(consume);
      }
      const path = join(dir, 'input');
      await downloadToFile(deps.s3, ref.bucket, ref.key, ref.versionId, path, size);
      return consume(path);
    };
    let rows: number;
    if (!verdict) {
      rows = await fromInput((path) => withDuckDb((conn) => csvToParquet(conn, { csvPath: path, parquetPath, columns: dataset.columns, constants })));
    } else if (verdict.rules.engine === 'duckdb' && !inJavaScript) {
      const { skipLines, allGood } = verdict.rules;
      // a file of good rows only is read by DuckDB's typed reader; others have their lines classified again
      const typed = allGood ? allGoodRowsSql(read, skipLines, { canonicalJson }) : null;
      const from = typed ?? goodRowsSql(read, lineage.fields, skipLines);
      const select = typed ? allGoodColumnsSql(read, { canonicalJson }) : typedColumnsSql(read);
      rows = await fromInput((path) => withDuckDb((conn) => selectToParquet(conn, { from, select, path, parquetPath, constants })));
    } else {
      // The file validate handed to the JavaScript rules: they find the same good rows again here.
      rows = await fromInput(async (path) => {
        const csvPath = join(dir, 'good.csv');
        await goodRowsInJavaScript(path, read, lineage.fields, csvPath);
        return withDuckDb((conn) => csvToParquet(conn, { csvPath, parquetPath, columns: read.columns, constants }));
      });
    }
    // validate counted the good rows: a different count means a truncated or altered input.
    if (lineage.rows !== undefined && rows !== lineage.rows) {
      throw new RowCountMismatchError(`${ref.key}: converted ${rows} rows, validate counted ${lineage.rows}; not uploading`);
    }
    // The table gains the file's new columns before the file is there to be read with them.
    const kept = verdict?.keptColumns ?? [];
    const catalog = kept.length > 0 ? catalogOf(deps) : null;
    if (catalog)
      await ensureTableColumns(
        catalog.glue,
        { databaseName: catalog.databaseName, tableName: dataset.name },
        kept.map((k) => k.name),
      );
    const metadata = lineageMetadata({ ...lineage, rows });
    for (let attempt = 1; ; attempt += 1) {
      const condition: WriteCondition = current ? { ifMatch: current.eTag } : { ifNoneMatch: '*' };
      try {
        await uploadFile(deps.s3, deps.lakeBucket, key, parquetPath, metadata, 'application/vnd.apache.parquet', condition, {
          singlePutBytes: SINGLE_PUT_BYTES,
        });
        return { kind: 'converted', key, rows };
      } catch (err) {
        // Nothing was written; after too many lost races the error goes to Lambda, whose retry starts over.
        if (!(err instanceof WriteConflictError) || attempt >= MAX_WRITE_ATTEMPTS) throw err;
      }
      // Another writer changed the key since we looked: a newer version (superseded), this very
      // version (a concurrent redelivery won: already-converted), or an older one (write over it).
      current = await currentParquet(deps, key);
      const placed = placeAgainst(lineage.source, current?.source);
      if (placed !== 'replace') return settledBy(placed, key, current?.source);
    }
  } finally {
    // opened but not used (the Parquet was there already, or the conversion failed before it)
    if (opening)
      await opening.then(
        (duckdb) => duckdb.close(),
        () => undefined,
      );
    await rm(dir, { recursive: true, force: true });
  }
}

/** validate-file.ts's good rows of a local landed file, as the CSV csvToParquet reads. */
async function goodRowsInJavaScript(path: string, dataset: DatasetConfig, fields: Record<string, string>, csvPath: string): Promise<void> {
  const good = new FileLineSink(csvPath);
  try {
    await validateFileAt(path, dataset, fields, { good, rejects: discardLines });
  } finally {
    await good.close();
  }
}

function settledBy(placed: 'already-converted' | 'superseded', key: string, current: SourceVersion | undefined): ConvertResult {
  return placed === 'superseded' ? { kind: 'superseded', key, by: versionTag(current?.versionId) } : { kind: 'already-converted', key };
}
