import { StringDecoder } from 'node:string_decoder';
import type { Readable, Transform } from 'node:stream';
import type { ColumnSpec, DatasetConfig } from '../config/types';
import { MAX_LINE_BYTES } from '../datasets/line-limits';
import { splitDialectLine } from './csv-line';
import { LinePrelude } from './line-prelude';

/**
 * schemaPolicy additive keeps the columns a file's header adds: each becomes a nullable string
 * column after the declared ones, under a name Glue and Athena take (lower-case letters, digits
 * and `_`). A header name that cannot be one is ignored and listed on the file's report.
 */
export interface KeptColumn {
  /** the name in the file's header */
  header: string;
  /** the column's name in the Parquet and the Glue table */
  name: string;
}

/** Glue's longest column name. */
const MAX_NAME_CHARS = 255;
const LEGAL_NAME = /^[a-z_][a-z0-9_]*$/;
/** convert's lineage columns (csv-to-parquet.ts: key_<field>, source_key, source_version_id) */
const isLineageName = (name: string) => name.startsWith('key_') || name === 'source_key' || name === 'source_version_id';

/**
 * The header names the dataset does not declare, split into those kept (with their column name)
 * and those ignored: a name that is not a legal Glue name once lower-cased, too long, or that
 * clashes case-insensitively with a declared column, a lineage column or an earlier kept one.
 */
export function keptColumnsOf(declared: ColumnSpec[], header: string[]): { kept: KeptColumn[]; ignored: string[] } {
  const declaredNames = new Set(declared.map((c) => c.name));
  const taken = new Set(declared.map((c) => c.name.toLowerCase()));
  const kept: KeptColumn[] = [];
  const ignored: string[] = [];
  for (const found of header) {
    if (declaredNames.has(found)) continue;
    const name = found.toLowerCase();
    if (name.length > MAX_NAME_CHARS || !LEGAL_NAME.test(name) || taken.has(name) || isLineageName(name)) {
      ignored.push(found);
      continue;
    }
    taken.add(name);
    kept.push({ header: found, name });
  }
  return { kept, ignored };
}

/** The extra columns' spec: a string, nullable, cut at the warehouse limit rather than costing the row. */
export function keptColumnSpec(column: KeptColumn): ColumnSpec {
  return { name: column.name, kind: 'string', nullable: true, onTooLong: 'truncate' };
}

const keptOf = new WeakMap<DatasetConfig, KeptColumn[]>();

/**
 * The dataset one file is read as: its declared columns, then the kept ones (the same dataset
 * when none is kept, so that strict datasets and files without new columns read as before).
 */
export function withKeptColumns(dataset: DatasetConfig, kept: KeptColumn[]): DatasetConfig {
  if (kept.length === 0) return dataset;
  const widened: DatasetConfig = { ...dataset, columns: [...dataset.columns, ...kept.map(keptColumnSpec)] };
  keptOf.set(widened, kept);
  return widened;
}

/** The header name of each column of a dataset made by withKeptColumns (the declared ones: their name). */
export function headerNamesOf(dataset: DatasetConfig): string[] {
  const kept = new Map((keptOf.get(dataset) ?? []).map((k) => [k.name, k.header]));
  return dataset.columns.map((c) => kept.get(c.name) ?? c.name);
}

/** Whether a dataset's files may bring columns to keep: additive, delimited, with a header. */
export function keepsExtraColumns(dataset: DatasetConfig): boolean {
  return dataset.schemaPolicy === 'additive' && dataset.format.kind === 'delimited' && dataset.format.header !== false;
}

/**
 * The header of a delimited file, read from the start of its bytes through `steps` (decompression,
 * transcoding): skipped, blank and comment lines pass as the decoder passes them. Null when the
 * text ends, or passes MAX_LINE_BYTES, before a header; the source is destroyed once it is read.
 */
export async function peekHeader(source: Readable, steps: Transform[], dataset: DatasetConfig): Promise<string[] | null> {
  const format = dataset.format;
  if (format.kind !== 'delimited') return null;
  const prelude = new LinePrelude({
    skipLines: format.skipLines,
    prefixes: [format.commentPrefix, format.junkLinePrefix].filter((p): p is string => p !== undefined),
    header: true,
    encoding: format.encoding,
  });
  const quote = format.quote ?? (format.delimiter === '\t' ? '' : '"');
  const dialect = { delimiter: format.delimiter, quote, escape: format.escape ?? quote };
  let stream: Readable = source;
  for (const step of steps) stream = stream.pipe(step);
  const decoder = new StringDecoder('utf8');
  let pending = '';
  let seen = 0;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      seen += chunk.length;
      pending += decoder.write(chunk);
      for (let end = pending.indexOf('\n'); end >= 0; end = pending.indexOf('\n')) {
        const line = pending.slice(0, end).replace(/\r$/, '');
        pending = pending.slice(end + 1);
        const taken = prelude.take(line);
        if ('header' in taken) {
          const names = splitDialectLine(taken.header, dialect);
          return Array.isArray(names) ? names : null;
        }
      }
      if (seen > MAX_LINE_BYTES) return null;
    }
    const last = prelude.take(pending.replace(/\r$/, ''));
    if (!('header' in last)) return null;
    const names = splitDialectLine(last.header, dialect);
    return Array.isArray(names) ? names : null;
  } catch {
    // a corrupt or truncated start: the decoder's own pass rejects the file with its reason
    return null;
  } finally {
    source.destroy();
    for (const step of steps) step.destroy();
  }
}
