/**
 * The floor of a conversion: DuckDB alone turning a local .tdf file into zstd Parquet, with the
 * same explicit schema, threads and memory limit as the convert function, in its own process.
 * Prints {"durationMs", "peakRssMb", "rows"} (DuckDB open to COPY done; process start excluded).
 *   node --import tsx bench/floor-convert.ts <file.tdf> <out.parquet> <functionMemoryMb>
 */
import { peakRssMb } from '../local/peak-rss';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { retailConfig } from '../examples/retail/config';
const pipelineConfig = retailConfig();
import { duckdbType } from '../shared/core/duckdb/columns';
import { openDuckDb } from '../shared/core/duckdb/duckdb';

const [input, output, memory] = process.argv.slice(2);
if (!input || !output || !memory) throw new Error('usage: floor-convert.ts <file.tdf> <out.parquet> <functionMemoryMb>');
const pos = pipelineConfig.datasets.find((d) => d.name === 'pos')!;
const columns = pos.columns.map((c) => `'${c.name}': '${duckdbType(c)}'`).join(', ');
const work = await mkdtemp(join(tmpdir(), 'floor-'));
const started = performance.now();
const duckdb = await openDuckDb({ workDir: work, functionMemoryMb: Number(memory) });
await duckdb.conn.run(
  `COPY (SELECT * FROM read_csv($1, header = true, delim = '\t', auto_detect = false, columns = {${columns}})) TO $2 (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 122880)`,
  [input, output],
);
const rows = Number((await duckdb.conn.runAndReadAll('SELECT count(*)::BIGINT AS n FROM read_parquet($1)', [output])).getRowObjects()[0]!.n);
duckdb.close();
const durationMs = performance.now() - started;
await rm(work, { recursive: true, force: true });
process.stdout.write(`${JSON.stringify({ durationMs, peakRssMb: peakRssMb(), rows })}\n`);
