/**
 * How long a line of a landed file may be, in UTF-8 bytes, its line end excluded. validate rejects a
 * longer line as a bad row (without holding it in memory), and convert's CSV reader is sized from the
 * same number, so every row validate accepts is a row convert can read.
 */
export const MAX_LINE_BYTES = 1 << 20;

/** String(n) of any finite JS number has at most 25 characters (-0.0000012345678901234567). */
const MAX_JSON_NUMBER_CHARS = 25;

/**
 * The longest line of the validated CSV that a landed line of MAX_LINE_BYTES can become, for a dataset
 * of `columns` columns. validate re-emits each row as RFC 4180 CSV: a value at most doubles (every `"`
 * becomes `""`) and gains two quotes, and a JSON number may print longer than it was written
 * (`1e20` → 21 digits), so the bound is twice the landed line plus a fixed amount per column.
 */
export function maxValidatedLineBytes(columns: number): number {
  return 2 * MAX_LINE_BYTES + columns * (2 + MAX_JSON_NUMBER_CHARS) + 2;
}
