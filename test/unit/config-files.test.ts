import { mkdtemp, mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadPipelineFile } from '../../shared/core/config/load-config';
import { configErrorOf } from '../support/config-error';

/*
 * Bad configurations a user writes in their own folder: each fails with a ConfigError naming the
 * field and the file (what the CLI prints, exit code 2).
 */
const GOOD = `
lookups:
  regions: [east, west]
  parts_per_region: { east: 2, west: 3 }
datasets:
  - name: sales
    keyPattern: sales/{region}/{day:YYYYMMDD}/{part}.csv
    format: { kind: delimited, delimiter: "," }
    columns: [{ name: amount, kind: decimal, scale: 2 }]
    keyFieldValues: { region: { lookup: regions } }
    partitionBy: [region]
    dateField: day
jobs:
  - name: region_daily
    batchKey: [region, day]
    inputs: [{ relation: sales, dataset: sales, match: [region, day] }]
    preconditions:
      - { kind: minDistinct, input: sales, field: part, count: { lookup: parts_per_region, by: region } }
    stages: [{ name: sum, sql: sql/region_daily.v1.sql }]
    output: { table: region_daily, partitionBy: [region, day], key: [region] }
  - name: national_daily
    batchKey: [day]
    inputs: [{ relation: regions, job: region_daily, match: [day] }]
    preconditions: [{ kind: minDistinct, input: regions, field: region, count: { lookup: regions } }]
    stages: [{ name: sum, sql: sql/national_daily.v1.sql }]
    output: { table: national_daily, partitionBy: [day], key: [day] }
`;

async function folder(yaml: string, name = 'pipeline.yaml'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'landfall-config-'));
  await mkdir(join(dir, 'sql'));
  await writeFile(join(dir, 'sql', 'region_daily.v1.sql'), 'SELECT 1');
  await writeFile(join(dir, 'sql', 'national_daily.v1.sql'), 'SELECT 1');
  await writeFile(join(dir, name), yaml);
  return join(dir, name);
}

const errorOf = configErrorOf;

describe('configuration files', () => {
  it('loads a good one, its SQL paths resolved against its folder', async () => {
    const file = await folder(GOOD);
    const pipeline = loadPipelineFile(file);
    expect(pipeline.config.jobs.map((j) => j.stages[0]!.sql)).toEqual([
      join(file, '..', 'sql', 'region_daily.v1.sql'),
      join(file, '..', 'sql', 'national_daily.v1.sql'),
    ]);
    expect(pipeline.config.jobs[1]!.inputs[0]).toMatchObject({ job: 'region_daily', source: 'region_daily', mode: 'append' });
    expect(pipeline.readersOf.get('region_daily')!.map((r) => r.job.name)).toEqual(['national_daily']);
  });

  it.each([
    [
      'an unknown dataset in a job',
      (y: string) => y.replace('dataset: sales, match', 'dataset: sale, match'),
      'jobs[0].inputs[0].dataset',
      /no dataset named "sale"/,
    ],
    [
      'a cycle',
      (y: string) =>
        y.replace(
          'inputs: [{ relation: sales, dataset: sales, match: [region, day] }]',
          'inputs: [{ relation: sales, dataset: sales, match: [region, day] }, { relation: back, job: national_daily, match: [day] }]',
        ),
      'jobs[0]',
      /cycle: region_daily → national_daily → region_daily/,
    ],
    [
      'a missing SQL file',
      (y: string) => y.replace('sql/national_daily.v1.sql', 'sql/national.v1.sql'),
      'jobs[1].stages[0].sql',
      /file not found: .*sql\/national\.v1\.sql/,
    ],
    [
      'a lookup without the key',
      (y: string) => y.replace('parts_per_region: { east: 2, west: 3 }', 'parts_per_region: { east: 2 }'),
      'jobs[0].preconditions[0].count.lookup',
      /lookup "parts_per_region" has no entry for region "west"/,
    ],
    [
      'an unknown lookup',
      (y: string) => y.replace('{ lookup: regions } }\n    partitionBy', '{ lookup: zones } }\n    partitionBy'),
      'datasets[0].keyFieldValues.region.lookup',
      /no lookup named "zones"/,
    ],
    ['a job reading an unknown job', (y: string) => y.replace('job: region_daily', 'job: regional'), 'jobs[1].inputs[0].job', /no job named "regional"/],
    [
      'a SQL file without a version',
      (y: string) => y.replace('sql/region_daily.v1.sql', 'sql/region_daily.sql'),
      'jobs[0].stages[0].sql',
      /not a versioned SQL file/,
    ],
  ])('rejects %s, naming the field and the file', async (_name, edit, field, problem) => {
    const file = await folder(edit(GOOD));
    const err = errorOf(file);
    expect(err.field).toBe(field);
    expect(err.problem).toMatch(problem);
    expect(err.message).toContain(file);
    expect(err.message).toContain(field);
  });

  it('rejects malformed YAML with its line and column, and malformed JSON, naming the file', async () => {
    const yaml = await folder(GOOD.replace('lookups:\n  regions: [east, west]', 'lookups:\n  regions: [east, west\n  x: 1'));
    const err = errorOf(yaml);
    expect(err.message).toContain(yaml);
    expect(err.field).toMatch(/^\(line \d+, column \d+\)$/);
    expect(err.problem).toMatch(/not valid YAML/);
    const json = await folder('{ "datasets": [ }', 'pipeline.json');
    expect(errorOf(json).message).toMatch(new RegExp(`${json}: \\(json\\): not valid JSON`));
  });

  it('rejects a duplicate key in YAML rather than keeping the last', async () => {
    const file = await folder(GOOD.replace('lookups:\n', 'lookups:\n  regions: [north]\n'));
    expect(errorOf(file).problem).toMatch(/not valid YAML/);
  });
});
