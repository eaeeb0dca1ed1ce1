import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import type { ArchiveConfig } from '../../core/config/types';
import { FeedRejection } from '../../core/feeds/canonical';
import { versionTag, type ObjectRef } from '../../core/s3/event-records';
import type { ArchiveOrigin } from '../../core/state/file-state';
import { PREFIX, REPLAY_METADATA } from '../../core/s3/layout';
import { downloadToFile, uploadFile } from '../../core/s3/object-io';
import { MEMBER_SEPARATOR, memberKeyPath, unpackArchive } from '../unpack';

/** User metadata on a member object: the archive version it came from, and its name in the archive. */
export const ARCHIVE_METADATA = { archive: 'landfall-archive', version: 'landfall-archive-version', member: 'landfall-member' } as const;

/** The landing key of a member of the archive at `relative` (relative to landing/). */
export function memberKey(relative: string, memberPath: string): string {
  return `${PREFIX.landing}${relative}${MEMBER_SEPARATOR}${memberPath}`;
}

/** An archive member's origin, from the metadata it was put with (undefined for a key that is not a member). */
export function archiveOrigin(key: string, metadata: Record<string, string>): ArchiveOrigin | undefined {
  const archive = metadata[ARCHIVE_METADATA.archive];
  const versionId = metadata[ARCHIVE_METADATA.version];
  const member = metadata[ARCHIVE_METADATA.member];
  if (!key.includes(MEMBER_SEPARATOR) || !archive || !versionId || !member) return undefined;
  const decode = (text: string) => {
    try {
      return decodeURIComponent(text);
    } catch {
      return text;
    }
  };
  return { key: decode(archive), versionId, member: decode(member) };
}

export type ArchiveOutcome = { state: 'UNPACKED'; reason: string; members: string[] } | { state: 'REJECTED'; reason: string };

/**
 * An archive landed: it is verified whole (shared/stages/unpack), and only then is each member put
 * as a landed object of its own, `landing/<archive key>!/<member path>`, which fires its own
 * validation, state and lineage (its metadata names the archive version and the member). A
 * corrupt archive, a member path with `..`, a zip bomb: REJECTED whole, no member put. Putting the
 * same members again (a retried invocation) lands identical bytes, which validation takes as
 * duplicates; a forced replay of the archive replays its members.
 */
export async function unpackLandedArchive(
  source: ObjectRef,
  relative: string,
  archive: ArchiveConfig,
  deps: { s3: S3Client; rawBucket: string; tmpDir?: string },
  replay: boolean,
): Promise<ArchiveOutcome> {
  const dir = await mkdtemp(join(deps.tmpDir ?? tmpdir(), 'unpack-'));
  try {
    const zipPath = join(dir, 'archive.zip');
    await downloadToFile(deps.s3, source.bucket, source.key, source.versionId, zipPath, source.size);
    let unpacked: Awaited<ReturnType<typeof unpackArchive>>;
    try {
      unpacked = await unpackArchive(zipPath, join(dir, 'members'), archive);
    } catch (err) {
      if (err instanceof FeedRejection) return { state: 'REJECTED', reason: err.message };
      throw err;
    }
    const keys: string[] = [];
    for (const member of unpacked.members) {
      const named = memberKeyPath(member.name);
      // (unpackArchive rejected the archive already for a name that is not a safe path)
      if ('problem' in named) return { state: 'REJECTED', reason: named.problem };
      const key = memberKey(relative, named.path);
      const metadata: Record<string, string> = {
        [ARCHIVE_METADATA.archive]: encodeURIComponent(source.key),
        [ARCHIVE_METADATA.version]: versionTag(source.versionId),
        [ARCHIVE_METADATA.member]: encodeURIComponent(member.name),
        ...(replay ? { [REPLAY_METADATA]: 'archive' } : {}),
      };
      await uploadFile(deps.s3, deps.rawBucket, key, member.path, metadata, 'application/octet-stream');
      keys.push(key);
    }
    const names = unpacked.members.map((m) => m.name);
    const listed = names.length > 10 ? `${names.slice(0, 10).join(', ')}, … (${names.length - 10} more)` : names.join(', ');
    return { state: 'UNPACKED', reason: `unpacked ${names.length} member${names.length === 1 ? '' : 's'}: ${listed}`, members: keys };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
