import { describe, expect, it } from 'vitest';
import { sparkResourceArgs, type JobSparkResources } from '../../shared/core/emr/spark-resources';

describe('sparkResourceArgs', () => {
  it('gives every option of a full block, resources first, then the conf in key order', () => {
    const spark: JobSparkResources = {
      driverMemory: '2g',
      driverCores: 2,
      executorMemory: '4G',
      executorCores: 4,
      executorInstances: 10,
      conf: { 'spark.sql.shuffle.partitions': 200, 'spark.sql.adaptive.enabled': true, 'spark.executor.memoryOverhead': '1g' },
    };
    expect(sparkResourceArgs(spark)).toEqual([
      '--driver-memory',
      '2g',
      '--driver-cores',
      '2',
      '--executor-memory',
      '4G',
      '--executor-cores',
      '4',
      '--num-executors',
      '10',
      '--conf',
      'spark.executor.memoryOverhead=1g',
      '--conf',
      'spark.sql.adaptive.enabled=true',
      '--conf',
      'spark.sql.shuffle.partitions=200',
    ]);
  });

  it('gives nothing for an empty block, an empty conf, or no block', () => {
    expect(sparkResourceArgs({})).toEqual([]);
    expect(sparkResourceArgs({ conf: {} })).toEqual([]);
    expect(sparkResourceArgs(undefined)).toEqual([]);
  });

  it('gives only the options that are set', () => {
    expect(sparkResourceArgs({ executorInstances: 3 })).toEqual(['--num-executors', '3']);
    expect(sparkResourceArgs({ driverMemory: '1536m', conf: { 'spark.sql.adaptive.enabled': false } })).toEqual([
      '--driver-memory',
      '1536m',
      '--conf',
      'spark.sql.adaptive.enabled=false',
    ]);
  });

  it('stringifies values as Spark reads them', () => {
    const args = sparkResourceArgs({
      conf: { 'spark.a': true, 'spark.b': false, 'spark.c': 200, 'spark.d': 0.75, 'spark.e': '-XX:+UseG1GC -Dx=y', 'spark.f': 0 },
    });
    expect(args).toEqual([
      '--conf',
      'spark.a=true',
      '--conf',
      'spark.b=false',
      '--conf',
      'spark.c=200',
      '--conf',
      'spark.d=0.75',
      '--conf',
      'spark.e=-XX:+UseG1GC -Dx=y',
      '--conf',
      'spark.f=0',
    ]);
  });

  it('orders the conf by code unit, whatever order the block was written in (the same args on every retry)', () => {
    const written = { 'spark.sql.b': 1, 'spark.Z': 'upper', 'spark.sql.a': 2, 'spark.executorEnv.TZ': 'UTC', 'spark.sql.a.b': 3 };
    const reversed = Object.fromEntries(Object.entries(written).reverse());
    const expected = [
      '--conf',
      'spark.Z=upper',
      '--conf',
      'spark.executorEnv.TZ=UTC',
      '--conf',
      'spark.sql.a=2',
      '--conf',
      'spark.sql.a.b=3',
      '--conf',
      'spark.sql.b=1',
    ];
    expect(sparkResourceArgs({ conf: written })).toEqual(expected);
    expect(sparkResourceArgs({ conf: reversed })).toEqual(expected);
  });

  it('leaves the block it is given unchanged', () => {
    const spark: JobSparkResources = { executorCores: 2, conf: { 'spark.b': 1, 'spark.a': 2 } };
    const before = structuredClone(spark);
    sparkResourceArgs(spark);
    expect(spark).toEqual(before);
    expect(Object.keys(spark.conf!)).toEqual(['spark.b', 'spark.a']);
  });
});
