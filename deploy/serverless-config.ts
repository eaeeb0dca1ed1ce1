import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';

/**
 * Reads serverless.yml so the local stack creates the same buckets, tables and S3 triggers that
 * `serverless deploy` creates: one source of truth, no second list of names to drift.
 */
export interface S3Trigger {
  bucket: string;
  prefix?: string;
  suffix?: string;
}

export interface StreamTrigger {
  tableName: string;
  batchSize: number;
  filterPatterns: Array<Record<string, unknown>>;
}

export interface LocalStateMachine {
  name: string;
  /** the ASL with each `{"Fn::GetAtt": [<function>, "Arn"]}` replaced by the function's name */
  definition: Record<string, unknown>;
}

export interface LocalFunction {
  name: string;
  /** the TypeScript source of the handler (the bundle's entry point) */
  sourceModule: string;
  memoryMb: number;
  timeoutSeconds: number;
  triggers: S3Trigger[];
  streams: StreamTrigger[];
}

export interface Deployment {
  service: string;
  stage: string;
  names: {
    rawBucket: string;
    lakeBucket: string;
    fileStateTable: string;
    jobRunsTable: string;
    stateMachine: string;
    emrStateMachine: string;
    failureTopic: string;
    /** the on-failure destination of the async functions and the stream mapping (resource FailedEventsQueue) */
    failedEventsQueue: string;
  };
  functions: LocalFunction[];
  tables: Array<{ create: CreateTableCommandInput; ttlAttribute?: string }>;
  stateMachines: LocalStateMachine[];
  topics: string[];
}

type Doc = Record<string, unknown>;

function lookup(doc: Doc, path: string): unknown {
  return path.split('.').reduce<unknown>((node, part) => (node as Doc | undefined)?.[part], doc);
}

/** Resolves the few variable forms the project uses: ${self:…}, ${sls:stage}, ${opt:stage, '…'}. */
function resolve(value: unknown, doc: Doc, stage: string, depth = 0): unknown {
  if (depth > 10) throw new Error('serverless.yml: variables nest too deeply');
  if (typeof value === 'string') {
    const whole = /^\$\{([^{}]+)\}$/.exec(value);
    const replace = (expr: string): unknown => {
      const [ref] = expr.split(',').map((s) => s.trim());
      if (ref === 'sls:stage' || ref === 'opt:stage' || ref === 'self:provider.stage') return stage;
      if (ref!.startsWith('self:')) return resolve(lookup(doc, ref!.slice(5)), doc, stage, depth + 1);
      if (ref!.startsWith('file(')) return { $file: /^file\(([^)]+)\)$/.exec(ref!)![1] };
      const fallback = /,\s*'([^']*)'\s*$/.exec(expr);
      if (fallback) return fallback[1];
      return `\${${expr}}`;
    };
    if (whole) return replace(whole[1]!);
    return value.replace(/\$\{([^{}]+)\}/g, (_, expr: string) => String(replace(expr)));
  }
  if (Array.isArray(value)) return value.map((v) => resolve(v, doc, stage, depth));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolve(v, doc, stage, depth)]));
  }
  return value;
}

/** CloudFormation short forms (!GetAtt, !Ref, !Sub …) read as their long forms. */
const CFN_TAGS = ['Ref', 'GetAtt', 'Sub', 'Join', 'Select', 'Split', 'If', 'Equals', 'Not', 'ImportValue', 'FindInMap', 'GetAZs', 'Base64'].flatMap((name) => {
  const key = name === 'Ref' ? 'Ref' : `Fn::${name}`;
  const resolveTag = (value: unknown) => ({ [key]: name === 'GetAtt' && typeof value === 'string' ? value.split('.') : value });
  return (['scalar', 'seq', 'map'] as const).map((nodeClass) => ({
    tag: `!${name}`,
    collection: nodeClass === 'scalar' ? undefined : nodeClass,
    resolve: resolveTag,
  }));
});

/** `{"Fn::GetAtt": ["transform", "Arn"]}` → "transform": locally a function is called by name. */
function functionNamesForArns(value: unknown, functions: string[]): unknown {
  if (Array.isArray(value)) return value.map((v) => functionNamesForArns(v, functions));
  if (value && typeof value === 'object') {
    const getAtt = (value as Doc)['Fn::GetAtt'];
    if (Array.isArray(getAtt) && getAtt[1] === 'Arn' && functions.includes(String(getAtt[0]))) return String(getAtt[0]);
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, functionNamesForArns(v, functions)]));
  }
  return value;
}

export function readDeployment(root: string, stage = 'local'): Deployment {
  const doc = parse(readFileSync(join(root, 'serverless.yml'), 'utf8'), { customTags: CFN_TAGS as never }) as Doc;
  const get = (path: string) => resolve(lookup(doc, path), doc, stage);
  const resources = (lookup(doc, 'resources.Resources') ?? {}) as Record<string, Doc>;
  const failedEventsQueue = (resources.FailedEventsQueue?.Properties as Doc | undefined)?.QueueName;
  if (typeof failedEventsQueue !== 'string') throw new Error('serverless.yml: resources.Resources.FailedEventsQueue.Properties.QueueName is missing');
  const names = {
    ...(get('custom.names') as Omit<Deployment['names'], 'failedEventsQueue'>),
    failedEventsQueue: String(resolve(failedEventsQueue, doc, stage)),
  };
  const provider = (doc.provider ?? {}) as Doc;
  const functions = Object.entries((doc.functions ?? {}) as Record<string, Doc>).map(([name, fn]): LocalFunction => {
    const events = (resolve(fn.events ?? [], doc, stage) as Doc[]).filter((e) => e.s3);
    return {
      name,
      sourceModule: join(root, 'functions', name, 'handler.ts'),
      memoryMb: Number(fn.memorySize ?? provider.memorySize ?? 1024),
      timeoutSeconds: Number(fn.timeout ?? provider.timeout ?? 6),
      streams: [],
      triggers: events.map((e) => {
        const s3 = e.s3 as Doc;
        const rules = (s3.rules ?? []) as Array<Record<string, string>>;
        // `bucket` is a name, or a reference to provider.s3.<ref> that serverless creates and names.
        const ref = lookup(doc, `provider.s3.${String(s3.bucket)}.name`);
        const trigger: S3Trigger = { bucket: String(ref !== undefined ? resolve(ref, doc, stage) : s3.bucket) };
        for (const rule of rules) {
          if (rule.prefix) trigger.prefix = rule.prefix;
          if (rule.suffix) trigger.suffix = rule.suffix;
        }
        return trigger;
      }),
    };
  });
  const tableNameOf = (ref: unknown) => {
    const getAtt = (ref as Doc | undefined)?.['Fn::GetAtt'] as string[] | undefined;
    const table = getAtt && resources[getAtt[0]!];
    if (!table) throw new Error(`serverless.yml: a stream arn must be !GetAtt <Table>.StreamArn, got ${JSON.stringify(ref)}`);
    return String(resolve((table.Properties as Doc).TableName, doc, stage));
  };
  for (const [name, fn] of Object.entries((doc.functions ?? {}) as Record<string, Doc>)) {
    const streams = (resolve(fn.events ?? [], doc, stage) as Doc[]).filter((e) => e.stream).map((e) => e.stream as Doc);
    functions.find((f) => f.name === name)!.streams = streams.map((st) => ({
      tableName: tableNameOf(st.arn),
      batchSize: Number(st.batchSize ?? 100),
      filterPatterns: (st.filterPatterns ?? []) as Array<Record<string, unknown>>,
    }));
  }
  const functionNames = functions.map((f) => f.name);
  const stateMachines = Object.values((lookup(doc, 'stepFunctions.stateMachines') ?? {}) as Record<string, Doc>).map((sm): LocalStateMachine => {
    const resolved = resolve(sm, doc, stage) as Doc;
    const definition = resolved.definition as Doc;
    const loaded = typeof definition?.$file === 'string' ? (JSON.parse(readFileSync(join(root, definition.$file), 'utf8')) as Doc) : definition;
    return { name: String(resolved.name), definition: functionNamesForArns(loaded, functionNames) as Record<string, unknown> };
  });
  const topics = Object.values(resources)
    .filter((r) => r.Type === 'AWS::SNS::Topic')
    .map((r) => String(resolve((r.Properties as Doc).TopicName, doc, stage)));
  const tables = Object.values(resources)
    .filter((r) => r.Type === 'AWS::DynamoDB::Table')
    .map((r) => {
      const p = resolve(r.Properties, doc, stage) as Doc;
      const stream = p.StreamSpecification as Doc | undefined;
      const create: CreateTableCommandInput = {
        TableName: String(p.TableName),
        AttributeDefinitions: p.AttributeDefinitions as CreateTableCommandInput['AttributeDefinitions'],
        KeySchema: p.KeySchema as CreateTableCommandInput['KeySchema'],
        BillingMode: 'PAY_PER_REQUEST',
      };
      if (p.GlobalSecondaryIndexes) {
        create.GlobalSecondaryIndexes = (p.GlobalSecondaryIndexes as Doc[]).map((g) => ({
          IndexName: String(g.IndexName),
          KeySchema: g.KeySchema as never,
          Projection: g.Projection as never,
        }));
      }
      if (stream) create.StreamSpecification = { StreamEnabled: true, StreamViewType: stream.StreamViewType as never };
      const ttl = p.TimeToLiveSpecification as Doc | undefined;
      return { create, ...(ttl?.Enabled ? { ttlAttribute: String(ttl.AttributeName) } : {}) };
    });
  return { service: String(doc.service), stage, names, functions, tables, stateMachines, topics };
}
