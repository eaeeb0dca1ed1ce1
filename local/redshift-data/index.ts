import { createHash, randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import type { S3Client } from '@aws-sdk/client-s3';
import { PGlite } from '@electric-sql/pglite';
import { awsJsonServer, epochSeconds, ServiceError, str } from '../aws-json';
import { listenOnLoopback } from '../http';
import { CopyError, runCopy } from './copy';
import { FaultBook, type RedshiftDataFaults, type StatementFault } from './faults';
import { columnMetadata, execute, PgError, toField, type DataField } from './pg';
import { bindParameters, CopySyntaxError, isCopy, leadingCode, parameterNames, parseCopy, renameRedshiftFunctions } from './sql';
import { installRedshiftSuper } from './super';

export type { PendingFault, RedshiftDataFaults, SerializationConflictOptions, StatementFaultOptions } from './faults';

export type StatementStatus = 'SUBMITTED' | 'PICKED' | 'STARTED' | 'FINISHED' | 'FAILED' | 'ABORTED';

export interface LocalRedshiftDataOptions {
  /** the S3 that COPY reads (the local MinIO); the statement's IAM_ROLE is not checked */
  s3: S3Client;
  /** one line per statement that ends (id, status, rows, the SQL's start) */
  log?: (line: string) => void;
  /** how long a statement (a batch: once) stays PICKED before it starts, in ms (default 0), so clients poll DescribeStatement */
  delayMs?: number;
  /** how long each (sub-)statement stays STARTED at least, in ms (default 0): the stand-in waits (without blocking) after running it */
  runMs?: number;
  /** rows per GetStatementResult page (default 1,000) */
  pageSize?: number;
}

/** One (sub-)statement the stand-in ran, in the order they ran. */
export interface LocalStatementRun {
  /** the statement's Id; a batch's sub-statement: `<batch Id>:<n>` */
  id: string;
  /** the batch's Id, for a sub-statement */
  batchId?: string;
  /** the SQL as submitted */
  sql: string;
  /** the named parameters it was given (a batch's are shared by its statements) */
  parameters?: Record<string, string>;
  status: 'FINISHED' | 'FAILED';
  error?: string;
  /** rows returned or affected (a COPY: loaded) */
  resultRows: number;
  /** a COPY: the s3:// objects it read */
  copied?: string[];
  /** whether its transaction committed (false: rolled back, by its own failure or another statement's) */
  committed: boolean;
}

export interface LocalRedshiftData {
  /** http://127.0.0.1:<port> */
  endpoint: string;
  /** the PGlite (PostgreSQL 18, in memory) behind every database, workgroup and cluster name */
  db: PGlite;
  /** runs SQL on the database directly (no Data API, no faults) and returns its rows, parsed by PGlite (numeric as string, int8 as number or bigint, date as Date) */
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  fault: RedshiftDataFaults;
  /** every (sub-)statement that ran, in order (an idempotent replay runs nothing, so adds nothing) */
  statements(): LocalStatementRun[];
  /** resolves when no statement is queued or running */
  idle(): Promise<void>;
  /** changes delayMs and/or runMs for what has not reached that point yet */
  setTiming(timing: { delayMs?: number; runMs?: number }): void;
  /** aborts what is queued, waits for what runs, closes the server and the database */
  stop(): Promise<void>;
}

interface Target {
  database: string;
  workgroupName?: string;
  clusterIdentifier?: string;
  secretArn?: string;
  dbUser?: string;
}

interface Sub {
  id: string;
  sql: string;
  status: StatementStatus;
  error?: string;
  createdAt: Date;
  updatedAt: Date;
  durationNs: number;
  resultRows: number;
  resultSize: number;
  hasResultSet: boolean;
  queryId?: number;
  result?: { columns: Array<Record<string, unknown>>; records: DataField[][] };
  copied?: string[];
}

interface Statement {
  id: string;
  batch: boolean;
  mode: 'TRANSACTION' | 'AUTO_COMMIT';
  target: Target;
  statementName?: string;
  parameters?: Array<{ name: string; value: string }>;
  createdAt: Date;
  updatedAt: Date;
  status: StatementStatus;
  error?: string;
  subs: Sub[];
  pid?: number;
  startedAt?: bigint;
  durationNs: number;
  cancelRequested: boolean;
  settled: Promise<void>;
  settle: () => void;
}

const TERMINAL = new Set<StatementStatus>(['FINISHED', 'FAILED', 'ABORTED']);
const STATUS_FILTERS = new Set(['ABORTED', 'ALL', 'FAILED', 'FINISHED', 'PICKED', 'STARTED', 'SUBMITTED']);
// The service's Id pattern (a sub-statement: :<n> after the batch's Id).
const STATEMENT_ID = /^[a-z0-9]{8}(-[a-z0-9]{4}){3}-[a-z0-9]{12}(:\d+)?$/;
const MAX_BATCH = 40;
const MAX_SQL_BYTES = 100 * 1024;
const MAX_WAIT_SECONDS = 30;
const NO_RESULT = 'Query does not have result. Please check query status with DescribeStatement.';
// Statements PostgreSQL (and Redshift) cannot run inside a transaction block: a single one runs without BEGIN.
const NOT_IN_TRANSACTION = /^(vacuum|create\s+database|drop\s+database|alter\s+system)\b/i;

const validation = (message: string) => new ServiceError('ValidationException', message);

/** Body fields, canonical (sorted keys) without the token and the wait, for the ClientToken check. */
function fingerprint(operation: string, body: Record<string, unknown>): string {
  const canonical = (value: unknown): unknown =>
    Array.isArray(value)
      ? value.map(canonical)
      : value !== null && typeof value === 'object'
        ? Object.fromEntries(
            Object.keys(value)
              .sort()
              .map((k) => [k, canonical((value as Record<string, unknown>)[k])]),
          )
        : value;
  const { ClientToken: _token, WaitTimeSeconds: _wait, ...rest } = body;
  return createHash('sha256')
    .update(JSON.stringify([operation, canonical(rest)]))
    .digest('hex');
}

function waitSeconds(body: Record<string, unknown>): number | undefined {
  const value = body.WaitTimeSeconds;
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > MAX_WAIT_SECONDS) {
    throw validation(
      `1 validation error detected: Value '${String(value)}' at 'waitTimeSeconds' failed to satisfy constraint: Member must have value between 0 and ${MAX_WAIT_SECONDS}`,
    );
  }
  return value;
}

/** The connection fields: exactly one of WorkgroupName and ClusterIdentifier; a cluster needs SecretArn or DbUser. */
function targetOf(body: Record<string, unknown>): Target {
  if (body.SessionId !== undefined || body.SessionKeepAliveSeconds !== undefined) {
    throw validation(
      'SessionId and SessionKeepAliveSeconds are not supported by the local Redshift Data API: every statement (or batch) runs in a session of its own',
    );
  }
  const workgroupName = str(body, 'WorkgroupName');
  const clusterIdentifier = str(body, 'ClusterIdentifier');
  const secretArn = str(body, 'SecretArn');
  const dbUser = str(body, 'DbUser');
  const database = str(body, 'Database');
  if (!workgroupName && !clusterIdentifier) throw validation('Either ClusterIdentifier or WorkgroupName must be specified.');
  if (workgroupName && clusterIdentifier)
    throw validation('ClusterIdentifier and WorkgroupName cannot both be specified: a statement runs on a provisioned cluster or on a serverless workgroup.');
  if (clusterIdentifier && !secretArn && !dbUser)
    throw validation('Connecting to a provisioned cluster requires SecretArn (Secrets Manager) or DbUser (temporary credentials).');
  if (!database) throw validation('Database must be specified.');
  return {
    database,
    ...(workgroupName ? { workgroupName } : {}),
    ...(clusterIdentifier ? { clusterIdentifier } : {}),
    ...(secretArn ? { secretArn } : {}),
    ...(dbUser ? { dbUser } : {}),
  };
}

function parametersOf(body: Record<string, unknown>): Array<{ name: string; value: string }> | undefined {
  const value = body.Parameters;
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || value.length === 0)
    throw validation("1 validation error detected: Value at 'parameters' failed to satisfy constraint: Member must have length greater than or equal to 1");
  const seen = new Set<string>();
  return value.map((p: unknown) => {
    const { name, value: v } = (p ?? {}) as Record<string, unknown>;
    if (typeof name !== 'string' || name.length === 0) throw validation('Each parameter needs a name.');
    if (typeof v !== 'string') throw validation(`Parameter '${name}' needs a value (a string).`);
    if (!/^[0-9a-zA-Z_]+$/.test(name)) throw validation(`Invalid parameter name '${name}': use letters, digits and underscores.`);
    if (seen.has(name)) throw validation(`Parameter '${name}' is specified more than once.`);
    seen.add(name);
    return { name, value: v };
  });
}

function sqlText(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.trim().length === 0)
    throw validation(`1 validation error detected: Value at '${field}' failed to satisfy constraint: Member must not be null or empty`);
  if (Buffer.byteLength(value) > MAX_SQL_BYTES) throw validation(`The SQL statement is larger than the maximum of 100 KB.`);
  return value;
}

function resultFormat(body: Record<string, unknown>) {
  const format = str(body, 'ResultFormat');
  if (format === undefined || format === 'JSON') return;
  if (format === 'CSV') throw validation('ResultFormat CSV (GetStatementResultV2) is not supported by the local Redshift Data API: use JSON');
  throw validation(
    `1 validation error detected: Value '${format}' at 'resultFormat' failed to satisfy constraint: Member must satisfy enum value set: [JSON, CSV]`,
  );
}

/** Every provided parameter must be referenced by the statement (a batch: by one of its statements). */
function checkParametersUsed(sqls: string[], parameters: Array<{ name: string }> | undefined) {
  if (!parameters) return;
  const referenced = new Set(sqls.flatMap((s) => [...parameterNames(s)]));
  for (const p of parameters)
    if (!referenced.has(p.name)) throw validation(`The parameter '${p.name}' is not used in the SQL statement${sqls.length > 1 ? 's' : ''}.`);
}

const pageToken = (id: string, offset: number) => Buffer.from(JSON.stringify({ id, offset })).toString('base64url');
function pageOffset(token: string | undefined, id: string): number {
  if (token === undefined) return 0;
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { id?: unknown; offset?: unknown };
    if (parsed.id === id && typeof parsed.offset === 'number' && Number.isInteger(parsed.offset) && parsed.offset >= 0) return parsed.offset;
  } catch {
    // fall through
  }
  throw validation('The NextToken is not valid for this request.');
}

/** Wall-clock nanoseconds since a process.hrtime.bigint() reading. */
const since = (start: bigint) => Number(process.hrtime.bigint() - start);

/**
 * A local Amazon Redshift Data API on PGlite (PostgreSQL 18 compiled to WebAssembly, in process),
 * behind the service's JSON protocol (awsJson1_1, `X-Amz-Target: RedshiftData.<Op>`), so the
 * unmodified RedshiftDataClient works against it. Statements run asynchronously, one at a time in
 * submission order (PGlite has one connection); a batch is one transaction; COPY FROM
 * 's3://…' FORMAT AS PARQUET [SERIALIZETOJSON] reads the local S3 with DuckDB (VARCHAR limits
 * counted in bytes, nested columns into SUPER: see copy.ts and super.ts). Faults are injected per
 * statement (by SQL) or per operation.
 *
 * How it differs from Redshift, in short: the SQL is PostgreSQL's (keep to what both accept; only
 * that COPY is translated); every database, workgroup and cluster name is the same one database,
 * with no authentication; statements run one at a time in read committed (no real serialization
 * conflicts: inject them); a ClientToken reused for another request is a ValidationException (the
 * SDK models no IdempotentParameterMismatchException); no sessions, no CSV results, no
 * DescribeTable/List{Databases,Schemas,Tables,Sessions}, no EventBridge event for WithEvent;
 * results are kept for the life of the stand-in and paged by row count; only COPY counts a
 * VARCHAR's limit in bytes (an INSERT or UPDATE: PostgreSQL's characters); SUPER holds JSON but
 * has no PartiQL navigation or comparison.
 */
export async function startLocalRedshiftData(options: LocalRedshiftDataOptions): Promise<LocalRedshiftData> {
  const pageSize = options.pageSize ?? 1000;
  if (!Number.isInteger(pageSize) || pageSize < 1) throw new RangeError('local Redshift Data API: pageSize must be a positive integer');
  const timing = { delayMs: options.delayMs ?? 0, runMs: options.runMs ?? 0 };
  const db = new PGlite();
  await db.waitReady;
  await installRedshiftSuper(db);

  const statements = new Map<string, Statement>();
  const order: Statement[] = [];
  const tokens = new Map<string, { fingerprint: string; statement: Statement }>();
  const runs: LocalStatementRun[] = [];
  const faults = new FaultBook();
  const queue: Statement[] = [];
  let worker: Promise<void> | undefined;
  let idleWaiters: Array<() => void> = [];
  let queryIds = 1000;
  let pids = 1073741824;
  let conflictIds = 0;
  let stopped = false;

  const touch = (s: { updatedAt: Date }) => (s.updatedAt = new Date());
  const setStatus = (st: Statement, status: StatementStatus) => {
    st.status = status;
    touch(st);
  };

  /* ------------------------------------------------------------ running statements */

  const notifyIdle = () => {
    if (worker || queue.length > 0) return;
    const waiters = idleWaiters;
    idleWaiters = [];
    for (const w of waiters) w();
  };

  const kick = () => {
    if (worker || queue.length === 0) return;
    worker = (async () => {
      while (queue.length > 0) {
        const st = queue.shift()!;
        if (st.status !== 'SUBMITTED') continue; // cancelled while queued
        try {
          await runStatement(st);
        } catch (err) {
          // An unexpected failure of the stand-in itself: the statement fails with it.
          const error = `ERROR: internal error of the local Redshift Data API: ${(err as Error).message}`;
          for (const sub of st.subs) if (!TERMINAL.has(sub.status)) Object.assign(sub, { status: 'FAILED', error, updatedAt: new Date() });
          st.error = error;
          setStatus(st, 'FAILED');
          st.settle();
        }
      }
    })().finally(() => {
      worker = undefined;
      if (queue.length > 0) kick();
      else notifyIdle();
    });
  };

  const parameterMap = (st: Statement) => new Map((st.parameters ?? []).map((p) => [p.name, p.value]));

  /** One sub-statement, inside the caller's transaction (or none); fills in its result. */
  const runSub = async (st: Statement, sub: Sub, fault: StatementFault | undefined) => {
    if (fault?.kind === 'fail') throw new PgFailure(fault.message);
    sub.resultSize = 0;
    if (isCopy(sub.sql)) {
      let copy;
      try {
        copy = parseCopy(sub.sql);
      } catch (err) {
        if (err instanceof CopySyntaxError) throw new PgFailure(`ERROR: ${err.message}`);
        throw err;
      }
      const outcome = await runCopy(db, options.s3, copy);
      sub.resultRows = outcome.rows;
      sub.copied = outcome.objects;
    } else {
      const bound = bindParameters(renameRedshiftFunctions(sub.sql), parameterMap(st));
      const result = await execute(db, bound.text, bound.values);
      sub.resultRows = result.rowCount;
      if (result.fields) {
        const fields = result.fields;
        sub.hasResultSet = true;
        sub.result = { columns: await columnMetadata(db, fields), records: result.rows.map((row) => row.map((v, i) => toField(fields[i]!.dataTypeID, v))) };
        sub.resultSize = result.rows.reduce((n, row) => n + row.reduce((m, v) => m + (v === null ? 0 : Buffer.byteLength(v)), 0), 0);
      }
    }
    if (fault?.kind === 'conflict') {
      const n = ++conflictIds;
      const table = fault.tableId ?? 100_000 + n;
      throw new PgFailure(
        `ERROR: 1023 DETAIL: Serializable isolation violation on table - ${table}, transactions forming the cycle are: ${20_000 + 2 * n}, ${20_001 + 2 * n} (pid:${st.pid})`,
      );
    }
  };

  /** Runs subs as one transaction (or, for what cannot run in one, without): all commit or none. */
  const runTransaction = async (st: Statement, subs: Sub[], transaction: boolean) => {
    let failed: Sub | undefined;
    let committed = false;
    const ran: Sub[] = [];
    if (transaction) await execute(db, 'BEGIN');
    let open = transaction;
    try {
      for (const sub of subs) {
        if (st.cancelRequested) break;
        const started = process.hrtime.bigint();
        Object.assign(sub, { status: 'STARTED', queryId: ++queryIds, updatedAt: new Date() });
        ran.push(sub);
        try {
          await runSub(st, sub, faults.takeStatementFault(sub.sql));
          if (timing.runMs > 0) await sleep(timing.runMs);
          sub.durationNs = since(started);
          Object.assign(sub, { status: 'FINISHED', updatedAt: new Date() });
        } catch (err) {
          // anything a statement runs into fails it (an S3 or DuckDB error of a COPY too), never the stand-in
          const known = err instanceof PgFailure || err instanceof PgError || err instanceof CopyError;
          sub.durationNs = since(started);
          Object.assign(sub, { status: 'FAILED', error: known ? err.message : `ERROR: ${(err as Error).message}`, updatedAt: new Date() });
          failed = sub;
          break;
        }
      }
      if (!transaction) {
        committed = !failed;
      } else if (!failed && !st.cancelRequested) {
        open = false;
        try {
          await execute(db, 'COMMIT');
          committed = true;
        } catch (err) {
          // a deferred constraint (for example) fails the last statement at COMMIT
          const last = ran[ran.length - 1]!;
          Object.assign(last, { status: 'FAILED', error: (err as Error).message, updatedAt: new Date() });
          failed = last;
          open = true;
        }
      }
    } finally {
      if (open) await execute(db, 'ROLLBACK').catch(() => undefined);
    }
    for (const sub of subs) if (sub.status === 'SUBMITTED') Object.assign(sub, { status: 'ABORTED', updatedAt: new Date() });
    for (const sub of ran) {
      runs.push({
        id: sub.id,
        ...(st.batch ? { batchId: st.id } : {}),
        sql: sub.sql,
        ...(st.parameters ? { parameters: Object.fromEntries(st.parameters.map((p) => [p.name, p.value])) } : {}),
        status: sub.status === 'FAILED' ? 'FAILED' : 'FINISHED',
        ...(sub.error ? { error: sub.error } : {}),
        resultRows: sub.resultRows,
        ...(sub.copied ? { copied: sub.copied } : {}),
        committed,
      });
    }
    return failed;
  };

  const runStatement = async (st: Statement) => {
    setStatus(st, 'PICKED');
    if (timing.delayMs > 0) await sleep(timing.delayMs);
    if (st.status !== 'PICKED') return; // cancelled meanwhile
    st.pid = ++pids;
    st.startedAt = process.hrtime.bigint();
    setStatus(st, 'STARTED');
    let firstFailure: Sub | undefined;
    await db.runExclusive(async () => {
      try {
        if (st.mode === 'TRANSACTION') {
          const single = !st.batch && NOT_IN_TRANSACTION.test(leadingCode(st.subs[0]!.sql));
          firstFailure = await runTransaction(st, st.subs, !single);
        } else {
          for (const sub of st.subs) {
            const failed = await runTransaction(st, [sub], true);
            firstFailure ??= failed;
          }
        }
      } finally {
        // The session ends with the statement (or batch), as on the Data API without sessions: temporary tables and settings go.
        await execute(db, 'DISCARD ALL').catch(() => undefined);
      }
    });
    st.durationNs = since(st.startedAt);
    if (firstFailure) {
      st.error = firstFailure.error!;
      setStatus(st, 'FAILED');
    } else if (st.cancelRequested) {
      setStatus(st, 'ABORTED');
    } else {
      setStatus(st, 'FINISHED');
    }
    options.log?.(
      `redshift-data: ${st.id} ${st.status}${st.error ? ` (${st.error})` : ''} ${st.subs.map((s) => leadingCode(s.sql).slice(0, 60).replace(/\s+/g, ' ')).join(' | ')}`,
    );
    st.settle();
  };

  /* ------------------------------------------------------------ the API */

  const submit = (
    target: Target,
    sqls: string[],
    fields: { batch: boolean; mode?: 'TRANSACTION' | 'AUTO_COMMIT'; statementName?: string; parameters?: Array<{ name: string; value: string }> },
  ): Statement => {
    if (stopped) throw new ServiceError('InternalServerException', 'The local Redshift Data API is stopping', 500);
    const id = randomUUID();
    const now = new Date();
    let settle!: () => void;
    const settled = new Promise<void>((resolve) => (settle = resolve));
    const st: Statement = {
      id,
      batch: fields.batch,
      mode: fields.mode ?? 'TRANSACTION',
      target,
      ...(fields.statementName !== undefined ? { statementName: fields.statementName } : {}),
      ...(fields.parameters ? { parameters: fields.parameters } : {}),
      createdAt: now,
      updatedAt: now,
      status: 'SUBMITTED',
      subs: sqls.map((sql, i) => ({
        id: fields.batch ? `${id}:${i + 1}` : id,
        sql,
        status: 'SUBMITTED',
        createdAt: now,
        updatedAt: now,
        durationNs: 0,
        resultRows: -1,
        resultSize: -1,
        hasResultSet: false,
      })),
      durationNs: 0,
      cancelRequested: false,
      settled,
      settle,
    };
    statements.set(id, st);
    order.push(st);
    queue.push(st);
    kick();
    return st;
  };

  const waitFor = async (st: Statement, seconds: number | undefined) => {
    if (!seconds || TERMINAL.has(st.status)) return;
    await Promise.race([st.settled, sleep(seconds * 1000)]);
  };

  const targetFields = (t: Target) => ({
    Database: t.database,
    ...(t.clusterIdentifier ? { ClusterIdentifier: t.clusterIdentifier } : {}),
    ...(t.workgroupName ? { WorkgroupName: t.workgroupName } : {}),
    ...(t.secretArn ? { SecretArn: t.secretArn } : {}),
    ...(t.dbUser ? { DbUser: t.dbUser } : {}),
  });

  const submitted = (st: Statement, waited: boolean) => ({
    Id: st.id,
    CreatedAt: epochSeconds(st.createdAt),
    ...targetFields(st.target),
    ...(waited ? { Status: st.status, HasResultSet: st.subs.some((s) => s.hasResultSet) } : {}),
  });

  /** ClientToken: the same token and request return the first call's statement; another request under it is refused. */
  const idempotent = async (operation: string, body: Record<string, unknown>, create: () => Statement) => {
    const token = str(body, 'ClientToken');
    const wait = waitSeconds(body);
    const print = fingerprint(operation, body);
    const earlier = token !== undefined ? tokens.get(token) : undefined;
    if (earlier && earlier.fingerprint !== print) {
      throw validation(
        `The ClientToken '${token}' was already used with a different request (IdempotentParameterMismatch): use a new ClientToken for a new request.`,
      );
    }
    const st = earlier?.statement ?? create();
    if (token !== undefined && !earlier) tokens.set(token, { fingerprint: print, statement: st });
    await waitFor(st, wait);
    return submitted(st, wait !== undefined);
  };

  const find = (body: Record<string, unknown>): { st: Statement; sub?: Sub } => {
    const id = str(body, 'Id');
    if (!id) throw validation("1 validation error detected: Value null at 'id' failed to satisfy constraint: Member must not be null");
    if (!STATEMENT_ID.test(id))
      throw validation(
        `1 validation error detected: Value '${id}' at 'id' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[a-z0-9]{8}(-[a-z0-9]{4}){3}-[a-z0-9]{12}(:\\d+)?$`,
      );
    const [parent, n] = id.split(':');
    const st = statements.get(parent!);
    const sub = n === undefined ? undefined : st?.batch ? st.subs[Number(n) - 1] : undefined;
    if (!st || (n !== undefined && !sub)) throw new ServiceError('ResourceNotFoundException', `Query does not exist: ${id}`, 404);
    return { st, ...(sub ? { sub } : {}) };
  };

  const subDescription = (sub: Sub) => ({
    Id: sub.id,
    Status: sub.status,
    ...(sub.error ? { Error: sub.error } : {}),
    CreatedAt: epochSeconds(sub.createdAt),
    UpdatedAt: epochSeconds(sub.updatedAt),
    QueryString: sub.sql,
    Duration: TERMINAL.has(sub.status) ? sub.durationNs : -1,
    HasResultSet: sub.hasResultSet,
    ResultRows: sub.resultRows,
    ResultSize: sub.resultSize,
    ...(sub.queryId !== undefined ? { RedshiftQueryId: sub.queryId } : {}),
  });

  const describe = (st: Statement, sub?: Sub) => {
    const common = {
      ...targetFields(st.target),
      ...(st.pid !== undefined ? { RedshiftPid: st.pid } : {}),
      ...(st.parameters ? { QueryParameters: st.parameters } : {}),
      ResultFormat: 'JSON',
    };
    if (sub) return { ...common, ...subDescription(sub) };
    if (!st.batch)
      return { ...common, ...subDescription(st.subs[0]!), Status: st.status, ...(st.error ? { Error: st.error } : {}), UpdatedAt: epochSeconds(st.updatedAt) };
    const ran = st.subs.filter((s) => s.resultRows >= 0);
    return {
      ...common,
      Id: st.id,
      Status: st.status,
      ...(st.error ? { Error: st.error } : {}),
      CreatedAt: epochSeconds(st.createdAt),
      UpdatedAt: epochSeconds(st.updatedAt),
      Duration: TERMINAL.has(st.status) ? st.durationNs : -1,
      HasResultSet: st.subs.some((s) => s.hasResultSet),
      ResultRows: ran.length > 0 ? ran.reduce((n, s) => n + s.resultRows, 0) : -1,
      ResultSize: ran.length > 0 ? ran.reduce((n, s) => n + Math.max(0, s.resultSize), 0) : -1,
      ExecutionMode: st.mode,
      SubStatements: st.subs.map(subDescription),
    };
  };

  const operations: Record<string, (body: Record<string, unknown>) => unknown> = {
    ExecuteStatement: (body) =>
      idempotent('ExecuteStatement', body, () => {
        const target = targetOf(body);
        const sql = sqlText(body.Sql, 'sql');
        const parameters = parametersOf(body);
        resultFormat(body);
        checkParametersUsed([sql], parameters);
        return submit(target, [sql], { batch: false, ...statementName(body), ...(parameters ? { parameters } : {}) });
      }),
    BatchExecuteStatement: (body) =>
      idempotent('BatchExecuteStatement', body, () => {
        const target = targetOf(body);
        const sqls = body.Sqls;
        if (!Array.isArray(sqls) || sqls.length < 1 || sqls.length > MAX_BATCH) {
          throw validation(`1 validation error detected: Value at 'sqls' failed to satisfy constraint: Member must have length between 1 and ${MAX_BATCH}`);
        }
        const texts = sqls.map((s, i) => sqlText(s, `sqls.${i + 1}.member`));
        const parameters = parametersOf(body);
        resultFormat(body);
        checkParametersUsed(texts, parameters);
        const mode = str(body, 'ExecutionMode') ?? 'TRANSACTION';
        if (mode !== 'TRANSACTION' && mode !== 'AUTO_COMMIT')
          throw validation(
            `1 validation error detected: Value '${mode}' at 'executionMode' failed to satisfy constraint: Member must satisfy enum value set: [AUTO_COMMIT, TRANSACTION]`,
          );
        return submit(target, texts, { batch: true, mode, ...statementName(body), ...(parameters ? { parameters } : {}) });
      }),
    DescribeStatement: async (body) => {
      const { st, sub } = find(body);
      await waitFor(st, waitSeconds(body));
      return describe(st, sub);
    },
    GetStatementResult: async (body) => {
      const { st, sub: asked } = find(body);
      await waitFor(st, waitSeconds(body));
      if (st.batch && !asked)
        throw validation(`${NO_RESULT} A batch's results are fetched with its sub-statements' ids (${st.id}:1 … ${st.id}:${st.subs.length}).`);
      const sub = asked ?? st.subs[0]!;
      if (sub.status !== 'FINISHED' || !sub.result) throw validation(NO_RESULT);
      const offset = pageOffset(str(body, 'NextToken'), sub.id);
      const records = sub.result.records;
      if (offset > records.length) throw validation('The NextToken is not valid for this request.');
      const end = offset + pageSize;
      return {
        Records: records.slice(offset, end),
        ColumnMetadata: sub.result.columns,
        TotalNumRows: records.length,
        ...(end < records.length ? { NextToken: pageToken(sub.id, end) } : {}),
      };
    },
    CancelStatement: (body) => {
      const { st } = find(body);
      if (st.status === 'SUBMITTED' || st.status === 'PICKED') {
        for (const sub of st.subs) Object.assign(sub, { status: 'ABORTED', updatedAt: new Date() });
        setStatus(st, 'ABORTED');
        st.settle();
        notifyIdle();
        return { Status: true };
      }
      if (st.status === 'STARTED') {
        // takes effect at the next statement boundary (a running statement is not interrupted): rolled back, ABORTED
        st.cancelRequested = true;
        return { Status: true };
      }
      throw validation(`Could not cancel a query that is already in ${st.status} state.`);
    },
    ListStatements: (body) => {
      const max = body.MaxResults ?? 100;
      if (typeof max !== 'number' || !Number.isInteger(max) || max < 0 || max > 100)
        throw validation(
          `1 validation error detected: Value '${String(max)}' at 'maxResults' failed to satisfy constraint: Member must have value between 0 and 100`,
        );
      const status = str(body, 'Status') ?? 'ALL';
      if (!STATUS_FILTERS.has(status))
        throw validation(
          `1 validation error detected: Value '${status}' at 'status' failed to satisfy constraint: Member must satisfy enum value set: [${[...STATUS_FILTERS].join(', ')}]`,
        );
      const name = str(body, 'StatementName');
      const database = str(body, 'Database');
      const cluster = str(body, 'ClusterIdentifier');
      const workgroup = str(body, 'WorkgroupName');
      if (cluster && workgroup) throw validation('ClusterIdentifier and WorkgroupName cannot both be specified.');
      const matching = [...order]
        .reverse()
        .filter(
          (st) =>
            (status === 'ALL' || st.status === status) &&
            (name === undefined || (st.statementName ?? '').startsWith(name)) &&
            (database === undefined || st.target.database === database) &&
            (cluster === undefined || st.target.clusterIdentifier === cluster) &&
            (workgroup === undefined || st.target.workgroupName === workgroup),
        );
      const token = str(body, 'NextToken');
      const start = pageOffset(token, 'ListStatements');
      const end = start + (max === 0 ? 100 : max);
      return {
        Statements: matching.slice(start, end).map((st) => ({
          Id: st.id,
          ...(st.batch ? { QueryStrings: st.subs.map((s) => s.sql), IsBatchStatement: true } : { QueryString: st.subs[0]!.sql, IsBatchStatement: false }),
          Status: st.status,
          ...(st.statementName !== undefined ? { StatementName: st.statementName } : {}),
          ...(st.target.secretArn ? { SecretArn: st.target.secretArn } : {}),
          CreatedAt: epochSeconds(st.createdAt),
          UpdatedAt: epochSeconds(st.updatedAt),
          ...(st.parameters ? { QueryParameters: st.parameters } : {}),
          ResultFormat: 'JSON',
        })),
        ...(end < matching.length ? { NextToken: pageToken('ListStatements', end) } : {}),
      };
    },
  };

  const server = awsJsonServer({
    targetPrefix: 'RedshiftData.',
    version: '1.1',
    operations,
    beforeOperation: (name) => {
      if (faults.takeThrottle(name)) throw new ServiceError('ThrottlingException', 'Rate exceeded', 400);
    },
    internalErrorType: 'InternalServerException',
  });
  // dropResponse: the operation runs, the answer never arrives (the connection is reset instead).
  server.prependListener('request', (req, res: ServerResponse) => {
    const target = String(req.headers['x-amz-target'] ?? '');
    if (!target.startsWith('RedshiftData.') || !faults.takeDrop(target.slice('RedshiftData.'.length))) return;
    res.writeHead = (() => res) as unknown as ServerResponse['writeHead'];
    res.end = (() => {
      req.socket.destroy();
      return res;
    }) as unknown as ServerResponse['end'];
  });
  const listening = await listenOnLoopback(server);

  return {
    endpoint: listening.endpoint,
    db,
    async query<T>(sql: string, params?: unknown[]) {
      return (await db.query<T>(sql, params)).rows;
    },
    fault: faults.api(),
    statements: () => runs.map((r) => ({ ...r })),
    idle: () =>
      new Promise<void>((resolve) => {
        idleWaiters.push(resolve);
        notifyIdle();
      }),
    setTiming(next) {
      for (const [name, ms] of Object.entries(next)) {
        if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) throw new RangeError(`local Redshift Data API: ${name} must be ≥ 0 ms`);
      }
      Object.assign(timing, next);
    },
    async stop() {
      stopped = true;
      for (const st of queue.splice(0)) {
        if (st.status !== 'SUBMITTED') continue;
        for (const sub of st.subs) Object.assign(sub, { status: 'ABORTED', updatedAt: new Date() });
        setStatus(st, 'ABORTED');
        st.settle();
      }
      await worker;
      await listening.close();
      await db.close();
    },
  };
}

/** A statement's failure with the Data API's Error text as its message (an injected fault, a COPY syntax error). */
class PgFailure extends Error {}

function statementName(body: Record<string, unknown>): { statementName?: string } {
  const name = str(body, 'StatementName');
  if (name !== undefined && name.length > 500)
    throw validation("1 validation error detected: Value at 'statementName' failed to satisfy constraint: Member must have length less than or equal to 500");
  return name !== undefined ? { statementName: name } : {};
}
