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

export interface LocalFunction {
  name: string;
  /** the TypeScript source of the handler (the bundle's entry point) */
  sourceModule: string;
  memoryMb: number;
  timeoutSeconds: number;
  triggers: S3Trigger[];
}

export interface Deployment {
  service: string;
  stage: string;
  names: { rawBucket: string; lakeBucket: string; fileStateTable: string; idempotencyTable: string };
  functions: LocalFunction[];
  tables: Array<{ create: CreateTableCommandInput; ttlAttribute?: string }>;
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
  return (['scalar', 'seq', 'map'] as const).map((nodeClass) => ({ tag: `!${name}`, collection: nodeClass === 'scalar' ? undefined : nodeClass, resolve: resolveTag }));
});

export function readDeployment(root: string, stage = 'local'): Deployment {
  const doc = parse(readFileSync(join(root, 'serverless.yml'), 'utf8'), { customTags: CFN_TAGS as never }) as Doc;
  const get = (path: string) => resolve(lookup(doc, path), doc, stage);
  const names = get('custom.names') as Deployment['names'];
  const provider = (doc.provider ?? {}) as Doc;
  const functions = Object.entries((doc.functions ?? {}) as Record<string, Doc>).map(([name, fn]): LocalFunction => {
    const events = (resolve(fn.events ?? [], doc, stage) as Doc[]).filter((e) => e.s3);
    return {
      name,
      sourceModule: join(root, 'functions', name, 'handler.ts'),
      memoryMb: Number(fn.memorySize ?? provider.memorySize ?? 1024),
      timeoutSeconds: Number(fn.timeout ?? provider.timeout ?? 6),
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
  const resources = (lookup(doc, 'resources.Resources') ?? {}) as Record<string, Doc>;
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
  return { service: String(doc.service), stage, names, functions, tables };
}
