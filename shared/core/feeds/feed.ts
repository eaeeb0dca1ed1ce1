import type { Transform } from 'node:stream';
import type { ColumnSpec, DatasetConfig } from '../config/types';
import { BAD_MARK, JUNK_MARK, badLine } from './canonical';
import { autoDecompressor } from './compression';
import { DelimitedCanonicalizer } from './delimited-lines';
import { headerNamesOf, type KeptColumn } from './extra-columns';
import { INVALID_CHAR, describeInvalid, transcoder } from './encoding';
import { FixedWidthCanonicalizer } from './fixed-width';
import { jsonRecordCanonicalizer } from './json-flatten';
import { jsonRecords } from './json-records';
import { lineMapper } from './line-mapper';
import { valueConverter } from './values';

export type Compression = 'gzip' | 'zstd' | 'none';

/** What the decoding of one landed file noticed (its report records it). */
export interface FeedNotes {
  /** header columns the dataset does not declare and the file does not keep (schemaPolicy additive: ignored) */
  extraColumns?: string[];
  /** header columns the dataset does not declare, kept as nullable string columns (extra-columns.ts) */
  keptColumns?: KeptColumn[];
}

/**
 * How a dataset's landed files become the canonical text the validation engine reads (canonical.ts):
 * `canonical` is the dataset as the engine sees that text; `decoder(compression)` the transforms
 * from the landed bytes to it, or null when the bytes are canonical already (the engine reads the
 * object as it is, streamed straight from S3: every dataset of the earlier formats, uncompressed).
 */
export interface Feed {
  canonical: DatasetConfig;
  /** Parquet: decoded by DuckDB from a whole local file (parquet-input.ts), never streamed */
  parquet: boolean;
  /** the configured compression (`auto`: told from the first bytes) */
  compression: 'auto' | Compression;
  /** the text is reshaped, compressed or not (another dialect, encoding, layout): `decoder` is never null */
  reshapes: boolean;
  decoder(compression: Compression, notes: FeedNotes): Transform[] | null;
}

/** Whether a landed object of this compression needs decoding (without building the transforms). */
export function decodes(feed: Feed, compression: Compression): boolean {
  return compression !== 'none' || feed.reshapes;
}

const feeds = new WeakMap<DatasetConfig, Feed>();

/** The feed of a dataset (one per loaded dataset). */
export function feedOf(dataset: DatasetConfig): Feed {
  let feed = feeds.get(dataset);
  if (!feed) {
    feed = planFeed(dataset);
    feeds.set(dataset, feed);
  }
  return feed;
}

/** The transforms from a landed text file's bytes to UTF-8 text (decompression, transcoding). */
export function byteDecoder(dataset: DatasetConfig, kind: Compression): Transform[] {
  const encoding = dataset.format.kind === 'parquet' ? 'utf-8' : (dataset.format.encoding ?? 'utf-8');
  return [...(kind === 'none' ? [] : [autoDecompressor(kind)]), ...(encoding === 'utf-8' ? [] : [transcoder(encoding)])];
}

const hasConverters = (columns: ColumnSpec[], decimalComma: boolean) => columns.some((c) => valueConverter(c, { decimalComma }) !== null);

function planFeed(dataset: DatasetConfig): Feed {
  const format = dataset.format;
  if (format.kind === 'parquet')
    return { canonical: { ...dataset, format: { kind: 'jsonl' } }, parquet: true, compression: 'none', reshapes: false, decoder: () => null };
  const compression = format.compression ?? 'auto';
  const encoding = format.encoding ?? 'utf-8';
  const bytes = (kind: Compression): Transform[] => byteDecoder(dataset, kind);
  if (format.kind === 'jsonl' || format.kind === 'json') {
    const records = format.kind === 'json' ? (format.records ?? 'lines') : 'lines';
    const flatten = jsonRecordCanonicalizer(dataset.columns, {});
    const invalid = encoding === 'utf-8' ? undefined : describeInvalid(encoding);
    const perLine =
      flatten === null && invalid === undefined
        ? null
        : (line: string) => {
            if (invalid !== undefined && line.includes(INVALID_CHAR)) return badLine(invalid, line);
            // (a blank line or a mark is the engine's to read)
            if (line === '' || line.startsWith(JUNK_MARK) || line.startsWith(BAD_MARK) || flatten === null) return line;
            return flatten(line);
          };
    // (JSON lines are the engine's own: a jsonl dataset is read as it is configured)
    const canonical: DatasetConfig = format.kind === 'jsonl' ? dataset : { ...dataset, format: { kind: 'jsonl' } };
    return {
      canonical,
      parquet: false,
      compression,
      reshapes: records !== 'lines' || perLine !== null,
      decoder: (kind) => {
        const steps = [...bytes(kind), ...(records === 'lines' ? [] : [jsonRecords(records)]), ...(perLine ? [lineMapper(perLine)] : [])];
        return steps.length > 0 ? steps : null;
      },
    };
  }
  if (format.kind === 'fixedWidth') {
    const canonical: DatasetConfig = { ...dataset, format: { kind: 'delimited', delimiter: ',', header: false, junkLinePrefix: JUNK_MARK } };
    return {
      canonical,
      parquet: false,
      compression,
      reshapes: true,
      decoder: (kind) => {
        const fixed = new FixedWidthCanonicalizer({ format, columns: dataset.columns });
        return [...bytes(kind), lineMapper((line) => fixed.line(line))];
      },
    };
  }
  // delimited: the earlier formats (`,` with RFC 4180 quotes, `\t` without) are read by the engine as they are
  const plainQuote = format.delimiter === '\t' ? '' : '"';
  const asEngineReads =
    (format.delimiter === ',' || format.delimiter === '\t') &&
    (format.quote ?? plainQuote) === plainQuote &&
    (plainQuote === '' || (format.escape ?? '"') === '"') &&
    !format.nullMarkers?.length &&
    !format.skipLines &&
    !format.commentPrefix &&
    !format.decimalComma &&
    encoding === 'utf-8' &&
    (dataset.schemaPolicy ?? 'strict') === 'strict' &&
    !hasConverters(dataset.columns, false);
  if (asEngineReads) return { canonical: dataset, parquet: false, compression, reshapes: false, decoder: (kind) => (kind === 'none' ? null : bytes(kind)) };
  const canonical: DatasetConfig = {
    ...dataset,
    format: { kind: 'delimited', delimiter: ',', header: format.header ?? true, junkLinePrefix: JUNK_MARK },
  };
  return {
    canonical,
    parquet: false,
    compression,
    reshapes: true,
    decoder: (kind, notes) => {
      const lines = new DelimitedCanonicalizer({
        format,
        columns: dataset.columns,
        schemaPolicy: dataset.schemaPolicy ?? 'strict',
        headerNames: headerNamesOf(dataset),
      });
      const mapper = lineMapper((line) => lines.line(line));
      mapper.once('end', () => {
        if (lines.extraColumns.length > 0) notes.extraColumns = lines.extraColumns;
      });
      return [...bytes(kind), mapper];
    },
  };
}
