import { readdir, readFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { PREFIX } from '../shared/core/s3/layout';

/** Every file under `dir`, as keys relative to it (with `/` separators), sorted. */
export async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)).split(sep).join('/'))
    .sort();
}

/**
 * Lands files the way a store system would: one PutObject each under landing/<relative path>,
 * a few at a time. `order` lets tests land the same files in another order.
 */
export async function landDirectory(
  s3: S3Client,
  bucket: string,
  dir: string,
  options: { concurrency?: number; order?: (keys: string[]) => string[]; onProgress?: (done: number, total: number) => void } = {},
): Promise<string[]> {
  const keys = (options.order ?? ((k) => k))(await listFiles(dir));
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < keys.length) {
      const key = keys[next++]!;
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: `${PREFIX.landing}${key}`, Body: await readFile(join(dir, key)) }));
      done += 1;
      options.onProgress?.(done, keys.length);
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.concurrency ?? 8, keys.length) }, worker));
  return keys;
}
