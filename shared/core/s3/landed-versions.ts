import { ListObjectVersionsCommand, type S3Client } from '@aws-sdk/client-s3';
import { versionTag } from './event-records';

/** The newest version of one key under a listed prefix. */
export interface LatestVersion {
  key: string;
  versionId: string;
  /** without quotes, as S3 events give it */
  eTag: string;
  size: number;
  lastModified: Date;
}

/** Versions one listing reads at most (10 pages): a prefix that holds more is checked in part. */
export const MAX_LISTED_VERSIONS = 10_000;

/**
 * The newest version of each key under `prefix` (a delete marker's key has none), by
 * ListObjectVersions, page by page up to `maxVersions` versions and delete markers in all.
 * `complete` is false when the prefix holds more: the keys past the limit (in key order) are not
 * looked at.
 */
export async function latestVersionsUnder(
  s3: S3Client,
  bucket: string,
  prefix: string,
  maxVersions = MAX_LISTED_VERSIONS,
): Promise<{ versions: LatestVersion[]; complete: boolean }> {
  const versions: LatestVersion[] = [];
  let seen = 0;
  let markers: { KeyMarker?: string; VersionIdMarker?: string } = {};
  for (;;) {
    const page = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: prefix, MaxKeys: Math.min(1000, maxVersions - seen), ...markers }));
    for (const v of page.Versions ?? []) {
      if (v.IsLatest && v.Key)
        versions.push({
          key: v.Key,
          versionId: versionTag(v.VersionId === 'null' ? undefined : v.VersionId),
          eTag: (v.ETag ?? '').replace(/"/g, ''),
          size: v.Size ?? 0,
          lastModified: v.LastModified ?? new Date(0),
        });
    }
    seen += (page.Versions?.length ?? 0) + (page.DeleteMarkers?.length ?? 0);
    if (!page.IsTruncated) return { versions, complete: true };
    if (seen >= maxVersions) return { versions, complete: false };
    markers = { KeyMarker: page.NextKeyMarker, VersionIdMarker: page.NextVersionIdMarker };
  }
}
