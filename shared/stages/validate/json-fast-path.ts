import type { ColumnSpec, DatasetConfig } from '../../core/config/types';
import { isNested } from '../../core/duckdb/columns';
import { MAX_LINE_BYTES } from '../../core/datasets/line-limits';
import { byteLimit } from '../../core/feeds/value-limits';
import { decimalIntegerDigits, valueCheck } from './row-checks';
import { textLayout } from './validate-file';
import { NOTHING, regexLiteral, sqlString, valuePattern } from './value-patterns';

/**
 * The fast path of JSON lines: one regular expression per line proves it good, with the values the
 * JavaScript reads (lineParser and compileRowCheck, validate-file.ts and row-checks.ts), when the
 * line is in a canonical form:
 * - one flat object holding exactly the declared keys, each once, in the declared order, written
 *   plainly (no escape in a key), spaces and tabs between tokens allowed: no duplicate key (JSON.parse
 *   keeps the last, DuckDB the first), no unknown key, no trailing comma, no NaN or Infinity;
 * - each value a JSON string whose text passes the column's rules, or for numeric and boolean
 *   columns a bare JSON literal whose JavaScript text (String(Number(raw))) is its own digits, trailing
 *   zeros of a fraction aside: at most 15 significant digits, no exponent, no negative zero, at least
 *   1e-6 unless zero (JavaScript prints smaller numbers with an exponent); `null` for a nullable
 *   column, and `""` for a nullable string column;
 * - strings without escapes that decode to a line break, a NUL or a lone surrogate.
 * On such a line DuckDB's JSON reader (json_transform_strict) with the declared types reads exactly the values the rules
 * checked, so convert reads a file of such lines as the floor does. Any other line is left to the
 * general JSON rule (line-rules-sql.ts), which stays the reference: this path may only say `good`.
 */

/** Why a dataset's lines cannot take the fast path; null when they can. */
export function jsonFastPathBlocker(dataset: DatasetConfig): string | null {
  if (textLayout(dataset).kind !== 'jsonl') return 'not JSON lines';
  for (const column of dataset.columns) {
    if (isNested(column)) return `column ${column.name} is a ${column.kind}`;
    // a missing key reads the prototype's value in JavaScript (`constructor`): not a null
    if (column.name in Object.prototype) return `column ${column.name} names a property every JavaScript object has`;
  }
  return null;
}

/** SQL over `line` (a VARCHAR), for a dataset that can take the fast path. */
export interface JsonFastPath {
  /** whether the line is a canonical JSON line, and good (never NULL) */
  good: string;
  /** whether such a line has a value to truncate (`onTooLong: truncate`) */
  truncated: string;
  /** such a line's value tokens: a STRUCT, one field per column */
  captures: string;
  /** the column values as the JavaScript reads them ('' for null), a LIST of VARCHAR, from `captures` named `s` */
  values(s: string): string;
}

/** A JSON string's character, its escapes included, except those decoding to a control character below 0x20 (a line break, a NUL) other than \b \f \t, or to a lone surrogate. */
const STRING_CHAR = String.raw`(?:[^"\\\x00-\x1f]|\\[\\/"bft]|\\u(?:00[2-9a-fA-F][0-9a-fA-F]|0[1-9a-fA-F][0-9a-fA-F]{2}|[1-9a-cA-CeEfF][0-9a-fA-F]{3}|[dD][0-7][0-9a-fA-F]{2}|[dD][89abAB][0-9a-fA-F]{2}\\u[dD][c-fC-F][0-9a-fA-F]{2}))`;
/** A character of a string written without escapes (its text is its value): the `plain` of valuePattern. */
const PLAIN_CHAR = String.raw`[^"\\\x00-\x1f]`;
/** JSON whitespace within a line. */
const WS = '[ \\t]*';
/** JavaScript's exact integers of up to 15 digits as a JSON number, without -0. */
const BARE_INTEGER = '(?:0|-?[1-9][0-9]{0,14})';
/** An integer as a string that DuckDB's JSON reader casts (no leading zero: it refuses "007"), and JavaScript's rules accept. */
const STRING_INTEGER = '-?(?:0|[1-9][0-9]{0,17})';
/** A double as a string, in JSON's number syntax (which DuckDB's JSON reader casts) and finite (exponent of two digits). */
const STRING_DOUBLE = '-?(?:0|[1-9][0-9]{0,19})(?:\\.[0-9]{1,20})?(?:[eE][+-]?[0-9]{1,2})?';

/**
 * JSON numbers whose JavaScript text is their own digits (trailing zeros of the fraction aside), with
 * at most `intDigits` digits before the point and `fracDigits` after it: 15 significant digits at
 * most (a double holds them exactly, and String() gives them back), no exponent, not negative zero,
 * zero or at least 1e-6 (below it, String() writes an exponent).
 */
export function plainNumberPattern(intDigits: number, fracDigits: number): string {
  const frac = Math.min(fracDigits, 15);
  const forms = [frac > 0 ? `0(?:\\.0{1,${frac}})?` : '0'];
  // 0.000…d: the first significant digit within the first six places
  for (let zeros = 0; zeros < Math.min(6, frac); zeros += 1) forms.push(`-?0\\.0{${zeros}}[1-9][0-9]{0,${frac - zeros - 1}}`);
  for (let k = 1; k <= Math.min(intDigits, 15); k += 1) {
    const f = Math.min(frac, 15 - k);
    forms.push(`-?[1-9][0-9]{${k - 1}}${f > 0 ? `(?:\\.[0-9]{1,${f}})?` : ''}`);
  }
  return `(?:${forms.join('|')})`;
}

/** The candidates among `values` the column's rules accept (the JavaScript decides, once). */
function accepted(column: ColumnSpec, keyFields: Record<string, string>, values: string[]): string[] {
  const check = valueCheck(column, keyFields);
  return [...new Set(values)].filter((v) => check(v) === null);
}

/**
 * The JSON values of a column on a canonical line, as alternatives of a regular expression: bare
 * literals and strings. Null when a rule cannot be a pattern (the dataset then has no fast path).
 */
function valueForms(column: ColumnSpec, keyFields: Record<string, string>): string[] | null {
  const forms: string[] = column.nullable ? ['null'] : [];
  const listed = column.allowed !== undefined || column.equalsKeyField !== undefined;
  const quoted = (pattern: string) => `"(?:${pattern})"`;
  switch (column.kind) {
    case 'string':
      if (!listed) return [...forms, `"${STRING_CHAR}${column.nullable ? '*' : '+'}"`];
      if (column.nullable) forms.push('""');
      break;
    case 'integer': {
      if (!listed) return [...forms, BARE_INTEGER, quoted(STRING_INTEGER)];
      // the listed values (or the key field's) written as the JSON reader and String(Number(v)) both read them
      const candidates = column.allowed ? column.allowed.map(String) : [keyFields[column.equalsKeyField!] ?? ''];
      const exact = accepted(column, keyFields, candidates).filter((v) => new RegExp(`^${STRING_INTEGER}$`).test(v));
      const bare = exact.filter((v) => new RegExp(`^${BARE_INTEGER}$`).test(v) && String(Number(v)) === v);
      if (exact.length === 0) return [...forms, NOTHING];
      return [...forms, ...bare.map(regexLiteral), quoted(exact.map(regexLiteral).join('|'))];
    }
    case 'decimal': {
      if (listed) break;
      const scale = column.scale ?? 0;
      const digits = decimalIntegerDigits(scale, column.precision);
      const text = scale > 0 ? `-?(?:0|[1-9][0-9]{0,${digits - 1}})(?:\\.[0-9]{1,${scale}})?` : `-?(?:0|[1-9][0-9]{0,${digits - 1}})`;
      return [...forms, plainNumberPattern(digits, scale), quoted(text)];
    }
    case 'double':
      if (listed) break;
      return [...forms, plainNumberPattern(15, 15), quoted(STRING_DOUBLE)];
    case 'boolean': {
      const bare = accepted(column, keyFields, ['true', 'false']);
      if (bare.length === 0) return [...forms, NOTHING];
      return [...forms, ...bare, quoted(bare.join('|'))];
    }
    case 'date':
    case 'timestamp':
    case 'time':
      break;
    case 'struct':
    case 'list':
      return null;
  }
  // a string holding exactly the text the column's pattern accepts (no escape: its text is its value)
  const pattern = valuePattern(column, keyFields, PLAIN_CHAR);
  return pattern === null ? null : [...forms, quoted(pattern)];
}

/** The fast path's SQL for a dataset's lines, or null when it has none (jsonFastPathBlocker, or a rule no pattern says). */
export function jsonFastPath(dataset: DatasetConfig, keyFields: Record<string, string>): JsonFastPath | null {
  if (jsonFastPathBlocker(dataset) !== null) return null;
  const members: string[] = [];
  for (const column of dataset.columns) {
    const forms = valueForms(column, keyFields);
    if (forms === null) return null;
    // one capturing group per column, around its value (every other group is non-capturing)
    members.push(`"${column.name}"${WS}:${WS}(${forms.join('|')})`);
  }
  const pattern = sqlString(`${WS}\\{${WS}${members.join(`${WS},${WS}`)}${WS}\\}${WS}`);
  const stringValue = (c: ColumnSpec) => `coalesce(strlen(json_extract_string(line, ${sqlString(`$.${c.name}`)})), 0)`;
  // a pattern counts characters: a line longer than a limit has that column's value measured (in UTF-8 bytes)
  const limits = dataset.columns.flatMap((c) => {
    const limit = byteLimit(c);
    return limit?.onTooLong === 'reject' ? [`CASE WHEN strlen(line) <= ${limit.maxBytes} THEN true ELSE ${stringValue(c)} <= ${limit.maxBytes} END`] : [];
  });
  const cut = dataset.columns.flatMap((c) => {
    const limit = byteLimit(c);
    return limit?.onTooLong === 'truncate' ? [`CASE WHEN strlen(line) <= ${limit.maxBytes} THEN false ELSE ${stringValue(c)} > ${limit.maxBytes} END`] : [];
  });
  // (AND may evaluate both sides: the JSON functions run behind a CASE, on canonical lines only)
  const matches = `strlen(line) <= ${MAX_LINE_BYTES} AND regexp_full_match(line, ${pattern})`;
  const good = `coalesce(${limits.length > 0 ? `CASE WHEN ${matches} THEN ${limits.join(' AND ')} ELSE false END` : matches}, false)`;
  const groups = dataset.columns.map((_, i) => `'c${i}'`).join(', ');
  return {
    good,
    truncated: cut.length > 0 ? cut.join(' OR ') : 'false',
    captures: `regexp_extract(line, ${pattern}, [${groups}])`,
    values: (s) => `[${dataset.columns.map((c, i) => jsValueSql(c, `${s}.c${i}`)).join(', ')}]`,
  };
}

/** The JavaScript's text of a canonical value token `x`: '' for null, a string's decoded text, a number's digits without trailing fraction zeros. */
function jsValueSql(column: ColumnSpec, x: string): string {
  const text = column.kind === 'string' ? `json_extract_string(${x}, '$')` : `${x}[2:-2]`;
  const bare = column.kind === 'decimal' || column.kind === 'double' ? `CASE WHEN contains(${x}, '.') THEN rtrim(rtrim(${x}, '0'), '.') ELSE ${x} END` : x;
  return `CASE WHEN ${x} = 'null' THEN '' WHEN starts_with(${x}, '"') THEN ${text} ELSE ${bare} END`;
}
