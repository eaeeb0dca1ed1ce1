/**
 * A zip member's name becomes part of an S3 key below its archive (`landing/<archive key>!/<name>`);
 * it is never used as a filesystem path. A name is accepted only when it is plainly a relative path
 * of ordinary segments in characters S3 keys and their event notifications carry unchanged in
 * meaning: anything else (an absolute or Windows path, a `..`, a control character, a look-alike
 * space) is a mistake or an attack, and the whole archive is rejected for it.
 */
import { ARCHIVE_MEMBER_SEPARATOR } from '../../core/s3/layout';

/** The longest member name, in UTF-8 bytes: S3 keys stop at 1024, and the archive's key comes first. */
export const MAX_MEMBER_NAME_BYTES = 512;

/** Separates an archive's key from a member's path in the member's own key. */
export const MEMBER_SEPARATOR = ARCHIVE_MEMBER_SEPARATOR;

/**
 * What a segment may hold: letters and their combining marks and numbers of any script, the space,
 * and `-_.()!'+,=@&`. Not `\` `:` `*` `?` `"` `<` `>` `|` (Windows paths), `%` `#` `{}` `[]` `^` `~`
 * `` ` `` (which S3 asks to avoid), nor unusual spaces or format characters (names that look alike).
 */
const SAFE_SEGMENT = /^[\p{L}\p{M}\p{N} \-_.()!'+,=@&]+$/u;

// C0 and C1 controls and DEL: never part of a file's name.
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding them is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** The member's path as it may appear in an S3 key, or the problem with its name (naming the member). */
export function memberKeyPath(name: string): { path: string } | { problem: string } {
  const problem = entryNameProblem(name, 'member');
  return problem === null ? { path: name } : { problem };
}

/**
 * The problem with an entry's name, naming the entry, or null. A directory (its name without the
 * trailing `/`) is held to the same rules: it is not a member, but a hostile name is still an attack.
 */
export function entryNameProblem(name: string, kind: 'member' | 'directory'): string | null {
  const problem = nameProblem(name);
  return problem === null ? null : `${kind} ${JSON.stringify(name)}: ${problem}`;
}

/** Whether a zip entry is a directory (its name ends in `/`): a directory is not a member. */
export function isDirectoryEntry(name: string): boolean {
  return name.endsWith('/');
}

function nameProblem(name: string): string | null {
  if (name.length === 0) return 'the name is empty';
  if (CONTROL.test(name)) return 'the name holds a NUL or control character';
  if (/^([/\\]|[A-Za-z]:)/.test(name)) return 'an absolute path (a member path must be relative)';
  if (name.includes('\\')) return 'a backslash in the name (zip paths use "/"; "\\" is a Windows path or an attack)';
  if (Buffer.byteLength(name, 'utf8') > MAX_MEMBER_NAME_BYTES) return `the name is longer than ${MAX_MEMBER_NAME_BYTES} bytes`;
  if (name.includes(MEMBER_SEPARATOR)) return `the name holds "${MEMBER_SEPARATOR}", which separates an archive from its members in a key`;
  for (const segment of name.split('/')) {
    if (segment === '..') return 'a ".." segment (a path out of the archive)';
    if (segment === '.') return 'a "." segment';
    if (segment === '') return 'an empty segment ("//" or a trailing "/")';
    if (!SAFE_SEGMENT.test(segment))
      return `a character S3 keys handle badly in ${JSON.stringify(segment)} (allowed: letters, digits, spaces and -_.()!'+,=@&)`;
  }
  return null;
}
