import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Ajv2020, { type ErrorObject } from 'ajv/dist/2020';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { configurationReference, REFERENCE_FILE, SCHEMA_FILE, type JsonSchema } from '../../ops/config-reference';
import { loadPipelineFile } from '../../shared/core/config/load-config';
import { parsePipelineConfig } from '../../shared/core/config/parse-config';
import { ConfigError } from '../../shared/core/errors';
import { thrown } from '../support/thrown';

const ROOT = resolve(import.meta.dirname, '..', '..');
const RETAIL_DIR = join(ROOT, 'examples', 'retail');
const RETAIL_FILE = join(RETAIL_DIR, 'pipeline.yaml');

const schema = JSON.parse(readFileSync(SCHEMA_FILE, 'utf8')) as JsonSchema;
const defs = schema.$defs!;
// strict, except that a conditional `required` may name a property declared beside the condition
const ajv = new Ajv2020({ allErrors: true, strict: true, strictRequired: false, allowUnionTypes: true });
ajv.addSchema(schema, 'pipeline');
const validate = ajv.getSchema('pipeline')!;
const validateDef = (name: string) => ajv.getSchema(`pipeline#/$defs/${name}`)!;

type Config = Record<string, any>;

/** The sample pipeline as its author wrote it. */
const retailRaw = (): Config => parseYaml(readFileSync(RETAIL_FILE, 'utf8'));

/** Every object and every alternative the configuration has, in one pipeline (stage files from the samples' folder). */
const everything = (): Config => ({
  $schema: '../../shared/core/config/pipeline.schema.json',
  lookups: { stores: { ON: ['ON01', 'ON02'], QC: ['QC01'] }, regions: ['EAST', 'WEST'], parts: { EAST: 2, WEST: 1 } },
  archives: [{ keyPattern: 'partner/{partner}_{date:YYYYMMDD}.zip', maxMembers: 20, maxUnpackedBytes: 1000000, maxRatio: 50 }],
  datasets: [
    {
      name: 'sales',
      keyPattern: 'sales/{province}/{store}_{date:YYYYMMDD}_{time:HHMMSS}.csv',
      format: { kind: 'delimited', delimiter: ',', junkLinePrefix: '#' },
      columns: [
        { name: 'store_id', kind: 'string', equalsKeyField: 'store' },
        { name: 'amount', kind: 'decimal', scale: 2 },
        { name: 'code', kind: 'integer', allowed: [1, 2, 'x'] },
        { name: 'sold_at', kind: 'timestamp', equalsKeyField: 'date', nullable: true },
        { name: 'day', kind: 'date' },
      ],
      keyFieldValues: { province: { lookup: 'stores' } },
      members: { field: 'store', per: 'province', lookup: 'stores' },
      partitionBy: ['province'],
      dateField: 'date',
      maxBadRowRatio: 0.2,
    },
    {
      name: 'events',
      keyPattern: 'events/{region}/{date:YYYYMMDD}/{part}.jsonl',
      format: { kind: 'jsonl' },
      columns: [{ name: 'event_id', kind: 'string' }],
      keyFieldValues: { region: ['EAST', 'WEST'] },
      members: { field: 'part', per: 'region', values: { EAST: ['p1', 'p2'], WEST: ['p1'] } },
      partitionBy: ['region'],
      dateField: 'date',
    },
    {
      name: 'event_manifests',
      keyPattern: 'manifests/{region}/{date:YYYYMMDD}.tsv',
      format: { kind: 'delimited', delimiter: '\t' },
      columns: [{ name: 'part', kind: 'string' }],
      manifest: { column: 'part', kind: 'lists' },
      keyFieldValues: { region: { lookup: 'regions' } },
      partitionBy: ['region'],
      dateField: 'date',
    },
    {
      name: 'legacy',
      keyPattern: 'legacy/{date:YYYY-MM-DD}/{name:TEXT}',
      format: {
        kind: 'fixedWidth',
        widths: [4, 10, 8],
        header: true,
        skipLines: 1,
        commentPrefix: '*',
        nullMarkers: ['-'],
        decimalComma: true,
        encoding: 'iso-8859-1',
        compression: 'gzip',
      },
      columns: [
        { name: 'code', kind: 'integer' },
        { name: 'booked', kind: 'date', format: 'DD.MM.YYYY' },
        { name: 'price', kind: 'decimal', scale: 2, precision: 8 },
      ],
      dateField: 'date',
    },
    {
      name: 'clicks',
      keyPattern: 'clicks/{date:YYYY/MM/DD}/{hour:HH}/{name:TEXT}',
      format: { kind: 'json', records: 'concatenated', encoding: 'utf-8', compression: 'auto' },
      schemaPolicy: 'additive',
      columns: [
        { name: 'country', kind: 'string', path: 'user.geo.country', nullable: true },
        { name: 'at', kind: 'timestamp', format: 'epochMillis' },
        { name: 'ok', kind: 'boolean' },
        { name: 'score', kind: 'double' },
        { name: 'clock', kind: 'time' },
        {
          name: 'items',
          kind: 'list',
          items: {
            kind: 'struct',
            fields: [
              { name: 'sku', kind: 'string' },
              { name: 'qty', kind: 'integer', nullable: true },
            ],
          },
          nullable: true,
        },
      ],
      partitionBy: ['hour'],
      dateField: 'date',
    },
    {
      name: 'dms_orders',
      keyPattern: 'dms/orders/{date:YYYYMMDD}/{name:TEXT}',
      format: { kind: 'parquet' },
      columns: [{ name: 'order_id', kind: 'integer' }],
      dateField: 'date',
    },
    {
      name: 'partner_orders',
      keyPattern: 'partner/{partner}_{date:YYYYMMDD}.zip!/orders.csv',
      format: {
        kind: 'delimited',
        delimiter: ';',
        quote: "'",
        escape: '\\',
        header: true,
        nullMarkers: ['\\N'],
        decimalComma: true,
        encoding: 'windows-1252',
        compression: 'none',
      },
      columns: [{ name: 'amount', kind: 'decimal', scale: 2 }],
      partitionBy: ['partner'],
      dateField: 'date',
    },
  ],
  jobs: [
    {
      name: 'sales_daily',
      freshness: { deadline: '18:00', timeZone: 'America/Toronto', dayOffset: 1 },
      cutoff: { at: '20:30', timeZone: 'America/Toronto', dayOffset: 0 },
      batchKey: ['province', 'date'],
      inputs: [{ relation: 'sales', dataset: 'sales', match: ['province', 'date'], mode: 'cumulative', newestPer: 'store', newestBy: 'time' }],
      preconditions: [
        { kind: 'minDistinct', input: 'sales', field: 'store', count: { lookup: 'stores', by: 'province' } },
        { kind: 'present', input: 'sales' },
        { kind: 'minTotalBytes', input: 'sales', bytes: 1 },
        { kind: 'newerThanLastRun' },
      ],
      engine: 'duckdb',
      stages: [{ name: 'aggregate', sql: 'sql/pos_daily_sales.v3.sql' }],
      output: { table: 'sales_daily', partitionBy: ['province', 'date'], key: ['store_id'] },
      checks: [
        { unique: true },
        { name: 'stores named', severity: 'warn', notNull: ['store_id'] },
        { acceptedValues: { column: 'province', values: { lookup: 'stores' } } },
        { referential: { column: 'store_id', relation: 'sales', relationColumn: 'store' } },
        { rowCount: { min: 1, max: 100, minRatioOfPrevious: 0.5, maxRatioOfPrevious: 2, input: 'sales', minRatioOfInput: 0, maxRatioOfInput: 1 } },
        { reconcile: { output: 'sum(amount)', input: { relation: 'sales', expression: 'sum(amount)' }, tolerance: 0.01 } },
        { name: 'no negative amounts', sql: 'SELECT * FROM output WHERE amount < 0' },
        { name: 'from a file', sql: { file: 'sql/pos_daily_sales.v1.sql' } },
      ],
    },
    {
      name: 'events_daily',
      batchKey: ['region', 'date'],
      inputs: [
        { relation: 'events', dataset: 'events', match: ['region', 'date'], mode: 'append' },
        { relation: 'manifests', dataset: 'event_manifests', match: ['region', 'date'] },
      ],
      preconditions: [
        { kind: 'manifest', input: 'events', manifest: 'manifests', field: 'part' },
        { kind: 'minDistinct', input: 'events', field: 'part', count: 2 },
        { kind: 'minDistinct', input: 'events', field: 'part', count: { lookup: 'parts', by: 'region' } },
        { kind: 'minDistinct', input: 'events', field: 'part', count: { lookup: 'regions' } },
      ],
      engine: 'auto',
      autoThresholdBytes: 1000,
      spark: { driverMemory: '1g', executorMemory: '8G', executorInstances: 10 },
      stages: [{ name: 'load', sql: 'sql/pos_daily_sales.v1.sql', spark: 'spark/clean.py' }],
      output: { table: 'events_daily', partitionBy: ['region', 'date'], key: ['event_id'] },
    },
    {
      name: 'sales_rollup',
      batchKey: ['province', 'date'],
      inputs: [{ relation: 'daily', job: 'sales_daily', match: ['province', 'date'] }],
      engine: 'emr',
      spark: {
        driverMemory: '2048m',
        driverCores: 2,
        executorMemory: '4g',
        executorCores: 4,
        executorInstances: 3,
        conf: { 'spark.sql.shuffle.partitions': 64, 'spark.sql.adaptive.enabled': true, 'spark.executor.memoryOverhead': '1g' },
      },
      stages: [{ name: 'roll', spark: 'spark/metrics.py' }],
      output: {
        table: 'rollup',
        partitionBy: ['province', 'date'],
        key: ['store_id'],
        tables: { rollup_by_store: ['store_id'], rollup_totals: { key: ['store_id'], columns: { store_id: 'string', total: 'decimal(38,2)' } } },
      },
      load: [{ table: 'rollup_totals', into: 'totals', key: ['store_id'], mode: 'merge' }],
    },
  ],
});

const parse = (config: unknown) => parsePipelineConfig(config, { baseDir: RETAIL_DIR });
/** The effective form, as `landfall config` prints it (JSON). */
const effective = (config: unknown) => JSON.parse(JSON.stringify(parse(config))) as Config;

function parserError(config: unknown): ConfigError {
  return thrown(ConfigError, () => parse(config));
}

const schemaErrors = (config: unknown): ErrorObject[] => (validate(config) ? [] : validate.errors!);

describe('pipeline.schema.json', () => {
  it('is a valid draft 2020-12 schema with a description on every property', () => {
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    const undescribed: string[] = [];
    const objectsWithoutClosure: string[] = [];
    const walk = (s: unknown, path: string) => {
      if (Array.isArray(s)) return s.forEach((x, i) => walk(x, `${path}/${i}`));
      if (typeof s !== 'object' || s === null) return;
      const node = s as JsonSchema & Record<string, unknown>;
      if (node.properties) {
        for (const [name, p] of Object.entries(node.properties)) if (!p.description?.trim()) undescribed.push(`${path}/properties/${name}`);
        if (node.additionalProperties !== false) objectsWithoutClosure.push(path);
      }
      // not into values (examples, enum, …), nor into conditions, which only add rules to an object
      const skipped = ['examples', 'properties', 'enum', 'const', 'default', 'if', 'then', 'else', 'allOf'];
      for (const [key, value] of Object.entries(node)) if (!skipped.includes(key)) walk(value, `${path}/${key}`);
      for (const [name, p] of Object.entries(node.properties ?? {})) walk(p, `${path}/properties/${name}`);
    };
    walk(schema, '#');
    expect(undescribed).toEqual([]);
    expect(objectsWithoutClosure).toEqual([]);
  });

  it('accepts the sample pipeline as written and its effective form', () => {
    expect(schemaErrors(retailRaw())).toEqual([]);
    const loaded = JSON.parse(JSON.stringify(loadPipelineFile(RETAIL_FILE).config)) as Config;
    expect(schemaErrors(loaded)).toEqual([]);
    // the effective form has what the loader derives
    expect(loaded.jobs[0].dateField).toBe('date');
    expect(loaded.jobs[0].inputs[0].source).toBe('pos');
    expect(Array.isArray(loaded.datasets[0].keyFieldValues.province)).toBe(true);
  });

  it('accepts the test pipeline of another domain (test/fixtures/meters) as written and effective', () => {
    const file = join(ROOT, 'test', 'fixtures', 'meters', 'pipeline.yaml');
    expect(schemaErrors(parseYaml(readFileSync(file, 'utf8')))).toEqual([]);
    expect(schemaErrors(JSON.parse(JSON.stringify(loadPipelineFile(file).config)))).toEqual([]);
  });

  it('accepts a pipeline with every object and alternative, as written and effective', () => {
    expect(schemaErrors(everything())).toEqual([]);
    const loaded = effective(everything());
    expect(loaded.datasets[0].members.values).toEqual({ ON: ['ON01', 'ON02'], QC: ['QC01'] });
    expect(loaded.jobs[2].inputs[0].source).toBe('sales_daily');
    expect(schemaErrors(loaded)).toEqual([]);
    // and the parser takes the effective form back unchanged
    expect(effective(loaded)).toEqual(loaded);
  });

  it('accepts its own examples, and the parser accepts the whole-pipeline example', () => {
    for (const [name, def] of Object.entries(defs)) {
      for (const example of def.examples ?? []) expect(validateDef(name)(example), `${name}: ${JSON.stringify(example)}`).toBe(true);
    }
    expect(schema.examples).toHaveLength(1);
    const example = schema.examples![0] as Config;
    expect(schemaErrors(example)).toEqual([]);
    const dir = mkdtempSync(join(tmpdir(), 'landfall-schema-'));
    try {
      mkdirSync(join(dir, 'sql'));
      writeFileSync(join(dir, 'sql', 'daily_sales.v1.sql'), 'SELECT 1');
      expect(() => parsePipelineConfig(example, { baseDir: dir })).not.toThrow();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  // Each configuration the parser rejects; the schema rejects it too.
  it.each<[string, (c: Config) => void]>([
    ['an unknown field', (c) => (c.datasets[0].schema = {})],
    ['an unknown top-level field (the old provinces)', (c) => (c.provinces = { ON: 5 })],
    ['a bad engine', (c) => (c.jobs[0].engine = 'spark')],
    ['an input naming both a dataset and a job', (c) => (c.jobs[1].inputs[0].job = 'pos_daily_sales')],
    ['an input naming neither a dataset nor a job', (c) => delete c.jobs[1].inputs[0].dataset],
    ['a dataset name that is not an identifier', (c) => (c.datasets[0].name = 'Pos-Sales')],
    ['a column name that is not an identifier', (c) => (c.datasets[0].columns[0].name = 'id; DROP TABLE x')],
    ['a job name that is not an identifier', (c) => (c.jobs[0].name = 'pos daily')],
    ['a freshness deadline that is not HH:MM', (c) => (c.jobs[0].freshness.deadline = '6pm')],
    ['a freshness deadline past 23:59', (c) => (c.jobs[0].freshness.deadline = '24:00')],
    ['a cut-off that is not HH:MM', (c) => (c.jobs[0].cutoff = { at: '7:00', timeZone: 'America/Toronto' })],
    ['a day offset above 31', (c) => (c.jobs[0].freshness.dayOffset = 40)],
    ['an unknown column kind', (c) => (c.datasets[0].columns[2].kind = 'datetime')],
    ['a decimal without scale', (c) => delete c.datasets[0].columns[4].scale],
    ['a scale on a string column', (c) => (c.datasets[0].columns[1].scale = 2)],
    ['a scale above 18', (c) => (c.datasets[0].columns[4].scale = 19)],
    ['a delimiter of two characters', (c) => (c.datasets[0].format.delimiter = '; ')],
    ['a jsonl format with a delimiter', (c) => (c.datasets[2].format.delimiter = ',')],
    ['an unknown format kind', (c) => (c.datasets[2].format.kind = 'xml')],
    ['a bad-row ratio above 1', (c) => (c.datasets[0].maxBadRowRatio = 1.5)],
    ['a malformed key pattern', (c) => (c.datasets[1].keyPattern = 'master/{date:YYYYMMDD/Item.csv')],
    ['a dataset without a date field', (c) => delete c.datasets[1].dateField],
    ['a dataset without columns', (c) => (c.datasets[1].columns = [])],
    ['members with both values and a lookup', (c) => (c.datasets[0].members.values = { ON: ['ON01'] })],
    ['members with neither values nor a lookup', (c) => delete c.datasets[0].members.lookup],
    ['a keyFieldValues reference with another field', (c) => (c.datasets[0].keyFieldValues.province.by = 'x')],
    ['a keyFieldValues entry that is a string', (c) => (c.datasets[0].keyFieldValues.province = 'stores')],
    ['a lookup mapping to an object', (c) => (c.lookups.stores.ON = { a: 1 })],
    ['a lookup name that is not an identifier', (c) => (c.lookups.Stores = ['x'])],
    ['a minDistinct count of zero', (c) => (c.jobs[0].preconditions[0].count = 0)],
    ['a minDistinct count that is not whole', (c) => (c.jobs[0].preconditions[0].count = 2.5)],
    ['a count lookup with an unknown field', (c) => (c.jobs[0].preconditions[0].count.per = 'province')],
    ['an unknown precondition kind', (c) => (c.jobs[0].preconditions[0].kind = 'allStores')],
    ['newerThanLastRun naming an input', (c) => (c.jobs[0].preconditions[3].input = 'pos')],
    ['a present without its input', (c) => delete c.jobs[0].preconditions[1].input],
    ['minTotalBytes below 0', (c) => (c.jobs[0].preconditions[2].bytes = -1)],
    ['an unversioned SQL file', (c) => (c.jobs[0].stages[0].sql = 'sql/pos_daily_sales.sql')],
    ['a duckdb stage with a Spark module', (c) => (c.jobs[0].engine = 'duckdb')],
    [
      'a duckdb (by default) stage without SQL',
      (c) => {
        delete c.jobs[0].engine;
        c.jobs[0].stages[0] = { name: 'aggregate' };
      },
    ],
    ['an emr stage with SQL', (c) => (c.jobs[1].stages[0].sql = 'sql/pos_daily_sales.v1.sql')],
    ['an emr stage without a Spark module', (c) => delete c.jobs[1].stages[0].spark],
    ['an auto stage without a Spark module', (c) => delete c.jobs[0].stages[0].spark],
    ['a Spark module that is not .py', (c) => (c.jobs[1].stages[0].spark = 'spark/clean.scala')],
    ['several output tables on a duckdb job', (c) => (c.jobs[0].output.tables = { extra: ['store_id'] })],
    ['a job without stages', (c) => (c.jobs[0].stages = [])],
    ['a job without a batch key', (c) => (c.jobs[0].batchKey = [])],
    ['a job without output', (c) => delete c.jobs[0].output],
    ['an output without key columns', (c) => (c.jobs[0].output.key = [])],
    ['an output without partitions', (c) => (c.jobs[0].output.partitionBy = [])],
    ['an unknown input mode', (c) => (c.jobs[0].inputs[0].mode = 'latest')],
    ['a cumulative input without newestBy', (c) => delete c.jobs[0].inputs[0].newestBy],
    [
      'a cumulative input without newestPer or newestBy',
      (c) => {
        delete c.jobs[0].inputs[0].newestPer;
        delete c.jobs[0].inputs[0].newestBy;
      },
    ],
    ['an append input keeping the newest file', (c) => (c.jobs[0].inputs[0].mode = 'append')],
    [
      'newestPer without newestBy, mode left out',
      (c) => {
        delete c.jobs[0].inputs[0].mode;
        delete c.jobs[0].inputs[0].newestBy;
      },
    ],
    ['a negative autoThresholdBytes', (c) => (c.jobs[0].autoThresholdBytes = -5)],
    ['an unknown load mode', (c) => (c.jobs[0].load = [{ table: 'pos_daily_sales', mode: 'upsert' }])],
    ['a load without a table', (c) => (c.jobs[0].load = [{ mode: 'merge' }])],
    ['an output column type Athena cannot read exactly', (c) => (c.jobs[1].output.tables.gmv_daily = { key: ['date'], columns: { gmv: 'money' } })],
    ['a decimal wider than 38 digits', (c) => (c.jobs[1].output.tables.gmv_daily = { key: ['date'], columns: { gmv: 'decimal(40,2)' } })],
    ['output columns on a SQL job', (c) => (c.jobs[0].output.columns = { a: 'string' })],
    ['output columns beside several tables', (c) => (c.jobs[1].output.columns = { a: 'string' })],
    ['a table without key columns', (c) => (c.jobs[1].output.tables.gmv_daily = { key: [], columns: { gmv: 'bigint' } })],
    [
      'a spark block on a duckdb job',
      (c) => {
        c.jobs[0].engine = 'duckdb';
        c.jobs[0].stages = c.jobs[0].stages.map((s: Config) => ({ name: s.name, sql: s.sql }));
        c.jobs[0].spark = { driverMemory: '1g' };
      },
    ],
    [
      'a spark block on a job of the default engine (duckdb)',
      (c) => {
        delete c.jobs[0].engine;
        c.jobs[0].stages = c.jobs[0].stages.map((s: Config) => ({ name: s.name, sql: s.sql }));
        c.jobs[0].spark = {};
      },
    ],
    ['a spark block that is not an object', (c) => (c.jobs[1].spark = '4g')],
    ['a memory size without its unit', (c) => (c.jobs[1].spark.driverMemory = '2048')],
    ['a memory size as a number', (c) => (c.jobs[1].spark.driverMemory = 2048)],
    ['a memory size with a two-letter unit', (c) => (c.jobs[1].spark.executorMemory = '4gb')],
    ['a memory size with a space', (c) => (c.jobs[1].spark.executorMemory = '4 g')],
    ['zero executor cores', (c) => (c.jobs[1].spark.executorCores = 0)],
    ['more than 64 executor cores', (c) => (c.jobs[1].spark.executorCores = 65)],
    ['fractional driver cores', (c) => (c.jobs[1].spark.driverCores = 1.5)],
    ['more than 1000 executors', (c) => (c.jobs[1].spark.executorInstances = 1001)],
    ['a conf key outside spark.*', (c) => (c.jobs[1].spark.conf = { 'sql.shuffle.partitions': 4 })],
    ['a conf key with a space', (c) => (c.jobs[1].spark.conf = { 'spark.sql.shuffle partitions': 4 })],
    ['conf spark.master', (c) => (c.jobs[1].spark.conf = { 'spark.master': 'yarn' })],
    ['conf spark.app.name', (c) => (c.jobs[1].spark.conf = { 'spark.app.name': 'mine' })],
    ['conf spark.submit.deployMode', (c) => (c.jobs[1].spark.conf = { 'spark.submit.deployMode': 'client' })],
    ['conf spark.yarn.maxAppAttempts', (c) => (c.jobs[1].spark.conf = { 'spark.yarn.maxAppAttempts': 2 })],
    ['conf of a property with its own field', (c) => (c.jobs[1].spark.conf = { 'spark.executor.memory': '4g' })],
    ['conf of a setting the session forces', (c) => (c.jobs[1].spark.conf = { 'spark.sql.sources.partitionOverwriteMode': 'static' })],
    ['a conf value that is an object', (c) => (c.jobs[1].spark.conf = { 'spark.sql.adaptive.enabled': { on: true } })],
    ['an empty conf value', (c) => (c.jobs[1].spark.conf = { 'spark.sql.adaptive.enabled': '' })],
  ])('rejects %s, as the parser does', (_name, mutate) => {
    const config = retailRaw();
    expect(() => parse(config)).not.toThrow();
    mutate(config);
    parserError(config);
    expect(schemaErrors(config)).not.toEqual([]);
  });

  it('rejects a manifest of an unknown kind and a precondition manifest without its field, as the parser does', () => {
    for (const mutate of [(c: Config) => (c.datasets[2].manifest.kind = 'sums'), (c: Config) => delete c.jobs[1].preconditions[0].field]) {
      const config = everything();
      mutate(config);
      parserError(config);
      expect(schemaErrors(config)).not.toEqual([]);
    }
  });

  // Each object of the configuration: where one is in `everything()`, and its schema definition.
  // Adding a field `zz_unknown` makes both the schema and the parser reject it, and the parser's
  // list of allowed fields is the schema's.
  const OBJECTS: Array<[string, string | null, (c: Config) => Config]> = [
    ['pipeline', null, (c) => c],
    ['dataset', 'dataset', (c) => c.datasets[0]],
    ['column', 'column', (c) => c.datasets[0].columns[1]],
    ['delimited format', 'delimitedFormat', (c) => c.datasets[0].format],
    ['jsonl format', 'jsonlFormat', (c) => c.datasets[1].format],
    ['fixed-width format', 'fixedWidthFormat', (c) => c.datasets[3].format],
    ['json format', 'jsonFormat', (c) => c.datasets[4].format],
    ['parquet format', 'parquetFormat', (c) => c.datasets[5].format],
    ['list column', 'column', (c) => c.datasets[4].columns[5]],
    ['list item', 'listItem', (c) => c.datasets[4].columns[5].items],
    ['struct field', 'structField', (c) => c.datasets[4].columns[5].items.fields[1]],
    ['archive', 'archive', (c) => c.archives[0]],
    ['keyFieldValues lookup reference', 'lookupReference', (c) => c.datasets[0].keyFieldValues.province],
    ['members by lookup', 'members', (c) => c.datasets[0].members],
    ['members by values', 'members', (c) => c.datasets[1].members],
    ['manifest', 'manifest', (c) => c.datasets[2].manifest],
    ['job', 'job', (c) => c.jobs[0]],
    ['freshness', 'freshness', (c) => c.jobs[0].freshness],
    ['cutoff', 'cutoff', (c) => c.jobs[0].cutoff],
    ['input of a dataset', 'input', (c) => c.jobs[0].inputs[0]],
    ['input of a job', 'input', (c) => c.jobs[2].inputs[0]],
    ['minDistinct', 'minDistinct', (c) => c.jobs[0].preconditions[0]],
    ['count from a lookup', 'lookupCount', (c) => c.jobs[0].preconditions[0].count],
    ['present', 'present', (c) => c.jobs[0].preconditions[1]],
    ['minTotalBytes', 'minTotalBytes', (c) => c.jobs[0].preconditions[2]],
    ['newerThanLastRun', 'newerThanLastRun', (c) => c.jobs[0].preconditions[3]],
    ['manifest precondition', 'manifestPrecondition', (c) => c.jobs[1].preconditions[0]],
    ['duckdb stage', 'stage', (c) => c.jobs[0].stages[0]],
    ['auto stage', 'stage', (c) => c.jobs[1].stages[0]],
    ['emr stage', 'stage', (c) => c.jobs[2].stages[0]],
    ['spark resources', 'sparkResources', (c) => c.jobs[2].spark],
    ['output', 'output', (c) => c.jobs[0].output],
    ['output with tables', 'output', (c) => c.jobs[2].output],
    ['load', 'load', (c) => c.jobs[2].load[0]],
    ['output check', 'check', (c) => c.jobs[0].checks[0]],
    ['acceptedValues check', 'acceptedValuesCheck', (c) => c.jobs[0].checks[2].acceptedValues],
    ['referential check', 'referentialCheck', (c) => c.jobs[0].checks[3].referential],
    ['rowCount check', 'rowCountCheck', (c) => c.jobs[0].checks[4].rowCount],
    ['reconcile check', 'reconcileCheck', (c) => c.jobs[0].checks[5].reconcile],
    ['sql file of a check', 'sqlFile', (c) => c.jobs[0].checks[7].sql],
  ];

  it('has a row in this table for every object the schema defines', () => {
    const objects = Object.entries(defs)
      .filter(([, d]) => d.type === 'object' && d.properties)
      .map(([n]) => n);
    expect(new Set(OBJECTS.map(([, def]) => def).filter((d) => d !== null))).toEqual(new Set(objects));
  });

  it.each(OBJECTS)('%s: schema and parser allow the same fields', (_name, defName, locate) => {
    const def = defName ? defs[defName]! : schema;
    const allowed = Object.keys(def.properties!).sort();
    // the object as it is in `everything()` passes its own definition
    expect(defName ? validateDef(defName)(locate(everything())) : true).toBe(true);

    const config = everything();
    locate(config).zz_unknown = 1;
    const errors = schemaErrors(config);
    expect(errors.some((e) => e.keyword === 'additionalProperties' && e.params.additionalProperty === 'zz_unknown')).toBe(true);

    const err = parserError(config);
    if (defName === 'lookupReference') {
      // `{ lookup: NAME }` is checked without naming the unknown field
      expect(err.field).toBe('datasets[0].keyFieldValues.province');
      expect(allowed).toEqual(['lookup']);
      return;
    }
    expect(err.field).toMatch(/(^|\.)zz_unknown$/);
    const listed = /\(allowed: (.*)\)$/.exec(err.problem)?.[1]?.split(', ');
    expect(listed?.sort()).toEqual(allowed);
  });
});

describe('docs/configuration.md', () => {
  it('is the reference generated from the schema (npm run docs:config)', () => {
    expect(readFileSync(REFERENCE_FILE, 'utf8')).toBe(configurationReference(schema));
  });

  it('has a section and a row for each object and field', () => {
    const text = configurationReference(schema);
    for (const [name, def] of Object.entries(defs)) {
      if (def.type !== 'object' || !def.properties) continue;
      expect(text, name).toContain(`## ${def.title}\n`);
      for (const field of Object.keys(def.properties)) expect(text).toContain(`| \`${field}\` |`);
    }
    expect(text).toMatch(/^# Configuration reference\n[\s\S]*Generated from[\s\S]*npm run docs:config/);
  });
});
