/**
 * Dataset key patterns: `pos/{province}/{store}_{date:YYYYMMDD}_{time:HHMMSS}.tdf` compiled to a
 * regular expression with named groups. Dates and times are checked for real calendar values.
 */
export type FieldFormat = 'segment' | 'YYYYMMDD' | 'HHMMSS';

export interface CompiledKeyPattern {
  source: string;
  regex: RegExp;
  fields: Array<{ name: string; format: FieldFormat }>;
}

const PLACEHOLDER = /\{([a-z_][a-z0-9_]*)(?::(YYYYMMDD|HHMMSS))?\}/g;
const FIELD_REGEX: Record<FieldFormat, string> = {
  segment: '[^/_]+',
  YYYYMMDD: '\\d{8}',
  HHMMSS: '\\d{6}',
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
    if (format === 'YYYYMMDD') {
      const iso = `${raw.slice(0, 4)}-${raw.slice(4, 6)}-${raw.slice(6, 8)}`;
      if (!isCalendarDate(iso)) return { ok: false, reason: `key field ${name}: ${raw} is not a calendar date` };
      fields[name] = iso;
    } else if (format === 'HHMMSS') {
      const [h, mi, s] = [raw.slice(0, 2), raw.slice(2, 4), raw.slice(4, 6)].map(Number) as [number, number, number];
      if (h > 23 || mi > 59 || s > 59) return { ok: false, reason: `key field ${name}: ${raw} is not a time of day` };
      fields[name] = `${raw.slice(0, 2)}:${raw.slice(2, 4)}:${raw.slice(4, 6)}`;
    } else {
      fields[name] = raw;
    }
  }
  return { ok: true, fields };
}

/** `YYYY-MM-DD` that names a real day (no 2026-02-30). */
export function isCalendarDate(text: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(text)) return false;
  const date = new Date(`${text}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().startsWith(text);
}
