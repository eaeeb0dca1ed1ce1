import { DescribeStatementCommand, ExecuteStatementCommand, GetStatementResultCommand, type Field } from '@aws-sdk/client-redshift-data';
import { AUDIT_TABLE } from '../../shared/stages/load';
import type { WarehouseReader } from './extra-clients';

/**
 * The warehouse's record of a batch's loads: one row per table per load, written by the load's own
 * transaction (shared/stages/load/load-sql.ts: the audit table, its columns) — so what it says
 * was loaded is what was committed.
 */
export interface LoadAuditRow {
  execution: string;
  table: string;
  /** replace (the batch's partition deleted, the rows inserted) or merge (on the key) */
  mode: string;
  source: string;
  rows: number;
  loadedAt: string;
}

export type LoadAudit = { rows: LoadAuditRow[] } | { unavailable: string };

const POLL_MS = 100;
/** A page waits this long for the warehouse, then says it did not answer. */
const WAIT_MS = 8000;
const MAX_ROWS = 500;

const text = (f: Field | undefined) => (f?.stringValue ?? (f?.longValue !== undefined ? String(f.longValue) : '')) as string;

/** The audit's rows from GetStatementResult's records (columns in the SELECT's order). */
export function auditRowsOf(records: Field[][]): LoadAuditRow[] {
  return records.map((r) => ({
    execution: text(r[0]),
    table: text(r[1]),
    mode: text(r[2]),
    source: text(r[3]),
    rows: Number(r[4]?.longValue ?? r[4]?.stringValue ?? 0),
    // Redshift gives a TIMESTAMP as "2026-11-23 10:00:00" (UTC, as the load wrote it)
    loadedAt: /^\d{4}-\d\d-\d\d \d/.test(text(r[5])) ? `${text(r[5]).replace(' ', 'T').slice(0, 23)}Z` : text(r[5]),
  }));
}

/** The audit rows by the run that wrote them. */
export function auditByRun(rows: LoadAuditRow[]): Map<string, LoadAuditRow[]> {
  const out = new Map<string, LoadAuditRow[]>();
  for (const row of rows) out.set(row.execution, [...(out.get(row.execution) ?? []), row]);
  return out;
}

/** A warehouse that has never been loaded has no audit table yet: no row, not an error. */
const NO_TABLE = /relation .*does not exist|Table .* not found|does not exist/i;

/** Every load of a batch, oldest first: one parameterised statement on the Data API, polled until it ends. */
export async function loadAuditOf(warehouse: WarehouseReader, batchId: string): Promise<LoadAudit> {
  if ('unavailable' in warehouse) return warehouse;
  const { client, database, workgroupName, clusterIdentifier, secretArn } = warehouse;
  try {
    const { Id } = await client.send(
      new ExecuteStatementCommand({
        Sql: `SELECT execution_name, table_name, mode, source, row_count, loaded_at FROM ${AUDIT_TABLE} WHERE batch_id = :batch ORDER BY loaded_at, table_name LIMIT ${MAX_ROWS}`,
        Parameters: [{ name: 'batch', value: batchId }],
        Database: database,
        ...(workgroupName ? { WorkgroupName: workgroupName } : { ClusterIdentifier: clusterIdentifier }),
        ...(secretArn ? { SecretArn: secretArn } : {}),
      }),
    );
    const started = Date.now();
    for (;;) {
      const d = await client.send(new DescribeStatementCommand({ Id }));
      if (d.Status === 'FINISHED') break;
      if (d.Status === 'FAILED' || d.Status === 'ABORTED') {
        if (NO_TABLE.test(d.Error ?? '')) return { rows: [] };
        return { unavailable: `the audit query ${d.Status}: ${d.Error ?? ''}` };
      }
      if (Date.now() - started > WAIT_MS) return { unavailable: `the warehouse did not answer within ${WAIT_MS / 1000} s` };
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
    const result = await client.send(new GetStatementResultCommand({ Id }));
    return { rows: auditRowsOf(result.Records ?? []) };
  } catch (err) {
    return { unavailable: `${(err as Error).name}: ${(err as Error).message}` };
  }
}
