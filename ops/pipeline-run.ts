import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { paginateListObjectsV2, type S3Client } from '@aws-sdk/client-s3';
import { PREFIX } from '../shared/core/s3/layout';
import { downloadToFile } from '../shared/core/s3/object-io';
import type { FileStateItem } from '../shared/core/state/file-state-store';
import { progress } from './terminal';
import { landDirectory } from './land';
import type { LocalStack } from '../local/stack';

/** Lands a directory on a running local stack and waits until every handler has finished. */
export async function landAndSettle(stack: LocalStack, inputDir: string): Promise<string[]> {
  const landing = progress('landing');
  const keys = await landDirectory(stack.s3, stack.deployment.names.rawBucket, inputDir, {
    onProgress: (done, total) => landing.update(`${done}/${total} files`),
  });
  landing.done(`${keys.length} files put under s3://${stack.deployment.names.rawBucket}/${PREFIX.landing}`);
  const work = progress('processing');
  const count = () => [...stack.lambdas.invocations.entries()].map(([f, n]) => `${f} ${n}`).join(', ');
  await stack.lambdas.settled(750, 60 * 60_000, () => work.update(`${stack.lambdas.inFlight} in flight; invocations: ${count()}`));
  work.done(`settled; invocations: ${count()}`);
  return keys;
}

/** Downloads every object under `prefix` of `bucket` into `outDir`, keeping the key as the path. */
export async function downloadPrefix(s3: S3Client, bucket: string, prefix: string, outDir: string): Promise<number> {
  let count = 0;
  for await (const page of paginateListObjectsV2({ client: s3 }, { Bucket: bucket, Prefix: prefix })) {
    for (const object of page.Contents ?? []) {
      const path = join(outDir, object.Key!);
      await mkdir(dirname(path), { recursive: true });
      await downloadToFile(s3, bucket, object.Key!, undefined, path);
      count += 1;
    }
  }
  return count;
}

/** Table keys and bookkeeping that say nothing to a reader of the states. */
const STORAGE_ATTRIBUTES = new Set(['pk', 'sk', 'gsi1pk', 'gsi1sk', 'statesSeen']);

/** `OUT/file-states.jsonl`: one line per landed object version, in key order. */
export async function writeFileStates(items: FileStateItem[], outDir: string): Promise<string> {
  await mkdir(outDir, { recursive: true });
  const path = join(outDir, 'file-states.jsonl');
  const lines = items.map((i) => JSON.stringify(Object.fromEntries(Object.entries(i).filter(([k]) => !STORAGE_ATTRIBUTES.has(k)))));
  await writeFile(path, lines.length > 0 ? `${lines.join('\n')}\n` : '');
  return path;
}
