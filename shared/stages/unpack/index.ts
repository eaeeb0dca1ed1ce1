export { ARCHIVE_DEFAULTS, ArchiveRejection, RATIO_FLOOR_BYTES, unpackArchive } from './archive';
export type { ArchiveLimits, UnpackedArchive, UnpackedMember } from './archive';
export { isDirectoryEntry, MAX_MEMBER_NAME_BYTES, MEMBER_SEPARATOR, memberKeyPath } from './member-names';
