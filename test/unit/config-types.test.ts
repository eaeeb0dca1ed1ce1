import { readFileSync } from 'node:fs';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { type JsonSchema, SCHEMA_FILE } from '../../ops/config-reference';
import { inputTypes, TYPES_FILE, typeNameOf } from '../../ops/config-types';
import { every, fieldsOf } from '../../shared/core/config/parse-values';
import type * as In from '../../shared/core/config/pipeline-input.generated';
import type { ColumnKind, DatasetConfig, JobConfig, JobInput, OutputTable, PipelineConfig, WarehouseLoad } from '../../shared/core/config/types';

const schema = JSON.parse(readFileSync(SCHEMA_FILE, 'utf8')) as JsonSchema;

describe('pipeline-input.generated.ts', () => {
  it('is what the generator makes of the schema (npm run config:types)', async () => {
    expect(readFileSync(TYPES_FILE, 'utf8'), 'out of date: run npm run config:types (npx tsx ops/config-types.ts)').toBe(await inputTypes(schema));
  });

  it('has one type per definition, each named after it', async () => {
    const names = Object.keys(schema.$defs ?? {}).map(typeNameOf);
    expect(new Set([...names, 'Pipeline']).size).toBe(names.length + 1);
    const text = readFileSync(TYPES_FILE, 'utf8');
    for (const name of ['Pipeline', ...names]) expect(text, name).toMatch(new RegExp(`^export (interface|type) ${name}\\b`, 'm'));
  });
});

// Checked by tsc (npm run typecheck): the loaded model has the schema's fields, and the parsers' lists are the schema's.
describe('the loaded configuration types', () => {
  it('have the fields of the schema, defaults filled in', () => {
    expectTypeOf<keyof PipelineConfig>().toEqualTypeOf<keyof In.Pipeline>();
    expectTypeOf<PipelineConfig['lookups']>().toEqualTypeOf<NonNullable<In.Pipeline['lookups']>>();
    expectTypeOf<keyof DatasetConfig>().toEqualTypeOf<keyof In.Dataset>();
    expectTypeOf<DatasetConfig['maxBadRowRatio']>().toEqualTypeOf<number>();
    // members are loaded with their values, a lookup resolved
    expectTypeOf<keyof NonNullable<DatasetConfig['members']>>().toEqualTypeOf<Exclude<keyof In.Members, 'lookup'>>();
    expectTypeOf<keyof JobConfig>().toEqualTypeOf<keyof In.Job>();
    expectTypeOf<JobConfig['engine']>().toEqualTypeOf<NonNullable<In.Job['engine']>>();
    expectTypeOf<keyof JobConfig['output']>().toEqualTypeOf<keyof In.Output>();
    expectTypeOf<keyof JobInput>().toEqualTypeOf<keyof In.Input>();
    expectTypeOf<JobInput['source']>().toEqualTypeOf<string>();
    expectTypeOf<keyof WarehouseLoad>().toEqualTypeOf<keyof In.Load>();
    expectTypeOf<WarehouseLoad['mode']>().toEqualTypeOf<NonNullable<In.Load['mode']>>();
    expectTypeOf<keyof OutputTable>().toEqualTypeOf<'key' | 'columns'>();
    expectTypeOf<ColumnKind>().toEqualTypeOf<In.Column['kind']>();
  });

  it("make a parser's list of fields or values that is not the schema's a compile error", () => {
    expect(fieldsOf<In.Manifest>()(['column', 'kind'])).toEqual(['column', 'kind']);
    // @ts-expect-error a field of the schema's object missing from the list
    fieldsOf<In.Manifest>()(['column']);
    // @ts-expect-error a field the schema's object lacks
    fieldsOf<In.Manifest>()(['column', 'kind', 'per']);
    // @ts-expect-error a value of the schema's enum missing from the list
    every<ColumnKind>()(['string', 'integer', 'decimal', 'date']);
  });
});
