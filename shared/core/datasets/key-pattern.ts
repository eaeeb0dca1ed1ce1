/**
 * Dataset key patterns: `pos/{province}/{store}_{date:YYYYMMDD}_{time:HHMMSS}.tdf` compiled to a
 * regular expression with named groups. Dates, times and hours are checked for real calendar values.
 * Firehose-style layouts are covered too: `clicks/{date:YYYY/MM/DD}/{hour:HH}/{name:TEXT}`.
 */
export type FieldFormat = 'segment' | 'YYYYMMDD' | 'YYYY-MM-DD' | 'YYYY/MM/DD' | 'HHMMSS' | 'HH' | 'TEXT';

/** The formats of a date key field, each recorded as `YYYY-MM-DD`. */
export const DATE_FORMATS: readonly FieldFormat[] = ['YYYYMMDD', 'YYYY-MM-DD', 'YYYY/MM/DD'];

/** Whether a key field of this format holds a date (recorded as `YYYY-MM-DD`). */
export function isDateFormat(format: FieldFormat): boolean {
  return DATE_FORMATS.includes(format);
}

export interface CompiledKeyPattern {
  source: string;
  regex: RegExp;
  fields: Array<{ name: string; format: FieldFormat }>;
}

const PLACEHOLDER = /\{([a-z_][a-z0-9_]*)(?::(YYYYMMDD|YYYY-MM-DD|YYYY\/MM\/DD|HHMMSS|HH|TEXT))?\}/g;
const FIELD_REGEX: Record<FieldFormat, string> = {
  segment: '[^/_]+',
  YYYYMMDD: '\\d{8}',
  'YYYY-MM-DD': '\\d{4}-\\d{2}-\\d{2}',
  'YYYY/MM/DD': '\\d{4}/\\d{2}/\\d{2}',
  HHMMSS: '\\d{6}',
  HH: '\\d{2}',
  // one whole path segment, `_` and `-` included (a Firehose object name)
  TEXT: '[^/]+',
};

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Throws a plain Error describing the problem; config validation wraps it with the field path. */
export function compileKeyPattern(pattern: string): CompiledKeyPattern {
  const fields: CompiledKeyPattern['fields'] = [];
  let regex = '^';
  let last = 0;
  for (const match of pattern.matchAll(PLACEHOLDER)) {
    const literal = pattern.slice(last, match.index);
    if (/[{}]/.test(literal)) throw new Error(`malformed placeholder near "${literal}"`);
    regex += escapeRegex(literal);
    const name = match[1]!;
    const format = (match[2] as FieldFormat | undefined) ?? 'segment';
    if (fields.some((f) => f.name === name)) throw new Error(`placeholder {${name}} appears twice`);
    fields.push({ name, format });
    regex += `(?<${name}>${FIELD_REGEX[format]})`;
    last = match.index + match[0].length;
  }
  const tail = pattern.slice(last);
  if (/[{}]/.test(tail)) throw new Error(`malformed placeholder near "${tail}"`);
  regex += `${escapeRegex(tail)}$`;
  return { source: pattern, regex: new RegExp(regex, 'u'), fields };
}

export type KeyMatch = { ok: true; fields: Record<string, string> } | { ok: false; reason: string } | null;

/**
 * Matches a key (relative to `landing/`). `null` when the shape does not match; `ok: false` when the
 * shape matches but a value is impossible (a 20261331 date), so the file is rejected with a reason.
 */
export function matchKey(pattern: CompiledKeyPattern, relativeKey: string): KeyMatch {
  const m = pattern.regex.exec(relativeKey);
  if (!m?.groups) return null;
  const fields: Record<string, string> = {};
  for (const { name, format } of pattern.fields) {
    const raw = m.groups[name]!;
    const value = fieldValue(format, raw);
    if (value === null) return { ok: false, reason: `key field ${name}: ${raw} is not ${IMPOSSIBLE[format]}` };
    fields[name] = value;
  }
  return { ok: true, fields };
}

const IMPOSSIBLE: Record<FieldFormat, string> = {
  segment: '',
  TEXT: '',
  YYYYMMDD: 'a calendar date',
  'YYYY-MM-DD': 'a calendar date',
  'YYYY/MM/DD': 'a calendar date',
  HHMMSS: 'a time of day',
  HH: 'an hour of the day',
};

/** The value recorded for a key field (dates as `YYYY-MM-DD`, times as `HH:MM:SS`), or null when it is impossible. */
function fieldValue(format: FieldFormat, raw: string): string | null {
  switch (format) {
    case 'YYYYMMDD':
    case 'YYYY-MM-DD':
    case 'YYYY/MM/DD': {
      const digits = raw.replace(/[-/]/g, '');
      const iso = `${digits.slice(0, 4)}-${digits.slice(4, 6)}-${digits.slice(6, 8)}`;
      return isCalendarDate(iso) ? iso : null;
    }
    case 'HHMMSS': {
      const [h, mi, s] = [raw.slice(0, 2), raw.slice(2, 4), raw.slice(4, 6)].map(Number) as [number, number, number];
      return h > 23 || mi > 59 || s > 59 ? null : `${raw.slice(0, 2)}:${raw.slice(2, 4)}:${raw.slice(4, 6)}`;
    }
    case 'HH':
      return Number(raw) > 23 ? null : raw;
    default:
      return raw;
  }
}

/** `YYYY-MM-DD` that names a real day (no 2026-02-30). */
export function isCalendarDate(text: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(text)) return false;
  const date = new Date(`${text}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().startsWith(text);
}
