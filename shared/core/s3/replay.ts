import { CopyObjectCommand, HeadObjectCommand, paginateListObjectsV2, type S3Client } from '@aws-sdk/client-s3';
import { PREFIX, REPLAY_METADATA } from './layout';

/**
 * Replays landed files by copying each object under landing/<prefix> onto itself: a new version
 * with the same bytes, so S3 fires the pipeline again. Identical bytes are recognised and change
 * nothing unless `force` marks the copy with the replay metadata; the raw bytes are never altered.
 */
export async function replayPrefix(s3: S3Client, bucket: string, prefix: string, options: { force?: boolean } = {}): Promise<number> {
  let count = 0;
  for await (const page of paginateListObjectsV2({ client: s3 }, { Bucket: bucket, Prefix: `${PREFIX.landing}${prefix}` })) {
    for (const object of page.Contents ?? []) {
      const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: object.Key! }));
      const metadata = { ...(head.Metadata ?? {}) };
      if (options.force) metadata[REPLAY_METADATA] = new Date().toISOString();
      await s3.send(
        new CopyObjectCommand({
          Bucket: bucket,
          Key: object.Key!,
          CopySource: `${bucket}/${encodeURIComponent(object.Key!).replace(/%2F/g, '/')}`,
          MetadataDirective: 'REPLACE',
          Metadata: metadata,
          ...(head.ContentType ? { ContentType: head.ContentType } : {}),
        }),
      );
      count += 1;
    }
  }
  return count;
}
