import { isCalendarDate } from '../../core/datasets/key-pattern';
import type { ColumnSpec } from '../../core/config/types';

export type RowCheck = (values: string[]) => string | null;

const UTC_TIMESTAMP = /^(\d{4}-\d{2}-\d{2})T([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d{1,6})?Z$/;

/** ISO 8601 in UTC with a real calendar date, as the clickstream sends it. */
export function isUtcTimestamp(text: string): boolean {
  const m = UTC_TIMESTAMP.exec(text);
  return m !== null && isCalendarDate(m[1]!);
}

/**
 * Digits a decimal may have before its point: at most 16, and no more than its DECIMAL(18, scale)
 * holds (a value with more would pass validation and then fail every conversion of the file).
 */
export function decimalIntegerDigits(scale: number): number {
  return Math.min(16, 18 - scale);
}

/** The check of one column's value: its problem, or null when good. */
export function valueCheck(column: ColumnSpec, keyFields: Record<string, string>): (value: string) => string | null {
  const name = column.name;
  const show = (v: string) => JSON.stringify(v.length > 60 ? `${v.slice(0, 60)}…` : v);
  const typeCheck = ((): ((v: string) => string | null) => {
    switch (column.kind) {
      case 'string':
        return () => null;
      case 'integer':
        return (v) => (/^-?\d{1,18}$/.test(v) ? null : `${name}: ${show(v)} is not an integer`);
      case 'decimal': {
        const scale = column.scale ?? 0;
        const digits = decimalIntegerDigits(scale);
        const re = new RegExp(scale > 0 ? `^-?\\d{1,${digits}}(\\.\\d{1,${scale}})?$` : `^-?\\d{1,${digits}}$`);
        return (v) => (re.test(v) ? null : `${name}: ${show(v)} is not a decimal with at most ${scale} places`);
      }
      case 'date':
        return (v) => (isCalendarDate(v) ? null : `${name}: ${show(v)} is not a date (YYYY-MM-DD)`);
      case 'timestamp':
        return (v) => (isUtcTimestamp(v) ? null : `${name}: ${show(v)} is not a UTC timestamp (YYYY-MM-DDTHH:MM:SS[.sss]Z)`);
    }
  })();
  const allowed = column.allowed ? new Set(column.allowed.map(String)) : null;
  const expected = column.equalsKeyField ? keyFields[column.equalsKeyField] : undefined;
  // A timestamp matches a date key field by its UTC date (the validated form ends in Z).
  const onKeyDate = column.kind === 'timestamp';
  const check = (value: string): string | null => {
    if (value === '') return column.nullable ? null : `${name}: empty value`;
    if (/[\r\n]/.test(value)) return `${name}: a value with a line break`;
    const typeError = typeCheck(value);
    if (typeError) return typeError;
    // Integers compare by value so that "04" is code 4.
    const canonical = column.kind === 'integer' ? String(Number(value)) : value;
    if (allowed && !allowed.has(canonical)) return `${name}: ${show(value)} is not a known value`;
    if (expected !== undefined) {
      if (onKeyDate && value.slice(0, 10) !== expected) return `${name}: ${show(value)} is not on the file's ${column.equalsKeyField} ${show(expected)} (UTC)`;
      if (!onKeyDate && value !== expected) return `${name}: ${show(value)} does not match the file's ${column.equalsKeyField} ${show(expected)}`;
    }
    return null;
  };
  // Dates, codes and key fields take few distinct values in a file: their verdicts are memoized
  // (bounded), which spares a Date per row. Free-form columns (timestamps too) are checked every time.
  if (column.kind !== 'date' && !allowed && (expected === undefined || onKeyDate)) return check;
  const memo = new Map<string, string | null>();
  return (value) => {
    const known = memo.get(value);
    if (known !== undefined) return known;
    const verdict = check(value);
    if (memo.size < MEMO_LIMIT) memo.set(value, verdict);
    return verdict;
  };
}

const MEMO_LIMIT = 10_000;

/** A check for whole rows: column count first, then each value; returns the first problem found. */
export function compileRowCheck(columns: ColumnSpec[], keyFields: Record<string, string>): RowCheck {
  const checks = columns.map((c) => valueCheck(c, keyFields));
  return (values) => {
    if (values.length !== columns.length) return `expected ${columns.length} columns, found ${values.length}`;
    for (let i = 0; i < checks.length; i += 1) {
      const problem = checks[i]!(values[i]!);
      if (problem) return problem;
    }
    return null;
  };
}
