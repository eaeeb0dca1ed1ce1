import { mkdtemp, mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RETAIL_PIPELINE_FILE } from '../../examples/retail/config';
import { loadPipelineFile } from '../../shared/core/config/load-config';
import { parsePipelineConfig } from '../../shared/core/config/parse-config';
import { refusedSparkProperty } from '../../shared/core/config/parse-spark';
import { sparkResourceArgs } from '../../shared/core/emr/spark-resources';
import { configErrorOf } from '../support/config-error';

/*
 * A job's `spark` block (the resources of its EMR steps), in a user's own pipeline file: a bad one
 * fails with a ConfigError naming the field, the job and the file.
 */
const STAGES = {
  emr: '[{ name: sum, spark: spark/sum.py }]',
  auto: '[{ name: sum, sql: sql/region_daily.v1.sql, spark: spark/sum.py }]',
  duckdb: '[{ name: sum, sql: sql/region_daily.v1.sql }]',
} as const;

/** A pipeline of one job; `spark` is the job's block as YAML lines (indented under the job), engine `default` leaves it out. */
function pipeline(spark: string, engine: keyof typeof STAGES | 'default' = 'emr'): string {
  return `
datasets:
  - name: sales
    keyPattern: sales/{region}/{day:YYYYMMDD}/{part}.csv
    format: { kind: delimited, delimiter: "," }
    columns: [{ name: amount, kind: decimal, scale: 2 }]
    partitionBy: [region]
    dateField: day
jobs:
  - name: region_daily
    batchKey: [region, day]
    inputs: [{ relation: sales, dataset: sales, match: [region, day] }]
${engine === 'default' ? '' : `    engine: ${engine}\n`}${spark}
    stages: ${STAGES[engine === 'default' ? 'duckdb' : engine]}
    output: { table: region_daily, partitionBy: [region, day], key: [region] }
`;
}

async function folder(yaml: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'landfall-spark-'));
  await mkdir(join(dir, 'sql'));
  await mkdir(join(dir, 'spark'));
  await writeFile(join(dir, 'sql', 'region_daily.v1.sql'), 'SELECT 1');
  await writeFile(join(dir, 'spark', 'sum.py'), 'def run(spark, ctx):\n    pass\n');
  await writeFile(join(dir, 'pipeline.yaml'), yaml);
  return join(dir, 'pipeline.yaml');
}

const errorOf = configErrorOf;

const FULL = `    spark:
      driverMemory: 2g
      driverCores: 2
      executorMemory: 4G
      executorCores: 4
      executorInstances: 10
      conf:
        spark.sql.shuffle.partitions: 200
        spark.sql.adaptive.enabled: true
        spark.executor.memoryOverhead: 1g
        spark.sql.files.maxPartitionBytes: 0.5`;

describe("a job's spark block", () => {
  it.each(['emr', 'auto'] as const)('is accepted on an %s job, kept as written in the effective form', async (engine) => {
    const file = await folder(pipeline(FULL, engine));
    const job = loadPipelineFile(file).config.jobs[0]!;
    expect(job.spark).toEqual({
      driverMemory: '2g',
      driverCores: 2,
      executorMemory: '4G',
      executorCores: 4,
      executorInstances: 10,
      conf: {
        'spark.sql.shuffle.partitions': 200,
        'spark.sql.adaptive.enabled': true,
        'spark.executor.memoryOverhead': '1g',
        'spark.sql.files.maxPartitionBytes': 0.5,
      },
    });
    // the effective form parses back to itself
    const effective = JSON.parse(JSON.stringify(loadPipelineFile(file).config));
    expect(JSON.parse(JSON.stringify(parsePipelineConfig(effective)))).toEqual(effective);
  });

  it('accepts an empty block and every memory unit at the bounds, and leaves a job without one without', async () => {
    expect(loadPipelineFile(await folder(pipeline('    spark: {}'))).config.jobs[0]!.spark).toEqual({});
    expect(loadPipelineFile(await folder(pipeline(''))).config.jobs[0]!).not.toHaveProperty('spark');
    const bounds = loadPipelineFile(await folder(pipeline('    spark: { driverMemory: 524288k, executorMemory: 1t }'))).config.jobs[0]!.spark;
    expect(bounds).toEqual({ driverMemory: '524288k', executorMemory: '1t' });
    const limits = loadPipelineFile(
      await folder(pipeline('    spark: { driverCores: 64, executorCores: 1, executorInstances: 1000, driverMemory: 512M, executorMemory: 1024g }')),
    ).config.jobs[0]!.spark;
    expect(limits).toMatchObject({ driverCores: 64, executorInstances: 1000 });
  });

  it.each<[string, string, string, RegExp]>([
    ['memory without a unit', '    spark: { driverMemory: "2048" }', 'jobs[0].spark.driverMemory', /"2048" has no unit: write 2048m or 2048g/],
    ['memory as a number', '    spark: { driverMemory: 2048 }', 'jobs[0].spark.driverMemory', /expected a size with its unit, e.g. "2048m"/],
    ['memory with a two-letter unit', '    spark: { executorMemory: 4gb }', 'jobs[0].spark.executorMemory', /"4gb" is not a memory size/],
    ['memory with a fraction', '    spark: { executorMemory: 1.5g }', 'jobs[0].spark.executorMemory', /"1.5g" is not a memory size/],
    ['memory below 512m', '    spark: { executorMemory: 256m }', 'jobs[0].spark.executorMemory', /"256m" is outside 512m–1t/],
    ['memory above 1t', '    spark: { driverMemory: 2t }', 'jobs[0].spark.driverMemory', /"2t" is outside 512m–1t/],
    ['zero executor cores', '    spark: { executorCores: 0 }', 'jobs[0].spark.executorCores', /expected an integer from 1 to 64, got 0/],
    ['65 executor cores', '    spark: { executorCores: 65 }', 'jobs[0].spark.executorCores', /expected an integer from 1 to 64, got 65/],
    ['fractional driver cores', '    spark: { driverCores: 1.5 }', 'jobs[0].spark.driverCores', /expected an integer from 1 to 64/],
    ['cores as a string', '    spark: { driverCores: "2" }', 'jobs[0].spark.driverCores', /expected an integer from 1 to 64, got "2"/],
    ['1001 executors', '    spark: { executorInstances: 1001 }', 'jobs[0].spark.executorInstances', /expected an integer from 1 to 1000, got 1001/],
    [
      'an unknown field',
      '    spark: { executorMemoryOverhead: 1g }',
      'jobs[0].spark.executorMemoryOverhead',
      /unknown field \(allowed: driverMemory, driverCores, executorMemory, executorCores, executorInstances, conf\)$/,
    ],
    ['a block that is not an object', '    spark: 4g', 'jobs[0].spark', /expected an object, got "4g"/],
    ['a conf that is a list', '    spark: { conf: [spark.sql.adaptive.enabled] }', 'jobs[0].spark.conf', /expected an object/],
    [
      'a key outside spark.*',
      '    spark: { conf: { sql.shuffle.partitions: 4 } }',
      'jobs[0].spark.conf["sql.shuffle.partitions"]',
      /"sql.shuffle.partitions" cannot be set: not a Spark property: keys start with "spark."/,
    ],
    ['a key with an =', '    spark: { conf: { "spark.a=b": 1 } }', 'jobs[0].spark.conf["spark.a=b"]', /"spark.a=b" cannot be set: not a property name/],
    [
      'spark.master',
      '    spark: { conf: { spark.master: yarn } }',
      'jobs[0].spark.conf["spark.master"]',
      /"spark.master" cannot be set: the engine owns it: the engine picks the master/,
    ],
    [
      'spark.app.name',
      '    spark: { conf: { spark.app.name: mine } }',
      'jobs[0].spark.conf["spark.app.name"]',
      /"spark.app.name" cannot be set: the engine owns it/,
    ],
    [
      'spark.submit.deployMode',
      '    spark: { conf: { spark.submit.deployMode: client } }',
      'jobs[0].spark.conf["spark.submit.deployMode"]',
      /"spark.submit.deployMode" cannot be set: the engine owns it: the engine submits the step/,
    ],
    [
      'spark.submit.pyFiles',
      '    spark: { conf: { spark.submit.pyFiles: "s3://x/y.zip" } }',
      'jobs[0].spark.conf["spark.submit.pyFiles"]',
      /"spark.submit.pyFiles" cannot be set: the engine owns it/,
    ],
    [
      'spark.yarn.*',
      '    spark: { conf: { spark.yarn.submit.waitAppCompletion: false } }',
      'jobs[0].spark.conf["spark.yarn.submit.waitAppCompletion"]',
      /"spark.yarn.submit.waitAppCompletion" cannot be set: the engine owns it: the engine decides how YARN runs/,
    ],
    [
      'a property with a field of its own',
      '    spark: { conf: { spark.executor.instances: 4 } }',
      'jobs[0].spark.conf["spark.executor.instances"]',
      /"spark.executor.instances" cannot be set: set it with spark.executorInstances, not conf/,
    ],
    [
      'a setting the session forces',
      '    spark: { conf: { spark.sql.session.timeZone: America/Toronto } }',
      'jobs[0].spark.conf["spark.sql.session.timeZone"]',
      /cannot be set: the engine owns it: the engine forces it in every session/,
    ],
    [
      'a value that is an object',
      '    spark: { conf: { spark.sql.adaptive.enabled: { on: true } } }',
      'jobs[0].spark.conf["spark.sql.adaptive.enabled"]',
      /expected a string, a number or true\/false, got \{"on":true\}/,
    ],
    [
      'a value that is null',
      '    spark: { conf: { spark.sql.adaptive.enabled: null } }',
      'jobs[0].spark.conf["spark.sql.adaptive.enabled"]',
      /expected a string, a number or true\/false, got null/,
    ],
    ['an empty value', '    spark: { conf: { spark.sql.adaptive.enabled: "" } }', 'jobs[0].spark.conf["spark.sql.adaptive.enabled"]', /got an empty string/],
    [
      'a value with a line break',
      '    spark: { conf: { spark.driver.extraJavaOptions: "-Xss4m\\n-Xss8m" } }',
      'jobs[0].spark.conf["spark.driver.extraJavaOptions"]',
      /control characters/,
    ],
    [
      'a number without a plain decimal form',
      '    spark: { conf: { spark.sql.autoBroadcastJoinThreshold: 1e21 } }',
      'jobs[0].spark.conf["spark.sql.autoBroadcastJoinThreshold"]',
      /1e\+21 has no plain decimal form: write it as a string/,
    ],
  ])('rejects %s, naming the field, the job and the file', async (_name, block, field, problem) => {
    const file = await folder(pipeline(block));
    const err = errorOf(file);
    expect(err.field).toBe(field);
    expect(err.problem).toMatch(/^job region_daily: /);
    expect(err.problem).toMatch(problem);
    expect(err.message).toContain(file);
    expect(err.message).toContain(field);
  });

  it.each([
    ['engine duckdb', 'duckdb'],
    ['the default engine (duckdb)', 'default'],
  ] as const)('is refused on a job of %s, naming the job and the engines it applies to', async (_name, engine) => {
    const file = await folder(pipeline('    spark: { driverMemory: 1g }', engine));
    const err = errorOf(file);
    expect(err.field).toBe('jobs[0].spark');
    expect(err.problem).toBe('job region_daily runs on duckdb: a spark block applies only to engine emr or auto');
    expect(err.message).toContain(file);
    // even an empty one: it would be silently ignored
    expect(errorOf(await folder(pipeline('    spark: {}', engine))).field).toBe('jobs[0].spark');
  });

  it('says why each property is refused, and lets the others through', () => {
    for (const key of [
      'spark.sql.adaptive.enabled',
      'spark.sql.shuffle.partitions',
      'spark.executor.memoryOverhead',
      'spark.dynamicAllocation.maxExecutors',
      'spark.executorEnv.TZ',
      'spark.hadoop.fs.s3a.connection.maximum',
      'spark.driver.maxResultSize',
      'spark.submitted',
      'spark.yarnish.x',
    ]) {
      expect(refusedSparkProperty(key), key).toBeUndefined();
    }
    for (const key of [
      'spark',
      'spark.',
      'spark..a',
      'spark.a b',
      'spark.a=b',
      'sparkx.a',
      'Spark.master',
      'spark.driver.memory',
      'spark.driver.cores',
      'spark.executor.memory',
      'spark.executor.cores',
      'spark.executor.instances',
      'spark.master',
      'spark.app.name',
      'spark.submit.deployMode',
      'spark.yarn.queue',
      'spark.sql.sources.partitionOverwriteMode',
      'spark.sql.parquet.datetimeRebaseModeInRead',
      'spark.sql.parquet.int96RebaseModeInRead',
    ]) {
      expect(refusedSparkProperty(key), key).toEqual(expect.any(String));
    }
  });
});

describe('the sample pipeline (examples/retail)', () => {
  it("loads with the clickstream job's spark block, which gives its steps these options", () => {
    const jobs = loadPipelineFile(RETAIL_PIPELINE_FILE).config.jobs;
    const clickstream = jobs.find((j) => j.name === 'clickstream_daily')!;
    expect(clickstream.engine).toBe('emr');
    expect(clickstream.spark).toEqual({ driverMemory: '2g', executorMemory: '4g', executorCores: 2, conf: { 'spark.sql.adaptive.enabled': true } });
    expect(sparkResourceArgs(clickstream.spark)).toEqual([
      '--driver-memory',
      '2g',
      '--executor-memory',
      '4g',
      '--executor-cores',
      '2',
      '--conf',
      'spark.sql.adaptive.enabled=true',
    ]);
    // local runs (local[2]) honour the driver's heap and the conf: nothing there that slows them
    expect(Object.keys(clickstream.spark!.conf ?? {})).not.toContain('spark.sql.shuffle.partitions');
    const [, amount, unit] = /^(\d+)([kmgt])$/i.exec(clickstream.spark!.driverMemory!)!;
    expect(Number(amount) * { k: 1 / 1024, m: 1, g: 1024, t: 1024 ** 2 }[unit!.toLowerCase() as 'k' | 'm' | 'g' | 't']).toBeLessThanOrEqual(2048);
    expect(jobs.find((j) => j.name === 'pos_daily_sales')).not.toHaveProperty('spark');
  });
});
