import { isAbsolute, relative } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { LandfallError } from '../../core/errors';
import { loadSql, runSqlTransform, sqlParams } from '../transform';

/** One SQL stage that does not bind: where it is (job, stage, file, line) and what DuckDB or the check says. */
export interface SqlProblem {
  job: string;
  stage: string;
  /** the configuration field naming the file: jobs[i].stages[j].sql */
  field: string;
  /** the SQL file, absolute */
  file: string;
  /** the file's line (1-based), when the problem has one */
  line?: number;
  problem: string;
}

/**
 * A pipeline whose SQL does not bind to its relations and parameters: an unknown column, a type
 * error, a parameter the batch key does not give or one it gives that the SQL never uses. Found when
 * the configuration loads for a run (`landfall config`, the local stack, packaging), never at run time.
 */
export class SqlBindingError extends LandfallError {
  override readonly name = 'SqlBindingError';
  readonly code = 'CONFIG_SQL_INVALID';
  constructor(
    readonly problems: SqlProblem[],
    /** the pipeline's folder: files are named relative to it */
    readonly dir?: string,
    /** the configuration file, once known */
    readonly configFile?: string,
  ) {
    super(sqlBindingMessage(problems, dir, configFile));
  }

  /** The same error, naming the configuration file it is in. */
  inFile(file: string): SqlBindingError {
    return this.configFile ? this : new SqlBindingError(this.problems, this.dir, file);
  }
}

/** A file as its configuration names it: relative to the pipeline's folder when inside it. */
function shownFile(file: string, dir: string | undefined): string {
  const inside = dir ? relative(dir, file) : '';
  return inside && !inside.startsWith('..') && !isAbsolute(inside) ? inside : file;
}

/** `jobs[0].stages[0].sql: job J, stage S, sql/j.v1.sql:12: <problem>`, continuation lines indented. */
export function describeProblem(p: SqlProblem, dir?: string): string {
  const where = `${shownFile(p.file, dir)}${p.line ? `:${p.line}` : ''}`;
  const text = p.problem
    .split('\n')
    .filter((l, i, all) => l.trim() !== '' || all[i - 1]?.trim() !== '')
    .map((l, i) => (i === 0 || l.trim() === '' ? l.trim() : `    ${l}`))
    .join('\n');
  return `${p.field}: job ${p.job}, stage ${p.stage}, ${where}: ${text}`;
}

function sqlBindingMessage(problems: SqlProblem[], dir: string | undefined, configFile: string | undefined): string {
  const head = `invalid pipeline configuration${configFile ? ` ${configFile}` : ''}: `;
  if (problems.length === 1) return `${head}${describeProblem(problems[0]!, dir)}`;
  return `${head}${problems.length} SQL stages do not bind:\n${problems.map((p) => `  ${describeProblem(p, dir)}`).join('\n')}`;
}

/** The line of the first `$name` in the text (1-based), if any. */
function lineOfParameter(sql: string, name: string): number | undefined {
  const at = new RegExp(`\\$${name}\\b`).exec(sql);
  return at ? sql.slice(0, at.index).split('\n').length : undefined;
}

/** At most this many of DuckDB's "Candidate functions" are kept (it lists every overload of `+`). */
const CANDIDATES_SHOWN = 6;

/**
 * DuckDB's message with its "LINE n:" (a line of the statement run) made the file's line, the caret
 * kept under the same character, and a long list of candidate functions cut short. `line` undefined:
 * DuckDB points outside the text (at the statement around it), and the excerpt is left out.
 */
function duckDbProblem(message: string, line: number | undefined): string {
  let text = message.replace(/(\n\t[^\n]*)+/, (list) => {
    // "\tCandidate functions:", then one line per candidate
    const [head, ...items] = list.split('\n').slice(1);
    return items.length > CANDIDATES_SHOWN ? `\n${[head, ...items.slice(0, CANDIDATES_SHOWN)].join('\n')}\n\t… ${items.length - CANDIDATES_SHOWN} more` : list;
  });
  text = text.replace(/\bLINE (\d+):([^\n]*)(\n *\^)?/, (all, _n: string, excerpt: string, caret?: string) => {
    if (line === undefined) return '(at the end of the SQL: is it unfinished?)';
    const label = `LINE ${line}:`;
    const shift = label.length - (all.indexOf(':') + 1);
    const movedCaret = caret ? `\n${' '.repeat(Math.max(0, caret.length - 2 + shift))}^` : '';
    return `${label}${excerpt}${movedCaret}`;
  });
  return text.trimEnd();
}

export interface StageToBind {
  job: string;
  stage: string;
  field: string;
  /** the SQL file, absolute */
  file: string;
  /** relation → an empty Parquet file of its columns */
  inputs: Record<string, string>;
  /** the batch key values the stage is bound with (before `date` becomes `batch_date`) */
  values: Record<string, string>;
  /** where its (empty) result is written */
  outputPath: string;
}

/**
 * Binds one SQL stage exactly as the transform runs it (runSqlTransform, the same views and
 * parameters), over empty inputs: DuckDB resolves every column, type and function, and reads no
 * data. Returns the problem, or null when the stage binds (its empty result is at outputPath).
 */
export async function bindSqlStage(conn: DuckDBConnection, stage: StageToBind): Promise<SqlProblem | null> {
  const at = { job: stage.job, stage: stage.stage, field: stage.field, file: stage.file };
  let sql: string;
  try {
    sql = await loadSql(stage.file);
  } catch (err) {
    return { ...at, problem: `cannot read the SQL file: ${(err as Error).message}` };
  }
  const params = sqlParams(stage.values);
  try {
    const inputs = Object.fromEntries(Object.entries(stage.inputs).map(([relation, path]) => [relation, [path]]));
    await runSqlTransform(conn, { sql, inputs, params, outputPath: stage.outputPath });
    return null;
  } catch (err) {
    return { ...at, ...parameterOrSqlProblem(err, sql, stage.values) };
  }
}

/** The problem a failed bind reports: a parameter mismatch in words, else DuckDB's own message at the file's line. */
function parameterOrSqlProblem(err: unknown, sql: string, values: Record<string, string>): { line?: number; problem: string } {
  const mismatch =
    err instanceof LandfallError && err.code === 'TRANSFORM_REQUEST_INVALID' ? (err as { parameters?: ParameterMismatch }).parameters : undefined;
  if (mismatch) return parameterProblem(mismatch, sql, values);
  const message = err instanceof Error ? err.message : String(err);
  const reported = (err as { sqlLine?: unknown }).sqlLine;
  if (typeof reported !== 'number') return { problem: duckDbProblem(message, undefined) };
  // past the text's last line: DuckDB points at the statement around it (an unfinished SQL)
  const last = sql.trimEnd().split('\n').length;
  const line = Math.min(Math.max(reported, 1), last);
  return { line, problem: duckDbProblem(message, line === reported ? line : undefined) };
}

interface ParameterMismatch {
  missing: string[];
  unused: string[];
}

function parameterProblem({ missing, unused }: ParameterMismatch, sql: string, values: Record<string, string>): { line?: number; problem: string } {
  const key = Object.keys(values);
  const given = Object.keys(sqlParams(values)).map((p) => `$${p}`);
  const parts: string[] = [];
  if (missing.length > 0)
    parts.push(
      `the SQL uses ${missing.map((p) => `$${p}`).join(', ')}, which the job does not give: its parameters are its batch key fields (${key.join(', ')}), as ${given.join(', ')}`,
    );
  if (unused.length > 0)
    parts.push(
      `the SQL never uses ${unused.map((p) => `$${p}`).join(', ')}: every batch key field is bound as a parameter and the SQL must use each (to select or write the batch's partition), or the field leaves the batch key`,
    );
  const line = missing.length > 0 ? lineOfParameter(sql, missing[0]!) : undefined;
  return { ...(line ? { line } : {}), problem: `parameters do not match: ${parts.join('; ')}` };
}
