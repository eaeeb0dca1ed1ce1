/**
 * The floor of a feed's conversion: DuckDB alone turning a local gzip'd CSV or JSON-lines file into
 * zstd Parquet with the orders' explicit column types (DuckDB decompresses the .gz itself), with the
 * convert function's threads and memory limit, in its own process. Prints {"durationMs",
 * "peakRssMb", "rows"} (DuckDB open to COPY done; process start excluded).
 *   node --import tsx bench/lib/feed-floor.ts <csv|jsonl> <file.gz> <out.parquet> <functionMemoryMb>
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { peakRssMb } from '../../local/peak-rss';
import { duckdbType } from '../../shared/core/duckdb/columns';
import { openDuckDb } from '../../shared/core/duckdb/duckdb';
import { ORDER_COLUMNS } from './feed-data';

const [kind, input, output, memory] = process.argv.slice(2);
if ((kind !== 'csv' && kind !== 'jsonl') || !input || !output || !memory)
  throw new Error('usage: feed-floor.ts <csv|jsonl> <file.gz> <out.parquet> <functionMemoryMb>');
const columns = ORDER_COLUMNS.map((c) => `'${c.name}': '${duckdbType(c)}'`).join(', ');
const reader =
  kind === 'csv'
    ? `read_csv($1, header = true, delim = ',', quote = '"', escape = '"', compression = 'gzip', auto_detect = false, columns = {${columns}})`
    : `read_json($1, format = 'newline_delimited', compression = 'gzip', columns = {${columns}})`;
const work = await mkdtemp(join(tmpdir(), 'feed-floor-'));
const started = performance.now();
const duckdb = await openDuckDb({ workDir: work, functionMemoryMb: Number(memory) });
await duckdb.conn.run(`COPY (SELECT * FROM ${reader}) TO $2 (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 122880)`, [input, output]);
const rows = Number((await duckdb.conn.runAndReadAll('SELECT count(*)::BIGINT AS n FROM read_parquet($1)', [output])).getRowObjects()[0]!.n);
duckdb.close();
const durationMs = performance.now() - started;
await rm(work, { recursive: true, force: true });
process.stdout.write(`${JSON.stringify({ durationMs, peakRssMb: peakRssMb(), rows })}\n`);
