import { LandfallError } from '../errors';

/**
 * A feed (a dataset's files as they land: compressed, in another encoding, another dialect, JSON
 * records of any layout, Parquet) is decoded into the canonical text the validation engine reads:
 * UTF-8 lines, each either CSV (`,` delimiter, RFC 4180 quotes on one line, the declared columns
 * in order, an empty value is null) or one flat JSON object (JSON lines). One canonical line is
 * written per physical line (or per JSON record), so that line numbers in a rejects report are the
 * file's own. Two marks let the decoder say what a line is without the engine knowing the feed:
 */

/** A canonical line starting with this is a junk line (counted, not a row): a comment, a skipped line. */
export const JUNK_MARK = '\u0001';

/**
 * A canonical line `BAD_MARK + reason + BAD_MARK + text` is a bad row with that reason, its text
 * the line as it was read (decoded to UTF-8): bytes invalid in the declared encoding, a value that
 * does not fit its declared format, a malformed JSON record, a fixed-width line too short.
 */
export const BAD_MARK = '\u0002';

/** The canonical line of a bad row, its reason and text sanitized (neither may hold a mark or a line end). */
export function badLine(reason: string, text: string): string {
  const clean = (s: string) => s.replaceAll(JUNK_MARK, ' ').replaceAll(BAD_MARK, ' ').replaceAll('\r', ' ').replaceAll('\n', ' ');
  return `${BAD_MARK}${clean(reason)}${BAD_MARK}${clean(text)}`;
}

/** The reason and text of a canonical bad line, or null when the line is not one. */
export function parseBadLine(line: string): { reason: string; text: string } | null {
  if (!line.startsWith(BAD_MARK)) return null;
  const end = line.indexOf(BAD_MARK, 1);
  if (end < 0) return { reason: 'unreadable row', text: line.slice(1) };
  return { reason: line.slice(1, end), text: line.slice(end + 1) };
}

/**
 * The whole file cannot be read as its dataset says (a truncated or corrupt gzip, a Parquet whose
 * columns do not convert, a required column missing from the header): it is REJECTED whole with
 * this reason, and none of its rows count.
 */
export class FeedRejection extends LandfallError {
  // (string: a kind of rejection, such as an archive's, names itself)
  override readonly name: string = 'FeedRejection';
  readonly code: string = 'FEED_REJECTED';
}

/**
 * The file's columns are not the dataset's in a way no row can mend (a required column gone, a
 * Parquet type that does not convert): rejected whole, and the dataset's schema change is alerted.
 */
export class SchemaMismatch extends FeedRejection {
  override readonly name = 'SchemaMismatch';
  override readonly code = 'SCHEMA_MISMATCH';
}
