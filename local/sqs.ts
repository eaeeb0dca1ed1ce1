import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { awsJsonServer, ServiceError, str } from './aws-json';
import { listenOnLoopback } from './http';

/** An injected fault: `throttle` answers RequestThrottled, `error` 500 InternalFailure, `unavailable` 503. */
export interface SqsFault {
  kind: 'throttle' | 'error' | 'unavailable';
  /** how many requests of the operation it answers (default 1) */
  times?: number;
}

export interface LocalQueueMessage {
  messageId: string;
  body: string;
  receiveCount: number;
  /** false while received and not yet visible again (or still delayed) */
  visible: boolean;
}

export interface LocalSqs {
  /** http://127.0.0.1:<port> */
  endpoint: string;
  /** <endpoint>/<account>/<name>, as GetQueueUrl answers */
  queueUrl(name: string): string;
  /** arn:aws:sqs:<region>:<account>:<name> */
  queueArn(name: string): string;
  /** the messages a queue holds now (not deleted, not expired), in send order */
  messages(queueName: string): LocalQueueMessage[];
  /** the next `times` requests of `operation` (e.g. 'ReceiveMessage') fail as `kind` says */
  fault(operation: string, fault: SqsFault): void;
  clearFaults(): void;
  /** requests received per operation (faulted ones included) */
  requests(): Record<string, number>;
  stop(): Promise<void>;
}

interface MessageAttribute {
  DataType: string;
  StringValue?: string;
  BinaryValue?: string;
}

interface StoredMessage {
  id: string;
  body: string;
  md5: string;
  attributes?: Record<string, MessageAttribute>;
  md5OfAttributes?: string;
  sentAt: number;
  /** not receivable before this (initial delay or visibility timeout) */
  visibleAt: number;
  receiveCount: number;
  firstReceivedAt?: number;
  /** only the newest receipt handle deletes the message (AWS: an older one succeeds and does nothing) */
  handle?: string;
}

interface Queue {
  name: string;
  attributes: Record<string, string>;
  created: number;
  messages: StoredMessage[];
  lastPurge?: number;
}

// Queue names: 1–80 letters, digits, hyphens and underscores (FIFO queues are not emulated).
const QUEUE_NAME = /^[A-Za-z0-9_-]{1,80}$/;
const ATTRIBUTE_RANGES: Record<string, [number, number]> = {
  DelaySeconds: [0, 900],
  MaximumMessageSize: [1024, 1_048_576],
  MessageRetentionPeriod: [60, 1_209_600],
  ReceiveMessageWaitTimeSeconds: [0, 20],
  VisibilityTimeout: [0, 43_200],
};
const DEFAULT_ATTRIBUTES: Record<string, string> = {
  DelaySeconds: '0',
  MaximumMessageSize: '1048576',
  MessageRetentionPeriod: '345600',
  ReceiveMessageWaitTimeSeconds: '0',
  VisibilityTimeout: '30',
  SqsManagedSseEnabled: 'true',
};
// Accepted and kept, not acted on.
const PASSIVE_ATTRIBUTES = ['SqsManagedSseEnabled', 'Policy', 'RedrivePolicy', 'RedriveAllowPolicy', 'KmsMasterKeyId', 'KmsDataKeyReusePeriodSeconds'];
const SYSTEM_ATTRIBUTES = ['SenderId', 'SentTimestamp', 'ApproximateReceiveCount', 'ApproximateFirstReceiveTimestamp'];
// The characters SQS accepts in a body (XML 1.0's).
const INVALID_BODY_CHARACTER = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;
const PURGE_INTERVAL_MS = 60_000;

const md5 = (data: Buffer | string) => createHash('md5').update(data).digest('hex');

/** MD5OfMessageAttributes as SQS computes it: names sorted, each field length-prefixed (big-endian). */
export function md5OfMessageAttributes(attributes: Record<string, MessageAttribute>): string {
  const parts: Buffer[] = [];
  const field = (bytes: Buffer) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(bytes.length);
    parts.push(length, bytes);
  };
  for (const name of Object.keys(attributes).sort()) {
    const a = attributes[name]!;
    field(Buffer.from(name, 'utf8'));
    field(Buffer.from(a.DataType, 'utf8'));
    const binary = a.BinaryValue !== undefined;
    parts.push(Buffer.from([binary ? 2 : 1]));
    field(binary ? Buffer.from(a.BinaryValue!, 'base64') : Buffer.from(a.StringValue ?? '', 'utf8'));
  }
  return md5(Buffer.concat(parts));
}

function integer(value: unknown, field: string, [min, max]: [number, number]): number {
  const n = typeof value === 'string' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) {
    throw new ServiceError(
      'InvalidParameterValue',
      `Value ${String(value)} for parameter ${field} is invalid. Reason: must be an integer from ${min} to ${max}.`,
    );
  }
  return n;
}

function validAttributes(input: unknown): Record<string, string> {
  if (input === undefined || input === null) return {};
  if (typeof input !== 'object' || Array.isArray(input)) throw new ServiceError('InvalidAttributeValue', 'Attributes must be a map');
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(input as Record<string, unknown>)) {
    if (typeof value !== 'string') throw new ServiceError('InvalidAttributeValue', `Invalid value for the parameter ${name}.`);
    const range = ATTRIBUTE_RANGES[name];
    if (range) {
      const n = Number(value);
      if (!Number.isInteger(n) || n < range[0] || n > range[1]) throw new ServiceError('InvalidAttributeValue', `Invalid value for the parameter ${name}.`);
    } else if (!PASSIVE_ATTRIBUTES.includes(name)) {
      throw new ServiceError('InvalidAttributeName', `Unknown Attribute ${name}.`);
    }
    out[name] = value;
  }
  return out;
}

function wanted(names: unknown, name: string): boolean {
  if (!Array.isArray(names)) return false;
  return names.some((n) => n === 'All' || n === '.*' || n === name || (typeof n === 'string' && n.endsWith('.*') && name.startsWith(n.slice(0, -1))));
}

/**
 * A local Amazon SQS (standard queues) behind the JSON protocol the installed @aws-sdk/client-sqs
 * speaks (awsJson1_0, `X-Amz-Target: AmazonSQS.<Op>`), so the unmodified SQSClient works against it:
 * visibility timeouts (a received, undeleted message comes back), one receipt handle per receive,
 * MD5OfBody / MD5OfMessageBody as the client verifies them, short long-polls, and PurgeQueue's
 * once-a-minute rule. Faults are injected per operation.
 */
export async function startLocalSqs(options: { region?: string; accountId?: string } = {}): Promise<LocalSqs> {
  const region = options.region ?? 'us-east-1';
  const accountId = options.accountId ?? '000000000000';
  const queues = new Map<string, Queue>();
  const faults = new Map<string, Array<SqsFault['kind']>>();
  const requests: Record<string, number> = {};
  let endpoint = '';
  let stopped = false;

  const queueUrl = (name: string) => `${endpoint}/${accountId}/${name}`;
  const queueArn = (name: string) => `arn:aws:sqs:${region}:${accountId}:${name}`;
  const queueFor = (body: Record<string, unknown>): Queue => {
    const url = str(body, 'QueueUrl');
    if (!url) throw new ServiceError('MissingParameter', 'The request must contain the parameter QueueUrl.');
    // The account and name are the URL's last two path segments, whatever its host.
    const match = /\/(\d{12})\/([^/]+)\/?$/.exec(url);
    const queue = match && match[1] === accountId ? queues.get(match[2]!) : undefined;
    if (!queue) throw new ServiceError('QueueDoesNotExist', 'The specified queue does not exist.');
    return queue;
  };
  const expire = (queue: Queue, now: number) => {
    const retentionMs = Number(queue.attributes.MessageRetentionPeriod) * 1000;
    queue.messages = queue.messages.filter((m) => now - m.sentAt < retentionMs);
  };
  const handleFor = (queue: Queue, message: StoredMessage) =>
    `${Buffer.from(`${queue.name}/${message.id}`).toString('base64url')}.${randomBytes(24).toString('base64url')}`;
  const findByHandle = (queue: Queue, handle: string | undefined): StoredMessage | undefined | 'gone' => {
    const [prefix] = (handle ?? '').split('.');
    const [name, id] = Buffer.from(prefix ?? '', 'base64url')
      .toString()
      .split('/');
    if (!handle || name !== queue.name || !id)
      throw new ServiceError('ReceiptHandleIsInvalid', `The input receipt handle "${handle ?? ''}" is not a valid receipt handle.`);
    return queue.messages.find((m) => m.id === id) ?? 'gone';
  };

  const receiveNow = (queue: Queue, body: Record<string, unknown>, max: number, visibilityMs: number) => {
    const now = Date.now();
    expire(queue, now);
    const picked = queue.messages.filter((m) => m.visibleAt <= now).slice(0, max);
    return picked.map((m) => {
      m.receiveCount += 1;
      m.firstReceivedAt ??= now;
      m.visibleAt = now + visibilityMs;
      m.handle = handleFor(queue, m);
      const systemNames = [...((body.MessageSystemAttributeNames as unknown[]) ?? []), ...((body.AttributeNames as unknown[]) ?? [])];
      const system: Record<string, string> = {
        SenderId: accountId,
        SentTimestamp: String(m.sentAt),
        ApproximateReceiveCount: String(m.receiveCount),
        ApproximateFirstReceiveTimestamp: String(m.firstReceivedAt),
      };
      const attributes = Object.fromEntries(SYSTEM_ATTRIBUTES.filter((n) => wanted(systemNames, n)).map((n) => [n, system[n]!]));
      const messageAttributes = Object.fromEntries(Object.entries(m.attributes ?? {}).filter(([n]) => wanted(body.MessageAttributeNames, n)));
      return {
        MessageId: m.id,
        ReceiptHandle: m.handle,
        MD5OfBody: m.md5,
        Body: m.body,
        ...(Object.keys(attributes).length > 0 ? { Attributes: attributes } : {}),
        ...(Object.keys(messageAttributes).length > 0
          ? { MessageAttributes: messageAttributes, MD5OfMessageAttributes: md5OfMessageAttributes(messageAttributes) }
          : {}),
      };
    });
  };

  const deleteOne = (queue: Queue, handle: string | undefined) => {
    const message = findByHandle(queue, handle);
    // A stale handle (the message was received again since) succeeds without deleting, as in AWS.
    if (message !== 'gone' && message?.handle === handle) queue.messages = queue.messages.filter((m) => m !== message);
  };

  const operations: Record<string, (body: Record<string, unknown>) => object | Promise<object>> = {
    CreateQueue: (body) => {
      const name = str(body, 'QueueName') ?? '';
      if (!QUEUE_NAME.test(name))
        throw new ServiceError('InvalidParameterValue', 'Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length');
      const attributes = { ...DEFAULT_ATTRIBUTES, ...validAttributes(body.Attributes) };
      const existing = queues.get(name);
      if (existing) {
        // Idempotent only with the same attributes.
        const differs = Object.entries(validAttributes(body.Attributes)).some(([k, v]) => existing.attributes[k] !== v);
        if (differs) throw new ServiceError('QueueNameExists', 'A queue already exists with the same name and a different value for attribute(s)');
      } else {
        queues.set(name, { name, attributes, created: Date.now(), messages: [] });
      }
      return { QueueUrl: queueUrl(name) };
    },
    GetQueueUrl: (body) => {
      const name = str(body, 'QueueName') ?? '';
      if (!queues.has(name)) throw new ServiceError('QueueDoesNotExist', 'The specified queue does not exist.');
      return { QueueUrl: queueUrl(name) };
    },
    ListQueues: (body) => {
      const prefix = str(body, 'QueueNamePrefix') ?? '';
      return { QueueUrls: [...queues.keys()].filter((n) => n.startsWith(prefix)).map(queueUrl) };
    },
    SendMessage: (body) => {
      const queue = queueFor(body);
      const text = str(body, 'MessageBody');
      if (!text) throw new ServiceError('MissingParameter', 'The request must contain the parameter MessageBody.');
      if (INVALID_BODY_CHARACTER.test(text))
        throw new ServiceError(
          'InvalidMessageContents',
          'Invalid characters found. Valid unicode characters are #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF',
        );
      const attributes = body.MessageAttributes as Record<string, MessageAttribute> | undefined;
      const size =
        Buffer.byteLength(text) +
        Object.entries(attributes ?? {}).reduce(
          (n, [k, a]) => n + Buffer.byteLength(k) + Buffer.byteLength(a.DataType) + Buffer.byteLength(a.StringValue ?? a.BinaryValue ?? ''),
          0,
        );
      const limit = Number(queue.attributes.MaximumMessageSize);
      if (size > limit)
        throw new ServiceError('InvalidParameterValue', `One or more parameters are invalid. Reason: Message must be shorter than ${limit} bytes.`);
      for (const [name, a] of Object.entries(attributes ?? {})) {
        if (!a?.DataType || (a.StringValue === undefined && a.BinaryValue === undefined))
          throw new ServiceError('InvalidParameterValue', `The message attribute '${name}' must contain a non-empty message attribute value.`);
      }
      const delay = body.DelaySeconds === undefined ? Number(queue.attributes.DelaySeconds) : integer(body.DelaySeconds, 'DelaySeconds', [0, 900]);
      const now = Date.now();
      const message: StoredMessage = { id: randomUUID(), body: text, md5: md5(text), sentAt: now, visibleAt: now + delay * 1000, receiveCount: 0 };
      if (attributes && Object.keys(attributes).length > 0) {
        message.attributes = attributes;
        message.md5OfAttributes = md5OfMessageAttributes(attributes);
      }
      queue.messages.push(message);
      return { MessageId: message.id, MD5OfMessageBody: message.md5, ...(message.md5OfAttributes ? { MD5OfMessageAttributes: message.md5OfAttributes } : {}) };
    },
    ReceiveMessage: async (body) => {
      const queue = queueFor(body);
      const max = body.MaxNumberOfMessages === undefined ? 1 : integer(body.MaxNumberOfMessages, 'MaxNumberOfMessages', [1, 10]);
      const visibility =
        body.VisibilityTimeout === undefined ? Number(queue.attributes.VisibilityTimeout) : integer(body.VisibilityTimeout, 'VisibilityTimeout', [0, 43_200]);
      const wait =
        body.WaitTimeSeconds === undefined ? Number(queue.attributes.ReceiveMessageWaitTimeSeconds) : integer(body.WaitTimeSeconds, 'WaitTimeSeconds', [0, 20]);
      // Long polling: answer as soon as something is there, or empty when the wait is over.
      const deadline = Date.now() + wait * 1000;
      for (;;) {
        const messages = receiveNow(queue, body, max, visibility * 1000);
        if (messages.length > 0) return { Messages: messages };
        if (Date.now() >= deadline || stopped || !queues.has(queue.name)) return {};
        await sleep(Math.min(25, deadline - Date.now()));
      }
    },
    DeleteMessage: (body) => {
      deleteOne(queueFor(body), str(body, 'ReceiptHandle'));
      return {};
    },
    DeleteMessageBatch: (body) => {
      const queue = queueFor(body);
      const entries = (body.Entries ?? []) as Array<{ Id?: string; ReceiptHandle?: string }>;
      if (entries.length === 0) throw new ServiceError('EmptyBatchRequest', 'There should be at least one DeleteMessageBatchRequestEntry in the request.');
      if (entries.length > 10)
        throw new ServiceError('TooManyEntriesInBatchRequest', `Maximum number of entries per request are 10. You have sent ${entries.length}.`);
      if (new Set(entries.map((e) => e.Id)).size !== entries.length)
        throw new ServiceError('BatchEntryIdsNotDistinct', 'Id must be distinct among the batch entries.');
      const Successful: Array<{ Id: string }> = [];
      const Failed: Array<{ Id: string; SenderFault: boolean; Code: string; Message: string }> = [];
      for (const entry of entries) {
        try {
          deleteOne(queue, entry.ReceiptHandle);
          Successful.push({ Id: entry.Id! });
        } catch (err) {
          const e = err as ServiceError;
          Failed.push({ Id: entry.Id!, SenderFault: true, Code: e.type, Message: e.message });
        }
      }
      return { Successful, Failed };
    },
    ChangeMessageVisibility: (body) => {
      const queue = queueFor(body);
      const handle = str(body, 'ReceiptHandle');
      const visibility = integer(body.VisibilityTimeout, 'VisibilityTimeout', [0, 43_200]);
      const message = findByHandle(queue, handle);
      if (message === 'gone' || !message || message.handle !== handle || message.visibleAt <= Date.now()) {
        throw new ServiceError('MessageNotInflight', 'The message referred to is not in flight.');
      }
      message.visibleAt = Date.now() + visibility * 1000;
      return {};
    },
    GetQueueAttributes: (body) => {
      const queue = queueFor(body);
      const now = Date.now();
      expire(queue, now);
      const waiting = queue.messages.filter((m) => m.visibleAt > now);
      const all: Record<string, string> = {
        ...queue.attributes,
        QueueArn: queueArn(queue.name),
        CreatedTimestamp: String(Math.floor(queue.created / 1000)),
        LastModifiedTimestamp: String(Math.floor(queue.created / 1000)),
        ApproximateNumberOfMessages: String(queue.messages.length - waiting.length),
        ApproximateNumberOfMessagesNotVisible: String(waiting.filter((m) => m.receiveCount > 0).length),
        ApproximateNumberOfMessagesDelayed: String(waiting.filter((m) => m.receiveCount === 0).length),
      };
      const names = (body.AttributeNames ?? []) as string[];
      for (const n of names) if (n !== 'All' && !(n in all)) throw new ServiceError('InvalidAttributeName', `Unknown Attribute ${n}.`);
      const picked = Object.fromEntries(Object.entries(all).filter(([n]) => names.includes('All') || names.includes(n)));
      return Object.keys(picked).length > 0 ? { Attributes: picked } : {};
    },
    PurgeQueue: (body) => {
      const queue = queueFor(body);
      const now = Date.now();
      if (queue.lastPurge !== undefined && now - queue.lastPurge < PURGE_INTERVAL_MS) {
        throw new ServiceError('PurgeQueueInProgress', `Only one PurgeQueue operation on ${queue.name} is allowed every 60 seconds.`, 403);
      }
      queue.lastPurge = now;
      queue.messages = [];
      return {};
    },
  };

  const FAULT_ERRORS: Record<SqsFault['kind'], ServiceError> = {
    throttle: new ServiceError('RequestThrottled', 'Rate exceeded', 403),
    error: new ServiceError('InternalFailure', 'The request processing has failed because of an unknown error, exception or failure.', 500),
    unavailable: new ServiceError('ServiceUnavailable', 'The request has failed due to a temporary failure of the server.', 503),
  };
  const server = awsJsonServer({
    targetPrefix: 'AmazonSQS.',
    version: '1.0',
    operations,
    internalErrorType: 'InternalFailure',
    beforeOperation: (name) => {
      requests[name] = (requests[name] ?? 0) + 1;
      const kind = faults.get(name)?.shift();
      if (kind) throw FAULT_ERRORS[kind];
    },
  });
  const listening = await listenOnLoopback(server);
  endpoint = listening.endpoint;

  return {
    endpoint,
    queueUrl,
    queueArn,
    messages(queueName) {
      const queue = queues.get(queueName);
      if (!queue) return [];
      const now = Date.now();
      expire(queue, now);
      return queue.messages.map((m) => ({ messageId: m.id, body: m.body, receiveCount: m.receiveCount, visible: m.visibleAt <= now }));
    },
    fault(operation, fault) {
      if (!Object.hasOwn(operations, operation)) throw new Error(`local SQS: no operation ${operation}`);
      const list = faults.get(operation) ?? [];
      for (let i = 0; i < (fault.times ?? 1); i++) list.push(fault.kind);
      faults.set(operation, list);
    },
    clearFaults: () => faults.clear(),
    requests: () => ({ ...requests }),
    async stop() {
      stopped = true;
      await listening.close();
    },
  };
}
