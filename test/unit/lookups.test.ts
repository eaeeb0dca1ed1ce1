import { describe, expect, it } from 'vitest';
import { expectedValues, listsLookup, lookupNamed, parseLookups, requiredCount, valuesOrLookup } from '../../shared/core/config/lookups';
import type { Lookup } from '../../shared/core/config/types';
import { ConfigError } from '../../shared/core/errors';
import { thrown } from '../support/thrown';

const lookups: Record<string, Lookup> = {
  stores: { ON: ['ON01', 'ON02', 'ON03'], QC: ['QC01'] },
  counts: { ON: 5, QC: 0, BC: '4', NS: 'four' },
  regions: ['EAST', 'WEST'],
};
const config = { lookups };

function configError(run: () => unknown): ConfigError {
  return thrown(ConfigError, run);
}

describe('reading lookups', () => {
  it('takes lists of strings and maps to counts, strings and lists', () => {
    expect(parseLookups(undefined)).toEqual({});
    expect(parseLookups({ regions: ['EAST'], counts: { ON: 5, QC: 0 }, names: { ON: 'Ontario' }, stores: { ON: ['ON01'] } })).toEqual({
      regions: ['EAST'],
      counts: { ON: 5, QC: 0 },
      names: { ON: 'Ontario' },
      stores: { ON: ['ON01'] },
    });
  });

  it.each([
    ['a negative count', { counts: { ON: -1 } }, 'lookups.counts.ON'],
    ['a fractional count', { counts: { ON: 1.5 } }, 'lookups.counts.ON'],
    ['an empty string', { names: { ON: '' } }, 'lookups.names.ON'],
    ['a nested map', { names: { ON: { a: 1 } } }, 'lookups.names.ON'],
    ['a boolean', { flags: { ON: true } }, 'lookups.flags.ON'],
    ['a list item that is no string', { regions: ['EAST', 3] }, 'lookups.regions[1]'],
    ['an empty list item', { stores: { ON: ['ON01', ''] } }, 'lookups.stores.ON[1]'],
    ['a name that is no identifier', { Regions: ['EAST'] }, 'lookups.Regions'],
    ['a lookup that is neither list nor map', { regions: 'EAST' }, 'lookups.regions'],
  ])('refuses %s, naming the field', (_what, raw, field) => {
    expect(configError(() => parseLookups(raw)).field).toBe(field);
  });

  it('names the known lookups when a reference names none of them', () => {
    expect(lookupNamed(lookups, 'regions', 'f')).toEqual({ name: 'regions', lookup: ['EAST', 'WEST'] });
    expect(configError(() => lookupNamed(lookups, 'region', 'jobs[0].count.lookup')).message).toBe(
      'invalid pipeline configuration: jobs[0].count.lookup: no lookup named "region" (lookups: stores, counts, regions)',
    );
    expect(configError(() => lookupNamed({}, 'region', 'f')).problem).toBe('no lookup named "region" (lookups: none)');
  });
});

describe('values from a list or a lookup', () => {
  it("takes a list as written, a list lookup's items, or a map lookup's keys", () => {
    expect(valuesOrLookup(['ON', 'QC'], lookups, 'f')).toEqual(['ON', 'QC']);
    expect(valuesOrLookup({ lookup: 'regions' }, lookups, 'f')).toEqual(['EAST', 'WEST']);
    expect(valuesOrLookup({ lookup: 'stores' }, lookups, 'f')).toEqual(['ON', 'QC']);
  });

  it('gives a copy: changing it leaves the lookup alone', () => {
    const values = valuesOrLookup({ lookup: 'regions' }, lookups, 'f');
    values.push('NORTH');
    expect(lookups.regions).toEqual(['EAST', 'WEST']);
  });

  it('refuses anything else', () => {
    expect(configError(() => valuesOrLookup({ lookup: 'regions', sorted: true }, lookups, 'datasets[0].keyFieldValues.region')).problem).toBe(
      'expected a list or { lookup: NAME }',
    );
    expect(configError(() => valuesOrLookup({ lookup: 'nope' }, lookups, 'k')).field).toBe('k.lookup');
    expect(configError(() => valuesOrLookup('ON', lookups, 'k')).field).toBe('k');
    expect(configError(() => valuesOrLookup(['ON', 1], lookups, 'k')).field).toBe('k[1]');
  });

  it('takes members from a map lookup of lists only', () => {
    expect(listsLookup(lookups, 'stores', 'm')).toEqual({ ON: ['ON01', 'ON02', 'ON03'], QC: ['QC01'] });
    expect(configError(() => listsLookup(lookups, 'regions', 'm')).problem).toBe('lookup "regions" is a list; members need a map from each group to its list');
    expect(configError(() => listsLookup(lookups, 'counts', 'm')).problem).toBe('lookup "counts" maps ON to 5, not to a list');
  });
});

describe('the count a minDistinct needs', () => {
  it('is a number as written', () => {
    expect(requiredCount(config, 3, {})).toEqual({ count: 3 });
  });

  it('is the size of a lookup without `by`', () => {
    expect(requiredCount(config, { lookup: 'regions' }, {})).toEqual({ count: 2 });
    expect(requiredCount(config, { lookup: 'stores' }, {})).toEqual({ count: 2 });
  });

  it("is looked up by the batch's value: a number, a list's length, or a string of digits", () => {
    expect(requiredCount(config, { lookup: 'counts', by: 'province' }, { province: 'ON' })).toEqual({ count: 5 });
    expect(requiredCount(config, { lookup: 'counts', by: 'province' }, { province: 'QC' })).toEqual({ count: 0 });
    expect(requiredCount(config, { lookup: 'counts', by: 'province' }, { province: 'BC' })).toEqual({ count: 4 });
    expect(requiredCount(config, { lookup: 'stores', by: 'province' }, { province: 'ON' })).toEqual({ count: 3 });
  });

  it('is a problem, saying why, when the batch has no count', () => {
    expect(requiredCount(config, { lookup: 'counts', by: 'province' }, { province: 'NS' })).toEqual({ problem: 'lookup counts has no count for province NS' });
    expect(requiredCount(config, { lookup: 'counts', by: 'province' }, { province: 'PE' })).toEqual({ problem: 'lookup counts has no count for province PE' });
    expect(requiredCount(config, { lookup: 'counts', by: 'province' }, {})).toEqual({ problem: 'lookup counts has no count for province (none)' });
    expect(requiredCount(config, { lookup: 'regions', by: 'province' }, { province: 'ON' })).toEqual({
      problem: 'lookup regions has no count for province ON',
    });
    expect(requiredCount(config, { lookup: 'gone', by: 'province' }, { province: 'ON' })).toEqual({ problem: 'no lookup named gone' });
  });

  it('does not take an inherited property of the map for a count', () => {
    expect(requiredCount(config, { lookup: 'counts', by: 'province' }, { province: 'constructor' })).toEqual({
      problem: 'lookup counts has no count for province constructor',
    });
  });
});

describe('the values a count stands for', () => {
  it('names the listed values, when the count is a list', () => {
    expect(expectedValues(config, { lookup: 'regions' }, {})).toEqual(['EAST', 'WEST']);
    expect(expectedValues(config, { lookup: 'stores', by: 'province' }, { province: 'ON' })).toEqual(['ON01', 'ON02', 'ON03']);
  });

  it('names none when the count is a number, or the lookup has no list for the batch', () => {
    expect(expectedValues(config, 3, {})).toBeUndefined();
    expect(expectedValues(config, { lookup: 'stores' }, {})).toBeUndefined();
    expect(expectedValues(config, { lookup: 'counts', by: 'province' }, { province: 'ON' })).toBeUndefined();
    expect(expectedValues(config, { lookup: 'stores', by: 'province' }, { province: 'PE' })).toBeUndefined();
    expect(expectedValues(config, { lookup: 'regions', by: 'province' }, { province: 'ON' })).toBeUndefined();
    expect(expectedValues(config, { lookup: 'gone' }, {})).toBeUndefined();
  });
});
