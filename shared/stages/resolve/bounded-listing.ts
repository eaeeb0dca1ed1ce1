import type { DatasetConfig, JobInput } from '../../core/config/types';
import { compileKeyPattern, matchKey, type CompiledKeyPattern, type FieldFormat } from '../../core/datasets/key-pattern';
import { ARCHIVE_MEMBER_SEPARATOR, PREFIX } from '../../core/s3/layout';

/**
 * Where a batch's landed objects of one dataset can be listed without the listing growing with
 * history: a literal S3 prefix, the dataset's key pattern with the batch's values put in, cut at
 * the first placeholder the batch does not fix. It is bounded only when it holds the batch's date
 * (`landing/meters/2026-12-01/` from `meters/{date:YYYY-MM-DD}/{meter}.csv`); a prefix cut before
 * the date (`landing/pos/ON/` from `pos/{province}/{store}_{date:YYYYMMDD}_…`) would list every day
 * of the store's history, so that layout gives none. Pure.
 */
export interface BoundedListing {
  /** the full key prefix to list (under `landing/`) */
  prefix: string;
  /**
   * What a listed key is to the batch: one of its files of the dataset, the archive such files are
   * unpacked from (`<archive>` of `<archive>!/<member>`), or nothing (another batch, another dataset).
   */
  kindOf(key: string): 'file' | 'archive' | null;
}

const PLACEHOLDER = /\{([a-z_][a-z0-9_]*)(?::([A-Z/:-]+))?\}/g;

/** A batch value (dates `YYYY-MM-DD`, times `HH:MM:SS`) as the key writes it. */
function asWritten(value: string, format: FieldFormat): string {
  switch (format) {
    case 'YYYYMMDD':
      return value.replaceAll('-', '');
    case 'YYYY/MM/DD':
      return value.replaceAll('-', '/');
    case 'HHMMSS':
      return value.replaceAll(':', '');
    default:
      return value;
  }
}

/** The literal prefix of `pattern` with the fixed values put in, and where in it the date ends (-1: not in it). */
function literalPrefix(pattern: string, fixed: Record<string, string>, dateField: string): { prefix: string; dateEnd: number } {
  let prefix = '';
  let dateEnd = -1;
  let last = 0;
  for (const match of pattern.matchAll(PLACEHOLDER)) {
    prefix += pattern.slice(last, match.index);
    const value = fixed[match[1]!];
    if (value === undefined) return { prefix, dateEnd };
    prefix += asWritten(value, (match[2] as FieldFormat | undefined) ?? 'segment');
    if (match[1] === dateField) dateEnd = prefix.length;
    last = match.index + match[0].length;
  }
  return { prefix: prefix + pattern.slice(last), dateEnd };
}

/**
 * The literal key prefix (under `landing/`) every object of the dataset that belongs to the batch
 * starts with: the key pattern with the values the input matches on put in, cut at the first
 * placeholder the batch does not fix (`landing/pos/ON/` for province ON). Unlike a bounded listing
 * it need not hold the date: it narrows a Query within one day's index partition. Pure.
 */
export function keyPrefixOf(dataset: Pick<DatasetConfig, 'keyPattern' | 'dateField'>, input: Pick<JobInput, 'match'>, values: Record<string, string>): string {
  const fixed = Object.fromEntries(input.match.filter((k) => values[k] !== undefined).map((k) => [k, values[k]!]));
  return `${PREFIX.landing}${literalPrefix(dataset.keyPattern, fixed, dataset.dateField).prefix}`;
}

/** Whether the fields a key gives agree with the batch's values of the fields the input matches on. */
const agrees = (fields: Record<string, string>, fixed: Record<string, string>) =>
  Object.entries(fixed).every(([k, v]) => fields[k] === undefined || fields[k] === v);

/**
 * The bounded listing of a dataset input's objects for one batch (`values`: the batch key's
 * values), or null when the dataset's layout gives none. An archive member's pattern
 * (`<archive>!/<member>`) is listed from its archive's key, so the archive itself is seen before
 * it is unpacked; the date must still be in that shorter prefix.
 */
export function boundedListing(
  dataset: Pick<DatasetConfig, 'keyPattern' | 'dateField'>,
  input: Pick<JobInput, 'match'>,
  values: Record<string, string>,
): BoundedListing | null {
  const fixed = Object.fromEntries(input.match.filter((k) => values[k] !== undefined).map((k) => [k, values[k]!]));
  if (fixed[dataset.dateField] === undefined) return null;
  let { prefix, dateEnd } = literalPrefix(dataset.keyPattern, fixed, dataset.dateField);
  const separator = dataset.keyPattern.indexOf(ARCHIVE_MEMBER_SEPARATOR);
  const archivePattern = separator >= 0 ? dataset.keyPattern.slice(0, separator) : undefined;
  const cut = prefix.indexOf(ARCHIVE_MEMBER_SEPARATOR);
  if (cut >= 0) prefix = prefix.slice(0, cut);
  if (dateEnd < 0 || dateEnd > prefix.length) return null;
  const file = compileKeyPattern(dataset.keyPattern);
  const archive: CompiledKeyPattern | undefined = archivePattern ? compileKeyPattern(archivePattern) : undefined;
  const matches = (pattern: CompiledKeyPattern, relative: string) => {
    const m = matchKey(pattern, relative);
    return m?.ok === true && agrees(m.fields, fixed);
  };
  return {
    prefix: `${PREFIX.landing}${prefix}`,
    kindOf(key) {
      if (!key.startsWith(PREFIX.landing)) return null;
      const relative = key.slice(PREFIX.landing.length);
      if (matches(file, relative)) return 'file';
      if (archive && !relative.includes(ARCHIVE_MEMBER_SEPARATOR) && matches(archive, relative)) return 'archive';
      return null;
    },
  };
}
