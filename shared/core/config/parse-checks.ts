import { readFileSync } from 'node:fs';
import { ConfigError } from '../errors';
import { valuesOrLookup } from './lookups';
import type * as In from './pipeline-input.generated';
import { array, describe, fieldsOf, identifier, noUnknownKeys, number, object, oneOf, string, every, type Obj } from './parse-values';
import type { JobConfig, Lookup, OutputCheck, OutputCheckRule, OutputTable } from './types';

const CHECK_FIELDS = fieldsOf<In.Check>()(['name', 'severity', 'unique', 'notNull', 'acceptedValues', 'referential', 'rowCount', 'reconcile', 'sql', 'table']);
const RULES = every<OutputCheckRule>()(['unique', 'notNull', 'acceptedValues', 'referential', 'rowCount', 'reconcile', 'sql']);
const SEVERITIES = every<OutputCheck['severity']>()(['error', 'warn']);
const ACCEPTED_FIELDS = fieldsOf<In.AcceptedValuesCheck>()(['column', 'values']);
const REFERENTIAL_FIELDS = fieldsOf<In.ReferentialCheck>()(['column', 'relation', 'relationColumn']);
const ROW_COUNT_FIELDS = fieldsOf<In.RowCountCheck>()([
  'min',
  'max',
  'minRatioOfPrevious',
  'maxRatioOfPrevious',
  'input',
  'minRatioOfInput',
  'maxRatioOfInput',
]);
const RECONCILE_FIELDS = fieldsOf<In.ReconcileCheck>()(['output', 'input', 'tolerance']);
const RECONCILE_INPUT_FIELDS = fieldsOf<In.ReconcileCheck['input']>()(['relation', 'expression']);
const SQL_FILE_FIELDS = fieldsOf<In.SqlFile>()(['file']);

/** The relation a check's SQL reads the output as: no input of a job with checks may take this name. */
export const OUTPUT_RELATION = 'output';

/**
 * The tables of a job writing several (`output.tables`): with their keys (what `unique: true` on a
 * table means), or only their names (`unique: true` on a table must then name its columns).
 */
export type CheckTables = string[] | Record<string, Pick<OutputTable, 'key'>>;

/** What parsing a job's checks needs of the job (parsed before them) and of the configuration. */
export interface CheckContext {
  /** `tables`: the tables of a job writing several (`output.tables`): each check there names the one it reads */
  job: Pick<JobConfig, 'name' | 'engine'> & { key: string[]; relations: string[]; tables?: CheckTables };
  lookups: Record<string, Lookup>;
  /** resolves a file against the configuration's folder; throws if missing */
  file: (path: string, field: string) => string;
}

const columns = (raw: unknown, f: string) => {
  const list = array(raw, f).map((c, i) => identifier(c, `${f}[${i}]`));
  if (list.length === 0) throw new ConfigError(f, 'name at least one column');
  list.forEach((c, i) => {
    if (list.indexOf(c) !== i) throw new ConfigError(`${f}[${i}]`, `duplicate column "${c}"`);
  });
  return list;
};

function relationOf(raw: unknown, f: string, ctx: CheckContext): string {
  const name = identifier(raw, f);
  if (!ctx.job.relations.includes(name)) throw new ConfigError(f, `no input with relation "${name}" (inputs: ${ctx.job.relations.join(', ')})`);
  return name;
}

const ratio = (raw: unknown, f: string) => (raw === undefined ? undefined : number(raw, f, 0, Number.MAX_SAFE_INTEGER));
const count = (raw: unknown, f: string) => (raw === undefined ? undefined : number(raw, f, 0, Number.MAX_SAFE_INTEGER, true));
/** `{ a: undefined }` left out: the loaded configuration has only what was set. */
const defined = <T extends object>(obj: T): T => Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined)) as T;

function parseRowCount(raw: unknown, f: string, ctx: CheckContext): NonNullable<OutputCheck['rowCount']> {
  const obj = object(raw, f);
  noUnknownKeys(obj, ROW_COUNT_FIELDS, f);
  const parsed = defined({
    min: count(obj.min, `${f}.min`),
    max: count(obj.max, `${f}.max`),
    minRatioOfPrevious: ratio(obj.minRatioOfPrevious, `${f}.minRatioOfPrevious`),
    maxRatioOfPrevious: ratio(obj.maxRatioOfPrevious, `${f}.maxRatioOfPrevious`),
    input: obj.input === undefined ? undefined : relationOf(obj.input, `${f}.input`, ctx),
    minRatioOfInput: ratio(obj.minRatioOfInput, `${f}.minRatioOfInput`),
    maxRatioOfInput: ratio(obj.maxRatioOfInput, `${f}.maxRatioOfInput`),
  });
  const inputBound = parsed.minRatioOfInput !== undefined || parsed.maxRatioOfInput !== undefined;
  if (inputBound && parsed.input === undefined)
    throw new ConfigError(`${f}.input`, 'minRatioOfInput and maxRatioOfInput compare with an input: name it (its relation)');
  if (!inputBound && parsed.input !== undefined) throw new ConfigError(`${f}.input`, 'give minRatioOfInput or maxRatioOfInput to compare with this input');
  const bounds = ['min', 'max', 'minRatioOfPrevious', 'maxRatioOfPrevious', 'minRatioOfInput', 'maxRatioOfInput'] as const;
  if (!bounds.some((b) => parsed[b] !== undefined)) throw new ConfigError(f, `give at least one bound (${bounds.join(', ')})`);
  for (const [low, high] of [
    ['min', 'max'],
    ['minRatioOfPrevious', 'maxRatioOfPrevious'],
    ['minRatioOfInput', 'maxRatioOfInput'],
  ] as const) {
    if (parsed[low] !== undefined && parsed[high] !== undefined && parsed[low] > parsed[high])
      throw new ConfigError(`${f}.${low}`, `${parsed[low]} is more than ${high} (${parsed[high]}): no count passes`);
  }
  return parsed;
}

function parseSql(raw: unknown, f: string, ctx: CheckContext): string {
  if (typeof raw === 'string') return string(raw.trim(), f);
  const obj = object(raw, f);
  noUnknownKeys(obj, SQL_FILE_FIELDS, f);
  const file = string(obj.file, `${f}.file`);
  if (!file.endsWith('.sql')) throw new ConfigError(`${f}.file`, `"${file}" is not a .sql file`);
  const text = readFileSync(ctx.file(file, `${f}.file`), 'utf8').trim();
  if (text === '') throw new ConfigError(`${f}.file`, `${file} is empty`);
  return text;
}

/** The rule's parsed value and the default name it gives the check. */
function parseRule(rule: OutputCheckRule, raw: unknown, f: string, ctx: CheckContext, table: string | undefined): { value: unknown; name: string } {
  switch (rule) {
    case 'unique': {
      const cols = raw === true ? keyOf(ctx, table, f) : columns(raw, f);
      return { value: cols, name: `unique ${cols.join(', ')}` };
    }
    case 'notNull': {
      const cols = columns(raw, f);
      return { value: cols, name: `notNull ${cols.join(', ')}` };
    }
    case 'acceptedValues': {
      const obj = object(raw, f);
      noUnknownKeys(obj, ACCEPTED_FIELDS, f);
      const column = identifier(obj.column, `${f}.column`);
      const values = valuesOrLookup(obj.values, ctx.lookups, `${f}.values`);
      if (values.length === 0) throw new ConfigError(`${f}.values`, 'no value is accepted: list at least one');
      return { value: { column, values }, name: `acceptedValues ${column}` };
    }
    case 'referential': {
      const obj = object(raw, f);
      noUnknownKeys(obj, REFERENTIAL_FIELDS, f);
      const column = identifier(obj.column, `${f}.column`);
      const relation = relationOf(obj.relation, `${f}.relation`, ctx);
      const relationColumn = obj.relationColumn === undefined ? column : identifier(obj.relationColumn, `${f}.relationColumn`);
      return { value: { column, relation, relationColumn }, name: `referential ${column} in ${relation}.${relationColumn}` };
    }
    case 'rowCount':
      return { value: parseRowCount(raw, f, ctx), name: 'rowCount' };
    case 'reconcile': {
      const obj = object(raw, f);
      noUnknownKeys(obj, RECONCILE_FIELDS, f);
      const input = object(obj.input, `${f}.input`);
      noUnknownKeys(input, RECONCILE_INPUT_FIELDS, `${f}.input`);
      const value = {
        output: string(obj.output, `${f}.output`),
        input: { relation: relationOf(input.relation, `${f}.input.relation`, ctx), expression: string(input.expression, `${f}.input.expression`) },
        tolerance: number(obj.tolerance ?? 0, `${f}.tolerance`, 0, Number.MAX_SAFE_INTEGER),
      };
      return { value, name: `reconcile ${value.output} with ${value.input.relation}` };
    }
    case 'sql':
      return { value: parseSql(raw, f, ctx), name: 'sql' };
  }
}

/** The names of a multi-table job's tables (none for a job writing one). */
const tableNames = (tables: CheckTables | undefined): string[] => (tables === undefined ? [] : Array.isArray(tables) ? tables : Object.keys(tables));

/** The key `unique: true` means: the job's output key, or the named table's own. */
function keyOf(ctx: CheckContext, table: string | undefined, f: string): string[] {
  if (table === undefined) return ctx.job.key;
  const tables = ctx.job.tables;
  const key = tables && !Array.isArray(tables) ? tables[table]?.key : undefined;
  if (!key) throw new ConfigError(f, `job ${ctx.job.name}: the key of table ${table} is not known here: name the columns (unique: [col, …])`);
  return key;
}

/**
 * The table a check reads: required on a job writing several tables, and one of them; refused on a
 * job writing one (its checks read that table: there is nothing to choose).
 */
function tableOf(obj: Obj, f: string, ctx: CheckContext): string | undefined {
  const tables = tableNames(ctx.job.tables);
  if (tables.length === 0) {
    if (obj.table !== undefined)
      throw new ConfigError(`${f}.table`, `job ${ctx.job.name} writes one table: its checks read it, so a check names no table (remove \`table\`)`);
    return undefined;
  }
  if (obj.table === undefined)
    throw new ConfigError(`${f}.table`, `job ${ctx.job.name} writes several tables: name the one this check reads (one of ${tables.join(', ')})`);
  const table = identifier(obj.table, `${f}.table`);
  if (!tables.includes(table)) throw new ConfigError(`${f}.table`, `job ${ctx.job.name} writes no table "${table}" (its tables: ${tables.join(', ')})`);
  return table;
}

function parseCheck(raw: unknown, f: string, ctx: CheckContext): OutputCheck {
  const obj: Obj = object(raw, f);
  noUnknownKeys(obj, CHECK_FIELDS, f);
  const table = tableOf(obj, f, ctx);
  const rules = RULES.filter((r) => obj[r] !== undefined);
  if (rules.length !== 1)
    throw new ConfigError(
      f,
      rules.length === 0 ? `give one rule: ${RULES.join(', ')}` : `one rule per check, got ${rules.join(' and ')} (write a check for each)`,
    );
  const rule = rules[0]!;
  const { value, name } = parseRule(rule, obj[rule], `${f}.${rule}`, ctx, table);
  const given = obj.name === undefined ? undefined : string(obj.name, `${f}.name`);
  if (given !== undefined && given.length > 100) throw new ConfigError(`${f}.name`, `${given.length} characters: a check's name has at most 100`);
  return {
    // a table's checks are told apart from another table's same rule by the table's name
    name: given ?? (table === undefined ? name : `${table}: ${name}`),
    ...(table === undefined ? {} : { table }),
    severity: oneOf(obj.severity ?? 'error', `${f}.severity`, SEVERITIES),
    [rule]: value,
  } as OutputCheck;
}

/**
 * A job's `checks`: each rule's columns, relations, lookups and files checked where the
 * configuration knows them (the output's own columns are known only once its SQL runs: the run
 * names a missing one). DuckDB runs them in the transform, Spark in the EMR step (the same rules,
 * as Spark SQL: shared/core/checks/check-queries.ts); on a job writing several tables, each check
 * names the table it reads (`table`).
 */
export function parseChecks(raw: unknown, field: string, ctx: CheckContext): OutputCheck[] {
  if (ctx.job.relations.includes(OUTPUT_RELATION))
    throw new ConfigError(field, `a check reads the output as relation "${OUTPUT_RELATION}": rename the input with that relation`);
  const checks = array(raw, field).map((c, i) => parseCheck(c, `${field}[${i}]`, ctx));
  checks.forEach((c, i) => {
    const first = checks.findIndex((o) => o.name === c.name);
    if (first !== i) throw new ConfigError(`${field}[${i}].name`, `two checks are named ${describe(c.name)} (${field}[${first}] too): name them apart`);
  });
  return checks;
}
