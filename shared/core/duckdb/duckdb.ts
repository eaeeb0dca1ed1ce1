import { mkdir } from 'node:fs/promises';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';

export interface DuckDbSettings {
  /** where DuckDB may spill and keep its home (Lambda: under /tmp) */
  workDir: string;
  /** the function's memory in MB (the Lambda context's memoryLimitInMB) */
  functionMemoryMb: number;
  threads?: number;
  /** keep file order (validate numbers lines); without it DuckDB streams COPY with less memory */
  preserveOrder?: boolean;
}

/** Lambda gives one vCPU per 1,769 MB (up to 6): more DuckDB threads than that only add memory. */
export function threadsForMemory(functionMemoryMb: number): number {
  return Math.min(6, Math.max(1, Math.ceil(functionMemoryMb / 1769)));
}

/**
 * An in-memory DuckDB sized for a Lambda: it gets a share of the function's memory (the rest is
 * Node, the SDK and the native library itself), spills to /tmp beyond it, and never downloads an
 * extension (parquet is built in).
 */
export interface DuckDb {
  conn: DuckDBConnection;
  /** closes the connection and the database, returning DuckDB's memory at once */
  close(): void;
}

export async function openDuckDb(settings: DuckDbSettings): Promise<DuckDb> {
  await mkdir(`${settings.workDir}/spill`, { recursive: true });
  const limitMb = Math.max(128, Math.floor(settings.functionMemoryMb * 0.4));
  const instance = await DuckDBInstance.create(':memory:', {
    memory_limit: `${limitMb}MB`,
    threads: String(settings.threads ?? threadsForMemory(settings.functionMemoryMb)),
    temp_directory: `${settings.workDir}/spill`,
    home_directory: settings.workDir,
    // COPY need not keep input order; without it DuckDB streams row groups with less memory.
    preserve_insertion_order: settings.preserveOrder ? 'true' : 'false',
    autoinstall_known_extensions: 'false',
    autoload_known_extensions: 'false',
  });
  const conn = await instance.connect();
  return {
    conn,
    close() {
      conn.closeSync();
      instance.closeSync();
    },
  };
}
