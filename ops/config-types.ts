/**
 * The TypeScript types of a configuration as its author writes it (shared/core/config/pipeline-input.generated.ts),
 * generated from the pipeline's JSON Schema (shared/core/config/pipeline.schema.json) with json-schema-to-typescript:
 * one type per definition, named after it (`$defs/dataset` → `Dataset`, `$defs/lookupCount` → `LookupCount`), the
 * whole file `Pipeline`, the schema's descriptions as their comments. shared/core/config/types.ts builds the parsed
 * model on them, so the schema stays the one description of the configuration. `npm run config:types` rewrites the
 * file; `npm run config:types -- --check` only says whether it is up to date.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { compile, type JSONSchema } from 'json-schema-to-typescript';
import { type JsonSchema, SCHEMA_FILE } from './config-reference';
import { writeOrCheck } from './generated-file';

const ROOT = resolve(import.meta.dirname, '..');
export const TYPES_FILE = resolve(ROOT, 'shared/core/config/pipeline-input.generated.ts');

/** The type a definition generates: `sparkResources` → `SparkResources`. */
export const typeNameOf = (def: string) => def.charAt(0).toUpperCase() + def.slice(1);

/** Keywords that give a value its shape; a subschema with none of them only adds rules (`{ required: [...] }`). */
const SHAPING = ['type', '$ref', 'properties', 'additionalProperties', 'items', 'const', 'enum', 'oneOf', 'anyOf', 'allOf'];
const shapes = (s: JsonSchema) => SHAPING.some((k) => k in s);

/**
 * A schema node as the generator should read it. A `$ref` becomes the name of its definition's type (with the
 * description beside it kept: the generator would otherwise make a copy of the definition for each description).
 * Rules TypeScript cannot state are left out: conditions (`if`/`then`/`else`), prohibitions (`not`), dependencies,
 * and choices between sets of required fields (an input's `dataset` or `job`); the parsers and the schema check them.
 */
function forTypes(s: JsonSchema): JSONSchema {
  if (s.$ref) return { ...(s.description ? { description: s.description } : {}), tsType: typeNameOf(s.$ref.replace(/^#\/\$defs\//, '')) };
  const out: JSONSchema = {};
  for (const [key, value] of Object.entries(s) as Array<[keyof JsonSchema, unknown]>) {
    switch (key) {
      case '$schema':
      case '$defs':
      case 'title':
      case 'examples':
      case 'propertyNames':
      case 'dependentRequired':
      case 'not':
      case 'if':
      case 'then':
      case 'else':
        break;
      case 'oneOf':
      case 'anyOf':
      case 'allOf': {
        const branches = value as JsonSchema[];
        if (branches.some(shapes)) out[key] = branches.map(forTypes);
        break;
      }
      case 'properties':
        out.properties = Object.fromEntries(Object.entries(value as Record<string, JsonSchema>).map(([name, p]) => [name, forTypes(p)]));
        break;
      case 'additionalProperties':
        out.additionalProperties = typeof value === 'object' ? forTypes(value as JsonSchema) : (value as boolean);
        break;
      case 'items':
        out.items = forTypes(value as JsonSchema);
        break;
      default:
        (out as Record<string, unknown>)[key] = value;
    }
  }
  return out;
}

const BANNER = [
  '/*',
  ' * Generated from pipeline.schema.json by `npm run config:types` (ops/config-types.ts): edit the schema, not this file.',
  ' * The configuration as its author writes it, one type per definition of the schema; types.ts derives the parsed model.',
  ' */',
].join('\n');

/** The generated file for a schema: the whole file's type (`Pipeline`), then one per definition, in the schema's order. */
export async function inputTypes(schema: JsonSchema): Promise<string> {
  const options = {
    bannerComment: '',
    additionalProperties: false,
    // a `minItems: 1` list stays a list (a tuple type would not take the parsers' arrays)
    ignoreMinAndMaxItems: true,
    unreachableDefinitions: false,
    style: { singleQuote: true, printWidth: 160, trailingComma: 'all', bracketSpacing: true },
  } as const;
  const parts = [await compile({ ...forTypes(schema), title: 'Pipeline' }, 'Pipeline', options)];
  for (const [key, def] of Object.entries(schema.$defs ?? {})) {
    const name = typeNameOf(key);
    parts.push(await compile({ ...forTypes(def), title: name }, name, options));
  }
  return `${BANNER}\n\n${parts.map((p) => p.trim()).join('\n\n')}\n`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const schema = JSON.parse(readFileSync(SCHEMA_FILE, 'utf8')) as JsonSchema;
  const text = await inputTypes(schema);
  writeOrCheck(TYPES_FILE, text, 'npm run config:types');
}
