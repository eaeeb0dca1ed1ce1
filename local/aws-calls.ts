import { S3Client } from '@aws-sdk/client-s3';
import { currentInvocation } from './lambda-runner';

/*
 * Records every AWS call the handlers make, as IAM authorizes it: for each SDK command sent inside
 * a Lambda invocation (in-process mode), the function making it, the IAM action(s) AWS checks for
 * it and the resource ARN(s), with the condition keys the template's policies test. The stand-ins
 * add what AWS itself does with a function's role or a state machine's (the stream poller of an
 * event source mapping, an on-failure destination, a Task's lambda:InvokeFunction).
 *
 * It patches the one `send` every SDK v3 client inherits (@smithy/core's Client), so it
 * sees the clients of shared/core/aws/clients.ts and the ones a handler builds itself (EMR, ARC,
 * the Redshift Data API) without a hook in the engine. A presigned URL is not a `send`: its GET is
 * not recorded (convert presigns a GetObject of the landed version above 32 MB; that action is the
 * same as the small file's GetObjectVersion, which is).
 */

/** One authorization AWS makes: who, what, on which ARN, with which condition keys. */
export interface AwsCall {
  /** `function:<local name>` or `stateMachine:<name>` */
  principal: string;
  /** the IAM action, e.g. `s3:GetObjectVersion` */
  action: string;
  /** the resource ARN, or `*` for actions with no resource type */
  resource: string;
  /** condition keys AWS sets for this request that the policies may test (e.g. `s3:prefix`) */
  context: Record<string, string | string[]>;
  /** the API operation that made it (`S3.HeadObject`, `DynamoDB.TransactWriteItems`, `platform`) */
  operation: string;
}

export interface AwsCallRecorderOptions {
  region: string;
  accountId: string;
  /** table name → its partition key attribute (for `dynamodb:LeadingKeys`) */
  partitionKeys?: Record<string, string>;
  /** Redshift Serverless workgroup name → its ARN (the Data API names it; IAM authorizes the ARN, which holds its id) */
  workgroupArns?: Record<string, string>;
  /** role or instance-profile name passed to a service (RunJobFlow's ServiceRole / JobFlowRole) → the role's ARN */
  passedRoleArns?: Record<string, string>;
}

type Input = Record<string, any>;
type Authorization = Omit<AwsCall, 'principal' | 'operation'>;

const PATCHED = Symbol.for('landfall.awsCallRecorder');

/** A context value that stands for the caller's own `aws:userid` (the simulation puts the session's in). */
// biome-ignore lint/suspicious/noTemplateCurlyInString: the IAM policy variable, not a template literal
export const CALLER_USER_ID = '${aws:userid}';

/** lib-dynamodb's command names → DynamoDB's operations */
const DOCUMENT_COMMANDS: Record<string, string> = {
  Get: 'GetItem',
  Put: 'PutItem',
  Update: 'UpdateItem',
  Delete: 'DeleteItem',
  BatchGet: 'BatchGetItem',
  BatchWrite: 'BatchWriteItem',
  TransactGet: 'TransactGetItems',
  TransactWrite: 'TransactWriteItems',
  ExecuteStatement: 'ExecuteStatement',
};

/** S3 operations authorized as another action (the rest: `s3:<operation>` on the object) */
const S3_OBJECT_ACTIONS: Record<string, string> = {
  HeadObject: 'GetObject',
  CreateMultipartUpload: 'PutObject',
  UploadPart: 'PutObject',
  CompleteMultipartUpload: 'PutObject',
  ListParts: 'ListMultipartUploadParts',
};
/** actions that take `…Version` when the request names a version */
const VERSIONED = new Set(['GetObject', 'DeleteObject', 'GetObjectTagging', 'PutObjectTagging', 'GetObjectAcl', 'GetObjectAttributes']);

const SQS_BATCH: Record<string, string> = {
  SendMessageBatch: 'SendMessage',
  DeleteMessageBatch: 'DeleteMessage',
  ChangeMessageVisibilityBatch: 'ChangeMessageVisibility',
};

const isNotFound = (err: unknown) => {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } } | undefined;
  return e?.name === 'NotFound' || e?.name === 'NoSuchKey' || e?.$metadata?.httpStatusCode === 404;
};

/** A DynamoDB key value as the document client (native) or the low-level client (`{ S: … }`) gives it. */
function keyText(value: unknown): string | undefined {
  if (typeof value === 'string' || typeof value === 'number') return String(value);
  const v = value as { S?: string; N?: string } | undefined;
  return v?.S ?? v?.N;
}

export class AwsCallRecorder {
  private readonly seen = new Map<string, AwsCall>();
  /** a stream's shard iterator → the stream ARN (GetRecords names only the iterator; IAM authorizes the stream) */
  private readonly iterators = new Map<string, string>();
  /** EMR cluster id → its tags, learnt from the requests and responses that carry them */
  private readonly clusterTags = new Map<string, Record<string, string>>();
  /** clients whose calls outside any invocation are made for a function (e.g. an event source mapping's poller) */
  private readonly attributed = new WeakMap<object, string>();

  constructor(private readonly options: AwsCallRecorderOptions) {}

  /** The distinct calls recorded so far, in first-seen order. */
  calls(): AwsCall[] {
    return [...this.seen.values()];
  }

  /** Adds an authorization (deduplicated on principal, action, resource and context). */
  record(call: AwsCall): void {
    const key = JSON.stringify([call.principal, call.action, call.resource, Object.entries(call.context).sort()]);
    if (!this.seen.has(key)) this.seen.set(key, call);
  }

  /** Calls made by `client` outside an invocation are made with this function's role. */
  attribute(client: object, functionName: string): void {
    this.attributed.set(client, functionName);
  }

  /** A state machine's Task invoked a function (Step Functions authorizes it with the machine's role). */
  stateMachineInvoked(stateMachine: string, functionArn: string): void {
    this.record({
      principal: `stateMachine:${stateMachine}`,
      action: 'lambda:InvokeFunction',
      resource: functionArn,
      context: {},
      operation: 'States.lambda:invoke',
    });
  }

  /**
   * Lambda delivered a failure record (an async invocation's or a stream batch's) to an SQS
   * destination, with the function's role; `resolveName` maps the record's function ARN to its local name.
   */
  destinationDelivered(record: object, queueUrl: string, resolveName: (arn: string) => string | undefined): void {
    const arn = (record as { requestContext?: { functionArn?: string } }).requestContext?.functionArn?.replace(/:\$LATEST$/, '');
    const functionName = arn ? resolveName(arn) : undefined;
    if (!functionName) return;
    this.record({
      principal: `function:${functionName}`,
      action: 'sqs:SendMessage',
      resource: this.queueArn(queueUrl),
      context: {},
      operation: 'Lambda.OnFailureDestination',
    });
  }

  /** Lambda wrote a function's logs with its role (its log group, one stream per container). */
  functionLogged(functionName: string, deployedName: string): void {
    const stream = `arn:aws:logs:${this.options.region}:${this.options.accountId}:log-group:/aws/lambda/${deployedName}:log-stream:local`;
    for (const action of ['logs:CreateLogStream', 'logs:PutLogEvents']) {
      this.record({ principal: `function:${functionName}`, action, resource: stream, context: {}, operation: 'Lambda.logs' });
    }
  }

  /** Patches every SDK client's `send` in this process; returns the undo. */
  install(): () => void {
    // every client class (S3Client, EMRClient, the document client…) extends the same base Client
    const proto = Object.getPrototypeOf(S3Client.prototype) as { send: (...args: unknown[]) => unknown; [PATCHED]?: true };
    if (proto[PATCHED]) throw new Error('an AwsCallRecorder is already installed');
    const original = proto.send;
    const recorder = this;
    proto.send = function patchedSend(this: { config: unknown }, command: unknown, ...rest: unknown[]) {
      const principal = currentInvocation()?.functionName ?? recorder.attributed.get(this);
      const result = original.call(this, command, ...rest);
      if (!principal || !(result instanceof Promise)) return result;
      const note = (output: unknown, error: unknown) => {
        try {
          recorder.noteCall(principal, this.config as { serviceId?: string }, command as { constructor: { name: string }; input?: Input }, output, error);
        } catch (err) {
          process.stderr.write(`landfall aws-calls: could not record a call: ${(err as Error).message}\n`);
        }
      };
      result.then(
        (output) => note(output, undefined),
        (error) => note(undefined, error),
      );
      return result;
    };
    proto[PATCHED] = true;
    return () => {
      proto.send = original;
      delete proto[PATCHED];
    };
  }

  private noteCall(
    functionName: string,
    config: { serviceId?: string },
    command: { constructor: { name: string }; input?: Input },
    output: unknown,
    error: unknown,
  ): void {
    const service = config.serviceId ?? 'unknown';
    const operation = command.constructor.name.replace(/Command$/, '');
    const input = command.input ?? {};
    this.learnClusterTags(service, operation, input, output as Input | undefined);
    const authorizations = this.authorizations(service, operation, input, error);
    this.learnIterators(service, input, output as Input | undefined);
    for (const auth of authorizations) this.record({ principal: `function:${functionName}`, operation: `${service}.${operation}`, ...auth });
  }

  /** What IAM checks for one API call. */
  authorizations(service: string, operation: string, input: Input, error?: unknown): Authorization[] {
    switch (service) {
      case 'S3':
        return this.s3(operation, input, error);
      case 'DynamoDB':
        return this.dynamodb(DOCUMENT_COMMANDS[operation] ?? operation, input);
      case 'DynamoDB Streams':
        return [
          {
            action: `dynamodb:${operation}`,
            resource: operation === 'ListStreams' ? '*' : this.streamArn(input.StreamArn ?? this.iterators.get(input.ShardIterator) ?? 'unknown-stream'),
            context: {},
          },
        ];
      case 'SFN':
        return this.sfn(operation, input);
      case 'SNS':
        return [{ action: `sns:${operation}`, resource: input.TopicArn ?? input.TargetArn ?? '*', context: {} }];
      case 'SQS':
        return [{ action: `sqs:${SQS_BATCH[operation] ?? operation}`, resource: this.queueArn(input.QueueUrl), context: {} }];
      case 'Lambda':
        return [
          {
            action: `lambda:${operation === 'Invoke' ? 'InvokeFunction' : operation}`,
            resource: this.functionArn(input.FunctionName, input.Qualifier),
            context: {},
          },
        ];
      case 'EMR':
        return this.emr(operation, input);
      case 'Redshift Data':
        return this.redshiftData(operation, input);
      case 'Route53 Recovery Cluster':
        return this.arc(operation, input);
      case 'EventBridge':
        return this.eventBridge(operation, input);
      default:
        return [{ action: `${service.toLowerCase().replace(/\s+/g, '-')}:${operation}`, resource: '*', context: {} }];
    }
  }

  private s3(operation: string, input: Input, error: unknown): Authorization[] {
    const bucket = `arn:aws:s3:::${input.Bucket}`;
    const object = `${bucket}/${input.Key}`;
    switch (operation) {
      case 'ListObjectsV2':
      case 'ListObjects':
      case 'ListObjectVersions': {
        const context: Record<string, string> = { 's3:prefix': input.Prefix ?? '' };
        if (input.Delimiter !== undefined) context['s3:delimiter'] = input.Delimiter;
        return [{ action: operation === 'ListObjectVersions' ? 's3:ListBucketVersions' : 's3:ListBucket', resource: bucket, context }];
      }
      case 'HeadBucket':
        return [{ action: 's3:ListBucket', resource: bucket, context: {} }];
      case 'CopyObject': {
        const [source, versionId] = String(input.CopySource).split('?versionId=');
        const from = `arn:aws:s3:::${decodeURIComponent(source!.replace(/^\//, ''))}`;
        return [
          { action: 's3:PutObject', resource: object, context: {} },
          { action: versionId ? 's3:GetObjectVersion' : 's3:GetObject', resource: from, context: {} },
        ];
      }
      case 'DeleteObjects':
        return (input.Delete?.Objects ?? []).map((o: Input) => ({
          action: o.VersionId ? 's3:DeleteObjectVersion' : 's3:DeleteObject',
          resource: `${bucket}/${o.Key}`,
          context: {},
        }));
      default: {
        const base = S3_OBJECT_ACTIONS[operation] ?? operation;
        const action = input.VersionId && VERSIONED.has(base) ? `${base}Version` : base;
        const out: Authorization[] = [{ action: `s3:${action}`, resource: input.Key === undefined ? bucket : object, context: {} }];
        // A GET/HEAD of a missing key answers 404 only to a caller that may list the bucket (else 403).
        if (base === 'GetObject' && isNotFound(error)) out.push({ action: 's3:ListBucket', resource: bucket, context: { 's3:prefix': input.Key } });
        return out;
      }
    }
  }

  private tableArn(table: string, index?: string): string {
    const arn = table.startsWith('arn:') ? table : `arn:aws:dynamodb:${this.options.region}:${this.options.accountId}:table/${table}`;
    return index ? `${arn}/index/${index}` : arn;
  }

  /** `dynamodb:LeadingKeys` of a request on `table` with this key or item (none known: no key). */
  private leadingKeys(table: string, key: Input | undefined): Record<string, string[]> {
    const attribute = this.options.partitionKeys?.[table.replace(/^arn:.*:table\//, '')];
    const value = attribute && key ? keyText(key[attribute]) : undefined;
    return value === undefined ? {} : { 'dynamodb:LeadingKeys': [value] };
  }

  /** The partition key value a Query's key condition names (`#pk = :v` or `pk = :v`). */
  private queriedPartition(input: Input): Input | undefined {
    const attribute = this.options.partitionKeys?.[input.TableName];
    if (!attribute || input.IndexName) return undefined;
    for (const [, name, value] of String(input.KeyConditionExpression ?? '').matchAll(/([#\w]+)\s*=\s*(:\w+)/g)) {
      const resolved = name!.startsWith('#') ? input.ExpressionAttributeNames?.[name!] : name;
      if (resolved === attribute) return { [attribute]: input.ExpressionAttributeValues?.[value!] };
    }
    return undefined;
  }

  private dynamodb(operation: string, input: Input): Authorization[] {
    switch (operation) {
      case 'TransactWriteItems':
        return (input.TransactItems ?? []).map((item: Input) => {
          const [kind, body] = Object.entries(item)[0] as [string, Input];
          const action = { Put: 'PutItem', Update: 'UpdateItem', Delete: 'DeleteItem', ConditionCheck: 'ConditionCheckItem' }[kind] ?? kind;
          return { action: `dynamodb:${action}`, resource: this.tableArn(body.TableName), context: this.leadingKeys(body.TableName, body.Key ?? body.Item) };
        });
      case 'TransactGetItems':
        return (input.TransactItems ?? []).map((item: Input) => ({
          action: 'dynamodb:GetItem',
          resource: this.tableArn(item.Get.TableName),
          context: this.leadingKeys(item.Get.TableName, item.Get.Key),
        }));
      case 'BatchGetItem':
      case 'BatchWriteItem':
        return Object.keys(input.RequestItems ?? {}).map((table) => ({ action: `dynamodb:${operation}`, resource: this.tableArn(table), context: {} }));
      case 'Query':
      case 'Scan':
        return [
          {
            action: `dynamodb:${operation}`,
            resource: this.tableArn(input.TableName, input.IndexName),
            context: operation === 'Query' ? this.leadingKeys(input.TableName, this.queriedPartition(input)) : {},
          },
        ];
      default:
        return [
          { action: `dynamodb:${operation}`, resource: this.tableArn(input.TableName), context: this.leadingKeys(input.TableName, input.Key ?? input.Item) },
        ];
    }
  }

  /** DynamoDB Local names its streams in region `ddblocal`: AWS's are in the table's region. */
  private streamArn(arn: string): string {
    return String(arn).replace(/^arn:aws:dynamodb:ddblocal:[^:]*:/, `arn:aws:dynamodb:${this.options.region}:${this.options.accountId}:`);
  }

  private sfn(operation: string, input: Input): Authorization[] {
    const resource = input.executionArn ?? input.stateMachineArn ?? '*';
    return [{ action: `states:${operation}`, resource, context: {} }];
  }

  private queueArn(url: string): string {
    const [account, name] = new URL(url).pathname.split('/').filter(Boolean).slice(-2);
    return `arn:aws:sqs:${this.options.region}:${account}:${name}`;
  }

  private functionArn(nameOrArn: string, qualifier?: string): string {
    const base = nameOrArn.startsWith('arn:')
      ? nameOrArn
      : /^\d{12}:function:/.test(nameOrArn)
        ? `arn:aws:lambda:${this.options.region}:${nameOrArn}`
        : `arn:aws:lambda:${this.options.region}:${this.options.accountId}:function:${nameOrArn}`;
    return qualifier ? `${base}:${qualifier}` : base;
  }

  private clusterArn(id: string): string {
    return `arn:aws:elasticmapreduce:${this.options.region}:${this.options.accountId}:cluster/${id}`;
  }

  private learnIterators(service: string, input: Input, output: Input | undefined): void {
    if (service !== 'DynamoDB Streams' || !output) return;
    const stream = input.StreamArn ?? this.iterators.get(input.ShardIterator);
    if (!stream) return;
    // kept after use: two mappings reading one stream (resolve and events) may hold the same iterator (DynamoDB Local's are deterministic)
    for (const next of [output.ShardIterator, output.NextShardIterator]) if (next) this.iterators.set(next, stream);
  }

  private learnClusterTags(service: string, operation: string, input: Input, output: Input | undefined): void {
    if (service !== 'EMR' || !output) return;
    const tags = (list: Array<{ Key: string; Value: string }> | undefined) => Object.fromEntries((list ?? []).map((t) => [t.Key, t.Value]));
    if (operation === 'RunJobFlow' && output.JobFlowId) this.clusterTags.set(output.JobFlowId, tags(input.Tags));
    if (operation === 'DescribeCluster' && output.Cluster?.Id) this.clusterTags.set(output.Cluster.Id, tags(output.Cluster.Tags));
  }

  private resourceTags(clusterId: string): Record<string, string> {
    return Object.fromEntries(Object.entries(this.clusterTags.get(clusterId) ?? {}).map(([k, v]) => [`aws:ResourceTag/${k}`, v]));
  }

  private emr(operation: string, input: Input): Authorization[] {
    const action = `elasticmapreduce:${operation}`;
    if (operation === 'RunJobFlow') {
      const tags = (input.Tags ?? []) as Array<{ Key: string; Value: string }>;
      const context: Record<string, string | string[]> = { 'aws:TagKeys': tags.map((t) => t.Key) };
      for (const t of tags) context[`aws:RequestTag/${t.Key}`] = t.Value;
      const passed = (name: string | undefined, service: string): Authorization[] =>
        name
          ? [
              {
                action: 'iam:PassRole',
                resource: this.options.passedRoleArns?.[name] ?? `arn:aws:iam::${this.options.accountId}:role/${name}`,
                context: { 'iam:PassedToService': service },
              },
            ]
          : [];
      return [
        { action, resource: '*', context },
        ...passed(input.ServiceRole, 'elasticmapreduce.amazonaws.com'),
        ...passed(input.JobFlowRole, 'ec2.amazonaws.com'),
        ...passed(input.AutoScalingRole, 'application-autoscaling.amazonaws.com'),
      ];
    }
    const ids: string[] = input.ClusterId ? [input.ClusterId] : input.JobFlowId ? [input.JobFlowId] : (input.JobFlowIds ?? []);
    if (ids.length === 0) return [{ action, resource: '*', context: {} }];
    return ids.map((id) => ({ action, resource: this.clusterArn(id), context: this.resourceTags(id) }));
  }

  private redshiftData(operation: string, input: Input): Authorization[] {
    if (operation !== 'ExecuteStatement' && operation !== 'BatchExecuteStatement') {
      // statements are checked by their owner: the caller's own session
      return [{ action: `redshift-data:${operation}`, resource: '*', context: { 'redshift-data:statement-owner-iam-userid': CALLER_USER_ID } }];
    }
    const target = input.WorkgroupName
      ? (this.options.workgroupArns?.[input.WorkgroupName] ??
        `arn:aws:redshift-serverless:${this.options.region}:${this.options.accountId}:workgroup/${input.WorkgroupName}`)
      : `arn:aws:redshift:${this.options.region}:${this.options.accountId}:cluster:${input.ClusterIdentifier}`;
    const out: Authorization[] = [{ action: `redshift-data:${operation}`, resource: target, context: {} }];
    // the Data API fetches the database credentials with the caller's role
    if (input.SecretArn) out.push({ action: 'secretsmanager:GetSecretValue', resource: input.SecretArn, context: {} });
    else if (input.WorkgroupName) out.push({ action: 'redshift-serverless:GetCredentials', resource: target, context: {} });
    else
      out.push({
        action: input.DbUser ? 'redshift:GetClusterCredentials' : 'redshift:GetClusterCredentialsWithIAM',
        resource: input.DbUser ? `arn:aws:redshift:${this.options.region}:${this.options.accountId}:dbuser:${input.ClusterIdentifier}/${input.DbUser}` : target,
        context: {},
      });
    return out;
  }

  /** PutEvents is authorized on each entry's bus (a name or an ARN; none: the default bus). */
  private eventBridge(operation: string, input: Input): Authorization[] {
    const busArn = (bus: string | undefined) =>
      bus?.startsWith('arn:') ? bus : `arn:aws:events:${this.options.region}:${this.options.accountId}:event-bus/${bus || 'default'}`;
    if (operation === 'PutEvents') {
      const buses = new Set<string>((input.Entries ?? []).map((e: Input) => busArn(e.EventBusName)));
      return [...buses].map((resource) => ({ action: 'events:PutEvents', resource, context: {} }));
    }
    return [{ action: `events:${operation}`, resource: input.Name ? busArn(input.Name) : '*', context: {} }];
  }

  private arc(operation: string, input: Input): Authorization[] {
    const action = `route53-recovery-cluster:${operation}`;
    if (operation === 'UpdateRoutingControlStates') {
      return (input.UpdateRoutingControlStateEntries ?? []).map((e: Input) => ({ action, resource: e.RoutingControlArn, context: {} }));
    }
    return [{ action, resource: input.RoutingControlArn ?? '*', context: {} }];
  }
}
