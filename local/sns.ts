import { randomUUID } from 'node:crypto';
import { createServer, type ServerResponse } from 'node:http';
import { listenOnLoopback, readBody } from './http';

export interface PublishedMessage {
  topicArn: string;
  subject?: string;
  message: string;
  /** name → StringValue (BinaryValue as its base64 text) */
  messageAttributes?: Record<string, string>;
}

/**
 * An injected fault, answered as SNS answers it: `throttle` 429 Throttled (Publish's modelled throttle,
 * the SDK's ThrottledException), `rate-exceeded` 400 ThrottlingException "Rate exceeded" (the common
 * throttle SNS also answers; unmodelled, so a plain SNSServiceException), `error` 500 InternalError
 * (InternalErrorException), `unavailable` 503 ServiceUnavailable.
 */
export interface SnsFault {
  kind: 'throttle' | 'rate-exceeded' | 'error' | 'unavailable';
  /** how many requests it answers (default 1) */
  times?: number;
  /** only requests for this topic count (Publish's TopicArn or TargetArn, the ARN CreateTopic names); default: any */
  topicArn?: string;
}

export interface LocalSns {
  /** http://127.0.0.1:<port> */
  endpoint: string;
  /** arn:aws:sns:<region>:<account>:<name> */
  topicArn(name: string): string;
  /** everything published, in order (a faulted Publish records nothing) */
  messages(): PublishedMessage[];
  /** the next `times` requests of `operation` (e.g. 'Publish'), for `topicArn` if given, fail as `kind` says */
  fault(operation: string, fault: SnsFault): void;
  clearFaults(): void;
  /** requests received per operation (faulted ones included) */
  requests(): Record<string, number>;
  stop(): Promise<void>;
}

const NAMESPACE = 'http://sns.amazonaws.com/doc/2010-03-31/';
// Topic names: up to 256 letters, digits, hyphens and underscores; FIFO topics end in .fifo.
const TOPIC_NAME = /^[A-Za-z0-9_-]{1,256}$|^[A-Za-z0-9_-]{1,251}\.fifo$/;

/** An error in the Query protocol's XML shape; `code` is the awsQueryError code the SDK maps. */
class QueryError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

const FAULT_ERRORS: Record<SnsFault['kind'], QueryError> = {
  throttle: new QueryError('Throttled', 'Rate exceeded (local fault injection)', 429),
  'rate-exceeded': new QueryError('ThrottlingException', 'Rate exceeded (local fault injection)', 400),
  error: new QueryError('InternalError', 'An internal error occurred (local fault injection)', 500),
  unavailable: new QueryError('ServiceUnavailable', 'The request has failed due to a temporary failure of the server (local fault injection).', 503),
};

function xml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

/** `MessageAttributes.entry.N.Name` / `.Value.StringValue` (or `.Value.BinaryValue`) pairs. */
function messageAttributes(form: URLSearchParams): Record<string, string> | undefined {
  const attributes: Record<string, string> = {};
  for (let n = 1; form.has(`MessageAttributes.entry.${n}.Name`); n++) {
    const prefix = `MessageAttributes.entry.${n}`;
    const value = form.get(`${prefix}.Value.StringValue`) ?? form.get(`${prefix}.Value.BinaryValue`);
    if (!form.get(`${prefix}.Value.DataType`) || value === null) {
      throw new QueryError('ParameterValueInvalid', `The message attribute '${form.get(`${prefix}.Name`)}' must have a DataType and a value.`);
    }
    attributes[form.get(`${prefix}.Name`)!] = value;
  }
  return Object.keys(attributes).length > 0 ? attributes : undefined;
}

/**
 * A local SNS that records what is published. The installed @aws-sdk/client-sns speaks the AWS
 * Query protocol (form-encoded `Action=…` POSTs, XML answers), so this does too. Faults are injected
 * per operation, optionally per topic, in the Query protocol's error shape, so the SDK retries them as
 * it retries AWS's.
 */
export async function startLocalSns(options: { region?: string; accountId?: string } = {}): Promise<LocalSns> {
  const region = options.region ?? 'us-east-1';
  const accountId = options.accountId ?? '000000000000';
  const topicArn = (name: string) => `arn:aws:sns:${region}:${accountId}:${name}`;
  const topics = new Set<string>();
  const published: PublishedMessage[] = [];
  const faults: Array<{ operation: string; kind: SnsFault['kind']; topicArn?: string }> = [];
  const requests: Record<string, number> = {};

  const actions: Record<string, (form: URLSearchParams) => string> = {
    CreateTopic: (form) => {
      const name = form.get('Name') ?? '';
      if (!TOPIC_NAME.test(name)) throw new QueryError('InvalidParameter', 'Invalid parameter: Topic Name');
      topics.add(topicArn(name)); // idempotent, as in AWS
      return `<TopicArn>${xml(topicArn(name))}</TopicArn>`;
    },
    Publish: (form) => {
      const arn = form.get('TopicArn') ?? form.get('TargetArn');
      if (!arn) throw new QueryError('InvalidParameter', 'Invalid parameter: TopicArn or TargetArn Reason: no value for required parameter');
      if (!topics.has(arn)) throw new QueryError('NotFound', 'Topic does not exist', 404);
      const message = form.get('Message');
      if (!message) throw new QueryError('InvalidParameter', 'Invalid parameter: Empty message');
      const subject = form.get('Subject') ?? undefined;
      const attributes = messageAttributes(form);
      published.push({ topicArn: arn, message, ...(subject !== undefined ? { subject } : {}), ...(attributes ? { messageAttributes: attributes } : {}) });
      return `<MessageId>${randomUUID()}</MessageId>`;
    },
    ListTopics: () => `<Topics>${[...topics].map((arn) => `<member><TopicArn>${xml(arn)}</TopicArn></member>`).join('')}</Topics>`,
  };
  /** the topic a request is for, as a scoped fault matches it (ListTopics: none) */
  const topicOf = (action: string, form: URLSearchParams): string | undefined => {
    if (action === 'Publish') return form.get('TopicArn') ?? form.get('TargetArn') ?? undefined;
    if (action === 'CreateTopic' && form.get('Name')) return topicArn(form.get('Name')!);
    return undefined;
  };

  // SNS names the request in a header too; the SDK reads $metadata.requestId from there
  const send = (res: ServerResponse, requestId: string, status: number, body: string) => {
    res.writeHead(status, { 'content-type': 'text/xml', 'x-amzn-requestid': requestId });
    res.end(`<?xml version="1.0"?>\n${body}`);
  };
  const server = createServer((req, res) => {
    void (async () => {
      const requestId = randomUUID();
      try {
        const form = new URLSearchParams(await readBody(req));
        const name = form.get('Action') ?? '';
        const action = actions[name];
        if (req.method !== 'POST' || !action) throw new QueryError('InvalidAction', `The action ${name || '(none)'} is not valid for this endpoint.`);
        requests[name] = (requests[name] ?? 0) + 1;
        // Faults come first, as AWS throttles before looking at the request: a faulted Publish records nothing.
        const topic = topicOf(name, form);
        const armed = faults.findIndex((f) => f.operation === name && (f.topicArn === undefined || f.topicArn === topic));
        if (armed >= 0) throw FAULT_ERRORS[faults.splice(armed, 1)[0]!.kind];
        const result = action(form);
        send(
          res,
          requestId,
          200,
          `<${name}Response xmlns="${NAMESPACE}"><${name}Result>${result}</${name}Result><ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${name}Response>`,
        );
      } catch (err) {
        const e = err instanceof QueryError ? err : new QueryError('InternalError', err instanceof Error ? err.message : String(err), 500);
        const type = e.status >= 500 ? 'Receiver' : 'Sender';
        send(
          res,
          requestId,
          e.status,
          `<ErrorResponse xmlns="${NAMESPACE}"><Error><Type>${type}</Type><Code>${e.code}</Code><Message>${xml(e.message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`,
        );
      }
    })();
  });
  const listening = await listenOnLoopback(server);

  return {
    endpoint: listening.endpoint,
    topicArn,
    messages: () => [...published],
    fault(operation, fault) {
      if (!Object.hasOwn(actions, operation)) throw new Error(`local SNS: no operation ${operation}`);
      if (!Object.hasOwn(FAULT_ERRORS, fault.kind)) throw new Error(`local SNS: unknown fault ${String(fault.kind)}`);
      if (fault.topicArn !== undefined && operation === 'ListTopics')
        throw new Error('local SNS: ListTopics is for no topic; a fault scoped to one never fires');
      for (let i = 0; i < (fault.times ?? 1); i++)
        faults.push({ operation, kind: fault.kind, ...(fault.topicArn !== undefined ? { topicArn: fault.topicArn } : {}) });
    },
    clearFaults: () => void faults.splice(0),
    requests: () => ({ ...requests }),
    async stop() {
      await listening.close();
    },
  };
}
