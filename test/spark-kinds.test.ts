import { execFile } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { sparkSubmit } from '../local/installed';
import { compilePipeline } from '../shared/core/config/load-config';
import { catalogTables } from '../shared/stages/catalog';
import { EVERY_KIND, EVERY_KIND_RECORD, everyKindParquet } from './support/every-kind';

/*
 * Spark reads what convert writes, every column kind included: the types a Spark stage sees are the
 * catalog's (Glue's) types, and the values are the ones validated. PySpark of the local EMR's venv.
 */
const READ = `
import json, sys
from pyspark.sql import SparkSession
spark = SparkSession.builder.master("local[1]").config("spark.ui.enabled", "false").config("spark.sql.session.timeZone", "UTC").config("spark.driver.host", "127.0.0.1").config("spark.driver.bindAddress", "127.0.0.1").getOrCreate()
df = spark.read.parquet(sys.argv[1])
print(json.dumps({"types": [[f.name, f.dataType.simpleString()] for f in df.schema.fields], "rows": [json.loads(r) for r in df.toJSON().collect()]}))
`;

describe('Spark reading the Parquet of every column kind', () => {
  it('sees the catalog’s types and the validated values', { timeout: 180_000 }, async () => {
    const pipeline = compilePipeline({
      datasets: [{ name: 'events', keyPattern: 'events/{date:YYYYMMDD}/{part}.jsonl', format: { kind: 'jsonl' }, columns: EVERY_KIND, dateField: 'date' }],
    });
    const dir = await mkdtemp(join(tmpdir(), 'landfall-spark-kinds-'));
    const parquet = await everyKindParquet(dir, pipeline.config.datasets[0]!);
    const { env } = sparkSubmit();
    const python = join(env.PYSPARK_PYTHON!);
    const { stdout } = await promisify(execFile)(python, ['-c', READ, parquet], { env: { ...process.env, ...env, TZ: 'UTC' }, maxBuffer: 1 << 24 });
    const seen = JSON.parse(stdout.trim().split('\n').at(-1)!) as { types: Array<[string, string]>; rows: Array<Record<string, unknown>> };

    const { tables } = await catalogTables(pipeline);
    const catalog = tables[0]!.fileColumns.filter((c) => !c.name.startsWith('key_') && !c.name.startsWith('source_')).map((c) => [c.name, c.type]);
    // Spark's names for Glue's types: the same text, but for a timestamp without a zone
    expect(seen.types).toEqual(catalog.map(([name, type]) => [name, type === 'timestamp' ? 'timestamp_ntz' : type]));
    expect(seen.rows).toEqual([
      {
        ...EVERY_KIND_RECORD,
        d: 1.5,
        ts: '2026-11-23T10:00:00.000',
      },
    ]);
  });
});
