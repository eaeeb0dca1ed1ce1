import type { ColumnSpec } from '../../core/config/types';
import { decimalIntegerDigits, valueCheck } from './row-checks';

/**
 * The column rules of row-checks.ts as regular expressions (RE2, as DuckDB runs them), shared by the
 * delimited lines' pattern (line-rules-sql.ts) and the canonical JSON line's (json-fast-path.ts).
 */

/** A string literal: identifiers and values come from configuration and object keys, never spliced raw. */
export function sqlString(value: string): string {
  if (value.includes('\u0000')) throw new Error('a NUL character cannot be a SQL literal');
  return `'${value.replaceAll("'", "''")}'`;
}

/** A regular-expression literal (RE2) for `text`. */
export function regexLiteral(text: string): string {
  return text.replace(/[\\^$.|?*+()[\]{}-]/g, (c) => `\\${c}`);
}

/** YYYY-MM-DD that is a real date (isCalendarDate): 29 February only in leap years, year 0 included. */
export const CALENDAR_DATE =
  '(?:[0-9]{4}-(?:(?:0[13578]|1[02])-(?:0[1-9]|[12][0-9]|3[01])|(?:0[469]|11)-(?:0[1-9]|[12][0-9]|30)|02-(?:0[1-9]|1[0-9]|2[0-8]))' +
  '|(?:[0-9]{2}(?:0[48]|[2468][048]|[13579][26])|(?:[02468][048]|[13579][26])00)-02-29)';
export const TIME_OF_DAY = '(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\\.[0-9]{1,6})?';
export const TIME_OF_DAY_Z = `T${TIME_OF_DAY}Z`;
/**
 * Doubles the JavaScript accepts (its syntax, finite), as far as a pattern can tell finiteness: up
 * to 100 digits before the point with no exponent, a negative one (it underflows to 0 at worst) or
 * one of two digits (< 1e199); one digit before the point with an exponent up to 307 (< 1e308).
 * Others are finite or not by their digits: the JavaScript decides.
 */
const DOUBLE =
  '-?(?:(?:[0-9]{1,100}(?:\\.[0-9]*)?|\\.[0-9]+)(?:[eE](?:-[0-9]+|\\+?[0-9]{1,2}))?' + '|(?:[0-9](?:\\.[0-9]*)?|\\.[0-9]+)[eE]\\+?(?:[0-2][0-9]{2}|30[0-7]))';
/** matches nothing: a column no value can pass */
export const NOTHING = '[^\\x{0}-\\x{10FFFF}]';

/**
 * The non-empty values a column accepts, as a regular expression over one unquoted field (no
 * delimiter, no quote, no line break), exactly as row-checks.ts decides; null when it cannot be
 * said so (the general SQL decides then). Finite sets (allowed values, the key field's value) are
 * checked by the JavaScript itself here, once, and listed.
 */
export function valuePattern(column: ColumnSpec, keyFields: Record<string, string>, plain: string): string | null {
  const check = valueCheck(column, keyFields);
  const fits = (v: string) => v !== '' && new RegExp(`^${plain}+$`, 'u').test(v) && check(v) === null;
  if (column.equalsKeyField) {
    const expected = keyFields[column.equalsKeyField];
    if (expected === undefined) return NOTHING;
    if (column.kind === 'timestamp' && column.allowed) return null;
    if (column.kind === 'timestamp') return fits(`${expected}T00:00:00Z`) ? `${regexLiteral(expected)}${TIME_OF_DAY_Z}` : NOTHING;
    return fits(expected) ? regexLiteral(expected) : NOTHING;
  }
  if (column.allowed) {
    if (column.kind !== 'integer') {
      const listed = [...new Set(column.allowed.map(String))].filter(fits);
      return listed.length > 0 ? `(?:${listed.map(regexLiteral).join('|')})` : NOTHING;
    }
    // String(Number(v)) must be listed: each listed integer with the leading zeros 18 digits allow.
    const forms: string[] = [];
    for (const value of new Set(column.allowed.map(String))) {
      const n = Number(value);
      if (String(n) !== value || !Number.isInteger(n)) continue; // never equal to String(Number(v))
      if (!Number.isSafeInteger(n)) return null;
      const digits = String(Math.abs(n));
      if (n === 0) forms.push('-?0{1,18}');
      else if (digits.length <= 18) forms.push(`${n < 0 ? '-' : ''}0{0,${18 - digits.length}}${digits}`);
    }
    return forms.length > 0 ? `(?:${forms.join('|')})` : NOTHING;
  }
  return kindPattern(column) ?? `${plain}+`;
}

/** The values a column's kind accepts (row-checks.ts), as a regular expression; null for any text (a string). */
export function kindPattern(column: ColumnSpec): string | null {
  switch (column.kind) {
    case 'string':
      return null;
    case 'integer':
      return '-?[0-9]{1,18}';
    case 'decimal': {
      const scale = column.scale ?? 0;
      const digits = decimalIntegerDigits(scale, column.precision);
      return scale > 0 ? `-?[0-9]{1,${digits}}(?:\\.[0-9]{1,${scale}})?` : `-?[0-9]{1,${digits}}`;
    }
    case 'double':
      return DOUBLE;
    case 'boolean':
      return '(?:true|false)';
    case 'date':
      return CALENDAR_DATE;
    case 'timestamp':
      return `${CALENDAR_DATE}${TIME_OF_DAY_Z}`;
    case 'time':
      return TIME_OF_DAY;
    case 'struct':
    case 'list':
      // JSON: the JavaScript checks it
      return NOTHING;
  }
}
