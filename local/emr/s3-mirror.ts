import { mkdir, readdir, stat } from 'node:fs/promises';
import { dirname, extname, join, relative, resolve, sep } from 'node:path';
import { DeleteObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { downloadToFile, headObject, ObjectGoneError, uploadFile } from '../../shared/core/s3/object-io';

/**
 * A step sees S3 as local files: every s3://bucket/key in its args is rewritten to a path under
 * its mirror directory, downloaded before it runs and uploaded back (new or changed files, and
 * deletions) after it succeeds, so a step that fails leaves S3 as it was.
 */

const S3_URI = /s3a?:\/\/([a-z0-9][a-z0-9.-]{1,62})(?:\/([^\s,;'"]*))?/g;

export interface MirrorRoot {
  bucket: string;
  /** without a trailing slash; '' for the whole bucket */
  key: string;
  local: string;
}

export interface Staged {
  roots: MirrorRoot[];
  /** local path → size and mtime as downloaded */
  downloaded: Map<string, { size: number; mtimeMs: number }>;
}

/** Rewrites every s3:// URI in the args to its place under mirrorDir; returns the roots to stage. */
export function mirrorArgs(args: string[], mirrorDir: string): { localArgs: string[]; roots: MirrorRoot[] } {
  const roots = new Map<string, MirrorRoot>();
  const localArgs = args.map((arg) =>
    arg.replace(S3_URI, (_uri, bucket: string, rawKey: string | undefined) => {
      const key = (rawKey ?? '').replace(/\/+$/, '');
      const bucketDir = join(mirrorDir, bucket);
      const local = key ? join(bucketDir, ...key.split('/')) : bucketDir;
      if (local !== bucketDir && !local.startsWith(bucketDir + sep)) throw new Error(`s3://${bucket}/${rawKey} leaves its bucket`);
      roots.set(`${bucket}/${key}`, { bucket, key, local });
      return (rawKey ?? '').endsWith('/') ? `${local}/` : local;
    }),
  );
  return { localArgs, roots: [...roots.values()] };
}

/** A root inside another one is staged through the outer one. */
function outermost(roots: MirrorRoot[]): MirrorRoot[] {
  const within = (inner: MirrorRoot, outer: MirrorRoot) =>
    inner !== outer && inner.bucket === outer.bucket && (outer.key === '' || inner.key.startsWith(`${outer.key}/`));
  return roots.filter((r) => !roots.some((o) => within(r, o)));
}

async function listKeys(s3: S3Client, bucket: string, prefix: string): Promise<Array<{ key: string; size: number }>> {
  const keys: Array<{ key: string; size: number }> = [];
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ...(token ? { ContinuationToken: token } : {}) }));
    for (const o of page.Contents ?? []) if (o.Key !== undefined) keys.push({ key: o.Key, size: o.Size ?? 0 });
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return keys;
}

/** Runs fn over the items, `limit` at a time. */
async function eachLimited<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** The object itself (a single file, e.g. a script) if it exists, else everything under key/ as a directory. */
export async function stageIn(s3: S3Client, roots: MirrorRoot[]): Promise<Staged> {
  const downloads = new Map<string, { bucket: string; key: string }>();
  for (const root of outermost(roots)) {
    const prefix = root.key ? `${root.key}/` : '';
    const children = await listKeys(s3, root.bucket, prefix);
    if (children.length === 0 && root.key) {
      const exact = await headObject(s3, root.bucket, root.key).then(
        () => true,
        (err: unknown) => {
          if (err instanceof ObjectGoneError) return false;
          throw err;
        },
      );
      if (exact) downloads.set(root.local, { bucket: root.bucket, key: root.key });
      continue; // nothing there yet: an output location
    }
    for (const { key } of children) {
      if (key.endsWith('/')) continue; // a "folder" marker
      const local = resolve(root.local, ...key.slice(prefix.length).split('/'));
      if (!local.startsWith(root.local + sep)) continue; // '..' in a key
      downloads.set(local, { bucket: root.bucket, key });
    }
  }
  const downloaded = new Map<string, { size: number; mtimeMs: number }>();
  await eachLimited([...downloads], 8, async ([local, { bucket, key }]) => {
    await mkdir(dirname(local), { recursive: true });
    await downloadToFile(s3, bucket, key, undefined, local);
    const st = await stat(local);
    downloaded.set(local, { size: st.size, mtimeMs: st.mtimeMs });
  });
  return { roots, downloaded };
}

async function walkFiles(path: string): Promise<string[]> {
  const st = await stat(path).catch(() => undefined);
  if (!st) return [];
  if (st.isFile()) return [path];
  if (!st.isDirectory()) return [];
  const files: string[] = [];
  for (const entry of await readdir(path, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) files.push(join(entry.parentPath, entry.name));
  }
  return files;
}

/** Hadoop's local file system writes a .<file>.crc beside each file; S3 never sees those. */
const isChecksumFile = (path: string) => /(^|\/)\.[^/]*\.crc$/.test(path);

const CONTENT_TYPES: Record<string, string> = {
  '.json': 'application/json',
  '.csv': 'text/csv',
  '.txt': 'text/plain',
  '.py': 'text/x-python',
  '.parquet': 'application/vnd.apache.parquet',
};

/** Uploads what is new or changed (size or mtime) under the roots; deletes what the step removed. */
export async function stageOut(s3: S3Client, staged: Staged): Promise<{ uploaded: string[]; deleted: string[] }> {
  const uploads = new Map<string, { bucket: string; key: string }>();
  for (const root of outermost(staged.roots)) {
    for (const file of await walkFiles(root.local)) {
      const rel = relative(root.local, file);
      if (isChecksumFile(file) || rel.split(sep).includes('_temporary')) continue;
      const key = rel === '' ? root.key : [root.key, ...rel.split(sep)].filter(Boolean).join('/');
      const before = staged.downloaded.get(file);
      const st = await stat(file);
      if (before && before.size === st.size && before.mtimeMs === st.mtimeMs) continue;
      uploads.set(file, { bucket: root.bucket, key });
    }
  }
  const uploaded: string[] = [];
  await eachLimited([...uploads], 8, async ([file, { bucket, key }]) => {
    await uploadFile(s3, bucket, key, file, {}, CONTENT_TYPES[extname(file)] ?? 'application/octet-stream');
    uploaded.push(`s3://${bucket}/${key}`);
  });
  const deleted: string[] = [];
  for (const local of staged.downloaded.keys()) {
    if (await stat(local).catch(() => undefined)) continue;
    const root = outermost(staged.roots).find((r) => local === r.local || local.startsWith(r.local + sep));
    if (!root) continue;
    const rel = relative(root.local, local);
    const key = [root.key, ...(rel ? rel.split(sep) : [])].filter(Boolean).join('/');
    await s3.send(new DeleteObjectCommand({ Bucket: root.bucket, Key: key }));
    deleted.push(`s3://${root.bucket}/${key}`);
  }
  return { uploaded: uploaded.sort(), deleted: deleted.sort() };
}
