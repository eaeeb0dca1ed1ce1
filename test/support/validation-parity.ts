import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DatasetConfig } from '../../shared/core/config/types';
import { openDuckDb, type DuckDb } from '../../shared/core/duckdb/duckdb';
import { goodRowsSql } from '../../shared/stages/validate/line-rules-sql';
import { formatCsvRow } from '../../shared/stages/validate/delimited';
import { localCopy, validateWithDuckDb } from '../../shared/stages/validate/validate-duckdb';
import { validateFile, type LineSink, type ValidationOutcome } from '../../shared/stages/validate/validate-file';

export class MemorySink implements LineSink {
  lines: string[] = [];
  write(line: string) {
    this.lines.push(line);
  }
}

async function* chunked(bytes: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

export interface Validation {
  outcome: ValidationOutcome;
  /** the rejects report without its header */
  rejects: string[];
  /** the good rows as CSV, without the header */
  good: string[];
}

/** The reference: validate-file.ts in JavaScript, on the bytes in 64 KiB chunks. */
export async function validateInJavaScript(bytes: Uint8Array, dataset: DatasetConfig, keyFields: Record<string, string>): Promise<Validation> {
  const good = new MemorySink();
  const rejects = new MemorySink();
  const outcome = await validateFile(chunked(bytes, 1 << 16), dataset, keyFields, { good, rejects });
  // (a REJECTED file's good rows are never converted)
  return { outcome, rejects: rejects.lines.slice(1), good: outcome.state === 'VALIDATED' ? good.lines.slice(1) : [] };
}

/** Runs the DuckDB validator on files, one DuckDB for all (as a warm Lambda would). */
export class DuckDbValidator {
  private constructor(
    private readonly duckdb: DuckDb,
    private readonly dir: string,
  ) {}

  static async open(): Promise<DuckDbValidator> {
    const dir = await mkdtemp(join(tmpdir(), 'landfall-parity-'));
    return new DuckDbValidator(await openDuckDb({ workDir: dir, functionMemoryMb: 2048, preserveOrder: true }), dir);
  }

  private files = 0;

  /** The DuckDB verdict (or why it handed the file to JavaScript), with the good rows it would convert. */
  async validate(bytes: Uint8Array, dataset: DatasetConfig, keyFields: Record<string, string>): Promise<Validation | { fallback: string }> {
    const path = join(this.dir, `f${(this.files += 1)}.txt`);
    await writeFile(path, bytes);
    try {
      const rejects = new MemorySink();
      const verdict = await validateWithDuckDb(this.duckdb.conn, localCopy(path, bytes.length), dataset, keyFields, rejects);
      if (verdict.kind === 'fallback') return { fallback: verdict.why };
      let good: string[] = [];
      if (verdict.outcome.state === 'VALIDATED') {
        const rows = await this.duckdb.conn.runAndReadAll(`SELECT v FROM (${goodRowsSql(dataset, keyFields, verdict.skipLines, true)}) ORDER BY n`, { path });
        good = rows.getRowObjectsJson().map((r) => formatCsvRow(r.v as string[]));
      }
      return { outcome: verdict.outcome, rejects: rejects.lines, good };
    } finally {
      await rm(path, { force: true });
    }
  }

  async close(): Promise<void> {
    this.duckdb.close();
    await rm(this.dir, { recursive: true, force: true });
  }
}
