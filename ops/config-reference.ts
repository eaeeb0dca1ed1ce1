/**
 * The configuration reference (docs/configuration.md), generated from the pipeline's JSON Schema
 * (shared/core/config/pipeline.schema.json): one section per object of the configuration, a table of its
 * fields, and the schema's examples as YAML. `npm run docs:config` rewrites the file;
 * `npm run docs:config -- --check` only says whether it is up to date. The configuration's TypeScript types come from
 * the same schema (ops/config-types.ts).
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Document, visit } from 'yaml';
import { writeOrCheck } from './generated-file';

/** The parts of a JSON Schema (draft 2020-12) the reference reads. */
export interface JsonSchema {
  $schema?: string;
  $ref?: string;
  $defs?: Record<string, JsonSchema>;
  title?: string;
  description?: string;
  type?: string | string[];
  enum?: unknown[];
  const?: unknown;
  default?: unknown;
  examples?: unknown[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  propertyNames?: JsonSchema;
  dependentRequired?: Record<string, string[]>;
  items?: JsonSchema;
  minItems?: number;
  minLength?: number;
  pattern?: string;
  minimum?: number;
  maximum?: number;
  oneOf?: JsonSchema[];
  anyOf?: JsonSchema[];
  allOf?: JsonSchema[];
  if?: JsonSchema;
  then?: JsonSchema;
  else?: JsonSchema;
  not?: JsonSchema;
}

const ROOT = resolve(import.meta.dirname, '..');
export const SCHEMA_FILE = resolve(ROOT, 'shared/core/config/pipeline.schema.json');
export const REFERENCE_FILE = resolve(ROOT, 'docs/configuration.md');

/** GitHub's anchor for a heading. */
function slug(heading: string): string {
  return heading
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, '')
    .replace(/ /g, '-');
}

const code = (value: unknown) => `\`${JSON.stringify(value)}\``;

/** Text for one table cell: one line, pipes escaped. */
const cell = (text: string) => text.replace(/\s*\n\s*/g, ' ').replace(/\|/g, '\\|');

/** The definitions that get a section of their own (objects and choices between them). */
function isSection(def: JsonSchema): boolean {
  return def.type === 'object' || def.oneOf !== undefined;
}

function headingOf(name: string, def: JsonSchema): string {
  return def.title ?? name;
}

class Reference {
  private readonly defs: Record<string, JsonSchema>;

  constructor(private readonly schema: JsonSchema) {
    this.defs = schema.$defs ?? {};
  }

  private defOf(ref: string): [string, JsonSchema] {
    const name = ref.replace(/^#\/\$defs\//, '');
    const def = this.defs[name];
    if (!def) throw new Error(`the schema has no definition ${ref}`);
    return [name, def];
  }

  /** A link to a definition's section (or to the value types). */
  private link(ref: string): string {
    const [name, def] = this.defOf(ref);
    const title = headingOf(name, def);
    return isSection(def) ? `[${title}](#${slug(title)})` : `[${title}](#value-types)`;
  }

  /** The type of a value, in words. */
  typeOf(s: JsonSchema): string {
    if (s.$ref) return this.link(s.$ref);
    if (s.const !== undefined) return code(s.const);
    if (s.enum) return s.enum.map(code).join(', ');
    if (s.oneOf ?? s.anyOf) return (s.oneOf ?? s.anyOf)!.map((o) => this.typeOf(o)).join(' or ');
    const types = Array.isArray(s.type) ? s.type : s.type ? [s.type] : [];
    if (types.length > 1) return types.join(' or ');
    switch (types[0]) {
      case 'array':
        return `list of ${s.items ? this.typeOf(s.items) : 'values'}${s.minItems ? ` (at least ${s.minItems})` : ''}`;
      case 'object': {
        if (s.properties) return 'object';
        const key = s.propertyNames ? this.typeOf(s.propertyNames) : 'text';
        const value = typeof s.additionalProperties === 'object' ? this.typeOf(s.additionalProperties) : 'value';
        return `map of ${key} → ${value}`;
      }
      case 'integer':
      case 'number':
        return `${types[0]}${this.range(s)}`;
      case 'string':
        return s.pattern ? `string matching \`${s.pattern}\`` : s.minLength ? 'non-empty string' : 'string';
      default:
        return types[0] ?? 'any';
    }
  }

  private range(s: JsonSchema): string {
    if (s.minimum !== undefined && s.maximum !== undefined) return ` (${s.minimum}–${s.maximum})`;
    if (s.minimum !== undefined) return ` ≥ ${s.minimum}`;
    if (s.maximum !== undefined) return ` ≤ ${s.maximum}`;
    return '';
  }

  /** Fields an object requires only in some cases (a choice, a dependency, a condition's outcome). */
  private conditionallyRequired(s: JsonSchema): Set<string> {
    const names = new Set<string>();
    const walk = (sub: JsonSchema, top: boolean) => {
      if (!top) sub.required?.forEach((n) => names.add(n));
      Object.values(sub.dependentRequired ?? {}).forEach((list) => list.forEach((n) => names.add(n)));
      // not `if` (a condition) nor `not` (a prohibition)
      for (const child of [...(sub.oneOf ?? []), ...(sub.anyOf ?? []), ...(sub.allOf ?? []), sub.then, sub.else]) if (child) walk(child, false);
    };
    walk(s, true);
    return names;
  }

  /** The table of an object's fields. */
  fields(s: JsonSchema): string[] {
    const required = new Set(s.required ?? []);
    const conditional = this.conditionallyRequired(s);
    const rows = Object.entries(s.properties ?? {}).map(([name, p]) => {
      const req = required.has(name) ? 'yes' : conditional.has(name) ? 'conditional' : 'no';
      const def = p.default !== undefined ? code(p.default) : '';
      return `| \`${name}\` | ${cell(this.typeOf(p))} | ${req} | ${cell(def)} | ${cell(p.description ?? '')} |`;
    });
    return ['| Field | Type | Required | Default | Description |', '| --- | --- | --- | --- | --- |', ...rows];
  }

  /** A section for the whole file, an object, or a choice between values. */
  section(level: number, title: string, s: JsonSchema): string[] {
    const lines = [`${'#'.repeat(level)} ${title}`, ''];
    if (s.description) lines.push(s.description, '');
    if (s.properties) {
      lines.push(...this.fields(s), '');
    } else if (s.oneOf) {
      lines.push('One of:', '', ...s.oneOf.map((o) => `- ${this.typeOf(o)}${o.$ref || !o.description ? '' : `: ${o.description}`}`), '');
    }
    if (s.examples?.length) {
      lines.push(s.examples.length > 1 ? 'Examples:' : 'Example:', '');
      for (const example of s.examples) lines.push('```yaml', yamlOf(example).trimEnd(), '```', '');
    }
    return lines;
  }

  /** The scalar definitions (identifier, HH:MM, …), in one table. */
  valueTypes(): string[] {
    const rows = Object.entries(this.defs)
      .filter(([, def]) => !isSection(def))
      .map(([name, def]) => {
        const rule = def.pattern
          ? `matches \`${def.pattern}\``
          : def.type === 'integer' || def.type === 'number'
            ? this.range(def)
                .trim()
                .replace(/^\((.*)\)$/, '$1')
            : def.minLength
              ? 'non-empty'
              : '';
        return `| ${cell(headingOf(name, def))} | ${cell(Array.isArray(def.type) ? def.type.join(' or ') : (def.type ?? ''))} | ${cell(rule)} | ${cell(def.description ?? '')} |`;
      });
    return ['## Value types', '', '| Name | Type | Rule | Description |', '| --- | --- | --- | --- |', ...rows, ''];
  }

  render(): string {
    const sections = Object.entries(this.defs).filter(([, def]) => isSection(def));
    // "Precondition: present" nests under "Precondition"
    const levelOf = (title: string) => (title.includes(': ') && sections.some(([n, d]) => headingOf(n, d) === title.split(': ')[0]) ? 3 : 2);
    const title = this.schema.title ?? 'Pipeline';
    const contents = [title, ...sections.map(([n, d]) => headingOf(n, d)), 'Value types'].map((t) => `${levelOf(t) === 3 ? '  ' : ''}- [${t}](#${slug(t)})`);
    const lines = [
      '# Configuration reference',
      '',
      '<!-- Generated from shared/core/config/pipeline.schema.json by `npm run docs:config` (ops/config-reference.ts): edit the schema, not this file. -->',
      '> Generated from [`shared/core/config/pipeline.schema.json`](../shared/core/config/pipeline.schema.json) by `npm run docs:config`; edit the schema and regenerate, not this file.',
      '',
      'A pipeline is a folder: a configuration file (YAML, or JSON) and the SQL files and Spark modules it names by paths relative to it. ' +
        'Name the schema at the top of the file for completion and checks in your editor (`$schema: path/to/pipeline.schema.json`, or in YAML the comment `# yaml-language-server: $schema=path/to/pipeline.schema.json`). ' +
        '`landfall config --config FILE` validates a configuration and prints its effective form. ' +
        'A complete example is [`examples/retail/pipeline.yaml`](../examples/retail/pipeline.yaml).',
      '',
      'The schema checks the shape of each object; `landfall` also checks what refers to what (key fields of the key pattern, inputs named by preconditions, lookups, files that exist) and names the offending field.',
      '',
      ...SQL_CONTRACT,
      '## Contents',
      '',
      ...contents,
      '',
      ...this.section(2, title, this.schema),
    ];
    for (const [name, def] of sections) {
      const heading = headingOf(name, def);
      lines.push(...this.section(levelOf(heading), heading, def));
    }
    lines.push(...this.valueTypes());
    return `${lines.join('\n').trimEnd()}\n`;
  }
}

/**
 * The SQL contract and its check (shared/stages/catalog/pipeline-binding.ts): not in the schema,
 * which sees a SQL stage as a file name. Kept in step with docs/define-a-pipeline.md ("The SQL").
 */
const SQL_CONTRACT = [
  '## SQL is checked when the configuration loads',
  '',
  "`landfall config` (and `landfall up`, `run`, `demo`, `npm run build`, `npm run package`) binds every SQL stage of every `duckdb` or `auto` job to its relations and its parameters, in one in-process DuckDB over empty files of each relation's columns (no data is read). " +
    "An unknown column, a type error, a parameter the SQL uses that the batch key does not give, or one the batch key gives that the SQL never uses is a configuration error (exit 2) naming the job, the stage, the SQL file and its line, with DuckDB's message:",
  '',
  '```',
  'landfall: invalid pipeline configuration /…/pipeline.yaml: jobs[0].stages[1].sql: job shop_daily, stage totals, sql/shop_totals.v1.sql:5: Binder Error: Referenced column "amount_due" not found in FROM clause!',
  '    Candidate bindings: "amount", "item_id", "source_key"',
  '',
  '    LINE 5:        CAST(sum(amount_due) AS DECIMAL(38, 2)) AS total,',
  '                            ^',
  '```',
  '',
  'What a SQL stage reads:',
  '',
  '- **Parameters**: every batch key field, as `$field` (`date` is `$batch_date`), bound as a string (dates `YYYY-MM-DD`, times `HH:MM:SS`; cast where a type is needed: `CAST($day AS DATE)`). The SQL uses each one and no other: the transform binds exactly the batch key.',
  "- **A dataset relation**: the dataset's columns in order, typed (string VARCHAR, integer BIGINT, decimal DECIMAL(p,s), …), then `key_<field>` for each key pattern field (VARCHAR, a date as `YYYY-MM-DD`), `source_key` and `source_version_id`. The partition folders are no columns.",
  "- **A job relation**: the upstream job's output columns, as its last SQL stage writes them (a Spark job's: its `output.columns`).",
  "- **Stages** do not chain: each reads the job's inputs and writes the batch's partition; the last stage's result is the job's output.",
  "- **The output**: the partition path comes from the batch key (`output.partitionBy`), no column is needed for it; `output.key` and a load's `key` name columns of the result or partition fields.",
  '',
  'Errors that need data (a string that does not cast) are found at run time. Spark stages are not checked.',
  '',
];

/** YAML for an example: short collections inline, as a person writes them. */
function yamlOf(value: unknown): string {
  const doc = new Document(value);
  const inline = (node: { toJSON(): unknown; flow?: boolean }, depth: number) => {
    if ((depth > 1 || Array.isArray(value)) && JSON.stringify(node.toJSON()).length <= 72) node.flow = true;
  };
  visit(doc, {
    Map: (_key, node, path) => inline(node, path.length),
    Seq: (_key, node, path) => inline(node, path.length),
    // a time of day is quoted, as YAML 1.1 readers take 06:00 for a number
    Scalar: (_key, node) => {
      if (typeof node.value === 'string' && /^\d+:\d+$/.test(node.value)) node.type = 'QUOTE_DOUBLE';
    },
  });
  return doc.toString({ lineWidth: 0, flowCollectionPadding: false });
}

/** The reference for a schema (the whole Markdown file). */
export function configurationReference(schema: JsonSchema): string {
  return new Reference(schema).render();
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const schema = JSON.parse(readFileSync(SCHEMA_FILE, 'utf8')) as JsonSchema;
  const text = configurationReference(schema);
  writeOrCheck(REFERENCE_FILE, text, 'npm run docs:config');
}
