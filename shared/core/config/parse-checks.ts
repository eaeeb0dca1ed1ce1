import { readFileSync } from 'node:fs';
import { ConfigError } from '../errors';
import { valuesOrLookup } from './lookups';
import type * as In from './pipeline-input.generated';
import { array, describe, fieldsOf, identifier, noUnknownKeys, number, object, oneOf, string, every, type Obj } from './parse-values';
import type { JobConfig, Lookup, OutputCheck, OutputCheckRule } from './types';

const CHECK_FIELDS = fieldsOf<In.Check>()(['name', 'severity', 'unique', 'notNull', 'acceptedValues', 'referential', 'rowCount', 'reconcile', 'sql']);
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

/** What parsing a job's checks needs of the job (parsed before them) and of the configuration. */
export interface CheckContext {
  /** `tables`: the tables of a job writing several (`output.tables`), which has no one output to check */
  job: Pick<JobConfig, 'name' | 'engine'> & { key: string[]; relations: string[]; tables?: string[] };
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
function parseRule(rule: OutputCheckRule, raw: unknown, f: string, ctx: CheckContext): { value: unknown; name: string } {
  switch (rule) {
    case 'unique': {
      const cols = raw === true ? ctx.job.key : columns(raw, f);
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

function parseCheck(raw: unknown, f: string, ctx: CheckContext): OutputCheck {
  const obj: Obj = object(raw, f);
  noUnknownKeys(obj, CHECK_FIELDS, f);
  const rules = RULES.filter((r) => obj[r] !== undefined);
  if (rules.length !== 1)
    throw new ConfigError(
      f,
      rules.length === 0 ? `give one rule: ${RULES.join(', ')}` : `one rule per check, got ${rules.join(' and ')} (write a check for each)`,
    );
  const rule = rules[0]!;
  const { value, name } = parseRule(rule, obj[rule], `${f}.${rule}`, ctx);
  const given = obj.name === undefined ? undefined : string(obj.name, `${f}.name`);
  if (given !== undefined && given.length > 100) throw new ConfigError(`${f}.name`, `${given.length} characters: a check's name has at most 100`);
  return {
    name: given ?? name,
    severity: oneOf(obj.severity ?? 'error', `${f}.severity`, SEVERITIES),
    [rule]: value,
  } as OutputCheck;
}

/**
 * A job's `checks`: each rule's columns, relations, lookups and files checked where the
 * configuration knows them (the output's own columns are known only once its SQL runs: the run
 * names a missing one). DuckDB runs them in the transform, Spark in the EMR step (the same rules,
 * as Spark SQL: shared/core/checks/check-queries.ts); a job writing several tables has no one
 * output, so it may not declare any.
 */
export function parseChecks(raw: unknown, field: string, ctx: CheckContext): OutputCheck[] {
  if (ctx.job.tables && ctx.job.tables.length > 0)
    throw new ConfigError(
      field,
      `job ${ctx.job.name} writes several tables (${ctx.job.tables.join(', ')}): checks read one output, so they are not available on such a job yet (see docs/checks.md)`,
    );
  if (ctx.job.relations.includes(OUTPUT_RELATION))
    throw new ConfigError(field, `a check reads the output as relation "${OUTPUT_RELATION}": rename the input with that relation`);
  const checks = array(raw, field).map((c, i) => parseCheck(c, `${field}[${i}]`, ctx));
  checks.forEach((c, i) => {
    const first = checks.findIndex((o) => o.name === c.name);
    if (first !== i) throw new ConfigError(`${field}[${i}].name`, `two checks are named ${describe(c.name)} (${field}[${first}] too): name them apart`);
  });
  return checks;
}
