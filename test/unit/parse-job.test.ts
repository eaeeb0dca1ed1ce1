import { describe, expect, it } from 'vitest';
import { datasetShape, jobShape, parseJob, upstreamJobsOf, type JobContext, type SourceShape } from '../../shared/core/config/parse-job';
import type { DatasetConfig, JobConfig } from '../../shared/core/config/types';
import { ConfigError } from '../../shared/core/errors';
import { thrown } from '../support/thrown';

/* parseJob on its own: a hand-made context (datasets, lookups, upstream jobs), no pipeline file. */

const dataset = (over: Partial<DatasetConfig> & Pick<DatasetConfig, 'name' | 'keyPattern'>): DatasetConfig => ({
  format: { kind: 'delimited', delimiter: ',' },
  columns: [{ name: 'id', kind: 'string' }],
  partitionBy: [],
  dateField: 'date',
  maxBadRowRatio: 0.5,
  ...over,
});

const DATASETS = [
  dataset({
    name: 'pos',
    keyPattern: 'pos/{province}/{store}_{date:YYYYMMDD}_{time:HHMMSS}.tdf',
    partitionBy: ['province'],
    keyFieldValues: { province: ['ON', 'QC'] },
  }),
  dataset({ name: 'item_master', keyPattern: 'master/{date:YYYYMMDD}/Item.csv' }),
  dataset({
    name: 'store_manifest',
    keyPattern: 'manifests/{province}/{date:YYYYMMDD}.csv',
    partitionBy: ['province'],
    columns: [{ name: 'store', kind: 'string' }],
    manifest: { column: 'store', kind: 'lists' },
  }),
  dataset({ name: 'notes', keyPattern: 'notes/{province}/{date:YYYYMMDD}.csv', partitionBy: ['province'] }),
  dataset({ name: 'events', keyPattern: 'events/{day:YYYYMMDD}/{part}.jsonl', format: { kind: 'jsonl' }, dateField: 'day' }),
];

function context(upstream: Record<string, SourceShape> = {}): JobContext {
  const datasets = new Map(DATASETS.map((d) => [d.name, d]));
  return {
    lookups: { stores: { ON: ['ON01', 'ON02'], QC: ['QC01'] }, regions: ['EAST', 'WEST'], counts: { ON: 2, QC: 1 }, partial: { ON: 2 } },
    datasets,
    datasetShapes: new Map(DATASETS.map((d) => [d.name, datasetShape(d)])),
    shapeOfJob: (name) => upstream[name],
    file: (path, field) => {
      if (path.includes('missing')) throw new ConfigError(field, `no file ${path}`);
      return `/pipeline/${path}`;
    },
  };
}

type Raw = Record<string, any>;

/** A daily job over the store files and the item master, as a pipeline file writes it. */
const daily = (): Raw => ({
  name: 'pos_daily',
  batchKey: ['province', 'date'],
  inputs: [
    { relation: 'sales', dataset: 'pos', match: ['province', 'date'] },
    { relation: 'items', dataset: 'item_master', match: ['date'] },
  ],
  preconditions: [{ kind: 'present', input: 'items' }],
  stages: [{ name: 'aggregate', sql: 'sql/aggregate.v1.sql' }],
  output: { table: 'daily_sales', partitionBy: ['province', 'date'], key: ['store_id'] },
});

const parse = (raw: Raw, ctx = context()) => parseJob(raw, 'jobs[0]', ctx);

function errorOf(mutate: (job: Raw) => void, ctx = context()): ConfigError {
  const raw = daily();
  mutate(raw);
  return thrown(ConfigError, () => parse(raw, ctx));
}

describe('a job as written', () => {
  it("is read with the loader's defaults: sources, append mode, DuckDB, the inputs' date field, a settle window, resolved stage files", () => {
    expect(parse(daily())).toEqual({
      name: 'pos_daily',
      settleSeconds: 10,
      batchKey: ['province', 'date'],
      dateField: 'date',
      inputs: [
        { relation: 'sales', dataset: 'pos', source: 'pos', match: ['province', 'date'], mode: 'append' },
        { relation: 'items', dataset: 'item_master', source: 'item_master', match: ['date'], mode: 'append' },
      ],
      preconditions: [{ kind: 'present', input: 'items' }],
      engine: 'duckdb',
      onCodeChange: 'manual',
      stages: [{ name: 'aggregate', sql: '/pipeline/sql/aggregate.v1.sql' }],
      output: { table: 'daily_sales', partitionBy: ['province', 'date'], key: ['store_id'] },
    });
  });

  it('accepts its own effective form back (source and dateField as the loader derives them)', () => {
    const raw = daily();
    raw.inputs[0].source = 'pos';
    raw.dateField = 'date';
    expect(parse(raw).inputs[0]!.source).toBe('pos');
  });

  it('makes an input with newestPer and newestBy cumulative', () => {
    const raw = daily();
    Object.assign(raw.inputs[0], { newestPer: 'store', newestBy: 'time' });
    expect(parse(raw).inputs[0]).toEqual({
      relation: 'sales',
      dataset: 'pos',
      source: 'pos',
      match: ['province', 'date'],
      mode: 'cumulative',
      newestPer: 'store',
      newestBy: 'time',
    });
  });

  it('reads freshness, cut-off and the auto threshold', () => {
    const raw = daily();
    raw.freshness = { deadline: '18:00', timeZone: 'America/Toronto', dayOffset: 1 };
    raw.cutoff = { at: '20:30', timeZone: 'UTC' };
    raw.autoThresholdBytes = 0;
    const job = parse(raw);
    expect(job.freshness).toEqual({ deadline: '18:00', timeZone: 'America/Toronto', dayOffset: 1 });
    expect(job.cutoff).toEqual({ at: '20:30', timeZone: 'UTC' });
    expect(job.autoThresholdBytes).toBe(0);
  });

  it("reads another job's partitions as an input, under the job's name", () => {
    const upstream: SourceShape = { keyFields: ['province', 'date'], dateField: 'date', listed: { province: ['ON', 'QC'] } };
    const raw: Raw = {
      name: 'weekly',
      batchKey: ['province', 'date'],
      inputs: [{ relation: 'daily', job: 'pos_daily', match: ['province', 'date'] }],
      stages: [{ name: 'roll_up', sql: 'roll_up.v2.sql' }],
      output: { table: 'weekly_sales', partitionBy: ['province', 'date'], key: ['store_id'] },
    };
    expect(parse(raw, context({ pos_daily: upstream })).inputs).toEqual([
      { relation: 'daily', job: 'pos_daily', source: 'pos_daily', match: ['province', 'date'], mode: 'append' },
    ]);
    raw.inputs[0].match = ['province', 'date', 'store'];
    expect(() => parse(raw, context({ pos_daily: upstream }))).toThrow(
      'jobs[0].inputs[0].match[2]: "store" is not a key field of job pos_daily\'s batch key (province, date)',
    );
  });

  it('counts by a lookup that has a count for every listed value of the batch key field', () => {
    const raw = daily();
    raw.preconditions = [
      { kind: 'minDistinct', input: 'sales', field: 'store', count: { lookup: 'stores', by: 'province' } },
      { kind: 'minDistinct', input: 'sales', field: 'store', count: { lookup: 'regions' } },
      { kind: 'minDistinct', input: 'sales', field: 'store', count: 3 },
      { kind: 'minTotalBytes', input: 'sales', bytes: 1024 },
      { kind: 'newerThanLastRun' },
    ];
    expect(parse(raw).preconditions).toEqual([
      { kind: 'minDistinct', input: 'sales', field: 'store', count: { lookup: 'stores', by: 'province' } },
      { kind: 'minDistinct', input: 'sales', field: 'store', count: { lookup: 'regions' } },
      { kind: 'minDistinct', input: 'sales', field: 'store', count: 3 },
      { kind: 'minTotalBytes', input: 'sales', bytes: 1024 },
      { kind: 'newerThanLastRun' },
    ]);
  });

  it('checks parts against a manifest input', () => {
    const raw = daily();
    raw.inputs.push({ relation: 'manifest', dataset: 'store_manifest', match: ['province', 'date'] });
    raw.preconditions = [{ kind: 'manifest', input: 'sales', manifest: 'manifest', field: 'store' }];
    expect(parse(raw).preconditions).toEqual([{ kind: 'manifest', input: 'sales', manifest: 'manifest', field: 'store' }]);
  });
});

describe('a job that cannot be used', () => {
  it.each<[string, (j: Raw) => void, string, string]>([
    ['an input naming a dataset and a job', (j) => (j.inputs[0].job = 'other'), 'jobs[0].inputs[0]', 'an input names either a dataset or a job'],
    ['an input naming neither', (j) => delete j.inputs[0].dataset, 'jobs[0].inputs[0]', 'an input names either a dataset or a job'],
    [
      'an unknown dataset',
      (j) => (j.inputs[0].dataset = 'poss'),
      'jobs[0].inputs[0].dataset',
      'no dataset named "poss" (datasets: pos, item_master, store_manifest, notes, events)',
    ],
    ['an unknown upstream job', (j) => (j.inputs[1] = { relation: 'up', job: 'nope', match: ['date'] }), 'jobs[0].inputs[1].job', 'no job named "nope"'],
    [
      'a source other than the dataset',
      (j) => (j.inputs[0].source = 'item_master'),
      'jobs[0].inputs[0].source',
      'must be "pos" (the dataset it names), or left out',
    ],
    [
      'an unknown input field',
      (j) => (j.inputs[0].filter = 'x'),
      'jobs[0].inputs[0].filter',
      'unknown field (allowed: relation, dataset, job, source, match, mode, newestPer, newestBy)',
    ],
    [
      'a match on a field the dataset does not have',
      (j) => (j.inputs[1].match = ['date', 'province']),
      'jobs[0].inputs[1].match[1]',
      '"province" is not a key field of dataset item_master (date)',
    ],
    ['a match outside the batch key', (j) => j.inputs[0].match.push('store'), 'jobs[0].inputs[0].match[2]', '"store" is not in batchKey'],
    [
      'a match without the date field',
      (j) => (j.inputs[0].match = ['province']),
      'jobs[0].inputs[0].match',
      'must include the date field "date" of dataset pos',
    ],
    [
      'a cumulative input without its order',
      (j) => Object.assign(j.inputs[0], { mode: 'cumulative', newestPer: 'store' }),
      'jobs[0].inputs[0].mode',
      'cumulative files need newestPer (the member) and newestBy (the key field that orders its files)',
    ],
    [
      'newestPer on an append input',
      (j) => Object.assign(j.inputs[0], { mode: 'append', newestPer: 'store', newestBy: 'time' }),
      'jobs[0].inputs[0].newestPer',
      'only a cumulative input keeps the newest file per member',
    ],
    [
      'newestBy naming no key field',
      (j) => Object.assign(j.inputs[0], { newestPer: 'store', newestBy: 'hour' }),
      'jobs[0].inputs[0].newestBy',
      '"hour" is not a key field of dataset pos (province, store, date, time)',
    ],
    ['an unknown mode', (j) => (j.inputs[0].mode = 'latest'), 'jobs[0].inputs[0].mode', 'expected one of append, cumulative, got "latest"'],
    ['a duplicate relation', (j) => (j.inputs[1].relation = 'sales'), 'jobs[0].inputs[1].relation', 'duplicate relation "sales"'],
    ['no inputs', (j) => (j.inputs = []), 'jobs[0].inputs', 'a job needs at least one input'],
    ['an empty batch key', (j) => (j.batchKey = []), 'jobs[0].batchKey', 'a batch key needs at least one field'],
    [
      'inputs with different date fields',
      (j) => {
        j.batchKey.push('day');
        j.inputs.push({ relation: 'ev', dataset: 'events', match: ['day'] });
      },
      'jobs[0].inputs',
      "the inputs' date fields differ (date, day): a batch has one date",
    ],
    ["a dateField other than the inputs'", (j) => (j.dateField = 'day'), 'jobs[0].dateField', 'must be "date" (the inputs\' date field), or left out'],
    [
      'a batch key field one input does not match and none lists',
      (j) => (j.inputs[0] = { relation: 'notes', dataset: 'notes', match: ['province', 'date'] }),
      'jobs[0].inputs[1].match',
      'batch key "province" is neither matched nor listed (keyFieldValues) by any input',
    ],
    [
      'an unknown precondition',
      (j) => (j.preconditions = [{ kind: 'complete', input: 'sales' }]),
      'jobs[0].preconditions[0].kind',
      'expected one of minDistinct, present, newerThanLastRun, minTotalBytes, manifest, got "complete"',
    ],
    [
      'a precondition on no input',
      (j) => (j.preconditions = [{ kind: 'present', input: 'stores' }]),
      'jobs[0].preconditions[0].input',
      'no input with relation "stores"',
    ],
    [
      'newerThanLastRun with an input',
      (j) => (j.preconditions = [{ kind: 'newerThanLastRun', input: 'sales' }]),
      'jobs[0].preconditions[0].input',
      'unknown field (allowed: kind)',
    ],
    [
      'a distinct count of a field the input lacks',
      (j) => (j.preconditions = [{ kind: 'minDistinct', input: 'items', field: 'store', count: 1 }]),
      'jobs[0].preconditions[0].field',
      '"store" is not a key field of item_master',
    ],
    [
      'a count of zero',
      (j) => (j.preconditions = [{ kind: 'minDistinct', input: 'sales', field: 'store', count: 0 }]),
      'jobs[0].preconditions[0].count',
      'expected an integer from 1 to 1000000, got 0',
    ],
    [
      'a count from an unknown lookup',
      (j) => (j.preconditions = [{ kind: 'minDistinct', input: 'sales', field: 'store', count: { lookup: 'shops' } }]),
      'jobs[0].preconditions[0].count.lookup',
      'no lookup named "shops" (lookups: stores, regions, counts, partial)',
    ],
    [
      'a count by a field outside the batch key',
      (j) => (j.preconditions = [{ kind: 'minDistinct', input: 'sales', field: 'store', count: { lookup: 'counts', by: 'store' } }]),
      'jobs[0].preconditions[0].count.by',
      '"store" is not in batchKey',
    ],
    [
      'a count by a field from a list lookup',
      (j) => (j.preconditions = [{ kind: 'minDistinct', input: 'sales', field: 'store', count: { lookup: 'regions', by: 'province' } }]),
      'jobs[0].preconditions[0].count.lookup',
      'lookup "regions" is a list; counting by province needs a map from each province to its count',
    ],
    [
      'a count lookup missing a listed value',
      (j) => (j.preconditions = [{ kind: 'minDistinct', input: 'sales', field: 'store', count: { lookup: 'partial', by: 'province' } }]),
      'jobs[0].preconditions[0].count.lookup',
      'lookup "partial" has no entry for province "QC"',
    ],
    [
      'negative minTotalBytes',
      (j) => (j.preconditions = [{ kind: 'minTotalBytes', input: 'sales', bytes: -1 }]),
      'jobs[0].preconditions[0].bytes',
      `expected an integer from 0 to ${Number.MAX_SAFE_INTEGER}, got -1`,
    ],
    [
      'a manifest precondition over a dataset that is no manifest',
      (j) => (j.preconditions = [{ kind: 'manifest', input: 'sales', manifest: 'items', field: 'store' }]),
      'jobs[0].preconditions[0].manifest',
      'input "items" reads item_master, which is not a manifest dataset (declare manifest: { column, kind })',
    ],
    ['an unknown engine', (j) => (j.engine = 'spark'), 'jobs[0].engine', 'expected one of duckdb, emr, auto, got "spark"'],
    [
      'an unversioned SQL file',
      (j) => (j.stages[0].sql = 'sql/aggregate.sql'),
      'jobs[0].stages[0].sql',
      '"sql/aggregate.sql" is not a versioned SQL file (<name>.v<N>.sql: a new version re-runs the batches it changes)',
    ],
    ['a SQL file that is not there', (j) => (j.stages[0].sql = 'sql/missing.v1.sql'), 'jobs[0].stages[0].sql', 'no file sql/missing.v1.sql'],
    [
      'a Spark module in a duckdb job',
      (j) => (j.stages[0].spark = 'spark/aggregate.py'),
      'jobs[0].stages[0].spark',
      'a duckdb job runs SQL stages only (engine auto runs either)',
    ],
    [
      'SQL in an emr job',
      (j) => {
        j.engine = 'emr';
        j.stages[0].spark = 'spark/aggregate.py';
      },
      'jobs[0].stages[0].sql',
      'an emr job runs Spark stages only (engine auto runs either)',
    ],
    ['an auto job without its Spark module', (j) => (j.engine = 'auto'), 'jobs[0].stages[0].spark', 'expected a non-empty string, got nothing'],
    [
      'a Spark stage that is not Python',
      (j) => {
        j.engine = 'auto';
        j.stages[0].spark = 'spark/aggregate.scala';
      },
      'jobs[0].stages[0].spark',
      '"spark/aggregate.scala" is not a Python module (.py)',
    ],
    ['no stages', (j) => (j.stages = []), 'jobs[0].stages', 'a job needs at least one stage'],
    [
      'a duplicate stage',
      (j) => j.stages.push({ name: 'aggregate', sql: 'sql/aggregate_more.v1.sql' }),
      'jobs[0].stages[1].name',
      'duplicate stage "aggregate"',
    ],
    ['a partition that is no batch key field', (j) => j.output.partitionBy.push('store'), 'jobs[0].output.partitionBy[2]', '"store" is not in batchKey'],
    [
      'a batch key field that is no partition',
      (j) => (j.output.partitionBy = ['province']),
      'jobs[0].output.partitionBy',
      'must include every batch key field; "date" is missing',
    ],
    ['an output without key columns', (j) => (j.output.key = []), 'jobs[0].output.key', 'the output needs key columns'],
    ['several tables from a SQL job', (j) => (j.output.tables = { a: ['id'] }), 'jobs[0].output.tables', 'only an emr job writes several tables'],
    [
      'declared columns in a SQL job',
      (j) => (j.output.columns = { id: 'string' }),
      'jobs[0].output.columns',
      "a SQL job's columns are its SQL's: only an emr job declares them",
    ],
    [
      'a load of a table the job does not write',
      (j) => (j.load = [{ table: 'weekly_sales' }]),
      'jobs[0].load[0].table',
      'the job writes no table "weekly_sales" (it writes daily_sales)',
    ],
    ['a load without key columns', (j) => (j.load = [{ table: 'daily_sales', key: [] }]), 'jobs[0].load[0].key', 'a load needs key columns'],
    [
      'an unknown load mode',
      (j) => (j.load = [{ table: 'daily_sales', mode: 'upsert' }]),
      'jobs[0].load[0].mode',
      'expected one of replace, merge, got "upsert"',
    ],
    [
      'a freshness deadline that is no time',
      (j) => (j.freshness = { deadline: '6pm', timeZone: 'UTC' }),
      'jobs[0].freshness.deadline',
      '"6pm" is not a local time HH:MM',
    ],
    [
      'a cut-off written like a deadline',
      (j) => (j.cutoff = { deadline: '20:30', timeZone: 'UTC' }),
      'jobs[0].cutoff.deadline',
      'unknown field (allowed: at, timeZone, dayOffset)',
    ],
    [
      'a fractional auto threshold',
      (j) => (j.autoThresholdBytes = 1.5),
      'jobs[0].autoThresholdBytes',
      `expected an integer from 0 to ${Number.MAX_SAFE_INTEGER}, got 1.5`,
    ],
    [
      'an unknown job field',
      (j) => (j.schedule = 'daily'),
      'jobs[0].schedule',
      'unknown field (allowed: name, freshness, cutoff, settleSeconds, batchKey, dateField, inputs, preconditions, engine, onCodeChange, autoThresholdBytes, spark, stages, output, load, checks)',
    ],
  ])('rejects %s, naming the field', (_what, mutate, field, problem) => {
    const err = errorOf(mutate);
    expect({ field: err.field, problem: err.problem }).toEqual({ field, problem });
    expect(err.message).toBe(`invalid pipeline configuration: ${field}: ${problem}`);
  });

  it("refuses to read a job that writes several tables, with the upstream's own reason", () => {
    const upstream: SourceShape = {
      keyFields: ['date'],
      dateField: 'date',
      listed: {},
      notReadable: "job clicks writes several tables (a, b); a job reads a single-table job's partitions",
    };
    const err = errorOf((j) => (j.inputs[1] = { relation: 'clicks', job: 'clicks', match: ['date'] }), context({ clicks: upstream }));
    expect(err.field).toBe('jobs[0].inputs[1].job');
    expect(err.problem).toBe(upstream.notReadable);
  });
});

describe("a Spark job's tables and columns", () => {
  const emr = (output: Raw, load?: Raw[]): Raw => {
    const raw = daily();
    raw.engine = 'emr';
    raw.stages = [{ name: 'aggregate', spark: 'spark/aggregate.py' }];
    raw.output = { ...raw.output, ...output };
    if (load) raw.load = load;
    return raw;
  };

  it('reads several tables, each with its key and columns, and loads each by its own key', () => {
    const job = parse(
      emr({ tables: { gmv_daily: ['date'], gmv_by_store: { key: ['store_id', 'date'], columns: { store_id: 'string', gmv: 'decimal(18,2)' } } } }, [
        { table: 'gmv_by_store', mode: 'merge' },
        { table: 'gmv_daily', into: 'gmv' },
      ]),
    );
    expect(job.output.tables).toEqual({
      gmv_daily: { key: ['date'] },
      gmv_by_store: {
        key: ['store_id', 'date'],
        columns: [
          { name: 'store_id', type: 'string' },
          { name: 'gmv', type: 'decimal(18,2)' },
        ],
      },
    });
    expect(job.load).toEqual([
      { table: 'gmv_by_store', into: 'gmv_by_store', key: ['store_id', 'date'], mode: 'merge' },
      { table: 'gmv_daily', into: 'gmv', key: ['date'], mode: 'replace' },
    ]);
  });

  it('loads a single table by the output key unless the load names its own', () => {
    expect(parse(daily() as Raw).load).toBeUndefined();
    const raw = daily();
    raw.load = [{ table: 'daily_sales' }, { table: 'daily_sales', into: 'sales_by_sku', key: ['sku'] }];
    expect(parse(raw).load).toEqual([
      { table: 'daily_sales', into: 'daily_sales', key: ['store_id'], mode: 'replace' },
      { table: 'daily_sales', into: 'sales_by_sku', key: ['sku'], mode: 'replace' },
    ]);
  });

  it('does not load output.table when the job writes several tables', () => {
    expect(() => parse(emr({ tables: { a: ['date'] } }, [{ table: 'daily_sales' }]))).toThrow(
      'jobs[0].load[0].table: the job writes no table "daily_sales" (it writes a)',
    );
  });

  it('takes columns as a map or as the effective list, in file order', () => {
    const asMap = parse(emr({ columns: { store_id: 'string', units: 'bigint', day: 'date' } })).output.columns;
    const asList = parse(
      emr({
        columns: [
          { name: 'store_id', type: 'string' },
          { name: 'units', type: 'bigint' },
          { name: 'day', type: 'date' },
        ],
      }),
    ).output.columns;
    expect(asMap).toEqual([
      { name: 'store_id', type: 'string' },
      { name: 'units', type: 'bigint' },
      { name: 'day', type: 'date' },
    ]);
    expect(asList).toEqual(asMap);
  });

  it.each(['decimal(1,0)', 'decimal(38,38)', 'decimal(18,2)', 'timestamp', 'binary'])('accepts the column type %s', (type) => {
    expect(parse(emr({ columns: { v: type } })).output.columns).toEqual([{ name: 'v', type }]);
  });

  it.each(['decimal(39,2)', 'decimal(0,0)', 'decimal(5,7)', 'decimal(100,1)', 'varchar', 'String', 'array<string>', 'decimal'])(
    'refuses the column type %s',
    (type) => {
      expect(() => parse(emr({ columns: { v: type } }))).toThrow(`jobs[0].output.columns.v: "${type}" is not a column type Athena and Redshift read exactly`);
    },
  );

  it('refuses a duplicate column, an empty column list, and both tables and columns', () => {
    expect(() =>
      parse(
        emr({
          columns: [
            { name: 'a', type: 'string' },
            { name: 'a', type: 'bigint' },
          ],
        }),
      ),
    ).toThrow('jobs[0].output.columns[1].type: duplicate column "a"');
    expect(() => parse(emr({ columns: {} }))).toThrow('jobs[0].output.columns: declare at least one column');
    expect(() => parse(emr({ tables: { a: ['date'] }, columns: { a: 'string' } }))).toThrow(
      "jobs[0].output.columns: a job writing several tables declares each table's columns in output.tables",
    );
    expect(() => parse(emr({ tables: { a: { key: [] } } }))).toThrow('jobs[0].output.tables.a.key: the table needs key columns');
    expect(() => parse(emr({ tables: { 'Bad-Name': ['date'] } }))).toThrow('jobs[0].output.tables.Bad-Name: "Bad-Name" is not a lower-case identifier');
  });
});

describe('the shapes a job sees of its sources', () => {
  it("takes a dataset's key fields from its pattern, with its listed values and manifest", () => {
    expect(datasetShape(DATASETS[0]!)).toEqual({ keyFields: ['province', 'store', 'date', 'time'], dateField: 'date', listed: { province: ['ON', 'QC'] } });
    expect(datasetShape(DATASETS[2]!)).toEqual({
      keyFields: ['province', 'date'],
      dateField: 'date',
      listed: {},
      manifest: { column: 'store', kind: 'lists' },
    });
  });

  it('gives a downstream job the batch key of a job, its listed values, and why it cannot read a multi-table job', () => {
    const job = parse(daily());
    expect(jobShape(job, (_j, key) => (key === 'province' ? ['ON', 'QC'] : undefined))).toEqual({
      keyFields: ['province', 'date'],
      dateField: 'date',
      listed: { province: ['ON', 'QC'] },
    });
    const multi: JobConfig = { ...job, name: 'clicks', output: { ...job.output, tables: { a: { key: ['x'] }, b: { key: ['y'] } } } };
    expect(jobShape(multi, () => undefined).notReadable).toBe("job clicks writes several tables (a, b); a job reads a single-table job's partitions");
  });

  it('lists the upstream jobs a raw job names, before parsing it', () => {
    expect(upstreamJobsOf({ inputs: [{ dataset: 'pos' }, { job: 'a' }, { job: 'b' }, { job: 3 }] }, 'jobs[2]')).toEqual(['a', 'b']);
    expect(upstreamJobsOf({ name: 'x' }, 'jobs[2]')).toEqual([]);
    expect(() => upstreamJobsOf({ inputs: [null] }, 'jobs[2]')).toThrow('jobs[2].inputs[0]: expected an object, got null');
    expect(() => upstreamJobsOf('pos_daily', 'jobs[2]')).toThrow(ConfigError);
  });
});
