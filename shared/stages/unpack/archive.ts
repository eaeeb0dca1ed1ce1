import { createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { type Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { crc32 } from 'node:zlib';
import { type Entry, getFileNameLowLevel, open, type ZipFile } from 'yauzl';
import { FeedRejection } from '../../core/feeds/canonical';
import { entryNameProblem, isDirectoryEntry, memberKeyPath } from './member-names';

/**
 * Unpacks a zip archive that landed, verified whole before any member is handed over: the rows of
 * a corrupt or hostile archive must never count in part, so either every member is returned, each
 * checked, or the archive is rejected (ArchiveRejection) and nothing it held is left on disk.
 *
 * Verified from the central directory, before a byte is unpacked: it is a readable zip; every name
 * is a safe relative path (member-names.ts) and none appears twice; no member is encrypted or
 * compressed other than stored or deflate; there are files, and no more than `maxMembers`; their
 * declared sizes stay within `maxUnpackedBytes` in all and `maxRatio` each (a zip bomb declares
 * what it will grow to); no two members share bytes of the archive (an overlapping bomb).
 * Verified while each member streams to its own file (one at a time, memory bounded): declared
 * sizes can lie, so the actual bytes are counted against the same limits and the declared size, and
 * the stream is aborted as soon as one is passed (a bomb is never written out); the CRC-32 of the
 * unpacked bytes must be the one declared (yauzl checks no CRC).
 * Members are written as `<outDir>/<index>`, never under their own names, which are only ever
 * parts of S3 keys.
 */

export interface ArchiveLimits {
  /** most members (files) the archive may hold */
  maxMembers: number;
  /** most bytes its members may hold in all, unpacked */
  maxUnpackedBytes: number;
  /** most a member may grow when unpacked (unpacked bytes / packed bytes) */
  maxRatio: number;
}

/** The schema's defaults for an archive (pipeline.schema.json, `archive`). */
/** Members unpacking to no more than this are never judged by their ratio (`maxUnpackedBytes` still holds). */
export const RATIO_FLOOR_BYTES = 16 * 1024 * 1024;

export const ARCHIVE_DEFAULTS: ArchiveLimits = { maxMembers: 1000, maxUnpackedBytes: 4 * 1024 ** 3, maxRatio: 200 };

export interface UnpackedMember {
  /** the member's path in the archive, safe as part of an S3 key */
  name: string;
  /** the local file it was unpacked to, in outDir, named by its index */
  path: string;
  /** bytes unpacked */
  size: number;
  /** bytes in the archive */
  packedSize: number;
  /** CRC-32 of the unpacked bytes (verified) */
  crc32: number;
}

export interface UnpackedArchive {
  members: UnpackedMember[];
}

/** The archive cannot be used as it is: it is rejected whole, and none of its members' rows count. */
export class ArchiveRejection extends FeedRejection {
  override readonly name = 'ArchiveRejection';
  override readonly code = 'ARCHIVE_REJECTED';
}

/** What is kept of a member's central-directory entry until it is unpacked (not its extra fields). */
interface MemberEntry {
  name: string;
  method: number;
  crc32: number;
  packedSize: number;
  declaredSize: number;
  fileDataStart: number;
  /** the archive's bytes this member occupies, its local header to the end of its data */
  span: { start: number; end: number };
}

const STORED = 0;
const DEFLATE = 8;
const METHOD_NAMES: Record<number, string> = { 9: 'deflate64', 12: 'bzip2', 14: 'LZMA', 93: 'zstd', 95: 'xz', 98: 'PPMd', 99: 'AES encryption' };

/** Verifies the archive at zipPath whole and unpacks its members into outDir (see the header). */
export async function unpackArchive(zipPath: string, outDir: string, limits: ArchiveLimits): Promise<UnpackedArchive> {
  const zip = await openZip(zipPath);
  const written: string[] = [];
  try {
    const entries = await verifiedEntries(zip, limits);
    await mkdir(outDir, { recursive: true });
    const members: UnpackedMember[] = [];
    let unpacked = 0;
    for (const [index, entry] of entries.entries()) {
      const path = join(outDir, String(index));
      written.push(path);
      const { size, crc } = await unpackMember(zip, entry, path, limits, unpacked);
      unpacked += size;
      members.push({ name: entry.name, path, size, packedSize: entry.packedSize, crc32: crc });
    }
    return { members };
  } catch (err) {
    await Promise.all(written.map((path) => rm(path, { force: true })));
    throw err;
  } finally {
    zip.close();
  }
}

function openZip(zipPath: string): Promise<ZipFile> {
  const options = { lazyEntries: true, autoClose: false, decodeStrings: false, validateEntrySizes: true, strictFileNames: true };
  return new Promise((resolve, reject) =>
    open(zipPath, options, (err, zip) => {
      if (!err) return resolve(zip);
      // a file we cannot read is our failure; bytes that are not a zip are the archive's
      if (isSystemError(err)) return reject(err);
      reject(new ArchiveRejection(`not a readable zip archive (not a zip, or truncated): ${err.message}`));
    }),
  );
}

function isSystemError(err: Error): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return typeof code === 'string' && /^E[A-Z]+$/.test(code);
}

/** Every member's entry, once the whole central directory has passed (see the header). */
async function verifiedEntries(zip: ZipFile, limits: ArchiveLimits): Promise<MemberEntry[]> {
  const next = entryReader(zip);
  const members: MemberEntry[] = [];
  const seen = new Set<string>();
  let directories = 0;
  let declared = 0;
  for (let entry = await next(); entry !== null; entry = await next()) {
    const name = getFileNameLowLevel(entry.generalPurposeBitFlag, entry.fileNameRaw, entry.extraFields, true);
    if (isDirectoryEntry(name)) {
      checkDirectory(name, entry, ++directories, limits);
      continue;
    }
    const member = memberKeyPath(name);
    if ('problem' in member) throw new ArchiveRejection(member.problem);
    const label = JSON.stringify(name);
    if (entry.isEncrypted()) throw new ArchiveRejection(`member ${label} is encrypted`);
    if (entry.compressionMethod !== STORED && entry.compressionMethod !== DEFLATE) {
      const method = METHOD_NAMES[entry.compressionMethod] ?? `method ${entry.compressionMethod}`;
      throw new ArchiveRejection(`member ${label} uses an unsupported compression (${method}): only stored and deflate are supported`);
    }
    // NFC: two spellings of the same letters would be two keys that look the same
    const key = name.normalize('NFC');
    if (seen.has(key)) throw new ArchiveRejection(`member ${label}: a duplicate name (it appears twice in the archive)`);
    seen.add(key);
    if (members.length + 1 > limits.maxMembers) throw new ArchiveRejection(`the archive holds more than ${limits.maxMembers} members, the most allowed`);
    const ratioProblem = ratioExceeded(name, entry.uncompressedSize, entry.compressedSize, limits.maxRatio, 'declares');
    if (ratioProblem) throw new ArchiveRejection(ratioProblem);
    declared += entry.uncompressedSize;
    if (declared > limits.maxUnpackedBytes) {
      throw new ArchiveRejection(`the archive's members declare more than ${limits.maxUnpackedBytes} bytes unpacked in all, the most allowed`);
    }
    const { fileDataStart } = await localHeader(zip, entry, label);
    members.push({
      name,
      method: entry.compressionMethod,
      crc32: entry.crc32,
      packedSize: entry.compressedSize,
      declaredSize: entry.uncompressedSize,
      fileDataStart,
      span: { start: entry.relativeOffsetOfLocalHeader, end: fileDataStart + entry.compressedSize },
    });
  }
  if (members.length === 0) throw new ArchiveRejection('no files in the archive');
  checkNoOverlap(members);
  return members;
}

/** A directory entry is not a member, but a hostile name or hidden data in one is still an attack. */
function checkDirectory(name: string, entry: Entry, count: number, limits: ArchiveLimits): void {
  const problem = entryNameProblem(name.slice(0, -1), 'directory');
  if (problem) throw new ArchiveRejection(problem);
  if (entry.uncompressedSize > 0 || entry.compressedSize > 0) throw new ArchiveRejection(`directory ${JSON.stringify(name)} holds data`);
  if (count > limits.maxMembers) throw new ArchiveRejection(`the archive holds more than ${limits.maxMembers} directory entries`);
}

function ratioExceeded(name: string, unpacked: number, packed: number, maxRatio: number, verb: 'declares' | 'unpacks to'): string | null {
  // a small member may compress far (a file of repeated rows): the ratio tells a bomb only past a size
  if (unpacked <= RATIO_FLOOR_BYTES || unpacked <= maxRatio * packed) return null;
  const ratio = packed === 0 ? 'from nothing' : `${Math.floor(unpacked / packed)} times its ${packed} packed bytes`;
  return `member ${JSON.stringify(name)} ${verb} ${verb === 'declares' ? '' : 'more than '}${unpacked} bytes unpacked, ${ratio}: more than the ratio of ${maxRatio} allowed (a zip bomb)`;
}

/** Two members whose bytes overlap in the archive unpack the same data twice: a bomb, never a real archive. */
function checkNoOverlap(members: MemberEntry[]): void {
  const bySpan = [...members].sort((a, b) => a.span.start - b.span.start);
  for (let i = 1; i < bySpan.length; i++) {
    const [before, after] = [bySpan[i - 1], bySpan[i]] as [MemberEntry, MemberEntry];
    if (before.span.end > after.span.start) {
      throw new ArchiveRejection(`members ${JSON.stringify(before.name)} and ${JSON.stringify(after.name)} overlap in the archive (an overlapping zip bomb)`);
    }
  }
}

/** Reads the central directory one entry at a time (lazyEntries): null at its end. */
function entryReader(zip: ZipFile): () => Promise<Entry | null> {
  let waiting: { resolve: (entry: Entry | null) => void; reject: (err: Error) => void } | null = null;
  let failure: Error | null = null;
  const settle = (f: (w: NonNullable<typeof waiting>) => void) => {
    const w = waiting;
    waiting = null;
    if (w) f(w);
  };
  zip.on('entry', (entry: Entry) => settle((w) => w.resolve(entry)));
  zip.on('end', () => settle((w) => w.resolve(null)));
  zip.on('error', (err: Error) => {
    failure = new ArchiveRejection(`the archive's central directory cannot be read: ${err.message}`);
    settle((w) => w.reject(failure as Error));
  });
  return () =>
    new Promise((resolve, reject) => {
      if (failure) return reject(failure);
      waiting = { resolve, reject };
      zip.readEntry();
    });
}

function localHeader(zip: ZipFile, entry: Entry, label: string): Promise<{ fileDataStart: number }> {
  return new Promise((resolve, reject) =>
    zip.readLocalFileHeader(entry, { minimal: true }, (err, header) =>
      err ? reject(new ArchiveRejection(`member ${label}: its local header is corrupt: ${err.message}`)) : resolve(header),
    ),
  );
}

/** Streams one member to its file, checking its bytes as they come; its size and CRC-32 once whole. */
async function unpackMember(
  zip: ZipFile,
  entry: MemberEntry,
  path: string,
  limits: ArchiveLimits,
  unpackedBefore: number,
): Promise<{ size: number; crc: number }> {
  const label = JSON.stringify(entry.name);
  const source = await dataStream(zip, entry, label);
  const failed: { source?: Error } = {};
  source.once('error', (err: Error) => {
    failed.source = err;
  });
  const meter = new MemberMeter(entry, limits, unpackedBefore);
  try {
    await pipeline(source, meter, createWriteStream(path));
  } catch (err) {
    if (err !== failed.source || err instanceof ArchiveRejection) throw err;
    throw new ArchiveRejection(sourceProblem(label, err as Error, entry.declaredSize));
  }
  return { size: meter.bytes, crc: meter.crc };
}

function dataStream(zip: ZipFile, entry: MemberEntry, label: string): Promise<Readable> {
  return new Promise((resolve, reject) =>
    zip.openReadStreamLowLevel(entry.fileDataStart, entry.packedSize, 0, entry.packedSize, entry.method === DEFLATE, entry.declaredSize, (err, stream) =>
      err ? reject(new ArchiveRejection(`member ${label} cannot be read: ${err.message}`)) : resolve(stream),
    ),
  );
}

/** The reason for an error of a member's data stream: yauzl's byte count (validateEntrySizes) said in our words. */
function sourceProblem(label: string, err: Error, declaredSize: number): string {
  if (/^too many bytes/.test(err.message)) return `member ${label} unpacks to more than the ${declaredSize} bytes it declares (a zip bomb?)`;
  if (/^not enough bytes/.test(err.message)) return `member ${label} unpacks to fewer than the ${declaredSize} bytes it declares`;
  return `member ${label} cannot be unpacked (corrupt data): ${err.message}`;
}

/** Counts and checksums a member's unpacked bytes, failing as soon as one passes a limit. */
class MemberMeter extends Transform {
  bytes = 0;
  crc = 0;

  constructor(
    private readonly entry: MemberEntry,
    private readonly limits: ArchiveLimits,
    private readonly unpackedBefore: number,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.bytes += chunk.length;
    this.crc = crc32(chunk, this.crc);
    const problem = this.limitPassed();
    done(problem ? new ArchiveRejection(problem) : null, problem ? undefined : chunk);
  }

  override _flush(done: TransformCallback): void {
    const problem = this.wholeProblem();
    done(problem ? new ArchiveRejection(problem) : null);
  }

  private wholeProblem(): string | null {
    const label = JSON.stringify(this.entry.name);
    if (this.bytes !== this.entry.declaredSize) return `member ${label} unpacks to ${this.bytes} bytes, not the ${this.entry.declaredSize} it declares`;
    if (this.crc !== this.entry.crc32) {
      return `member ${label} fails its CRC-32 check (corrupt data): ${hex(this.crc)}, not the declared ${hex(this.entry.crc32)}`;
    }
    return null;
  }

  private limitPassed(): string | null {
    const { name, declaredSize, packedSize } = this.entry;
    if (this.bytes > declaredSize) return `member ${JSON.stringify(name)} unpacks to more than the ${declaredSize} bytes it declares`;
    const ratio = ratioExceeded(name, this.bytes, packedSize, this.limits.maxRatio, 'unpacks to');
    if (ratio) return ratio;
    if (this.unpackedBefore + this.bytes > this.limits.maxUnpackedBytes) {
      return `the archive's members unpack to more than ${this.limits.maxUnpackedBytes} bytes in all, the most allowed`;
    }
    return null;
  }
}

const hex = (n: number) => `0x${n.toString(16).padStart(8, '0')}`;
