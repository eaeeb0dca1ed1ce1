import type { RowCounts } from '../../core/state/file-state';
import { LandfallError } from '../../core/errors';
import type { KeptColumn } from '../../core/feeds/extra-columns';

/**
 * What validate decided for one landed version, written as JSON to `validated/<key>` (with the
 * lineage in its metadata): convert fires on it and writes the Parquet from the landed object
 * itself, keeping exactly the rows the verdict's rules call good. No copy of the rows is written.
 */
export interface Verdict {
  landfall: 'verdict/1';
  /**
   * How convert finds the good rows again:
   * - `duckdb`: the lines after the first `skipLines` that line-rules-sql.ts calls good (`allGood`:
   *   all of them, so DuckDB's typed reader may read them; `canonicalJson`: JSON lines, each in the
   *   canonical form json-fast-path.ts proves good, which DuckDB's JSON reader reads exactly);
   * - `javascript`: the rows validate-file.ts writes (a file DuckDB cannot read as validate must,
   *   named in `why`): convert runs the same JavaScript validation.
   */
  rules: { engine: 'duckdb'; skipLines: number; allGood?: true; canonicalJson?: true } | { engine: 'javascript'; why: string };
  rows: RowCounts;
  /** schemaPolicy additive: the header columns kept as nullable strings after the declared ones (convert writes exactly these) */
  keptColumns?: KeptColumn[];
}

/** The verdict in a validated object's body, or why it is not one. */
export function parseVerdict(text: string): Verdict {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new NotAVerdictError('not JSON');
  }
  const v = value as Partial<Verdict>;
  if (v?.landfall !== 'verdict/1' || !v.rules || !v.rows) throw new NotAVerdictError('not a landfall verdict (verdict/1)');
  if (v.rules.engine === 'duckdb' && !Number.isInteger(v.rules.skipLines)) throw new NotAVerdictError('a duckdb verdict without skipLines');
  if (v.rules.engine !== 'duckdb' && v.rules.engine !== 'javascript')
    throw new NotAVerdictError(`unknown rules engine ${JSON.stringify((v.rules as { engine?: unknown }).engine)}`);
  if (v.keptColumns !== undefined && !(Array.isArray(v.keptColumns) && v.keptColumns.every((k) => typeof k?.name === 'string' && typeof k.header === 'string')))
    throw new NotAVerdictError('keptColumns is not a list of { header, name }');
  return v as Verdict;
}

/** A validated object whose body is not a verdict (an older layout's CSV, or a stray object). */
export class NotAVerdictError extends LandfallError {
  override readonly name = 'NotAVerdictError';
  readonly code = 'NOT_A_VERDICT';
}
