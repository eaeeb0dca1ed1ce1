import { randomUUID } from 'node:crypto';
import { awsJsonServer, ServiceError, str } from './aws-json';
import { listenOnLoopback } from './http';

/** An event the bus accepted, as a rule's target would receive it (detail parsed). */
export interface ReceivedEvent {
  id: string;
  /** the bus's name */
  bus: string;
  source: string;
  detailType: string;
  detail: Record<string, unknown>;
  /** ISO; the entry's Time, or when it was put */
  time: string;
  resources: string[];
}

/**
 * A request-level fault, answered as EventBridge answers it: `throttle` 400 ThrottlingException
 * (the SDK retries it), `error` 500 InternalException, `unavailable` 503 ServiceUnavailableException.
 */
export interface EventBridgeFault {
  kind: 'throttle' | 'error' | 'unavailable';
  /** how many requests it answers (default 1) */
  times?: number;
}

/** Entry-level failures: PutEvents answers 200 with these entries failed (FailedEntryCount), as EventBridge does under load. */
export interface EntryFault {
  /** how many entries fail, in the order they arrive (default 1) */
  entries?: number;
  /** default ThrottlingException */
  errorCode?: string;
  /** only entries whose detail type is this (default: any) */
  detailType?: string;
}

export interface LocalEventBridge {
  /** http://127.0.0.1:<port> */
  endpoint: string;
  /** arn:aws:events:<region>:<account>:event-bus/<name> */
  busArn(name: string): string;
  /** every event accepted, in order (a failed entry or a faulted request records nothing) */
  events(): ReceivedEvent[];
  /** entries answered with an ErrorCode so far (injected, or refused by the checks) */
  failedEntries(): number;
  /** the next `times` requests of `operation` (e.g. 'PutEvents') fail as `kind` says */
  fault(operation: string, fault: EventBridgeFault): void;
  /** the next entries of PutEvents requests fail (the request itself succeeds) */
  failEntries(fault: EntryFault): void;
  clearFaults(): void;
  /** requests received per operation (faulted ones included) */
  requests(): Record<string, number>;
  stop(): Promise<void>;
}

// Bus names: 1–256 of letters, digits, . - _ / (a partner bus's names have slashes)
const BUS_NAME = /^[/.\-_A-Za-z0-9]{1,256}$/;
const MAX_ENTRIES = 10;
const MAX_REQUEST_BYTES = 256 * 1024;

const FAULT_ERRORS: Record<EventBridgeFault['kind'], ServiceError> = {
  throttle: new ServiceError('ThrottlingException', 'Rate exceeded (local fault injection)', 400),
  error: new ServiceError('InternalException', 'An internal error occurred (local fault injection)', 500),
  unavailable: new ServiceError('ServiceUnavailableException', 'The service is unavailable (local fault injection)', 503),
};

interface PutEntry {
  Source?: unknown;
  DetailType?: unknown;
  Detail?: unknown;
  EventBusName?: unknown;
  Resources?: unknown;
  Time?: unknown;
}

/** An entry's size as EventBridge counts it against the request's 256 KB. */
function entrySize(e: PutEntry): number {
  const bytes = (v: unknown) => (typeof v === 'string' ? Buffer.byteLength(v, 'utf8') : 0);
  const resources = Array.isArray(e.Resources) ? e.Resources.reduce((n: number, r) => n + bytes(r), 0) : 0;
  return (e.Time === undefined ? 0 : 14) + bytes(e.Source) + bytes(e.DetailType) + bytes(e.Detail) + resources;
}

/**
 * A local Amazon EventBridge behind the protocol the installed @aws-sdk/client-eventbridge speaks
 * (awsJson1_1, `X-Amz-Target: AWSEvents.<Op>`): PutEvents with its request and entry checks, event
 * buses (the default one, and those created), and the accepted events kept for tests. Faults are
 * injected per request (throttling, server errors) or per entry (a failed entry in a 200 answer).
 */
export async function startLocalEventBridge(options: { region?: string; accountId?: string; buses?: string[] } = {}): Promise<LocalEventBridge> {
  const region = options.region ?? 'us-east-1';
  const accountId = options.accountId ?? '000000000000';
  const busArn = (name: string) => `arn:aws:events:${region}:${accountId}:event-bus/${name}`;
  const buses = new Set(['default', ...(options.buses ?? [])]);
  const received: ReceivedEvent[] = [];
  const faults = new Map<string, Array<EventBridgeFault['kind']>>();
  const entryFaults: Array<{ errorCode: string; detailType?: string }> = [];
  const requests: Record<string, number> = {};
  let failedEntries = 0;

  /** a bus named by its name or its ARN (of this account and Region) */
  const busNamed = (nameOrArn: string): string | undefined => {
    const prefix = `arn:aws:events:${region}:${accountId}:event-bus/`;
    const name = nameOrArn.startsWith('arn:') ? (nameOrArn.startsWith(prefix) ? nameOrArn.slice(prefix.length) : undefined) : nameOrArn;
    return name !== undefined && buses.has(name) ? name : undefined;
  };

  const putOne = (e: PutEntry): { EventId: string } | { ErrorCode: string; ErrorMessage: string } => {
    if (typeof e.Source !== 'string' || e.Source === '')
      return { ErrorCode: 'InvalidArgument', ErrorMessage: 'Parameter Source is not valid. Reason: Source is a required argument.' };
    if (typeof e.DetailType !== 'string' || e.DetailType === '')
      return { ErrorCode: 'InvalidArgument', ErrorMessage: 'Parameter DetailType is not valid. Reason: DetailType is a required argument.' };
    if (typeof e.Detail !== 'string')
      return { ErrorCode: 'InvalidArgument', ErrorMessage: 'Parameter Detail is not valid. Reason: Detail is a required argument.' };
    let detail: unknown;
    try {
      detail = JSON.parse(e.Detail);
    } catch {
      return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' };
    }
    if (!detail || typeof detail !== 'object' || Array.isArray(detail)) return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' };
    const busName = typeof e.EventBusName === 'string' && e.EventBusName !== '' ? e.EventBusName : 'default';
    const bus = busNamed(busName);
    if (!bus) return { ErrorCode: 'ResourceNotFoundException', ErrorMessage: `Event bus ${busName} does not exist.` };
    // injected entry failures come after the checks, as AWS's throttling of an entry does
    const armed = entryFaults.findIndex((f) => f.detailType === undefined || f.detailType === e.DetailType);
    if (armed >= 0) {
      const fault = entryFaults.splice(armed, 1)[0]!;
      return { ErrorCode: fault.errorCode, ErrorMessage: `entry failed (local fault injection: ${fault.errorCode})` };
    }
    const id = randomUUID();
    const time = typeof e.Time === 'number' ? new Date(e.Time * 1000) : new Date();
    received.push({
      id,
      bus,
      source: e.Source,
      detailType: e.DetailType,
      detail: detail as Record<string, unknown>,
      time: time.toISOString(),
      resources: Array.isArray(e.Resources) ? e.Resources.map(String) : [],
    });
    return { EventId: id };
  };

  const operations: Record<string, (body: Record<string, unknown>) => object> = {
    PutEvents: (body) => {
      const entries = body.Entries;
      if (!Array.isArray(entries) || entries.length < 1 || entries.length > MAX_ENTRIES) {
        throw new ServiceError(
          'ValidationException',
          `1 validation error detected: Value at 'entries' failed to satisfy constraint: Member must have length between 1 and ${MAX_ENTRIES}`,
        );
      }
      const size = (entries as PutEntry[]).reduce((n, e) => n + entrySize(e), 0);
      if (size > MAX_REQUEST_BYTES) throw new ServiceError('ValidationException', 'Total size of the entries in the request is over the limit.');
      const answers = (entries as PutEntry[]).map(putOne);
      failedEntries += answers.filter((a) => 'ErrorCode' in a).length;
      return { FailedEntryCount: answers.filter((a) => 'ErrorCode' in a).length, Entries: answers };
    },
    CreateEventBus: (body) => {
      const name = str(body, 'Name') ?? '';
      if (!BUS_NAME.test(name) || name === 'default') throw new ServiceError('ValidationException', `Event bus name ${name} is not valid.`);
      if (buses.has(name)) throw new ServiceError('ResourceAlreadyExistsException', `Event bus ${name} already exists.`);
      buses.add(name);
      return { EventBusArn: busArn(name) };
    },
    DescribeEventBus: (body) => {
      const asked = str(body, 'Name') ?? 'default';
      const name = busNamed(asked);
      if (!name) throw new ServiceError('ResourceNotFoundException', `Event bus ${asked} does not exist.`);
      return { Name: name, Arn: busArn(name) };
    },
    ListEventBuses: (body) => {
      const prefix = str(body, 'NamePrefix') ?? '';
      return { EventBuses: [...buses].filter((n) => n.startsWith(prefix)).map((n) => ({ Name: n, Arn: busArn(n) })) };
    },
  };

  const server = awsJsonServer({
    targetPrefix: 'AWSEvents.',
    version: '1.1',
    operations,
    internalErrorType: 'InternalException',
    beforeOperation: (name) => {
      requests[name] = (requests[name] ?? 0) + 1;
      const kind = faults.get(name)?.shift();
      if (kind) throw FAULT_ERRORS[kind];
    },
  });
  const listening = await listenOnLoopback(server);

  return {
    endpoint: listening.endpoint,
    busArn,
    events: () => [...received],
    failedEntries: () => failedEntries,
    fault(operation, fault) {
      if (!Object.hasOwn(operations, operation)) throw new Error(`local EventBridge: no operation ${operation}`);
      if (!Object.hasOwn(FAULT_ERRORS, fault.kind)) throw new Error(`local EventBridge: unknown fault ${String(fault.kind)}`);
      const list = faults.get(operation) ?? [];
      for (let i = 0; i < (fault.times ?? 1); i++) list.push(fault.kind);
      faults.set(operation, list);
    },
    failEntries(fault) {
      for (let i = 0; i < (fault.entries ?? 1); i++)
        entryFaults.push({ errorCode: fault.errorCode ?? 'ThrottlingException', ...(fault.detailType !== undefined ? { detailType: fault.detailType } : {}) });
    },
    clearFaults() {
      faults.clear();
      entryFaults.splice(0);
    },
    requests: () => ({ ...requests }),
    async stop() {
      await listening.close();
    },
  };
}
