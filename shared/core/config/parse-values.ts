import { ConfigError } from '../errors';

/** Checks for one value of an untrusted configuration; each failure names the field it is about. */
export type Obj = Record<string, unknown>;

const IDENTIFIER = /^[a-z_][a-z0-9_]*$/;

export function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  return JSON.stringify(value) ?? String(value);
}

export function object(value: unknown, field: string): Obj {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ConfigError(field, `expected an object, got ${describe(value)}`);
  }
  return value as Obj;
}

export function array(value: unknown, field: string): unknown[] {
  if (!Array.isArray(value)) throw new ConfigError(field, `expected a list, got ${describe(value)}`);
  return value;
}

export function string(value: unknown, field: string): string {
  if (typeof value !== 'string' || value === '') throw new ConfigError(field, `expected a non-empty string, got ${describe(value)}`);
  return value;
}

/** The longest name (a Redshift table's or column's: 127 bytes; an identifier is ASCII). */
export const MAX_IDENTIFIER_CHARS = 127;

export function identifier(value: unknown, field: string): string {
  const text = string(value, field);
  if (!IDENTIFIER.test(text)) throw new ConfigError(field, `"${text}" is not a lower-case identifier ([a-z_][a-z0-9_]*)`);
  if (text.length > MAX_IDENTIFIER_CHARS)
    throw new ConfigError(field, `${text.length} characters: a name has at most ${MAX_IDENTIFIER_CHARS} (a Redshift table's or column's limit)`);
  return text;
}

export function number(value: unknown, field: string, min: number, max: number, integer = false): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max || (integer && !Number.isInteger(value))) {
    throw new ConfigError(field, `expected ${integer ? 'an integer' : 'a number'} from ${min} to ${max}, got ${describe(value)}`);
  }
  return value;
}

export function boolean(value: unknown, field: string): boolean {
  if (typeof value !== 'boolean') throw new ConfigError(field, `expected true or false, got ${describe(value)}`);
  return value;
}

export function oneOf<T extends string>(value: unknown, field: string, allowed: readonly T[]): T {
  if (!allowed.includes(value as T)) throw new ConfigError(field, `expected one of ${allowed.join(', ')}, got ${describe(value)}`);
  return value as T;
}

/**
 * A literal list of every member of the union `U` and of nothing else; one missing is a compile error naming it (`missing`).
 * It ties the parsers' lists (an object's fields, a field's values) to the types generated from the schema, so that
 * neither can gain a member the other lacks: `every<ColumnKind>()(['string', 'integer', …])`.
 */
export const every =
  <U extends string>() =>
  <const L extends readonly U[]>(list: L & ([Exclude<U, L[number]>] extends [never] ? unknown : { missing: Exclude<U, L[number]> })): L =>
    list;

/** A literal list of every field of the object type `T` (a type generated from the schema), checked as by `every`: `fieldsOf<In.Column>()([…])`. */
export const fieldsOf = <T>() => every<Extract<keyof T, string>>();

export function noUnknownKeys(obj: Obj, allowed: readonly string[], field: string): void {
  for (const key of Object.keys(obj)) {
    if (!allowed.includes(key)) throw new ConfigError(`${field}.${key}`, `unknown field (allowed: ${allowed.join(', ')})`);
  }
}

/** Zones already found valid: building a DateTimeFormat per deadline dominated loading large configurations. */
let knownZones: Set<string> | undefined;

/**
 * Whether an IANA time zone exists. The canonical names are listed cheaply; only another name (an
 * alias such as US/Eastern) is tried with a formatter, whose first construction loads the zone
 * data (about 20 ms of a cold start, paid only by the functions that compute deadlines).
 */
function isTimeZone(zone: string): boolean {
  // UTC is valid everywhere but not among the canonical names V8 lists
  knownZones ??= new Set([...Intl.supportedValuesOf('timeZone'), 'UTC', 'Etc/UTC', 'GMT', 'Etc/GMT']);
  if (knownZones.has(zone)) return true;
  try {
    new Intl.DateTimeFormat('en-CA', { timeZone: zone });
  } catch {
    return false;
  }
  knownZones.add(zone);
  return true;
}

/** A local time of day and its IANA zone (freshness deadlines, cut-offs). */
export function localTime(obj: Obj, timeKey: string, field: string): { time: string; timeZone: string; dayOffset?: number } {
  const time = string(obj[timeKey], `${field}.${timeKey}`);
  if (!/^([01]\d|2[0-3]):[0-5]\d$/.test(time)) throw new ConfigError(`${field}.${timeKey}`, `"${time}" is not a local time HH:MM`);
  const timeZone = string(obj.timeZone, `${field}.timeZone`);
  if (!isTimeZone(timeZone)) throw new ConfigError(`${field}.timeZone`, `"${timeZone}" is not an IANA time zone`);
  return { time, timeZone, ...(obj.dayOffset !== undefined ? { dayOffset: number(obj.dayOffset, `${field}.dayOffset`, 0, 31, true) } : {}) };
}
