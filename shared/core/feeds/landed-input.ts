import { createReadStream, createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { PassThrough, type Readable, type Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { S3Client } from '@aws-sdk/client-s3';
import type { DatasetConfig } from '../config/types';
import { openDuckDb } from '../duckdb/duckdb';
import { canStreamInput, withStreamedInput, withStreamedObject, type HeadCopy } from '../duckdb/streamed-input';
import { downloadToFile, firstBytes, readObject } from '../s3/object-io';
import { compressionOf } from './compression';
import { keepsExtraColumns, keptColumnsOf, peekHeader, withKeptColumns, type KeptColumn } from './extra-columns';
import { byteDecoder, decodes, feedOf, type Compression, type FeedNotes } from './feed';
import { parquetToCanonical } from './parquet-input';

export interface LandedObject {
  bucket: string;
  key: string;
  versionId?: string;
  size: number;
}

/**
 * A landed object version as the validation engine reads it: its canonical text (feed.ts), either
 * streamed through a pipe as it downloads and decodes (a large object) or as a whole local file.
 */
export interface LandedInput {
  /** the dataset as the engine reads this text (the configured one when the bytes need no decoding) */
  dataset: DatasetConfig;
  /** the landed object's size in bytes (its decoded text may be larger) */
  size: number;
  /** whether `stream` reads the object as it downloads (else it reads the whole local file) */
  streamed: boolean;
  /** runs `during` over the text: a pipe it streams through, or the whole local file */
  stream<T>(during: (path: string) => Promise<T>, options?: { head?: HeadCopy }): Promise<T>;
  /** the text as a whole local file (downloaded, and decoded, on first use) */
  whole(): Promise<string>;
  /** what decoding noticed, once a pass over the text has ended */
  notes: FeedNotes;
}

/** Bytes a compression is told from. */
const MAGIC_BYTES = 4;

/**
 * The landed object's text for `dataset`, read in `dir`. Compression set to `auto` is told from the
 * object's first bytes (one small ranged GET); a decoding error (a truncated gzip, a Parquet whose
 * columns do not convert) is a FeedRejection from `stream` or `whole`, which rejects the file.
 */
export async function landedInput(
  s3: S3Client,
  object: LandedObject,
  dataset: DatasetConfig,
  options: {
    dir: string;
    functionMemoryMb: number;
    signal?: AbortSignal;
    /** the extra columns validate kept (its verdict's): not read from the header again */
    keptColumns?: KeptColumn[];
  },
): Promise<LandedInput> {
  const configured = feedOf(dataset);
  const { dir, signal } = options;
  const notes: FeedNotes = {};
  const rawPath = join(dir, 'landed');
  const download = (path: string) => downloadToFile(s3, object.bucket, object.key, object.versionId, path, object.size, signal);
  const once = <T>(make: () => Promise<T>) => {
    let value: Promise<T> | undefined;
    return () => (value ??= make());
  };

  if (configured.parquet) {
    const feed = configured;
    const whole = once(async () => {
      await download(rawPath);
      const canonicalPath = join(dir, 'canonical.jsonl');
      const duckdb = await openDuckDb({ workDir: join(dir, 'parquet-duckdb'), functionMemoryMb: options.functionMemoryMb, preserveOrder: true });
      try {
        await parquetToCanonical(duckdb.conn, rawPath, canonicalPath, dataset);
      } finally {
        duckdb.close();
      }
      return canonicalPath;
    });
    return { dataset: feed.canonical, size: object.size, streamed: false, stream: async (during) => during(await whole()), whole, notes };
  }

  const compression: Compression =
    configured.compression !== 'auto'
      ? configured.compression
      : object.size === 0
        ? 'none'
        : compressionOf(await firstBytes(s3, object.bucket, object.key, object.versionId, MAGIC_BYTES, signal), 'auto');
  // schemaPolicy additive: the columns the header adds are kept, the file read as the widened dataset
  let kept = options.keptColumns;
  if (kept === undefined && keepsExtraColumns(dataset) && object.size > 0) {
    const { chunks } = await readObject(s3, object.bucket, object.key, object.versionId, signal);
    const header = await peekHeader(chunks as Readable, byteDecoder(dataset, compression), dataset);
    kept = header ? keptColumnsOf(dataset.columns, header).kept : [];
  }
  if (kept && kept.length > 0) notes.keptColumns = kept;
  const feed = feedOf(withKeptColumns(dataset, kept ?? []));
  const needsDecoding = decodes(feed, compression);
  const streamed = canStreamInput(object.size);
  if (!needsDecoding) {
    // the bytes are the engine's text: read straight from S3 (streamed by RawGet above the threshold)
    const whole = once(async () => {
      await download(rawPath);
      return rawPath;
    });
    return {
      dataset: dataset,
      size: object.size,
      streamed,
      stream: async (during, streamOptions = {}) =>
        streamed
          ? withStreamedObject(s3, object, join(dir, 'landed.pipe'), during, { ...streamOptions, ...(signal ? { signal } : {}) })
          : during(await whole()),
      whole,
      notes,
    };
  }
  // a new set of transforms per pass (they hold state); what they notice is kept in `notes`
  const steps = (): Transform[] => feed.decoder(compression, notes)!;
  const whole = once(async () => {
    await download(rawPath);
    const canonicalPath = join(dir, 'canonical');
    await pipeline([createReadStream(rawPath, { highWaterMark: 1 << 20 }), ...steps(), createWriteStream(canonicalPath)]);
    return canonicalPath;
  });
  return {
    dataset: feed.canonical,
    size: object.size,
    streamed,
    stream: async (during, streamOptions = {}) => {
      if (!streamed) return during(await whole());
      const { chunks } = await readObject(s3, object.bucket, object.key, object.versionId, signal);
      return withStreamedInput(join(dir, 'landed.pipe'), decoded(chunks as Readable, steps()), during, streamOptions);
    },
    whole,
    notes,
  };
}

/** `source` through `steps`, as one readable; an error of any step is the readable's. */
function decoded(source: Readable, steps: Transform[]): Readable {
  const out = new PassThrough({ highWaterMark: 1 << 20 });
  pipeline([source, ...steps, out]).catch((err: unknown) => out.destroy(err as Error));
  return out;
}
