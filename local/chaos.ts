import { createHash } from 'node:crypto';
import type { DynamoDBRecord, S3EventRecord } from 'aws-lambda';
import { currentInvocation } from './lambda-runner';
import type { DeliveryChaos } from './s3-notifications';
import type { InvokeLambda } from './stepfunctions-asl';

/**
 * Seeded fault injection for chaos tests of the local stack:
 * - crashes just before or just after each write a handler makes through the shared SDK clients
 *   (shared/core/aws/clients.ts), thrown from client middleware as a `ChaosCrash`;
 * - every S3 event delivered twice, and bursts of S3 events delivered in reverse order;
 * - DynamoDB stream records lost (never delivered);
 * - Step Functions executions aborted right after their first task.
 *
 * Decisions are reproducible: each is a hash of the seed and of what is decided about (the
 * function, the operation, the object or item, and how many times that same thing was decided
 * before), not a draw from one random sequence, so concurrent handlers interleaving differently
 * from run to run do not change which call crashes.
 */

export type CrashPoint = 'before' | 'after';

export interface ChaosSettings {
  /** probability of a crash at each crash point of each write (0–1) */
  crashProbability: number;
  /** which crash points are armed (default both) */
  crashPoints: CrashPoint[];
  /** only crash inside these functions (local names, e.g. ['validate']); undefined: any caller */
  crashFunctions?: string[];
  /** only crash around these SDK operations (e.g. ['PutObject']); undefined: every write */
  crashOperations?: string[];
  duplicateS3Events: boolean;
  reverseBursts: boolean;
  /** how long a burst of S3 events is held before it is delivered reversed (default 50 ms) */
  burstWindowMs: number;
  /** probability that a stream record is lost (0–1) */
  dropStreamRecordProbability: number;
  /** probability that an execution is stopped (ABORTED) right after its first task (0–1) */
  abortExecutionProbability: number;
}

export interface ChaosOptions extends Partial<ChaosSettings> {
  seed: number;
  /** start armed (default true); `enable()` / `disable()` switch everything at run time */
  enabled?: boolean;
}

export type ChaosEventKind = 'crash-before' | 'crash-after' | 's3-event-duplicated' | 's3-burst-reversed' | 'stream-record-dropped' | 'execution-aborted';

export interface ChaosEvent {
  at: string;
  kind: ChaosEventKind;
  /** the function whose code was running (crashes) */
  functionName?: string;
  /** the SDK operation (crashes) */
  operation?: string;
  /** s3://bucket/key, table:key, state machine/execution name, or a stream record's keys */
  target: string;
}

export interface ChaosCounts {
  enabled: boolean;
  seed: number;
  /** write calls that passed an armed crash point (whether or not they crashed), by operation */
  writes: Record<string, number>;
  crashes: { total: number; before: Record<string, number>; after: Record<string, number>; byFunction: Record<string, number> };
  s3EventsDuplicated: number;
  /** bursts of two or more events delivered last-first, and the events in them */
  s3BurstsReversed: number;
  s3EventsReordered: number;
  streamRecordsDropped: number;
  executionsAborted: number;
}

/**
 * What a crash looks like from the handler: an unexpected error (no engine code catches it as a
 * known condition), so the invocation fails as if the Lambda process had died at that point.
 */
export class ChaosCrash extends Error {
  override name = 'ChaosCrash';
  constructor(
    readonly point: CrashPoint,
    readonly operation: string,
    readonly target: string,
    readonly functionName?: string,
  ) {
    super(`injected crash ${point} ${operation} ${target}${functionName ? ` in ${functionName}` : ''}`);
  }
}

/**
 * The writes that get crash points. S3: an object appears with PutObject or
 * CompleteMultipartUpload (a multipart upload is one write: its parts are invisible until then),
 * or CopyObject; deletes are writes too. DynamoDB: every item write. Step Functions: StartExecution.
 */
export const WRITE_OPERATIONS: ReadonlySet<string> = new Set([
  'PutObject',
  'CompleteMultipartUpload',
  'CopyObject',
  'DeleteObject',
  'DeleteObjects',
  'PutItem',
  'UpdateItem',
  'DeleteItem',
  'TransactWriteItems',
  'BatchWriteItem',
  'StartExecution',
]);

/** A client whose middleware stack can take the crash points (S3Client, DynamoDBClient, SFNClient). */
export interface MiddlewareClient {
  middlewareStack: { add(middleware: never, options: never): void; remove(name: string): boolean };
}

const MIDDLEWARE_NAME = 'landfallChaosCrashPoints';
const EXECUTION_ARN = /^arn:[\w-]+:states:[^:]*:\d+:execution:[^:]+:[^:]+$/;
const DEFAULTS: ChaosSettings = {
  crashProbability: 0,
  crashPoints: ['before', 'after'],
  duplicateS3Events: false,
  reverseBursts: false,
  burstWindowMs: 50,
  dropStreamRecordProbability: 0,
  abortExecutionProbability: 0,
};

type Input = Record<string, unknown>;

/** The first ARN of a Step Functions execution found anywhere in a task's payload. */
function executionArnIn(value: unknown, depth = 0): string | undefined {
  if (typeof value === 'string') return EXECUTION_ARN.test(value) ? value : undefined;
  if (depth > 6 || value === null || typeof value !== 'object') return undefined;
  for (const v of Object.values(value)) {
    const found = executionArnIn(v, depth + 1);
    if (found) return found;
  }
  return undefined;
}

export class Chaos {
  private current: ChaosSettings;
  private armed: boolean;
  private readonly occurrences = new Map<string, number>();
  private readonly seenExecutions = new Set<string>();
  private readonly log: ChaosEvent[] = [];
  private tally = Chaos.emptyCounts();
  readonly seed: number;

  /**
   * @param keyAttributes table name → its key attribute names, so a PutItem is identified by its
   *   item's key (the rest of an item, timestamps included, changes from run to run)
   */
  constructor(
    options: ChaosOptions,
    private readonly keyAttributes: Record<string, string[]> = {},
  ) {
    const { seed, enabled, ...settings } = options;
    this.seed = seed;
    this.armed = enabled ?? true;
    this.current = Chaos.validated({ ...DEFAULTS, ...settings });
  }

  private static emptyCounts() {
    return {
      writes: {} as Record<string, number>,
      before: {} as Record<string, number>,
      after: {} as Record<string, number>,
      byFunction: {} as Record<string, number>,
      s3EventsDuplicated: 0,
      s3BurstsReversed: 0,
      s3EventsReordered: 0,
      streamRecordsDropped: 0,
      executionsAborted: 0,
    };
  }

  private static validated(s: ChaosSettings): ChaosSettings {
    for (const key of ['crashProbability', 'dropStreamRecordProbability', 'abortExecutionProbability'] as const) {
      if (!(s[key] >= 0 && s[key] <= 1)) throw new Error(`chaos: ${key} must be between 0 and 1, got ${s[key]}`);
    }
    if (s.crashPoints.some((p) => p !== 'before' && p !== 'after')) throw new Error(`chaos: crashPoints must be 'before' and/or 'after'`);
    return s;
  }

  get enabled(): boolean {
    return this.armed;
  }

  /** Arms every configured fault. */
  enable(): void {
    this.armed = true;
  }

  /** Disarms every fault at once (e.g. before a reconciler's final pass); settings are kept. */
  disable(): void {
    this.armed = false;
  }

  /** Changes settings at run time (the others stay). */
  configure(patch: Partial<ChaosSettings>): void {
    this.current = Chaos.validated({ ...this.current, ...patch });
  }

  settings(): ChaosSettings {
    return structuredClone(this.current);
  }

  /**
   * A number in [0, 1) for one decision: the hash of the seed and the decision's label, the label
   * counting how often the same thing was decided before (a retry of a crashed write decides anew).
   */
  chance(label: string): number {
    const n = this.occurrences.get(label) ?? 0;
    this.occurrences.set(label, n + 1);
    return createHash('sha256').update(`${this.seed}|${label}|#${n}`).digest().readUInt32BE(0) / 2 ** 32;
  }

  private note(kind: ChaosEventKind, target: string, extra: Pick<ChaosEvent, 'functionName' | 'operation'> = {}): void {
    this.log.push({ at: new Date().toISOString(), kind, target, ...extra });
  }

  // ---- crashes around writes ---------------------------------------------------------------

  private itemKey(table: string, item: unknown): string {
    if (!item || typeof item !== 'object') return '?';
    const names = this.keyAttributes[table] ?? ['pk', 'sk'];
    return JSON.stringify(names.map((n) => (item as Record<string, unknown>)[n] ?? null));
  }

  /** What a write writes: the object, the item(s) or the execution, for labels and reports. */
  private targetOf(operation: string, input: Input): string {
    const table = String(input.TableName ?? '');
    switch (operation) {
      case 'DeleteObjects':
        return `s3://${String(input.Bucket)}/{${((input.Delete as { Objects?: Array<{ Key?: string }> })?.Objects ?? []).map((o) => o.Key).join(',')}}`;
      case 'PutItem':
        return `${table}:${this.itemKey(table, input.Item)}`;
      case 'UpdateItem':
      case 'DeleteItem':
        return `${table}:${this.itemKey(table, input.Key)}`;
      case 'TransactWriteItems':
        return ((input.TransactItems ?? []) as Array<Record<string, Input>>)
          .map((t) => {
            const [kind, op] = Object.entries(t)[0] ?? ['?', {}];
            const name = String(op.TableName ?? '');
            return `${kind}:${name}:${this.itemKey(name, op.Item ?? op.Key)}`;
          })
          .join(' + ');
      case 'BatchWriteItem':
        return Object.entries((input.RequestItems ?? {}) as Record<string, Array<Record<string, Input>>>)
          .flatMap(([name, writes]) => writes.map((w) => `${name}:${this.itemKey(name, w.PutRequest?.Item ?? w.DeleteRequest?.Key)}`))
          .join(' + ');
      case 'StartExecution':
        return `${String(input.stateMachineArn)}/${String(input.name ?? '(no name)')}`;
      default:
        return `s3://${String(input.Bucket)}/${String(input.Key)}`;
    }
  }

  private crashHere(point: CrashPoint, operation: string, target: string, functionName: string | undefined): boolean {
    if (!this.armed || !this.current.crashPoints.includes(point) || this.current.crashProbability === 0) return false;
    if (this.chance(`crash|${point}|${functionName ?? '-'}|${operation}|${target}`) >= this.current.crashProbability) return false;
    const counts = point === 'before' ? this.tally.before : this.tally.after;
    counts[operation] = (counts[operation] ?? 0) + 1;
    const fn = functionName ?? '(outside a handler)';
    this.tally.byFunction[fn] = (this.tally.byFunction[fn] ?? 0) + 1;
    this.note(point === 'before' ? 'crash-before' : 'crash-after', target, { operation, ...(functionName ? { functionName } : {}) });
    return true;
  }

  /**
   * Adds the crash points to clients' middleware stacks (outermost, in the initialize step: a
   * crash before sends nothing; a crash after comes once the call, with its SDK retries, has
   * succeeded). Only calls made in scope (crashFunctions) and while armed are affected. Returns
   * the function that takes them out again.
   */
  installCrashPoints(clients: MiddlewareClient[]): () => void {
    const middleware =
      (next: (args: { input: Input }) => Promise<unknown>, context: { commandName?: string }) =>
      async (args: { input: Input }): Promise<unknown> => {
        const operation = (context.commandName ?? '').replace(/Command$/, '');
        const functionName = currentInvocation()?.functionName;
        const inScope =
          this.armed &&
          WRITE_OPERATIONS.has(operation) &&
          (!this.current.crashOperations || this.current.crashOperations.includes(operation)) &&
          (!this.current.crashFunctions || (functionName !== undefined && this.current.crashFunctions.includes(functionName)));
        if (!inScope) return next(args);
        this.tally.writes[operation] = (this.tally.writes[operation] ?? 0) + 1;
        const target = this.targetOf(operation, args.input);
        if (this.crashHere('before', operation, target, functionName)) throw new ChaosCrash('before', operation, target, functionName);
        const result = await next(args); // a failed call is not a write: no crash after it
        if (this.crashHere('after', operation, target, functionName)) throw new ChaosCrash('after', operation, target, functionName);
        return result;
      };
    for (const client of clients) {
      client.middlewareStack.add(middleware as never, { step: 'initialize', priority: 'high', name: MIDDLEWARE_NAME, override: true } as never);
    }
    return () => {
      for (const client of clients) client.middlewareStack.remove(MIDDLEWARE_NAME);
    };
  }

  // ---- S3 event delivery -------------------------------------------------------------------

  /** The switches the notification receiver reads for every event. */
  deliveryChaos(): DeliveryChaos {
    const where = (records: S3EventRecord[]) => records.map((r) => `s3://${r.s3.bucket.name}/${r.s3.object.key}`).join(', ');
    return {
      duplicate: () => this.armed && this.current.duplicateS3Events,
      reverseWindowMs: () => (this.armed && this.current.reverseBursts ? this.current.burstWindowMs : 0),
      record: (what, records) => {
        if (what === 'duplicated') {
          this.tally.s3EventsDuplicated += records.length;
          this.note('s3-event-duplicated', where(records));
        } else {
          this.tally.s3BurstsReversed += 1;
          this.tally.s3EventsReordered += records.length;
          this.note('s3-burst-reversed', where(records));
        }
      },
    };
  }

  // ---- stream records ----------------------------------------------------------------------

  /** The stream poller's dropRecord: true means the record is lost. */
  dropStreamRecord(record: DynamoDBRecord): boolean {
    const p = this.current.dropStreamRecordProbability;
    if (!this.armed || p === 0) return false;
    const target = `${record.eventName ?? '?'} ${JSON.stringify(record.dynamodb?.Keys ?? {})}`;
    if (this.chance(`drop|${target}`) >= p) return false;
    this.tally.streamRecordsDropped += 1;
    this.note('stream-record-dropped', target);
    return true;
  }

  // ---- executions --------------------------------------------------------------------------

  /**
   * Wraps the Step Functions stand-in's Lambda task runner: the first task whose payload names an
   * execution (the machines pass `$$.Execution.Id` to their first task) runs, then the execution
   * is stopped with `stop` (StopExecution) with probability abortExecutionProbability, as if an
   * operator or a deployment had aborted it mid-run.
   */
  abortingTasks(invoke: InvokeLambda, stop: (executionArn: string) => Promise<void>): InvokeLambda {
    return async (functionName, payload) => {
      const result = await invoke(functionName, payload);
      const arn = executionArnIn(payload);
      if (arn && !this.seenExecutions.has(arn)) {
        this.seenExecutions.add(arn);
        const p = this.current.abortExecutionProbability;
        if (this.armed && p > 0 && this.chance(`abort|${arn.split(':').slice(-2).join(':')}`) < p) {
          await stop(arn);
          this.tally.executionsAborted += 1;
          this.note('execution-aborted', arn);
        }
      }
      return result;
    };
  }

  // ---- reports -----------------------------------------------------------------------------

  counts(): ChaosCounts {
    const t = structuredClone(this.tally);
    const total = Object.values(t.before).reduce((a, b) => a + b, 0) + Object.values(t.after).reduce((a, b) => a + b, 0);
    return {
      enabled: this.armed,
      seed: this.seed,
      writes: t.writes,
      crashes: { total, before: t.before, after: t.after, byFunction: t.byFunction },
      s3EventsDuplicated: t.s3EventsDuplicated,
      s3BurstsReversed: t.s3BurstsReversed,
      s3EventsReordered: t.s3EventsReordered,
      streamRecordsDropped: t.streamRecordsDropped,
      executionsAborted: t.executionsAborted,
    };
  }

  /** Every fault injected, in order. */
  events(): ChaosEvent[] {
    return this.log.map((e) => ({ ...e }));
  }

  /** Forgets counts and events (not the decisions' history, so a run stays reproducible). */
  resetCounts(): void {
    this.tally = Chaos.emptyCounts();
    this.log.length = 0;
  }

  /** The counts as a few lines of text, for a test's report. */
  report(): string {
    const c = this.counts();
    const list = (r: Record<string, number>) =>
      Object.entries(r)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ') || 'none';
    return [
      `chaos (seed ${c.seed}, ${c.enabled ? 'enabled' : 'disabled'})`,
      `  writes through crash points: ${list(c.writes)}`,
      `  crashes: ${c.crashes.total} (before: ${list(c.crashes.before)}; after: ${list(c.crashes.after)}; by function: ${list(c.crashes.byFunction)})`,
      `  S3 events duplicated: ${c.s3EventsDuplicated}; bursts reversed: ${c.s3BurstsReversed} (${c.s3EventsReordered} events)`,
      `  stream records dropped: ${c.streamRecordsDropped}`,
      `  executions aborted: ${c.executionsAborted}`,
    ].join('\n');
  }
}
