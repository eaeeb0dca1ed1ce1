import type { ColumnSpec } from '../config/types';

/**
 * One length rule for every stage. A warehouse VARCHAR holds at most 65,535 bytes (Redshift's
 * limit, in UTF-8 bytes, not characters), and so does a string inside a SUPER value. Any string
 * column may reach a warehouse table through a job's SQL, so every string value is held to that
 * limit (or to the column's lower `maxBytes`) where it enters: validation rejects a longer value as
 * a bad row, or, for a column declaring `onTooLong: truncate`, keeps the row with the value cut at a
 * character boundary. A value the earlier stages accepted never fails a load later.
 */
export const WAREHOUSE_VARCHAR_BYTES = 65_535;

/** How a string column's values are held to their byte limit. */
export interface ByteLimit {
  maxBytes: number;
  onTooLong: 'reject' | 'truncate';
  /** whether the column declared `maxBytes` (the reason names the column's limit, not the warehouse's) */
  declared: boolean;
}

/** A string column's byte limit; null for other kinds (their canonical values are short by their syntax). */
export function byteLimit(column: Pick<ColumnSpec, 'kind' | 'maxBytes' | 'onTooLong'>): ByteLimit | null {
  if (column.kind !== 'string') return null;
  return { maxBytes: column.maxBytes ?? WAREHOUSE_VARCHAR_BYTES, onTooLong: column.onTooLong ?? 'reject', declared: column.maxBytes !== undefined };
}

/**
 * The UTF-8 length of `text` when it is over `limit`, else null; a short value is not measured (a
 * UTF-16 unit is at most 3 bytes, a surrogate pair 4 for 2 units).
 */
export function bytesOver(text: string, limit: number): number | null {
  if (text.length * 3 <= limit) return null;
  const bytes = Buffer.byteLength(text);
  return bytes > limit ? bytes : null;
}

/** The reason a value of `bytes` bytes is too long for `column`'s limit. */
export function tooLongReason(column: string, bytes: number, limit: ByteLimit): string {
  return limit.declared
    ? `${column}: ${bytes} bytes, more than the column's maxBytes of ${limit.maxBytes}`
    : `${column}: ${bytes} bytes, more than the ${limit.maxBytes} a warehouse VARCHAR holds`;
}

/**
 * `text` cut to at most `maxBytes` UTF-8 bytes at a character (code point) boundary: the longest
 * prefix that fits, never half a character. (A combining mark may be parted from its letter.)
 */
export function truncateUtf8(text: string, maxBytes: number): string {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= maxBytes) return text;
  let cut = maxBytes;
  // a continuation byte (10xxxxxx) at the cut means the cut is inside a character: back off to its start
  while (cut > 0 && (bytes[cut]! & 0xc0) === 0x80) cut -= 1;
  return bytes.subarray(0, cut).toString('utf8');
}
