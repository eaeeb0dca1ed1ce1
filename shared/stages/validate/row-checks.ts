import { isCalendarDate } from '../../core/datasets/key-pattern';
import type { ColumnSpec } from '../../core/config/types';
import { DEFAULT_DECIMAL_PRECISION, isNested, type ValueType } from '../../core/duckdb/columns';
import type { ListItem } from '../../core/config/pipeline-input.generated';
import { byteLimit, bytesOver, tooLongReason, truncateUtf8 } from '../../core/feeds/value-limits';

export type RowCheck = (values: string[]) => string | null;

/** A column's type, a struct field's or a list item's, with whether it may be null. */
type Typed = ValueType & Pick<ListItem, 'nullable'>;

const UTC_TIMESTAMP = /^(\d{4}-\d{2}-\d{2})T([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d{1,6})?Z$/;
const TIME_OF_DAY = /^([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d{1,6})?$/;
/** JavaScript's number syntax without its signs, words and radix prefixes: what Number() and DuckDB's DOUBLE both read alike. */
const DOUBLE = /^-?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** ISO 8601 in UTC with a real calendar date, as the clickstream sends it. */
export function isUtcTimestamp(text: string): boolean {
  const m = UTC_TIMESTAMP.exec(text);
  return m !== null && isCalendarDate(m[1]!);
}

/** A time of day, `HH:MM:SS[.ffffff]` (no leap second, no zone). */
export function isTimeOfDay(text: string): boolean {
  return TIME_OF_DAY.test(text);
}

/** A finite double in the canonical syntax (`-1.5`, `.5`, `1e-3`; not `+1`, `Infinity`, `0x10`). */
export function isCanonicalDouble(text: string): boolean {
  return DOUBLE.test(text) && Number.isFinite(Number(text));
}

/**
 * Digits a decimal may have before its point: no more than its DECIMAL(precision, scale) holds (a
 * value with more would pass validation and then fail every conversion of the file), and 16 at
 * most (as ever) unless the column asks for more than 18 digits.
 */
export function decimalIntegerDigits(scale: number, precision = DEFAULT_DECIMAL_PRECISION): number {
  return Math.min(precision - scale, precision > 18 ? precision : 16);
}

const show = (v: string) => JSON.stringify(v.length > 60 ? `${v.slice(0, 60)}…` : v);

/** The check of a scalar value's type (canonical text), its problem naming `label`; null for nested kinds. */
function scalarTypeCheck(type: Typed, label: string): ((v: string) => string | null) | null {
  switch (type.kind) {
    case 'string': {
      // (a struct field or list item has no maxBytes: a string in a SUPER value has the VARCHAR's limit)
      const limit = byteLimit(type as Pick<ColumnSpec, 'kind' | 'maxBytes' | 'onTooLong'>)!;
      // a value that will be truncated is good (compileRowFit cuts it)
      if (limit.onTooLong === 'truncate') return () => null;
      return (v) => {
        const bytes = bytesOver(v, limit.maxBytes);
        return bytes === null ? null : tooLongReason(label, bytes, limit);
      };
    }
    case 'integer':
      return (v) => (/^-?\d{1,18}$/.test(v) ? null : `${label}: ${show(v)} is not an integer`);
    case 'decimal': {
      const scale = type.scale ?? 0;
      const digits = decimalIntegerDigits(scale, type.precision);
      const re = new RegExp(scale > 0 ? `^-?\\d{1,${digits}}(\\.\\d{1,${scale}})?$` : `^-?\\d{1,${digits}}$`);
      const what = type.precision === undefined ? `at most ${scale} places` : `at most ${digits} digits before the point and ${scale} after it`;
      return (v) => (re.test(v) ? null : `${label}: ${show(v)} is not a decimal with ${what}`);
    }
    case 'double':
      return (v) => (isCanonicalDouble(v) ? null : `${label}: ${show(v)} is not a finite number`);
    case 'boolean':
      return (v) => (v === 'true' || v === 'false' ? null : `${label}: ${show(v)} is not true or false`);
    case 'date':
      return (v) => (isCalendarDate(v) ? null : `${label}: ${show(v)} is not a date (YYYY-MM-DD)`);
    case 'timestamp':
      return (v) => (isUtcTimestamp(v) ? null : `${label}: ${show(v)} is not a UTC timestamp (YYYY-MM-DDTHH:MM:SS[.sss]Z)`);
    case 'time':
      return (v) => (isTimeOfDay(v) ? null : `${label}: ${show(v)} is not a time of day (HH:MM:SS[.ffffff])`);
    case 'struct':
    case 'list':
      return null;
  }
}

/** JSON.rawJSON and the reviver's source text (ES2025, Node 21+), not yet in TypeScript's lib. */
const Json = JSON as unknown as {
  rawJSON(text: string): object;
  isRawJSON(value: unknown): value is { rawJSON: string };
  parse(text: string, reviver: (key: string, value: unknown, context: { source?: string }) => unknown): unknown;
};

/** A number parseJsonExact kept as written. */
export function isRawJson(value: unknown): value is { rawJSON: string } {
  return Json.isRawJSON(value);
}

/**
 * JSON.parse that keeps each number as it is written (a raw JSON value holding its text): nested
 * values are checked and converted from their digits, never from a double JavaScript may have rounded.
 */
export function parseJsonExact(text: string): unknown {
  return Json.parse(text, (_key, value, context) => (typeof value === 'number' && context.source !== undefined ? Json.rawJSON(context.source) : value));
}

/**
 * The check of a nested value (parsed by parseJsonExact) against its declared type, recursively:
 * its problem naming the path (`items[2].qty: …`), or null. A struct's extra keys are ignored; a
 * missing or null value is a problem unless its type is nullable. Leaves are JSON strings, numbers
 * or booleans read as canonical text (see leafText).
 */
export function nestedCheck(type: Typed, path: string): (value: unknown) => string | null {
  const scalar = scalarTypeCheck(type, path);
  if (scalar) {
    return (value) => {
      if (value === null || value === undefined) return type.nullable ? null : `${path}: missing or null`;
      const text = leafText(value, type);
      if (typeof text !== 'string') return `${path}: ${text.error}`;
      if (/[\r\n]/.test(text)) return `${path}: a value with a line break`;
      return scalar(text);
    };
  }
  if (type.kind === 'struct') {
    const fields = (type.fields ?? []).map((f) => ({ name: f.name, check: nestedCheck(f, `${path}.${f.name}`) }));
    return (value) => {
      if (value === null || value === undefined) return type.nullable ? null : `${path}: missing or null`;
      if (typeof value !== 'object' || Array.isArray(value) || Json.isRawJSON(value)) return `${path}: ${describeJson(value)} is not an object`;
      for (const f of fields) {
        const problem = f.check(Object.hasOwn(value, f.name) ? (value as Record<string, unknown>)[f.name] : undefined);
        if (problem) return problem;
      }
      return null;
    };
  }
  const items = type.items!;
  const checks: Array<(value: unknown) => string | null> = [];
  const itemCheck = (i: number) => {
    // one check per index seen (their paths differ); lists are short in practice
    while (checks.length <= i) checks.push(nestedCheck(items, `${path}[${checks.length}]`));
    return checks[i]!;
  };
  return (value) => {
    if (value === null || value === undefined) return type.nullable ? null : `${path}: missing or null`;
    if (!Array.isArray(value)) return `${path}: ${describeJson(value)} is not a list`;
    for (let i = 0; i < value.length; i += 1) {
      const problem = i < 1000 ? itemCheck(i)(value[i]) : nestedCheck(items, `${path}[${i}]`)(value[i]);
      if (problem) return problem;
    }
    return null;
  };
}

/**
 * A JSON leaf as canonical text: a string as is; a number as written when it is plain digits (with
 * a fraction: every digit kept, 20-digit integers and 38-digit decimals included), otherwise (an
 * exponent) as JavaScript prints it, when finite; a boolean where one is declared.
 */
function leafText(value: unknown, type: Typed): string | { error: string } {
  if (typeof value === 'string') return value;
  const written = Json.isRawJSON(value) ? value.rawJSON : typeof value === 'number' ? String(value) : undefined;
  if (written !== undefined) {
    if (/^-?\d+(\.\d+)?$/.test(written)) return written;
    const n = Number(written);
    if (Number.isFinite(n)) return String(n);
  }
  if (typeof value === 'boolean' && type.kind === 'boolean') return String(value);
  return { error: `${describeJson(value)} is not a column value` };
}

/**
 * A nested value as the good row holds it, from a value nestedCheck accepts: each leaf its canonical
 * text (a JSON string, which DuckDB casts exactly: no double on the way), a struct only its declared
 * fields (null when missing). A value of the wrong shape is kept as it is (the check reports it).
 */
export function canonicalNested(type: Typed, value: unknown): unknown {
  if (value === null || value === undefined) return null;
  if (type.kind === 'struct') {
    if (typeof value !== 'object' || Array.isArray(value) || Json.isRawJSON(value)) return value;
    const record = value as Record<string, unknown>;
    return Object.fromEntries((type.fields ?? []).map((f) => [f.name, canonicalNested(f, Object.hasOwn(record, f.name) ? record[f.name] : undefined)]));
  }
  if (type.kind === 'list') return Array.isArray(value) ? value.map((item) => canonicalNested(type.items!, item)) : value;
  const text = leafText(value, type);
  return typeof text === 'string' ? text : value;
}

/** How a JSON value (parsed by parseJsonExact) is named in a problem: "a list", "a number", … */
export function describeJson(value: unknown): string {
  if (Json.isRawJSON(value)) return 'a number';
  return Array.isArray(value) ? 'a list' : value === null ? 'null' : typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/** The check of one column's value: its problem, or null when good. A nested column's value is JSON text. */
export function valueCheck(column: ColumnSpec, keyFields: Record<string, string>): (value: string) => string | null {
  const name = column.name;
  const typeCheck =
    scalarTypeCheck(column, name) ??
    ((): ((v: string) => string | null) => {
      const nested = nestedCheck({ ...column, nullable: false }, name);
      return (v) => {
        let parsed: unknown;
        try {
          parsed = parseJsonExact(v);
        } catch {
          return `${name}: ${show(v)} is not JSON`;
        }
        // (null is an empty value, decided before)
        return parsed === null ? `${name}: empty value` : nested(parsed);
      };
    })();
  const allowed = column.allowed && !isNested(column) ? new Set(column.allowed.map(String)) : null;
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
  // Dates, booleans, codes and key fields take few distinct values in a file: their verdicts are
  // memoized (bounded), which spares a Date per row. Free-form columns (timestamps too) are checked every time.
  if (column.kind !== 'date' && column.kind !== 'boolean' && !allowed && (expected === undefined || onKeyDate)) return check;
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

/**
 * Fits a good row's values to their columns' byte limits: each value of an `onTooLong: truncate`
 * column over its `maxBytes` is cut (truncateUtf8), in place. Returns whether any was; null when no
 * column truncates (nothing to do).
 */
export function compileRowFit(columns: ColumnSpec[]): ((values: string[]) => boolean) | null {
  const fits = columns.flatMap((c, i) => {
    const limit = byteLimit(c);
    return limit?.onTooLong === 'truncate' ? [{ i, maxBytes: limit.maxBytes }] : [];
  });
  if (fits.length === 0) return null;
  return (values) => {
    let truncated = false;
    for (const { i, maxBytes } of fits) {
      const value = values[i]!;
      if (bytesOver(value, maxBytes) === null) continue;
      values[i] = truncateUtf8(value, maxBytes);
      truncated = true;
    }
    return truncated;
  };
}

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
