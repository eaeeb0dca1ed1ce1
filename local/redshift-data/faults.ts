/*
 * The local Redshift Data API's injected faults. Each counts down as it fires; clear() removes all.
 */

export interface StatementFaultOptions {
  /** how many matching statements it fails (default 1) */
  times?: number;
}

export interface SerializationConflictOptions extends StatementFaultOptions {
  /** the table id the error names (default: a made-up one) */
  tableId?: number;
}

export interface RedshiftDataFaults {
  /**
   * The next `times` statements (sub-statements of a batch included) whose SQL matches fail with
   * `message` as their Error, before running; a batch's transaction rolls back.
   */
  failStatement(match: RegExp | string, message: string, options?: StatementFaultOptions): void;
  /**
   * The next `times` matching statements run and then fail with Redshift's serialization error
   * (`ERROR: 1023 DETAIL: Serializable isolation violation on table - <id>, transactions forming
   * the cycle are: …`): their transaction (a batch's: all of it) rolls back.
   */
  serializationConflict(match: RegExp | string, options?: SerializationConflictOptions): void;
  /** the next `times` (default 1) calls of `operation` (e.g. 'ExecuteStatement') answer HTTP 400 ThrottlingException, doing nothing */
  throttle(operation: string, times?: number): void;
  /**
   * The next `times` (default 1) calls of `operation` are carried out, but the connection is reset
   * instead of answering (the caller cannot know whether it happened; the SDK retries, with the
   * same ClientToken).
   */
  dropResponse(operation: string, times?: number): void;
  /** removes every fault not yet fired */
  clear(): void;
  /** the faults not yet fired, for assertions */
  pending(): PendingFault[];
}

export type PendingFault =
  | { kind: 'failStatement'; match: string; message: string; remaining: number }
  | { kind: 'serializationConflict'; match: string; remaining: number }
  | { kind: 'throttle' | 'dropResponse'; operation: string; remaining: number };

export type StatementFault = { kind: 'fail'; message: string } | { kind: 'conflict'; tableId?: number };

interface ArmedStatementFault {
  match: RegExp;
  fault: StatementFault;
  remaining: number;
}

const count = (times: number | undefined): number => {
  const n = times ?? 1;
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`local Redshift Data API: a fault's times must be a positive integer, not ${String(times)}`);
  return n;
};

/** A RegExp without the stateful flags (g, y), so test() does not depend on earlier calls. */
const matcher = (match: RegExp | string) => (typeof match === 'string' ? new RegExp(match) : new RegExp(match.source, match.flags.replace(/[gy]/g, '')));

export class FaultBook {
  private statementFaults: ArmedStatementFault[] = [];
  private readonly calls = new Map<string, { throttle: number; drop: number }>();

  /** the first armed statement fault matching `sql`, counted down (undefined: none) */
  takeStatementFault(sql: string): StatementFault | undefined {
    const armed = this.statementFaults.find((f) => f.remaining > 0 && f.match.test(sql));
    if (!armed) return undefined;
    armed.remaining--;
    this.statementFaults = this.statementFaults.filter((f) => f.remaining > 0);
    return armed.fault;
  }

  /** whether this call of `operation` is throttled (counted down) */
  takeThrottle(operation: string): boolean {
    return this.take(operation, 'throttle');
  }

  /** whether this call's answer is dropped (counted down) */
  takeDrop(operation: string): boolean {
    return this.take(operation, 'drop');
  }

  private take(operation: string, kind: 'throttle' | 'drop'): boolean {
    const c = this.calls.get(operation);
    if (!c || c[kind] === 0) return false;
    c[kind]--;
    return true;
  }

  private arm(operation: string, kind: 'throttle' | 'drop', times: number) {
    const c = this.calls.get(operation) ?? { throttle: 0, drop: 0 };
    c[kind] += times;
    this.calls.set(operation, c);
  }

  api(): RedshiftDataFaults {
    return {
      failStatement: (match, message, options) => {
        this.statementFaults.push({ match: matcher(match), fault: { kind: 'fail', message }, remaining: count(options?.times) });
      },
      serializationConflict: (match, options) => {
        this.statementFaults.push({
          match: matcher(match),
          fault: { kind: 'conflict', ...(options?.tableId !== undefined ? { tableId: options.tableId } : {}) },
          remaining: count(options?.times),
        });
      },
      throttle: (operation, times) => this.arm(operation, 'throttle', count(times)),
      dropResponse: (operation, times) => this.arm(operation, 'drop', count(times)),
      clear: () => {
        this.statementFaults = [];
        this.calls.clear();
      },
      pending: () => [
        ...this.statementFaults.map(
          (f): PendingFault =>
            f.fault.kind === 'fail'
              ? { kind: 'failStatement', match: String(f.match), message: f.fault.message, remaining: f.remaining }
              : { kind: 'serializationConflict', match: String(f.match), remaining: f.remaining },
        ),
        ...[...this.calls].flatMap(([operation, c]): PendingFault[] => [
          ...(c.throttle > 0 ? [{ kind: 'throttle' as const, operation, remaining: c.throttle }] : []),
          ...(c.drop > 0 ? [{ kind: 'dropResponse' as const, operation, remaining: c.drop }] : []),
        ]),
      ],
    };
  }
}
