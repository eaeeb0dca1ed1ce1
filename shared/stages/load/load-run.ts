import { createHash } from 'node:crypto';
import { BatchExecuteStatementCommand, DescribeStatementCommand, type RedshiftDataClient } from '@aws-sdk/client-redshift-data';
import type { CatalogTable } from '../../core/catalog/tables';
import { jobNamed, type Pipeline } from '../../core/config/load-config';
import type { JobConfig } from '../../core/config/types';
import { curatedKey, curatedPartition } from '../../core/s3/layout';
import type { RunInput } from '../../core/runs/run-input';
import { loadStatements, type TableLoad } from './load-sql';
import { LandfallError } from '../../core/errors';
import { WAREHOUSE_VARCHAR_BYTES } from '../../core/feeds/value-limits';

/** Where loads go: a Redshift Serverless workgroup, or a provisioned cluster with a secret. */
export interface WarehouseTarget {
  database: string;
  workgroupName?: string;
  clusterIdentifier?: string;
  secretArn?: string;
  /** the IAM role Redshift assumes for COPY (associated with the workgroup's namespace or the cluster) */
  copyRoleArn: string;
}

/** The load's progress, carried by the state machine between its Submit, Wait and Poll states. */
export interface LoadState {
  /** NEW (before the first submission), RUNNING, RETRY (submit again after backoffSeconds), FINISHED */
  status: 'NEW' | 'RUNNING' | 'RETRY' | 'FINISHED';
  /** submissions so far minus one: part of the ClientToken, so a retried Lambda resubmits nothing */
  attempt: number;
  statementId: string;
  backoffSeconds: number;
}

export interface LoadDeps {
  redshift: RedshiftDataClient;
  pipeline: Pipeline;
  tables: CatalogTable[];
  target: WarehouseTarget;
  lakeBucket: string;
  /** submissions before a conflict or throttling fails the run (default 6) */
  maxAttempts?: number;
  backoffBaseSeconds?: number;
  random?: () => number;
  now?: () => Date;
}

/** The load failed on its own (bad SQL, a missing object, a type mismatch) or ran out of retries: the run fails and alerts. */
export class WarehouseLoadError extends LandfallError {
  override readonly name = 'WarehouseLoadError';
  readonly code = 'WAREHOUSE_LOAD_FAILED';
}

/** Errors worth another submission: another transaction won a serialization conflict, or the API throttled. */
const RETRYABLE = [/Serializable isolation violation/i, /\b1023\b/, /could not serialize access/i, /deadlock detected/i];
/** Redshift's (and PostgreSQL's) refusal of a string longer than its VARCHAR column. */
const TOO_LONG = /value too long for type character varying/i;
const THROTTLED = new Set(['ThrottlingException', 'ActiveStatementsExceededException', 'ActiveSessionsExceededException', 'TooManyRequestsException']);

/** The batch's curated object (a single-table job) or partition folder (a table of a multi-table job). */
function sourceOf(job: JobConfig, table: string, values: Record<string, string>, bucket: string): string {
  if (!job.output.tables) return `s3://${bucket}/${curatedKey(job, values)}`;
  return `s3://${bucket}/${curatedPartition(`${job.output.table}/${table}`, job.output.partitionBy, values)}`;
}

/** The tables of a run's load, each with the catalog table it reads and the objects it copies. */
export function tableLoads(run: Pick<RunInput, 'job' | 'values'>, deps: Pick<LoadDeps, 'pipeline' | 'tables' | 'lakeBucket'>): TableLoad[] {
  const job = jobNamed(deps.pipeline, run.job);
  return (job.load ?? []).map((load) => {
    const table = deps.tables.find((t) => t.zone === 'curated' && t.source === job.name && t.name === load.table);
    if (!table)
      throw new WarehouseLoadError(
        `job ${job.name} loads table ${load.table}, which the catalog does not have (a Spark table declares its columns in output.tables)`,
      );
    return { load, table, from: sourceOf(job, load.table, run.values, deps.lakeBucket) };
  });
}

const clientToken = (executionName: string, attempt: number) =>
  createHash('sha256').update(`${executionName}\u0000load\u0000${attempt}`).digest('hex').slice(0, 64);

function backoff(attempt: number, deps: LoadDeps): number {
  const base = (deps.backoffBaseSeconds ?? 5) * 2 ** attempt;
  return Math.max(1, Math.round(Math.min(300, base) * (0.5 + (deps.random ?? Math.random)() / 2)));
}

function retryOrFail(state: LoadState, deps: LoadDeps, why: string): LoadState {
  if (state.attempt + 1 >= (deps.maxAttempts ?? 6)) throw new WarehouseLoadError(`gave up after ${state.attempt + 1} attempts: ${why}`);
  return { ...state, status: 'RETRY', statementId: '', backoffSeconds: backoff(state.attempt, deps) };
}

/**
 * Submits the batch's load: one BatchExecuteStatement, one transaction. The ClientToken is the
 * execution's and the attempt's, so a Lambda that runs twice finds its statement instead of
 * loading twice; a new attempt (after a conflict) is a new token.
 */
export async function submitLoad(run: RunInput, state: LoadState, deps: LoadDeps): Promise<LoadState> {
  const attempt = state.status === 'NEW' ? 0 : state.attempt + 1;
  const sqls = loadStatements({
    executionName: run.executionName,
    batchId: run.batchId,
    values: run.values,
    copyRoleArn: deps.target.copyRoleArn,
    at: (deps.now ?? (() => new Date()))(),
    tables: tableLoads(run, deps),
  });
  const { target } = deps;
  try {
    const out = await deps.redshift.send(
      new BatchExecuteStatementCommand({
        Sqls: sqls,
        Database: target.database,
        ...(target.workgroupName ? { WorkgroupName: target.workgroupName } : { ClusterIdentifier: target.clusterIdentifier }),
        ...(target.secretArn ? { SecretArn: target.secretArn } : {}),
        ClientToken: clientToken(run.executionName, attempt),
        StatementName: `landfall ${run.executionName}`.slice(0, 500),
      }),
    );
    return { status: 'RUNNING', attempt, statementId: out.Id!, backoffSeconds: 0 };
  } catch (err) {
    if (THROTTLED.has((err as Error).name)) return retryOrFail({ ...state, attempt }, deps, `${(err as Error).name}: ${(err as Error).message}`);
    throw err;
  }
}

/** Where the submitted load stands: FINISHED, still RUNNING, RETRY after a conflict, or a WarehouseLoadError. */
export async function pollLoad(run: Pick<RunInput, 'executionName'>, state: LoadState, deps: LoadDeps): Promise<LoadState> {
  let described;
  try {
    described = await deps.redshift.send(new DescribeStatementCommand({ Id: state.statementId }));
  } catch (err) {
    if (THROTTLED.has((err as Error).name)) return state; // polled again after the Wait
    throw err;
  }
  switch (described.Status) {
    case 'FINISHED':
      return { ...state, status: 'FINISHED' };
    case 'FAILED':
    case 'ABORTED': {
      const error = described.Error ?? described.SubStatements?.find((s) => s.Error)?.Error ?? `statement ${described.Status}`;
      if (RETRYABLE.some((r) => r.test(error))) return retryOrFail(state, deps, error);
      // (validation and the DuckDB transform hold strings to this limit: see shared/core/feeds/value-limits.ts)
      const hint = TOO_LONG.test(error)
        ? ` (a string of the output is over the ${WAREHOUSE_VARCHAR_BYTES} bytes a VARCHAR holds: a retry fails the same way until the job's SQL cuts it)`
        : '';
      throw new WarehouseLoadError(`load of ${run.executionName} ${described.Status} (rolled back): ${error}${hint}`);
    }
    default:
      return { ...state, status: 'RUNNING' };
  }
}
