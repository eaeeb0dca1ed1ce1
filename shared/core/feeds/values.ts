import type { ColumnSpec } from '../config/types';
import { ConfigError } from '../errors';

/**
 * Values as a feed writes them (a decimal comma, `DD.MM.YYYY`, epoch milliseconds, an offset,
 * `Y`/`N`) turned into the canonical text the validation engine checks: `1234.56`, `2026-03-31`,
 * `2026-03-31T12:00:00.123Z` (UTC), `true`. Each column's conversion is compiled once; a value
 * that does not fit is a problem naming the column, the row's reason.
 */

export type Converted = { value: string } | { problem: string };
export type ValueConverter = (raw: string) => Converted;

export interface ValueOptions {
  /** decimals and doubles are written with a decimal comma (`1234,56`) */
  decimalComma?: boolean;
}

/** The column a converter reads: a dataset's column, or a struct field or list item (the same fields). */
type ValueColumn = Pick<ColumnSpec, 'name' | 'kind' | 'format'>;

/**
 * The conversion of one column's raw text to canonical text, or null when the raw text is already
 * canonical (the engine checks it as it is). An empty value stays empty (null). Throws a
 * ConfigError for a `format` its kind cannot use (see `valueFormatProblem`).
 */
export function valueConverter(column: ValueColumn, options: ValueOptions = {}): ValueConverter | null {
  const formatProblem = valueFormatProblem(column.kind, column.format);
  if (formatProblem) throw new ConfigError(`columns.${column.name}.format`, formatProblem);
  const convert = compile(column, options);
  if (!convert) return null;
  return (raw) => (raw === '' ? EMPTY : convert(raw));
}

const EMPTY: Converted = { value: '' };

function compile(column: ValueColumn, options: ValueOptions): ValueConverter | null {
  const { name, format } = column;
  switch (column.kind) {
    case 'decimal':
    case 'double':
      return options.decimalComma ? decimalCommaConverter(name, column.kind) : null;
    case 'boolean':
      return booleanConverter(name);
    case 'date':
      return format ? memoized(patternConverter(name, 'date', format)) : null;
    case 'time':
      return format ? patternConverter(name, 'time', format) : null;
    case 'timestamp':
      if (!format) return null;
      if (format === 'iso') return isoConverter(name);
      if (format === 'epochSeconds') return epochConverter(name, 'epochSeconds', 6);
      if (format === 'epochMillis') return epochConverter(name, 'epochMillis', 3);
      return patternConverter(name, 'timestamp', format);
    default:
      return null;
  }
}

/** Why `format` cannot be a `kind` column's format, or null when it can (the configuration's check). */
export function valueFormatProblem(kind: ColumnSpec['kind'], format: string | undefined): string | null {
  if (format === undefined) return null;
  if (kind !== 'date' && kind !== 'time' && kind !== 'timestamp') return `${/^[aeiou]/.test(kind) ? 'an' : 'a'} ${kind} column takes no format`;
  if (kind === 'timestamp' && (format === 'iso' || format === 'epochSeconds' || format === 'epochMillis')) return null;
  if (format === 'iso' || format === 'epochSeconds' || format === 'epochMillis') return `${format}: only a timestamp takes it (a ${kind} takes tokens)`;
  const pieces = tokenize(format);
  // a letter that is no token is a typo (yyyy, hh), never a literal; T is ISO's date-time separator
  const stray = pieces.find((p) => p.kind === 'literal' && /[A-Za-z]/.test(p.text) && p.text !== 'T');
  if (stray?.kind === 'literal')
    return `${format}: "${stray.text}" is not a token (YYYY MM DD HH mm ss SSS) nor a literal (any character but a letter, or T)${kind === 'timestamp' ? '; or give iso, epochSeconds or epochMillis' : ''}`;
  const tokens = pieces.filter((t): t is Token => t.kind === 'token');
  const names = tokens.map((t) => t.token);
  const repeated = names.find((n, i) => names.indexOf(n) !== i);
  if (repeated) return `${format}: ${repeated} appears twice`;
  const has = (t: TokenName) => names.includes(t);
  const need = (list: TokenName[]) => list.filter((t) => !has(t));
  const missing = kind === 'time' ? need(['HH', 'mm']) : need(['YYYY', 'MM', 'DD']);
  if (missing.length > 0) return `${format}: a ${kind} format needs ${missing.join(', ')} (tokens YYYY MM DD HH mm ss SSS)`;
  if (kind === 'date' && (has('HH') || has('mm') || has('ss') || has('SSS'))) return `${format}: a date format takes no time of day`;
  if (kind === 'time' && (has('YYYY') || has('MM') || has('DD'))) return `${format}: a time format takes no date`;
  if (has('mm') && !has('HH')) return `${format}: mm (minutes) needs HH`;
  if (has('ss') && !has('mm')) return `${format}: ss needs mm`;
  if (has('SSS') && !has('ss')) return `${format}: SSS (fraction) needs ss`;
  return null;
}

/** A value in a problem: quoted, and shortened past 60 characters (as the engine shows it). */
export function showValue(v: string): string {
  return JSON.stringify(v.length > 60 ? `${v.slice(0, 60)}…` : v);
}

// Decimal comma --------------------------------------------------------------------------------

const DECIMAL_COMMA = /^-?\d+(?:,\d+)?$/;
const DOUBLE_COMMA = /^-?(?:\d+(?:,\d*)?|,\d+)(?:[eE][+-]?\d+)?$/;

function decimalCommaConverter(name: string, kind: 'decimal' | 'double'): ValueConverter {
  const shape = kind === 'decimal' ? DECIMAL_COMMA : DOUBLE_COMMA;
  return (raw) => {
    if (shape.test(raw)) return { value: raw.replace(',', '.') };
    // A point is never silently read: under a decimal comma `1.234` could be a thousand.
    if (raw.includes('.')) return { problem: `${name}: ${showValue(raw)} has a "." but the decimal separator is ","` };
    return { problem: `${name}: ${showValue(raw)} is not a ${kind} (with a decimal comma)` };
  };
}

// Booleans -------------------------------------------------------------------------------------

const TRUE: Converted = { value: 'true' };
const FALSE: Converted = { value: 'false' };
const BOOLEANS = new Map<string, Converted>([
  ...['true', 't', 'yes', 'y', '1'].map((s) => [s, TRUE] as const),
  ...['false', 'f', 'no', 'n', '0'].map((s) => [s, FALSE] as const),
]);

function booleanConverter(name: string): ValueConverter {
  return (raw) =>
    BOOLEANS.get(raw) ?? BOOLEANS.get(raw.toLowerCase()) ?? { problem: `${name}: ${showValue(raw)} is not a boolean (true/false, t/f, yes/no, y/n, 1/0)` };
}

// Patterns: YYYY MM DD HH mm ss SSS between literal characters --------------------------------

type TokenName = 'YYYY' | 'MM' | 'DD' | 'HH' | 'mm' | 'ss' | 'SSS';
type Token = { kind: 'token'; token: TokenName };
type Piece = Token | { kind: 'literal'; text: string };

const TOKENS: TokenName[] = ['YYYY', 'SSS', 'MM', 'DD', 'HH', 'mm', 'ss'];
const TOKEN_REGEX: Record<TokenName, string> = {
  YYYY: '(\\d{4})',
  MM: '(\\d{2})',
  DD: '(\\d{2})',
  HH: '(\\d{2})',
  mm: '(\\d{2})',
  ss: '(\\d{2})',
  SSS: '(\\d{1,6})',
};

function tokenize(format: string): Piece[] {
  const pieces: Piece[] = [];
  let i = 0;
  while (i < format.length) {
    const token = TOKENS.find((t) => format.startsWith(t, i));
    if (token) {
      pieces.push({ kind: 'token', token });
      i += token.length;
    } else {
      pieces.push({ kind: 'literal', text: format[i]! });
      i += 1;
    }
  }
  return pieces;
}

const escapeRegex = (s: string) => s.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');

type Kind = 'date' | 'time' | 'timestamp';

/** A converter of values written in a token pattern (`DD.MM.YYYY HH:mm`), compiled to one regex. */
function patternConverter(name: string, kind: Kind, format: string): ValueConverter {
  const pieces = tokenize(format);
  const groups: TokenName[] = [];
  let source = '^';
  for (const piece of pieces) {
    if (piece.kind === 'literal') source += escapeRegex(piece.text);
    else {
      groups.push(piece.token);
      source += TOKEN_REGEX[piece.token];
    }
  }
  const regex = new RegExp(`${source}$`);
  const at = (t: TokenName) => groups.indexOf(t) + 1; // 0: the token is absent
  const [y, mo, d, h, mi, s, f] = (['YYYY', 'MM', 'DD', 'HH', 'mm', 'ss', 'SSS'] as const).map(at) as [number, number, number, number, number, number, number];
  const problem = (raw: string): Converted => ({ problem: `${name}: ${showValue(raw)} is not a ${kind} in ${format}` });
  return (raw) => {
    const m = regex.exec(raw);
    if (!m) return problem(raw);
    const time = h ? clock(m[h]!, mi ? m[mi]! : '00', s ? m[s]! : '00', f ? m[f]! : '') : '00:00:00';
    if (time === null) return problem(raw);
    if (kind === 'time') return { value: time };
    if (!isCalendarDay(m[y]!, m[mo]!, m[d]!)) return problem(raw);
    const date = `${m[y]}-${m[mo]}-${m[d]}`;
    return { value: kind === 'date' ? date : `${date}T${time}Z` };
  };
}

/** `HH:MM:SS[.ffffff]` from its parts (the fraction's trailing zeros dropped), or null when out of range. */
function clock(hh: string, mm: string, ss: string, fraction: string): string | null {
  if (hh > '23' || mm > '59' || ss > '59') return null;
  return `${hh}:${mm}:${ss}${fractionText(fraction)}`;
}

/** `.ffffff` of a fraction's digits, trailing zeros dropped: one canonical text per instant. */
function fractionText(digits: string): string {
  let end = digits.length;
  while (end > 0 && digits.charCodeAt(end - 1) === 48) end -= 1;
  return end === 0 ? '' : `.${digits.slice(0, end)}`;
}

/** Memoize a converter of few distinct values (dates), bounded. */
function memoized(convert: ValueConverter): ValueConverter {
  const memo = new Map<string, Converted>();
  return (raw) => {
    const known = memo.get(raw);
    if (known) return known;
    const result = convert(raw);
    if (memo.size < 10_000) memo.set(raw, result);
    return result;
  };
}

// ISO 8601 with an offset ----------------------------------------------------------------------

const ISO = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?([Zz]|([+-])(\d{2})(?::?(\d{2}))?)?$/;

function isoConverter(name: string): ValueConverter {
  const problem = (raw: string, why = 'is not an ISO 8601 timestamp'): Converted => ({ problem: `${name}: ${showValue(raw)} ${why}` });
  return (raw) => {
    const m = ISO.exec(raw);
    if (!m) return problem(raw);
    const [, yyyy, mo, dd, hh, mi, ss = '00', fraction = '', , sign, oh, om = '00'] = m as unknown as string[];
    if (!isCalendarDay(yyyy!, mo!, dd!) || clock(hh!, mi!, ss, '') === null) return problem(raw);
    const micros = microsDigits(fraction);
    if (micros === null) return problem(raw, 'has more precision than microseconds');
    if (oh === undefined) return { value: `${yyyy}-${mo}-${dd}T${hh}:${mi}:${ss}${fractionText(micros)}Z` };
    if (oh > '23' || om! > '59') return problem(raw, 'has an offset out of range');
    // Offsets are whole minutes: the fraction is untouched, the rest is whole seconds.
    const offsetSeconds = (Number(oh) * 60 + Number(om)) * 60 * (sign === '-' ? -1 : 1);
    const localSeconds = daysFromCivil(Number(yyyy), Number(mo), Number(dd)) * 86_400 + Number(hh) * 3600 + Number(mi) * 60 + Number(ss);
    const utc = isoSeconds(localSeconds - offsetSeconds);
    if (utc === null) return problem(raw, 'is out of range (years 0000–9999 in UTC)');
    return { value: `${utc}${fractionText(micros)}Z` };
  };
}

/** A fraction's digits up to the microsecond, or null when a digit past it is not 0. */
function microsDigits(fraction: string): string | null {
  if (fraction.length <= 6) return fraction;
  if (!/^0*$/.test(fraction.slice(6))) return null;
  return fraction.slice(0, 6);
}

// Calendar arithmetic on integers (proleptic Gregorian, as DuckDB and Parquet count days): no Date
// per value, which is both slow and lenient (it maps years below 100 to 19xx).

/** `YYYY`, `MM`, `DD` (digits) that name a real day: no 2026-02-30, 29 February in leap years only. */
function isCalendarDay(yyyy: string, mm: string, dd: string): boolean {
  const month = Number(mm);
  const day = Number(dd);
  return month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(Number(yyyy), month);
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/** Days since 1970-01-01 of a calendar day (H. Hinnant's days_from_civil). */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146_097 + doe - 719_468;
}

/** The calendar day of a count of days since 1970-01-01 (civil_from_days). */
function civilFromDays(days: number): [year: number, month: number, day: number] {
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  return [yoe + era * 400 + (month <= 2 ? 1 : 0), month, day];
}

const two = (n: number) => (n < 10 ? `0${n}` : String(n));

/** `YYYY-MM-DDTHH:MM:SS` of whole seconds since the epoch, or null outside years 0000–9999. */
function isoSeconds(epochSeconds: number): string | null {
  if (!Number.isSafeInteger(epochSeconds)) return null;
  const days = Math.floor(epochSeconds / 86_400);
  const secondOfDay = epochSeconds - days * 86_400;
  const [year, month, day] = civilFromDays(days);
  if (year < 0 || year > 9999) return null;
  const hh = Math.floor(secondOfDay / 3600);
  const mi = Math.floor((secondOfDay % 3600) / 60);
  return `${String(year).padStart(4, '0')}-${two(month)}-${two(day)}T${two(hh)}:${two(mi)}:${two(secondOfDay % 60)}`;
}

// Epoch seconds and milliseconds ---------------------------------------------------------------

const EPOCH = /^(-?)(\d{1,16})(?:\.(\d{1,12}))?$/;
const WHOLE = /^-?\d{1,16}$/;

/**
 * Epoch seconds (`fractionDigits` 6: up to microseconds) or milliseconds (3). The arithmetic is on
 * integers (whole milliseconds and the microseconds below them), never on the float value.
 */
function epochConverter(name: string, format: 'epochSeconds' | 'epochMillis', fractionDigits: 6 | 3): ValueConverter {
  const problem = (raw: string, why = `is not a timestamp in ${format}`): Converted => ({ problem: `${name}: ${showValue(raw)} ${why}` });
  const unitMs = fractionDigits === 6 ? 1000 : 1;
  return (raw) => {
    // Whole numbers (the usual case): milliseconds at once.
    if (WHOLE.test(raw)) {
      const ms = Number(raw) * unitMs;
      const msInSecond = ((ms % 1000) + 1000) % 1000;
      const seconds = Number.isSafeInteger(ms) ? isoSeconds((ms - msInSecond) / 1000) : null;
      if (seconds === null) return problem(raw, 'is out of range (years 0000–9999 in UTC)');
      return { value: msInSecond === 0 ? `${seconds}Z` : `${seconds}${fractionText(String(msInSecond).padStart(3, '0'))}Z` };
    }
    const m = EPOCH.exec(raw);
    if (!m) return problem(raw);
    const [, sign, whole, fraction = ''] = m as unknown as [string, string, string, string?];
    if (fraction.length > fractionDigits && !/^0*$/.test(fraction.slice(fractionDigits))) return problem(raw, 'has more precision than microseconds');
    const digits = fraction.slice(0, fractionDigits).padEnd(fractionDigits, '0');
    // Split into whole milliseconds and the microseconds below them.
    const msDigits = fractionDigits === 6 ? digits.slice(0, 3) : '';
    const belowMs = fractionDigits === 6 ? digits.slice(3) : digits;
    let ms = Number(whole) * unitMs + Number(msDigits || '0');
    let micros = Number(belowMs);
    if (!Number.isSafeInteger(ms)) return problem(raw, 'is out of range (years 0000–9999 in UTC)');
    if (sign === '-') {
      // -1.5 ms is 2 ms before the epoch plus 500 µs.
      ms = micros > 0 ? -ms - 1 : -ms;
      micros = micros > 0 ? 1000 - micros : 0;
    }
    const msInSecond = ((ms % 1000) + 1000) % 1000;
    const seconds = isoSeconds((ms - msInSecond) / 1000);
    if (seconds === null) return problem(raw, 'is out of range (years 0000–9999 in UTC)');
    const fractionOut = String(msInSecond * 1000 + micros).padStart(6, '0');
    return { value: `${seconds}${fractionText(fractionOut)}Z` };
  };
}
