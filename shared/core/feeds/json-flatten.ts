import type { ColumnSpec } from '../config/types';
import { badLine } from './canonical';
import { type ValueConverter, type ValueOptions, valueConverter } from './values';

/**
 * JSON records as they come (nested, columns at dotted paths, epoch numbers) turned into canonical
 * JSON lines: one flat object per record, the declared columns in order, each scalar as a JSON
 * string (null stays null), `struct` and `list` values kept as they are.
 */

interface ColumnReader {
  /** `"name":` */
  key: string;
  /** the path's keys (default: the column's name) */
  path: string[];
  kind: ColumnSpec['kind'];
  convert: ValueConverter | null;
}

/**
 * The canonical line of each record (its JSON text), or null when every column is read by its
 * name and needs no conversion: the record is then canonical as it is.
 */
export function jsonRecordCanonicalizer(columns: ColumnSpec[], options: ValueOptions = {}): ((record: string) => string) | null {
  const readers: ColumnReader[] = columns.map((c) => ({
    key: `${JSON.stringify(c.name)}:`,
    path: (c.path ?? c.name).split('.'),
    kind: c.kind,
    convert: valueConverter(c, options),
  }));
  if (columns.every((c, i) => (c.path === undefined || c.path === c.name) && readers[i]!.convert === null)) return null;
  return (record) => {
    let parsed: unknown;
    try {
      // Digits a double cannot hold exactly (an id of 19 digits, a fraction of 17) are read as
      // written; the slower parse is taken only when the text has such a run of digits.
      parsed = hasManyDigits(record) ? JSON.parse(record, keepNumberText) : JSON.parse(record);
    } catch (error) {
      return badLine(`not JSON: ${(error as Error).message}`, record);
    }
    if (!isObject(parsed)) return badLine('not a JSON object', record);
    let line = '{';
    for (let i = 0; i < readers.length; i += 1) {
      const reader = readers[i]!;
      const value = valueAt(parsed, reader.path);
      let text: string;
      if (i > 0) line += ',';
      line += reader.key;
      if (value === null || value === undefined) {
        line += 'null';
        continue;
      }
      if (reader.kind === 'struct' || reader.kind === 'list') {
        // Kept as it is: nested values, or a scalar for the engine to reject.
        line += JSON.stringify(value);
        continue;
      }
      if (typeof value === 'string') text = value;
      else if (typeof value === 'number' || typeof value === 'boolean') text = String(value);
      else if (isRawNumber(value)) text = value.rawJSON;
      else {
        // An object or array where a scalar is declared: left for the engine to reject.
        line += JSON.stringify(value);
        continue;
      }
      // A JSON number is already written with a point: only text goes through a decimal comma.
      const numeric = typeof value !== 'string' && (reader.kind === 'decimal' || reader.kind === 'double' || reader.kind === 'integer');
      if (reader.convert && !numeric && text !== '') {
        const converted = reader.convert(text);
        if ('problem' in converted) return badLine(converted.problem, record);
        text = converted.value;
      }
      line += JSON.stringify(text);
    }
    return `${line}}`;
  };
}

/**
 * Whether the text has sixteen digits in a run (a point may be among them): more significant
 * digits than a double keeps exactly. A loop over char codes: twice as fast as a regex here.
 */
function hasManyDigits(text: string): boolean {
  let run = 0;
  for (let i = 0; i < text.length; i += 1) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      run += 1;
      if (run >= 16) return true;
    } else if (c !== 46) run = 0;
  }
  return false;
}

type RawNumber = { rawJSON: string };

function keepNumberText(this: unknown, _key: string, value: unknown, context?: { source?: string }): unknown {
  return typeof value === 'number' && context?.source !== undefined ? (JSON as unknown as { rawJSON(text: string): RawNumber }).rawJSON(context.source) : value;
}

function isRawNumber(value: unknown): value is RawNumber {
  return (JSON as unknown as { isRawJSON(v: unknown): boolean }).isRawJSON(value);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !isRawNumber(value);
}

/** The value at a path of object keys; undefined when a key is missing or a step is not an object. */
function valueAt(record: Record<string, unknown>, path: string[]): unknown {
  let current: unknown = record;
  for (const key of path) {
    if (!isObject(current) || !Object.hasOwn(current, key)) return undefined;
    current = current[key];
  }
  return current;
}
