import { ConfigError } from '../errors';
import type * as In from './pipeline-input.generated';
import { array, describe, fieldsOf, identifier, object, string, type Obj } from './parse-values';
import type { CountSpec, Lookup, PipelineConfig } from './types';

const REFERENCE_FIELDS = fieldsOf<In.LookupReference>()(['lookup']);

/** `lookups:`: each a list of strings, or a map to a number, a string or a list of strings. */
export function parseLookups(raw: unknown): Record<string, Lookup> {
  if (raw === undefined) return {};
  const lookups: Record<string, Lookup> = {};
  for (const [name, value] of Object.entries(object(raw, 'lookups'))) {
    const field = `lookups.${name}`;
    identifier(name, field);
    if (Array.isArray(value)) {
      lookups[name] = value.map((v, i) => string(v, `${field}[${i}]`));
      continue;
    }
    const map: Record<string, number | string | string[]> = {};
    for (const [key, entry] of Object.entries(object(value, field))) {
      const f = `${field}.${key}`;
      if (typeof entry === 'number' && Number.isInteger(entry) && entry >= 0) map[key] = entry;
      else if (typeof entry === 'string' && entry !== '') map[key] = entry;
      else if (Array.isArray(entry)) map[key] = entry.map((v, i) => string(v, `${f}[${i}]`));
      else throw new ConfigError(f, `expected a whole number, a string or a list of strings, got ${describe(entry)}`);
    }
    lookups[name] = map;
  }
  return lookups;
}

/** The lookup a reference names; an unknown name is an error on the referring field. */
export function lookupNamed(lookups: Record<string, Lookup>, name: unknown, field: string): { name: string; lookup: Lookup } {
  const text = string(name, field);
  const lookup = lookups[text];
  if (!lookup) throw new ConfigError(field, `no lookup named "${text}" (lookups: ${Object.keys(lookups).join(', ') || 'none'})`);
  return { name: text, lookup };
}

/** A list, or `{ lookup: NAME }`: a list lookup's items or a map lookup's keys. */
export function valuesOrLookup(raw: unknown, lookups: Record<string, Lookup>, field: string): string[] {
  if (Array.isArray(raw)) return array(raw, field).map((v, i) => string(v, `${field}[${i}]`));
  const ref = object(raw, field) as Obj;
  if (Object.keys(ref).some((k) => !(REFERENCE_FIELDS as readonly string[]).includes(k))) throw new ConfigError(field, 'expected a list or { lookup: NAME }');
  const { lookup } = lookupNamed(lookups, ref.lookup, `${field}.lookup`);
  return Array.isArray(lookup) ? [...lookup] : Object.keys(lookup);
}

/** A map lookup whose every value is a list (members per group). */
export function listsLookup(lookups: Record<string, Lookup>, name: unknown, field: string): Record<string, string[]> {
  const { name: text, lookup } = lookupNamed(lookups, name, field);
  if (Array.isArray(lookup)) throw new ConfigError(field, `lookup "${text}" is a list; members need a map from each group to its list`);
  const lists: Record<string, string[]> = {};
  for (const [key, value] of Object.entries(lookup)) {
    if (!Array.isArray(value)) throw new ConfigError(field, `lookup "${text}" maps ${key} to ${describe(value)}, not to a list`);
    lists[key] = value;
  }
  return lists;
}

/** How many a lookup value stands for: a number as is, a list by its length. */
function countOf(value: number | string | string[] | undefined): number | undefined {
  if (typeof value === 'number') return value;
  if (Array.isArray(value)) return value.length;
  if (typeof value === 'string' && /^\d+$/.test(value)) return Number(value);
  return undefined;
}

/**
 * The count a `minDistinct` needs for one batch, or a reason it has none (the batch's value has no
 * entry in the lookup: it can never be complete, and says why).
 */
export function requiredCount(
  config: Pick<PipelineConfig, 'lookups'>,
  spec: CountSpec,
  values: Record<string, string>,
): { count: number } | { problem: string } {
  if (typeof spec === 'number') return { count: spec };
  const lookup = config.lookups[spec.lookup];
  if (!lookup) return { problem: `no lookup named ${spec.lookup}` };
  if (!spec.by) return { count: Array.isArray(lookup) ? lookup.length : Object.keys(lookup).length };
  const key = values[spec.by];
  const count = Array.isArray(lookup) || key === undefined ? undefined : countOf(lookup[key]);
  return count === undefined ? { problem: `lookup ${spec.lookup} has no count for ${spec.by} ${key ?? '(none)'}` } : { count };
}

/** The values a count stands for, when it is a list (to name the missing ones). */
export function expectedValues(config: Pick<PipelineConfig, 'lookups'>, spec: CountSpec, values: Record<string, string>): string[] | undefined {
  if (typeof spec === 'number') return undefined;
  const lookup = config.lookups[spec.lookup];
  if (!lookup) return undefined;
  if (!spec.by) return Array.isArray(lookup) ? lookup : undefined;
  if (Array.isArray(lookup)) return undefined;
  const value = lookup[values[spec.by] ?? ''];
  return Array.isArray(value) ? value : undefined;
}
