import { describe, expect, it } from 'vitest';
import { parsePipelineConfig } from '../../shared/core/config/parse-config';
import { retailConfig } from '../../examples/retail/config';
const pipelineConfig = retailConfig();
import { compilePipeline, resolveLandingKey } from '../../shared/core/config/load-config';
import { ConfigError } from '../../shared/core/errors';
import { thrown } from '../support/thrown';

const clone = () => structuredClone(pipelineConfig) as unknown as Record<string, any>;

function fieldOf(mutate: (c: Record<string, any>) => void): string {
  const config = clone();
  mutate(config);
  return thrown(ConfigError, () => parsePipelineConfig(config)).field;
}

describe('pipeline configuration', () => {
  it('accepts the bundled configuration with at least 3 provinces', () => {
    const parsed = parsePipelineConfig(pipelineConfig);
    expect(Object.keys(parsed.lookups.stores!).length).toBeGreaterThanOrEqual(3);
    expect(parsed.datasets.map((d) => d.name)).toEqual(['pos', 'item_master', 'click_events', 'orders', 'customers', 'products', 'stores']);
    expect(parsed.jobs.map((j) => [j.name, j.engine])).toEqual([
      ['pos_daily_sales', 'auto'],
      ['clickstream_daily', 'emr'],
    ]);
  });

  it.each([
    ['an unknown column kind', (c: any) => (c.datasets[0].columns[2].kind = 'datetime'), 'datasets[0].columns[2].kind'],
    ['a decimal without scale', (c: any) => delete c.datasets[0].columns[4].scale, 'datasets[0].columns[4].scale'],
    ['a malformed key pattern', (c: any) => (c.datasets[1].keyPattern = 'master/{date:YYYYMMDD/Item.csv'), 'datasets[1].keyPattern'],
    ['a partition that is not a key field', (c: any) => (c.datasets[0].partitionBy = ['region']), 'datasets[0].partitionBy[0]'],
    ['an unsafe column name', (c: any) => (c.datasets[0].columns[0].name = 'id; DROP TABLE x'), 'datasets[0].columns[0].name'],
    ['a bad-row ratio above 1', (c: any) => (c.datasets[0].maxBadRowRatio = 1.5), 'datasets[0].maxBadRowRatio'],
    ['the old provinces table', (c: any) => (c.provinces = { ON: 5 }), 'provinces'],
    ['a folder key field that is not a partition', (c: any) => (c.datasets[0].partitionBy = []), 'datasets[0].partitionBy'],
    ['a lookup value that is neither count nor list', (c: any) => (c.lookups.stores.ON = { a: 1 }), 'lookups.stores.ON'],
    ['a cumulative input without its member field', (c: any) => delete c.jobs[0].inputs[0].newestPer, 'jobs[0].inputs[0].mode'],
    ['an input naming both a dataset and a job', (c: any) => (c.jobs[0].inputs[1].job = 'clickstream_daily'), 'jobs[0].inputs[1]'],
    [
      'reading a job that writes several tables',
      (c: any) => c.jobs[0].inputs.push({ relation: 'clicks', job: 'clickstream_daily', match: ['date'] }),
      'jobs[0].inputs[2].job',
    ],
    ['a job named like a dataset', (c: any) => (c.jobs[1].name = 'orders'), 'jobs[1].name'],
    ['an emr stage without a Spark module', (c: any) => delete c.jobs[1].stages[0].spark, 'jobs[1].stages[0].spark'],
    ['an unknown field', (c: any) => (c.datasets[0].schema = {}), 'datasets[0].schema'],
    ['a duplicate dataset', (c: any) => (c.datasets[1].name = 'pos'), 'datasets[1].name'],
    ['a delimiter of two characters', (c: any) => (c.datasets[0].format.delimiter = ';;'), 'datasets[0].format.delimiter'],
    ['equalsKeyField naming no key field', (c: any) => (c.datasets[0].columns[0].equalsKeyField = 'shop'), 'datasets[0].columns[0].equalsKeyField'],
    [
      'a timestamp equalsKeyField naming a key field that is not a date',
      (c: any) => (c.datasets[2].columns[4].equalsKeyField = 'part'),
      'datasets[2].columns[4].equalsKeyField',
    ],
    ['a load of a table the job does not write', (c: any) => (c.jobs[0].load = [{ table: 'nope' }]), 'jobs[0].load[0].table'],
    [
      'a load of a metric table the job does not write',
      (c: any) => (c.jobs[1].load = [{ table: 'gmv_daily' }, { table: 'gmv_weekly' }]),
      'jobs[1].load[1].table',
    ],
    [
      'a duplicate output column',
      (c: any) =>
        (c.jobs[1].output.tables.gmv_daily = {
          key: ['date'],
          columns: [
            { name: 'gmv', type: 'bigint' },
            { name: 'gmv', type: 'bigint' },
          ],
        }),
      'jobs[1].output.tables.gmv_daily.columns[1].type',
    ],
    [
      'a decimal scale above its precision',
      (c: any) => (c.jobs[1].output.tables.gmv_daily = { key: ['date'], columns: { gmv: 'decimal(5,7)' } }),
      'jobs[1].output.tables.gmv_daily.columns.gmv',
    ],
  ])('rejects %s, naming the field', (_name, mutate, field) => {
    expect(fieldOf(mutate)).toBe(field);
  });

  it('resolves landing keys to datasets and captured fields', () => {
    const pipeline = compilePipeline(pipelineConfig);
    expect(resolveLandingKey(pipeline, 'pos/ON/ON01_20261123_140000.tdf')).toMatchObject({
      kind: 'matched',
      dataset: { name: 'pos' },
      fields: { province: 'ON', store: 'ON01', date: '2026-11-23', time: '14:00:00' },
    });
    expect(resolveLandingKey(pipeline, 'master/20261123/Item.csv')).toMatchObject({
      kind: 'matched',
      dataset: { name: 'item_master' },
      fields: { date: '2026-11-23' },
    });
    expect(resolveLandingKey(pipeline, 'pos/ZZ/ZZ01_20261123_140000.tdf')).toMatchObject({
      kind: 'rejected',
      reason: expect.stringContaining('"ZZ" is not one of'),
    });
    expect(resolveLandingKey(pipeline, 'pos/ON/ON01_20260230_140000.tdf')).toMatchObject({
      kind: 'rejected',
      reason: expect.stringContaining('not a calendar date'),
    });
    expect(resolveLandingKey(pipeline, 'pos/ON/ON01_20261123_250000.tdf')).toMatchObject({
      kind: 'rejected',
      reason: expect.stringContaining('not a time of day'),
    });
    expect(resolveLandingKey(pipeline, 'pos/ON/readme.txt')).toMatchObject({ kind: 'unrecognised' });
    expect(resolveLandingKey(pipeline, 'master/20261123/Item.csv.bak')).toMatchObject({ kind: 'unrecognised' });
  });
});
