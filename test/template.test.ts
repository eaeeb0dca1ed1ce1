import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { PREFIX, REPORT_SUFFIX } from '../shared/core/s3/layout';
import { CURATED_PREFIX } from '../shared/stages/transform/run-stage';
import { FILE_STATES } from '../shared/core/state/file-state';

/*
 * Packages the service the way CI does (esbuild, then `serverless package` with dummy credentials
 * and no AWS account) and checks the generated CloudFormation template and the bundles.
 */

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const templatePath = join(root, '.serverless', 'cloudformation-template-update-stack.json');
const distDir = join(root, 'dist');

interface Resource {
  Type: string;
  Properties?: Record<string, any>;
  DependsOn?: string | string[];
  DeletionPolicy?: string;
}
interface Template {
  Resources: Record<string, Resource>;
  Outputs?: Record<string, { Value: unknown }>;
}
interface Statement {
  Effect: 'Allow' | 'Deny';
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, Record<string, string | string[]>>;
}
interface Trigger {
  bucket: string; // logical id of the bucket
  prefix: string;
  suffix?: string;
}
/** an object-level S3 resource of a policy: bucket logical id + key prefix */
interface S3Scope {
  bucket: string;
  prefix: string;
}

let template: Template;

/** The pipelines the template is checked with: the samples (the default) and a user's own folder. */
const PIPELINES: Array<{ label: string; file: string | undefined; jobs: string[]; emrMode: 'transient' | 'standing' }> = [
  { label: 'the samples (default)', file: undefined, jobs: ['pos_daily_sales', 'clickstream_daily'], emrMode: 'transient' },
  {
    label: 'a pipeline of your own (test/fixtures/meters)',
    file: 'test/fixtures/meters/pipeline.yaml',
    jobs: ['region_usage', 'grid_daily', 'grid_summary'],
    emrMode: 'transient',
  },
  { label: 'the samples on standing EMR clusters (emrMode=standing)', file: undefined, jobs: ['pos_daily_sales', 'clickstream_daily'], emrMode: 'standing' },
];

function runPackage(pipeline: string | undefined, emrMode: string): Promise<void> {
  const params = [...(pipeline ? [`--param=pipeline=${pipeline}`] : []), ...(emrMode !== 'transient' ? [`--param=emrMode=${emrMode}`] : [])];
  return new Promise((resolve, reject) => {
    const child = spawn('npm', ['run', 'package', ...(params.length > 0 ? ['--', ...params] : [])], {
      cwd: root,
      env: { ...process.env, CI: 'true', AWS_ACCESS_KEY_ID: 'x', AWS_SECRET_ACCESS_KEY: 'x' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`npm run package exited with ${code}:\n${output}`))));
  });
}

/** Runs a command to its end; never rejects on a non-zero exit (the caller reads `code`). */
function run(command: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

// ---- helpers that read the template (no constants about it) ----

const asArray = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

function resourcesOfType(type: string): Array<[string, Resource]> {
  return Object.entries(template.Resources).filter(([, r]) => r.Type === type);
}

/** Resolves the intrinsic shapes used for ARNs to a string; GetAtt/Ref to resources become tokens. */
function arnText(value: unknown): string {
  if (typeof value === 'string') return value;
  const v = value as Record<string, any>;
  const pseudo: Record<string, string> = { 'AWS::Partition': 'aws', 'AWS::Region': 'us-east-1', 'AWS::AccountId': '123456789012' };
  if (typeof v['Fn::Sub'] === 'string' || Array.isArray(v['Fn::Sub'])) {
    const [text, vars = {}] = (Array.isArray(v['Fn::Sub']) ? v['Fn::Sub'] : [v['Fn::Sub']]) as [string, Record<string, unknown>?];
    return text.replace(/\$\{([^}]+)\}/g, (_, name: string) => (name in vars ? arnText(vars[name]) : (pseudo[name] ?? `<${name}>`)));
  }
  if (Array.isArray(v['Fn::Join'])) {
    const [sep, parts] = v['Fn::Join'] as [string, unknown[]];
    return parts.map(arnText).join(sep);
  }
  if (typeof v.Ref === 'string') return pseudo[v.Ref] ?? `<Ref ${v.Ref}>`;
  if (Array.isArray(v['Fn::GetAtt'])) return `<GetAtt ${(v['Fn::GetAtt'] as string[]).join('.')}>`;
  throw new Error(`cannot read an ARN from ${JSON.stringify(value)}`);
}

/** bucket name (as in BucketName) → logical id, for the buckets this service owns */
function bucketIdsByName(): Map<string, string> {
  const map = new Map<string, string>();
  for (const [id, r] of resourcesOfType('AWS::S3::Bucket')) {
    if (typeof r.Properties?.BucketName === 'string') map.set(r.Properties.BucketName, id);
  }
  return map;
}

function outputRef(name: string): string {
  const value = template.Outputs?.[name]?.Value as { Ref?: string } | undefined;
  if (!value?.Ref) throw new Error(`output ${name} is not a Ref`);
  return value.Ref;
}

/** function logical id → its name (from the handler path dist/<name>/index.handler) */
function functions(): Map<string, string> {
  const map = new Map<string, string>();
  for (const [id, r] of resourcesOfType('AWS::Lambda::Function')) {
    const match = /^dist\/([^/]+)\/index\.handler$/.exec(String(r.Properties?.Handler));
    if (match) map.set(id, match[1]!);
  }
  return map;
}

function functionIdByName(name: string): string {
  for (const [id, n] of functions()) if (n === name) return id;
  throw new Error(`no function ${name} in the template`);
}

/** function name → the S3 notifications that invoke it */
function triggers(): Map<string, Trigger[]> {
  const fns = functions();
  const out = new Map<string, Trigger[]>();
  for (const [bucket, r] of resourcesOfType('AWS::S3::Bucket')) {
    for (const conf of asArray(r.Properties?.NotificationConfiguration?.LambdaConfigurations) as Array<Record<string, any>>) {
      const target = conf.Function?.['Fn::GetAtt']?.[0] as string | undefined;
      const name = target ? fns.get(target) : undefined;
      if (!name) throw new Error(`bucket ${bucket} notifies ${JSON.stringify(conf.Function)}, which is not a function here`);
      const rules = asArray(conf.Filter?.S3Key?.Rules) as Array<{ Name: string; Value: string }>;
      const rule = (n: string) => rules.find((x) => x.Name.toLowerCase() === n)?.Value;
      const trigger: Trigger = { bucket, prefix: rule('prefix') ?? '' };
      const suffix = rule('suffix');
      if (suffix !== undefined) trigger.suffix = suffix;
      expect(String(conf.Event)).toMatch(/^s3:ObjectCreated:/);
      out.set(name, [...(out.get(name) ?? []), trigger]);
    }
  }
  return out;
}

function roleIdOf(functionId: string): string {
  const role = template.Resources[functionId]?.Properties?.Role as { 'Fn::GetAtt'?: [string, string] } | undefined;
  const id = role?.['Fn::GetAtt']?.[0];
  if (!id || template.Resources[id]?.Type !== 'AWS::IAM::Role') throw new Error(`${functionId} does not use a role of this template`);
  return id;
}

/** The branch of a policy-level `Fn::If` in force: HasDataKey as asked (default: no key, the template's default). */
function policyInForce(policy: unknown, dataKey: boolean): unknown {
  const branches = (policy as { 'Fn::If'?: [string, unknown, unknown] })['Fn::If'];
  if (!branches) return policy;
  if (branches[0] !== 'HasDataKey') throw new Error(`a policy under an unexpected condition ${branches[0]}`);
  return dataKey ? branches[1] : branches[2];
}
const isNoValue = (v: unknown) => (v as { Ref?: string } | undefined)?.Ref === 'AWS::NoValue';
/** both branches of an `Fn::If` (each that is not AWS::NoValue), or the value itself */
function branchesOf(value: unknown): unknown[] {
  const branches = (value as { 'Fn::If'?: [string, unknown, unknown] } | undefined)?.['Fn::If'];
  return branches ? [branches[1], branches[2]].filter((b) => !isNoValue(b)) : [value];
}

function roleStatements(roleId: string, { dataKey = false } = {}): Statement[] {
  const policies = asArray(template.Resources[roleId]!.Properties?.Policies)
    .map((p) => policyInForce(p, dataKey))
    .filter((p) => !isNoValue(p)) as Array<{ PolicyDocument: { Statement: Statement | Statement[] } }>;
  const attached = resourcesOfType('AWS::IAM::Policy')
    .filter(([, r]) => asArray(r.Properties?.Roles).some((x: any) => x?.Ref === roleId))
    .map(([, r]) => r.Properties as { PolicyDocument: { Statement: Statement | Statement[] } });
  return [...policies, ...attached].flatMap((p) => asArray(p.PolicyDocument.Statement));
}

const actionsOf = (s: Statement) => asArray(s.Action).map((a) => a.toLowerCase());

/** Object-level S3 scopes a role is allowed `action` on (e.g. s3:putobject). */
function s3Scopes(roleId: string, action?: string): S3Scope[] {
  const buckets = bucketIdsByName();
  const scopes: S3Scope[] = [];
  for (const s of roleStatements(roleId)) {
    if (s.Effect !== 'Allow') continue;
    const actions = actionsOf(s);
    if (!actions.some((a) => a.startsWith('s3:'))) continue;
    if (action && !actions.includes(action)) continue;
    for (const res of asArray(s.Resource)) {
      const arn = arnText(res);
      const match = /^arn:[^:]+:s3:::([^/]+)(?:\/(.*))?$/.exec(arn);
      if (!match) throw new Error(`${roleId}: unexpected S3 resource ${arn}`);
      const bucket = buckets.get(match[1]!) ?? `<foreign ${match[1]}>`;
      // a bucket-level ARN (s3:ListBucket) reaches only the key prefixes its s3:prefix condition allows
      const listed = match[2] === undefined ? asArray(s.Condition?.StringLike?.['s3:prefix']) : [match[2]];
      // a wildcard anywhere makes the prefix end there: conservative for overlap checks
      for (const key of listed.length > 0 ? listed : ['']) scopes.push({ bucket, prefix: key.split('*')[0]! });
    }
  }
  return scopes;
}

const overlaps = (a: S3Scope, b: S3Scope) => a.bucket === b.bucket && (a.prefix.startsWith(b.prefix) || b.prefix.startsWith(a.prefix));
const scopeText = (s: S3Scope) => `${s.bucket}:${s.prefix}`;

// ---- the tests ----

describe.each(PIPELINES)('serverless package template, $label', ({ file, jobs, emrMode }) => {
  beforeAll(async () => {
    await runPackage(file, emrMode);
    template = JSON.parse(readFileSync(templatePath, 'utf8')) as Template;
  }, 180_000);

  it('bundles exactly the chosen pipeline beside every function that loads it', () => {
    for (const name of ['validate', 'resolve', 'transform', 'jobstep']) {
      const bundled = JSON.parse(readFileSync(join(distDir, name, 'pipeline', 'pipeline.json'), 'utf8')) as {
        jobs: Array<{ name: string; stages: Array<{ sql?: string }> }>;
      };
      expect(bundled.jobs.map((j) => j.name)).toEqual(jobs);
      for (const stage of bundled.jobs.flatMap((j) => j.stages)) {
        if (stage.sql) expect(existsSync(join(distDir, name, 'pipeline', stage.sql)), stage.sql).toBe(true);
      }
    }
  });

  it('(a) fires each function on its own bucket prefix', () => {
    const raw = outputRef('RawBucketName');
    const lake = outputRef('LakeBucketName');
    const t = triggers();
    expect(t.get('validate')).toEqual([{ bucket: raw, prefix: PREFIX.landing }]);
    expect(t.get('convert')).toEqual([{ bucket: raw, prefix: PREFIX.validated }]);
    expect(t.get('track')).toHaveLength(2);
    expect(t.get('track')).toEqual(
      expect.arrayContaining([
        { bucket: raw, prefix: PREFIX.reports, suffix: REPORT_SUFFIX },
        { bucket: lake, prefix: PREFIX.processed },
      ]),
    );
    // the other functions are started by the file-state stream, the state machine or a schedule
    expect([...t.keys()].sort()).toEqual(['convert', 'track', 'validate']);
    // the names the handlers are given are the buckets that notify them
    const bucketName = (id: string) => template.Resources[id]!.Properties!.BucketName as string;
    for (const fnId of functions().keys()) {
      const env = template.Resources[fnId]!.Properties!.Environment.Variables as Record<string, string>;
      expect(env.RAW_BUCKET).toBe(bucketName(raw));
      expect(env.LAKE_BUCKET).toBe(bucketName(lake));
    }
  });

  it('(b) triggers no function with its own output', () => {
    const t = triggers();
    let checked = 0;
    for (const [fnId, name] of functions()) {
      const writes = s3Scopes(roleIdOf(fnId), 's3:putobject');
      const fires = (t.get(name) ?? []).map(({ bucket, prefix }) => ({ bucket, prefix }));
      for (const w of writes) {
        // validate puts an archive's members under landing/ to be validated as files of their own:
        // their keys hold `!/`, and a member is never unpacked again (resolveLandingKey), so it ends there
        if (
          name === 'validate' &&
          w.prefix === PREFIX.landing &&
          roleStatements(roleIdOf(fnId)).some((s) =>
            asArray(s.Resource)
              .map(arnText)
              .some((a) => a.endsWith('/landing/*!/*')),
          )
        )
          continue;
        for (const f of fires) {
          expect(overlaps(w, f), `${name} writes ${scopeText(w)} and fires on ${scopeText(f)}`).toBe(false);
          checked += 1;
        }
      }
    }
    expect(checked).toBeGreaterThan(0);
  });

  it('(c) grants no s3/dynamodb/sqs action on "*" and no wildcard actions', () => {
    const statements: Array<[string, Statement]> = [];
    for (const [id, r] of Object.entries(template.Resources)) {
      if (r.Type === 'AWS::IAM::Role') {
        // with and without the data key (a policy under HasDataKey)
        for (const s of new Set([...roleStatements(id), ...roleStatements(id, { dataKey: true })])) statements.push([id, s]);
      }
      if (r.Type === 'AWS::IAM::Policy' || r.Type === 'AWS::IAM::ManagedPolicy') {
        for (const s of asArray(r.Properties?.PolicyDocument?.Statement) as Statement[]) statements.push([id, s]);
      }
    }
    const data = statements.filter(([, s]) => actionsOf(s).some((a) => /^(s3|dynamodb|sqs|sns|states|lambda|kms):/.test(a)));
    expect(data.length).toBeGreaterThan(0);
    for (const [id, s] of data) {
      for (const res of asArray(s.Resource)) {
        expect(arnText(res), `${id}: ${JSON.stringify(s.Action)}`).not.toBe('*');
        expect(arnText(res)).not.toMatch(/^arn:[^:]+:(dynamodb|sqs|sns|states|lambda|kms):[^:]*:[^:]*:\*$/);
        expect(arnText(res)).not.toMatch(/^arn:[^:]+:s3:::\*/);
      }
    }
    for (const [id, s] of statements) {
      if (s.Effect !== 'Allow') continue;
      for (const a of asArray(s.Action)) expect(a, `${id} allows a wildcard action`).not.toContain('*');
    }
    // every function runs with its own role from this template (no shared default role)
    const roles = [...functions().keys()].map(roleIdOf);
    expect(new Set(roles).size).toBe(roles.length);
    expect(template.Resources.IamRoleLambdaExecution).toBeUndefined();
  });

  it('(d) versions, encrypts and locks down every bucket, and denies it every request without TLS', () => {
    const policies = resourcesOfType('AWS::S3::BucketPolicy');
    const buckets = resourcesOfType('AWS::S3::Bucket').map(([id]) => id);
    expect(buckets).toEqual(
      expect.arrayContaining([outputRef('RawBucketName'), outputRef('LakeBucketName'), 'ServerlessDeploymentBucket', outputRef('AccessLogsBucketName')]),
    );
    for (const id of buckets) {
      const p = template.Resources[id]!.Properties!;
      expect(p.VersioningConfiguration?.Status, id).toBe('Enabled');
      // either branch of a conditional encryption (the data key, or S3-managed keys) encrypts
      for (const encryption of branchesOf(p.BucketEncryption)) {
        const sse = asArray((encryption as any)?.ServerSideEncryptionConfiguration) as any[];
        expect(sse.length, id).toBeGreaterThan(0);
        for (const rule of sse) expect(['AES256', 'aws:kms', 'aws:kms:dsse']).toContain(rule.ServerSideEncryptionByDefault?.SSEAlgorithm);
      }
      expect(p.PublicAccessBlockConfiguration, id).toEqual({
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      });
      expect(p.OwnershipControls?.Rules, id).toEqual([{ ObjectOwnership: 'BucketOwnerEnforced' }]);
      // a policy on this bucket denies every request without TLS, on the bucket and on its objects
      const mine = policies.filter(([, r]) => r.Properties?.Bucket?.Ref === id);
      const denyNonTls = mine
        .flatMap(([, r]) => asArray(r.Properties!.PolicyDocument.Statement) as any[])
        .filter(
          (s) =>
            s.Effect === 'Deny' && s.Principal === '*' && asArray(s.Action).includes('s3:*') && String(s.Condition?.Bool?.['aws:SecureTransport']) === 'false',
        );
      expect(denyNonTls.length, `${id} has no deny-non-TLS policy`).toBe(1);
      // (serverless writes its own bucket's ARN with Fn::Join, this template with GetAtt and Sub)
      const covered = asArray(denyNonTls[0].Resource).map(arnText);
      expect(
        covered.some((a) => a === `<GetAtt ${id}.Arn>` || a === `arn:aws:s3:::<Ref ${id}>`),
        `${id}: ${covered}`,
      ).toBe(true);
      expect(
        covered.some((a) => a === `<${id}.Arn>/*` || a === `arn:aws:s3:::<Ref ${id}>/*`),
        `${id}: ${covered}`,
      ).toBe(true);
    }
  });

  it('(e) defines the file-state table, and no separate idempotency table', () => {
    const tableByName = (name: string) => {
      const found = resourcesOfType('AWS::DynamoDB::Table').find(([, r]) => r.Properties?.TableName === name);
      if (!found) throw new Error(`no table ${name}`);
      return found[1];
    };
    const fnEnv = template.Resources[[...functions().keys()][0]!]!.Properties!.Environment.Variables as Record<string, string>;

    const fileState = tableByName(fnEnv.FILE_STATE_TABLE!);
    const fp = fileState.Properties!;
    expect(fileState.DeletionPolicy).toBe('Retain');
    expect(fp.BillingMode).toBe('PAY_PER_REQUEST');
    expect(fp.KeySchema).toEqual([
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ]);
    expect(fp.AttributeDefinitions).toEqual(
      expect.arrayContaining(['pk', 'sk', 'gsi1pk', 'gsi1sk', 'workPk', 'workSk'].map((AttributeName) => ({ AttributeName, AttributeType: 'S' }))),
    );
    expect(fp.AttributeDefinitions).toHaveLength(6);
    expect(fp.GlobalSecondaryIndexes).toEqual([
      {
        IndexName: 'gsi1',
        KeySchema: [
          { AttributeName: 'gsi1pk', KeyType: 'HASH' },
          { AttributeName: 'gsi1sk', KeyType: 'RANGE' },
        ],
        Projection: {
          ProjectionType: 'INCLUDE',
          NonKeyAttributes: [
            'key',
            'versionId',
            'sequencer',
            'dataset',
            'fields',
            'state',
            'size',
            'processedKey',
            'processedVersionId',
            'rows',
            'parquetRows',
            'manifest',
          ],
        },
      },
      {
        // the reconciler's work index: files in flight and files settled lately, never the whole history
        IndexName: 'gsi2',
        KeySchema: [
          { AttributeName: 'workPk', KeyType: 'HASH' },
          { AttributeName: 'workSk', KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: ['key', 'versionId', 'state', 'dataset', 'fields', 'updatedAt'] },
      },
    ]);
    // job runs: an index of active claims, the console's grid (a job's batches by business date)
    // and its open batches (sparse: only while waiting, running or failed); finished history expires
    const jobRuns = tableByName('landfall-ci-job-runs').Properties!;
    expect(jobRuns.GlobalSecondaryIndexes).toEqual([
      {
        IndexName: 'gsi1',
        KeySchema: [
          { AttributeName: 'duePk', KeyType: 'HASH' },
          { AttributeName: 'dueAt', KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'KEYS_ONLY' },
      },
      {
        IndexName: 'gsi2',
        KeySchema: [
          { AttributeName: 'gridPk', KeyType: 'HASH' },
          { AttributeName: 'gridSk', KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      },
      {
        IndexName: 'gsi3',
        KeySchema: [
          { AttributeName: 'openPk', KeyType: 'HASH' },
          { AttributeName: 'openSk', KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      },
    ]);
    expect(jobRuns.TimeToLiveSpecification).toEqual({ AttributeName: 'expiresAt', Enabled: true });
    // the events function reads each run's and batch's status changes from it
    expect(jobRuns.StreamSpecification).toEqual({ StreamViewType: 'NEW_AND_OLD_IMAGES' });
    // no role may Scan a table: every recurring read is a Query on an index
    for (const fnId of functions().keys()) {
      expect(roleStatements(roleIdOf(fnId)).flatMap(actionsOf), functions().get(fnId)).not.toContain('dynamodb:scan');
    }
    expect(fp.StreamSpecification).toEqual({ StreamViewType: 'NEW_AND_OLD_IMAGES' });
    expect(fp.SSESpecification?.SSEEnabled).toBe(true);
    expect(fp.PointInTimeRecoverySpecification?.PointInTimeRecoveryEnabled).toBe(true);

    // Redelivered S3 events are recognised on natural keys (docs/performance.md): no extra writes.
    expect(fnEnv.IDEMPOTENCY_TABLE).toBeUndefined();
    expect(
      resourcesOfType('AWS::DynamoDB::Table')
        .map(([, r]) => r.Properties!.TableName as string)
        .sort(),
    ).toEqual([fnEnv.FILE_STATE_TABLE!, 'landfall-ci-job-runs']);
  });

  it('(f) scopes each role to the prefixes its function reads and writes', () => {
    const raw = outputRef('RawBucketName');
    const lake = outputRef('LakeBucketName');
    const at = (bucket: string, ...prefixes: string[]) => prefixes.map((p) => `${bucket}:${p}`).sort();
    const expected: Record<string, { read: string[]; write: string[]; readsLatestOnly?: string[]; listsOnly?: string[] }> = {
      // ... and an archive's members, `landing/<archive key>!/<member>` (its only write under landing/)
      validate: { read: at(raw, PREFIX.landing), write: at(raw, PREFIX.landing, PREFIX.validated, PREFIX.rejected, PREFIX.reports) },
      // convert reads its own output's lineage (the newest version) to skip a redelivered event
      // ... and the landed version the verdict names, whose good rows it converts (no copy of them is written)
      convert: {
        read: [...at(raw, PREFIX.landing, PREFIX.validated), ...at(lake, PREFIX.processed)].sort(),
        write: at(lake, PREFIX.processed),
        readsLatestOnly: at(lake, PREFIX.processed),
      },
      track: { read: [...at(raw, PREFIX.reports), ...at(lake, PREFIX.processed)].sort(), write: [] },
      // lists a batch's landed objects (their versions) before claiming it: validate may not have recorded one yet
      resolve: { read: [], write: [], listsOnly: at(raw, PREFIX.landing) },
      // a job-failure alert carries the failing EMR step's log tail
      // ... and HEADs the partition a run read by other jobs wrote (recorded for them)
      // ... and lists a settling run's landed objects, as resolve does
      jobstep: {
        read: at(lake, 'emr-logs/', CURATED_PREFIX),
        write: [],
        readsLatestOnly: at(lake, 'emr-logs/', CURATED_PREFIX),
        listsOnly: at(raw, PREFIX.landing),
      },
      // which stage a stuck file is due for: the lineage of its verdict and its Parquet
      // ... and the landed objects of the batches it resolves again, as resolve does
      reconcile: { read: [...at(raw, PREFIX.validated), ...at(lake, PREFIX.processed)].sort(), write: [], listsOnly: at(raw, PREFIX.landing, PREFIX.reports) },
      // a job reading another job's output reads its partitions under curated/
      transform: { read: at(lake, PREFIX.processed, CURATED_PREFIX), write: at(lake, CURATED_PREFIX) },
      emrstep: { read: at(lake, PREFIX.processed, CURATED_PREFIX, 'checkpoints/'), write: at(lake, 'runs/') },
      // the warehouse's COPY reads curated/ as its own role (WarehouseCopyRole), not the function's
      load: { read: [], write: [] },
      events: { read: [], write: [] },
    };
    expect([...functions().values()].sort()).toEqual(Object.keys(expected).sort());
    for (const [name, want] of Object.entries(expected)) {
      const role = roleIdOf(functionIdByName(name));
      const texts = (scopes: S3Scope[]) => [...new Set(scopes.map(scopeText))].sort();
      expect(texts(s3Scopes(role, 's3:getobject')), `${name} reads`).toEqual(want.read);
      const versioned = (scopes: string[]) => scopes.filter((t) => !t.endsWith(':checkpoints/') && !(want.readsLatestOnly ?? []).includes(t));
      expect(texts(s3Scopes(role, 's3:getobjectversion')), `${name} reads versions`).toEqual(versioned(want.read));
      expect(texts(s3Scopes(role, 's3:putobject')), `${name} writes`).toEqual(want.write);
      // no S3 action of the role reaches anything else (e.g. convert cannot write to raw)
      expect(texts(s3Scopes(role)), `${name} S3 scope`).toEqual([...new Set([...want.read, ...want.write, ...(want.listsOnly ?? [])])].sort());
    }
  });

  it("(x) lets only the functions that resolve batches list landed versions: the raw bucket's landing/ prefix, under an s3:prefix condition", () => {
    const raw = outputRef('RawBucketName');
    const listers = new Map<string, string[]>();
    for (const [id, name] of functions()) {
      const role = roleIdOf(id);
      for (const s of roleStatements(role).filter((st) => st.Effect === 'Allow' && actionsOf(st).includes('s3:listbucketversions'))) {
        // on the bucket itself, never a wildcard, and only for keys under landing/
        expect(asArray(s.Resource).map(arnText), name).toEqual([expect.stringMatching(/^arn:aws:s3:::[^/*]+$/)]);
        expect(actionsOf(s), name).toEqual(['s3:listbucketversions']);
        const prefixes = asArray(s.Condition?.StringLike?.['s3:prefix']);
        expect(prefixes, name).toEqual([`${PREFIX.landing}*`]);
        listers.set(name, [...(listers.get(name) ?? []), ...s3Scopes(role, 's3:listbucketversions').map(scopeText)]);
      }
    }
    expect([...listers.keys()].sort()).toEqual(['jobstep', 'reconcile', 'resolve']);
    for (const [name, scopes] of listers) expect(scopes, name).toEqual([`${raw}:${PREFIX.landing}`]);
    // and they read whether validate recorded a listed version (BatchGetItem on the file-state table only)
    for (const name of listers.keys()) {
      const batchGets = roleStatements(roleIdOf(functionIdByName(name))).filter(
        (st) => st.Effect === 'Allow' && actionsOf(st).includes('dynamodb:batchgetitem'),
      );
      expect(
        batchGets.flatMap((st) => asArray(st.Resource).map(arnText)),
        name,
      ).toEqual(['<GetAtt FileStateTable.Arn>']);
    }
  });

  it('(h) runs jobs on a state machine that may invoke only the job functions', () => {
    expect(
      resourcesOfType('AWS::StepFunctions::StateMachine')
        .map(([id]) => id)
        .sort(),
    ).toEqual(['EmrJobRunStateMachine', 'JobRunStateMachine']);
    const sm = template.Resources.JobRunStateMachine!;
    const roleId = (sm.Properties!.RoleArn as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
    const invocable = roleStatements(roleId)
      .filter((s) => s.Effect === 'Allow')
      .flatMap((s) => {
        expect(actionsOf(s)).toEqual(['lambda:invokefunction']);
        return asArray(s.Resource).map(arnText);
      });
    const functionIds = new Set(invocable.map((a) => /<GetAtt (\w+)\.Arn>/.exec(a)?.[1]));
    expect([...functionIds].map((id) => functions().get(id!)).sort()).toEqual(['jobstep', 'load', 'transform']);
    // the definition is valid ASL, and only invokes Lambda (the local runner has no other integration)
    const sub = sm.Properties!.DefinitionString['Fn::Sub'];
    const definition = JSON.parse(arnText({ 'Fn::Sub': sub })) as { States: Record<string, any> };
    const resources = JSON.stringify(definition).match(/"Resource":"[^"]+"/g) ?? [];
    expect(new Set(resources)).toEqual(new Set(['"Resource":"arn:aws:states:::lambda:invoke"']));
  });

  it('(i) starts and reads executions only from the resolver, jobstep and the reconciler, on the job-run state machines only', () => {
    const name = template.Resources.JobRunStateMachine!.Properties!.StateMachineName as string;
    const emrName = template.Resources.EmrJobRunStateMachine!.Properties!.StateMachineName as string;
    for (const [fnId, fn] of functions()) {
      const starts = roleStatements(roleIdOf(fnId)).filter((s) => actionsOf(s).some((a) => a.startsWith('states:')));
      if (fn === 'resolve' || fn === 'jobstep' || fn === 'reconcile') {
        const on = (action: string) =>
          starts
            .filter((s) => actionsOf(s).includes(action))
            .flatMap((s) => asArray(s.Resource).map(arnText))
            .sort();
        expect(starts.flatMap(actionsOf).sort(), fn).toEqual(['states:describeexecution', 'states:startexecution']);
        expect(on('states:startexecution'), fn).toEqual([
          `arn:aws:states:us-east-1:123456789012:stateMachine:${emrName}`,
          `arn:aws:states:us-east-1:123456789012:stateMachine:${name}`,
        ]);
        // a claim is compared with its execution (the reconciler; a retry of a stuck batch)
        expect(on('states:describeexecution'), fn).toEqual([
          `arn:aws:states:us-east-1:123456789012:execution:${emrName}:*`,
          `arn:aws:states:us-east-1:123456789012:execution:${name}:*`,
        ]);
      } else {
        expect(starts, `${fn} may use Step Functions`).toEqual([]);
      }
    }
    // the resolver reads the file-state stream, reporting partial batch failures, settled files only
    const [mapping] = resourcesOfType('AWS::Lambda::EventSourceMapping').map(([, r]) => r.Properties!);
    expect(mapping!.FunctionName['Fn::GetAtt'][0]).toBe(functionIdByName('resolve'));
    expect(mapping!.EventSourceArn).toEqual({ 'Fn::GetAtt': ['FileStateTable', 'StreamArn'] });
    expect(mapping!.FunctionResponseTypes).toEqual(['ReportBatchItemFailures']);
    expect(JSON.parse(mapping!.FilterCriteria.Filters[0].Pattern)).toEqual({
      dynamodb: { NewImage: { state: { S: ['CONVERTED', 'REJECTED', 'SUPERSEDED', 'QUARANTINED', 'FAILED'] } } },
    });
    // and the reconciler runs on a schedule as the safety net (the resolver has none)
    const rules = resourcesOfType('AWS::Events::Rule').map(([, r]) => r.Properties!);
    const scheduled = rules.filter((r) => /^rate\(/.test(r.ScheduleExpression)).flatMap((r) => r.Targets.map((t: any) => t.Arn['Fn::GetAtt'][0]));
    expect(scheduled).toEqual([functionIdByName('reconcile')]);
    // a re-drive invokes exactly the three S3 stages, through their own functions
    const invokes = roleStatements(roleIdOf(functionIdByName('reconcile'))).filter((st) => actionsOf(st).includes('lambda:invokefunction'));
    expect(invokes.flatMap((st) => asArray(st.Resource).map((r: any) => r['Fn::GetAtt'][0])).sort()).toEqual(
      ['convert', 'track', 'validate'].map(functionIdByName).sort(),
    );
  });

  it("(j) lets only emrstep touch EMR and ARC: clusters carrying the stack's tag (transient) or the two configured ones (standing), PassRole only for the stack's two EMR roles", () => {
    const arcActions = ['route53-recovery-cluster:getroutingcontrolstate', 'route53-recovery-cluster:updateroutingcontrolstates'];
    const env = template.Resources[functionIdByName('emrstep')]!.Properties!.Environment.Variables as Record<string, any>;
    expect(env.EMR_MODE).toBe(emrMode);
    const cells = JSON.parse(env.EMR_CELLS) as Array<{ clusterId: string; subnetId: string; routingControlArn: string }>;
    expect(cells).toHaveLength(2);
    const stackTag = (JSON.parse(env.EMR_CLUSTER_SPEC) as { stack: string }).stack;
    // the roles a transient cluster runs as are the stack's own
    expect(env.EMR_SERVICE_ROLE).toEqual({ Ref: 'EmrServiceRole' });
    expect(env.EMR_INSTANCE_PROFILE).toEqual({ Ref: 'EmrInstanceProfile' });
    expect(template.Resources.EmrInstanceProfile!.Properties!.Roles).toEqual([{ Ref: 'EmrInstanceRole' }]);
    const tagged = (s: Statement, key: string) => s.Condition?.StringEquals?.[key];
    for (const [fnId, fn] of functions()) {
      const statements = roleStatements(roleIdOf(fnId)).filter((s) => s.Effect === 'Allow');
      const emr = statements.filter((s) => actionsOf(s).some((a) => a.startsWith('elasticmapreduce:')));
      const arc = statements.filter((s) => actionsOf(s).some((a) => a.startsWith('route53-recovery-cluster:')));
      const passRole = statements.filter((s) => actionsOf(s).includes('iam:passrole'));
      if (fn !== 'emrstep') {
        expect([...emr, ...arc, ...passRole], `${fn} may use EMR, ARC or PassRole`).toEqual([]);
        continue;
      }
      expect(arc.flatMap(actionsOf).sort()).toEqual(arcActions);
      expect(arc.flatMap((s) => asArray(s.Resource).map(arnText)).sort()).toEqual(cells.map((c) => c.routingControlArn).sort());
      if (emrMode === 'standing') {
        // steps only, on the two configured clusters; nothing is created, so nothing is passed
        expect(passRole).toEqual([]);
        expect(emr.flatMap(actionsOf).sort()).toEqual([
          'elasticmapreduce:addjobflowsteps',
          'elasticmapreduce:cancelsteps',
          'elasticmapreduce:describecluster',
          'elasticmapreduce:describestep',
          'elasticmapreduce:liststeps',
        ]);
        expect(emr.flatMap((s) => asArray(s.Resource).map(arnText)).sort()).toEqual(
          cells.map((c) => `arn:aws:elasticmapreduce:us-east-1:123456789012:cluster/${c.clusterId}`).sort(),
        );
        continue;
      }
      // Only what EMR's API allows on no resource is on "*": ListClusters (it lists, nothing more) and
      // RunJobFlow (it creates: the condition makes it create only clusters tagged as this stage's).
      const onStar = emr.filter((s) => asArray(s.Resource).some((r) => arnText(r) === '*'));
      expect(onStar.flatMap(actionsOf).sort()).toEqual(['elasticmapreduce:listclusters', 'elasticmapreduce:runjobflow']);
      const create = emr.find((s) => actionsOf(s).includes('elasticmapreduce:runjobflow'))!;
      expect(actionsOf(create)).toEqual(['elasticmapreduce:runjobflow']);
      expect(tagged(create, 'aws:RequestTag/landfall:stack')).toBe(stackTag);
      // every action on a cluster is conditioned on the cluster carrying the stage's tag
      const onClusters = emr.filter((s) => !onStar.includes(s));
      expect(onClusters.flatMap(actionsOf).sort()).toEqual([
        'elasticmapreduce:addjobflowsteps',
        'elasticmapreduce:cancelsteps',
        'elasticmapreduce:describecluster',
        'elasticmapreduce:describestep',
        'elasticmapreduce:liststeps',
        'elasticmapreduce:terminatejobflows',
      ]);
      for (const s of onClusters) {
        expect(asArray(s.Resource).map(arnText)).toEqual(['arn:aws:elasticmapreduce:us-east-1:123456789012:cluster/*']);
        expect(tagged(s, 'aws:ResourceTag/landfall:stack'), JSON.stringify(s)).toBe(stackTag);
      }
      // PassRole: the stack's service role to EMR and its instance role to EC2, nothing else
      expect(passRole.map((s) => [asArray(s.Resource).map(arnText), tagged(s, 'iam:PassedToService')])).toEqual([
        [['<GetAtt EmrServiceRole.Arn>'], 'elasticmapreduce.amazonaws.com'],
        [['<GetAtt EmrInstanceRole.Arn>'], 'ec2.amazonaws.com'],
      ]);
      expect(passRole.flatMap(actionsOf)).toEqual(['iam:passrole', 'iam:passrole']);
    }
    // the service role is assumable by EMR only, the instance role by EC2 only
    const principal = (id: string) =>
      (template.Resources[id]!.Properties!.AssumeRolePolicyDocument.Statement as Array<{ Principal: { Service: string } }>).map((s) => s.Principal.Service);
    expect(principal('EmrServiceRole')).toEqual(['elasticmapreduce.amazonaws.com']);
    expect(principal('EmrInstanceRole')).toEqual(['ec2.amazonaws.com']);
    // the EMR state machine may invoke only the job's functions
    const sm = template.Resources.EmrJobRunStateMachine!;
    const roleId = (sm.Properties!.RoleArn as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
    const invocable = roleStatements(roleId).flatMap((s) => asArray(s.Resource).map(arnText));
    const ids = new Set(invocable.map((a) => /<GetAtt (\w+)\.Arn>/.exec(a)?.[1]));
    expect([...ids].map((id) => functions().get(id!)).sort()).toEqual(['emrstep', 'jobstep', 'load']);
  });

  it('(r) lets only the load function reach the warehouse: statements on the configured workgroup (or cluster) only, reads of its own statements, and the COPY role reads curated/ only', () => {
    const warehouseActions = (s: Statement) => actionsOf(s).filter((a) => /^(redshift|redshift-data|redshift-serverless|secretsmanager):/.test(a));
    for (const [fnId, fn] of functions()) {
      const statements = roleStatements(roleIdOf(fnId)).filter((s) => s.Effect === 'Allow');
      if (fn !== 'load') {
        expect(statements.flatMap(warehouseActions), `${fn} may reach the warehouse`).toEqual([]);
        continue;
      }
      const role = template.Resources[roleIdOf(fnId)]!.Properties!;
      const policy = role.Policies.find((p: any) => p.PolicyName === 'redshift-data').PolicyDocument.Statement as any[];
      // BatchExecuteStatement on one resource: the cluster if one is configured, else the workgroup
      const run = policy.find((st) => st.Sid === 'RunOnTheWarehouse');
      expect(asArray(run.Action)).toEqual(['redshift-data:BatchExecuteStatement']);
      const [ifCluster] = asArray(run.Resource) as any[];
      expect(ifCluster['Fn::If'][0]).toBe('WarehouseIsCluster');
      expect(arnText(ifCluster['Fn::If'][1])).toMatch(/^arn:aws:redshift:us-east-1:123456789012:cluster:/);
      expect(arnText(ifCluster['Fn::If'][2])).toMatch(/^arn:aws:redshift-serverless:[^:]+:\d{12}:workgroup\/[0-9a-f-]+$/);
      // DescribeStatement and GetStatementResult take no resource ARN (AWS's own rule): "*", but
      // only for statements this role submitted
      const own = policy.find((st) => st.Sid === 'ReadOwnStatements');
      expect(own.Resource).toBe('*');
      expect(asArray(own.Action).sort()).toEqual(['redshift-data:CancelStatement', 'redshift-data:DescribeStatement', 'redshift-data:GetStatementResult']);
      expect(arnText(own.Condition.StringEquals['redshift-data:statement-owner-iam-userid'])).toBe('${aws:userid}');
      // the credentials: the cluster's secret, or the workgroup's GetCredentials, never both
      const credentials = policy.find((st) => st['Fn::If'])['Fn::If'];
      expect(credentials[0]).toBe('WarehouseIsCluster');
      expect([credentials[1].Action, credentials[2].Action]).toEqual(['secretsmanager:GetSecretValue', 'redshift-serverless:GetCredentials']);
      expect(typeof credentials[1].Resource === 'string' && typeof credentials[2].Resource === 'string').toBe(true);
      expect(credentials[2].Resource).toBe(arnText(ifCluster['Fn::If'][2]));
      // and nothing else but its logs
      expect(statements.flatMap(actionsOf).filter((a) => !a.startsWith('logs:') && !a.startsWith('redshift-data:'))).toEqual([]);
    }
    const copy = template.Resources.WarehouseCopyRole!.Properties!;
    expect(copy.AssumeRolePolicyDocument.Statement[0].Principal.Service.sort()).toEqual(['redshift-serverless.amazonaws.com', 'redshift.amazonaws.com']);
    expect(s3Scopes('WarehouseCopyRole').map(scopeText).sort()).toEqual([
      `${outputRef('LakeBucketName')}:${CURATED_PREFIX}`,
      `${outputRef('LakeBucketName')}:${CURATED_PREFIX}`,
    ]);
    expect(roleStatements('WarehouseCopyRole').flatMap(actionsOf).sort()).toEqual(['s3:getobject', 's3:listbucket']);
    const env = template.Resources[functionIdByName('load')]!.Properties!.Environment.Variables;
    expect(env.WAREHOUSE_COPY_ROLE_ARN).toEqual({ 'Fn::GetAtt': ['WarehouseCopyRole', 'Arn'] });
  });

  it("(s) registers the pipeline's tables in the Glue catalog with partition projection, and an Athena workgroup bounded and writing into the lake", async () => {
    const { catalogTemplateResources } = await import('../deploy/catalog-template');
    const expected = await catalogTemplateResources(join(root, file ?? 'examples/retail/pipeline.yaml'), 'ci');
    const glue = Object.fromEntries(
      Object.entries(template.Resources).filter(([, r]) => r.Type.startsWith('AWS::Glue::') || r.Type.startsWith('AWS::Athena::')),
    );
    expect(glue).toEqual(expected);
    const tables = resourcesOfType('AWS::Glue::Table');
    expect(tables.length).toBeGreaterThan(0);
    for (const [id, t] of tables) {
      const params = t.Properties!.TableInput.Parameters;
      expect(params['projection.enabled'], id).toBe('true');
      for (const key of t.Properties!.TableInput.PartitionKeys)
        expect(params[`projection.${key.Name}.type`], `${id} ${key.Name}`).toMatch(/^(date|enum|injected)$/);
      expect(arnText(t.Properties!.TableInput.StorageDescriptor.Location)).toMatch(/^s3:\/\/<Ref S3BucketLake>\/(processed|curated)\//);
    }
    expect(resourcesOfType('AWS::Glue::Crawler')).toEqual([]);
    const [[, workgroup]] = resourcesOfType('AWS::Athena::WorkGroup') as [[string, Resource]];
    const config = workgroup.Properties!.WorkGroupConfiguration;
    expect(config.EnforceWorkGroupConfiguration).toBe(true);
    expect(config.BytesScannedCutoffPerQuery).toBeGreaterThan(0);
    expect(arnText(config.ResultConfiguration.OutputLocation)).toBe('s3://<Ref S3BucketLake>/athena-results/');
  });

  it('(k) bounds every state machine with TimeoutSeconds longer than any task it invokes', () => {
    const machines = resourcesOfType('AWS::StepFunctions::StateMachine');
    expect(machines.length).toBeGreaterThan(0);
    for (const [id, sm] of machines) {
      const definition = JSON.parse(arnText({ 'Fn::Sub': sm.Properties!.DefinitionString['Fn::Sub'] })) as { TimeoutSeconds?: unknown };
      const timeout = definition.TimeoutSeconds;
      expect(Number.isInteger(timeout), `${id} has no integer TimeoutSeconds`).toBe(true);
      // at most the one year a Standard execution may run
      expect(timeout as number, id).toBeLessThanOrEqual(365 * 24 * 3600);
      const roleId = (sm.Properties!.RoleArn as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
      const invoked = roleStatements(roleId)
        .flatMap((s) => asArray(s.Resource).map(arnText))
        .map((a) => /<GetAtt (\w+)\.Arn>/.exec(a)?.[1])
        .filter((x): x is string => !!x);
      const longestTask = Math.max(...invoked.map((fnId) => Number(template.Resources[fnId]!.Properties!.Timeout)));
      expect(longestTask, id).toBeGreaterThan(0);
      expect(timeout as number, `${id}: TimeoutSeconds against its longest Lambda timeout`).toBeGreaterThan(longestTask);
    }
  });

  describe('alerts', () => {
    type Alarm = Record<string, any>;
    const alarms = () => resourcesOfType('AWS::CloudWatch::Alarm').map(([id, r]) => ({ id, p: r.Properties as Alarm }));
    const alarmsOn = (namespace: string, metric: string) => alarms().filter(({ p }) => p.Namespace === namespace && p.MetricName === metric);
    /** fires on the first occurrence: a single period's value above 0 */
    const firesOnAnyOccurrence = (p: Alarm) => p.ComparisonOperator === 'GreaterThanThreshold' && p.Threshold === 0 && p.EvaluationPeriods === 1;
    const alertsTopicId = () => outputRef('FailureTopicArn');
    const refId = (v: unknown) => (v as { Ref?: string } | undefined)?.Ref;
    const keyIdOf = (v: unknown): string | undefined => refId(v) ?? (v as { 'Fn::GetAtt'?: [string, string] } | undefined)?.['Fn::GetAtt']?.[0];

    it('(l) has one alerts topic, and every alarm notifies it, treats missing data as fine and says what to do', () => {
      const topicId = alertsTopicId();
      expect(resourcesOfType('AWS::SNS::Topic').map(([id]) => id)).toEqual([topicId]);
      expect(template.Resources[topicId]!.Properties!.TopicName).toBe('landfall-ci-alerts');
      // jobstep publishes failed runs to the same topic
      expect(template.Resources[functionIdByName('jobstep')]!.Properties!.Environment.Variables.FAILURE_TOPIC_ARN).toEqual({ Ref: topicId });
      const all = alarms();
      expect(all.length).toBeGreaterThan(0);
      for (const { id, p } of all) {
        expect(p.AlarmActions, `${id} AlarmActions`).toEqual([{ Ref: topicId }]);
        if (p.OKActions !== undefined) expect(p.OKActions, `${id} OKActions`).toEqual([{ Ref: topicId }]);
        expect(p.InsufficientDataActions, `${id} InsufficientDataActions`).toBeUndefined();
        expect(p.ActionsEnabled, `${id} ActionsEnabled`).not.toBe(false);
        expect(p.TreatMissingData, id).toBe('notBreaching');
        expect(typeof p.AlarmDescription, id).toBe('string');
        expect(p.AlarmDescription.length, `${id} AlarmDescription`).toBeGreaterThan(100);
        expect(p.AlarmDescription.length, `${id} AlarmDescription`).toBeLessThanOrEqual(1024);
        expect(p.AlarmName, id).toMatch(/^landfall-ci-[a-z0-9-]+$/);
      }
      expect(new Set(all.map(({ p }) => p.AlarmName)).size).toBe(all.length);
    });

    it("(m) alarms on a non-empty failed-events queue, and on every function's Errors and Throttles", () => {
      // every queue here is a dead end (the functions' on-failure destination): any message is news
      const queues = resourcesOfType('AWS::SQS::Queue').map(([id]) => id);
      expect(queues).toContain(outputRef('FailedEventsQueueUrl'));
      for (const queueId of queues) {
        const name = template.Resources[queueId]!.Properties!.QueueName as string;
        const found = alarmsOn('AWS/SQS', 'ApproximateNumberOfMessagesVisible').filter(({ p }) => {
          const [dim] = p.Dimensions as Array<{ Name: string; Value: unknown }>;
          const value = dim?.Value as { 'Fn::GetAtt'?: string[] } | string;
          return (
            p.Dimensions.length === 1 &&
            dim!.Name === 'QueueName' &&
            (value === name || (typeof value === 'object' && value['Fn::GetAtt']?.join('.') === `${queueId}.QueueName`))
          );
        });
        expect(
          found.map(({ id }) => id),
          `${queueId} not-empty alarm`,
        ).toHaveLength(1);
        expect(firesOnAnyOccurrence(found[0]!.p)).toBe(true);
        expect(found[0]!.p.Statistic).toBe('Maximum');
        // a standing condition: OK tells the operator the queue was emptied
        expect(found[0]!.p.OKActions).toEqual([{ Ref: alertsTopicId() }]);
      }
      for (const [fnId, name] of functions()) {
        const deployedName = template.Resources[fnId]!.Properties!.FunctionName as string;
        for (const metric of ['Errors', 'Throttles']) {
          const found = alarmsOn('AWS/Lambda', metric).filter(({ p }) => {
            const dims = p.Dimensions as Array<{ Name: string; Value: unknown }>;
            return dims.length === 1 && dims[0]!.Name === 'FunctionName' && (dims[0]!.Value === deployedName || refId(dims[0]!.Value) === fnId);
          });
          expect(
            found.map(({ id }) => id),
            `${name} ${metric} alarm`,
          ).toHaveLength(1);
          expect(firesOnAnyOccurrence(found[0]!.p), `${name} ${metric}`).toBe(true);
          expect(found[0]!.p.Statistic, `${name} ${metric}`).toBe('Sum');
        }
      }
    });

    it('(n) alarms on failed, timed-out and aborted executions of every state machine', () => {
      for (const [smId] of resourcesOfType('AWS::StepFunctions::StateMachine')) {
        for (const metric of ['ExecutionsFailed', 'ExecutionsTimedOut', 'ExecutionsAborted']) {
          const found = alarmsOn('AWS/States', metric).filter(({ p }) => {
            const dims = p.Dimensions as Array<{ Name: string; Value: unknown }>;
            return dims.length === 1 && dims[0]!.Name === 'StateMachineArn' && refId(dims[0]!.Value) === smId;
          });
          expect(
            found.map(({ id }) => id),
            `${smId} ${metric} alarm`,
          ).toHaveLength(1);
          expect(firesOnAnyOccurrence(found[0]!.p), `${smId} ${metric}`).toBe(true);
          expect(found[0]!.p.Statistic, `${smId} ${metric}`).toBe('Sum');
        }
      }
    });

    it("(o) alarms on the reconciler's metrics: Repairs and BatchesPastDeadline (namespace landfall, per stage, 10 minutes)", () => {
      for (const metric of ['Repairs', 'BatchesPastDeadline']) {
        const found = alarmsOn('landfall', metric);
        expect(
          found.map(({ id }) => id),
          `${metric} alarm`,
        ).toHaveLength(1);
        const { p } = found[0]!;
        expect(p.Dimensions, metric).toEqual([{ Name: 'Stage', Value: 'ci' }]);
        expect(p.Statistic, metric).toBe('Sum');
        expect(p.Period, metric).toBe(600);
        expect(firesOnAnyOccurrence(p), metric).toBe(true);
      }
    });

    it("(p) encrypts the alerts topic with a key CloudWatch may use, and lets only this account's alarms and jobstep publish", () => {
      const topicId = alertsTopicId();
      const topic = template.Resources[topicId]!.Properties!;
      const keyId = keyIdOf(topic.KmsMasterKeyId);
      // not alias/aws/sns: CloudWatch cannot use the AWS-managed key, so alarms would never arrive
      expect(keyId, `KmsMasterKeyId ${JSON.stringify(topic.KmsMasterKeyId)}`).toBeDefined();
      const key = template.Resources[keyId!]!;
      expect(key.Type).toBe('AWS::KMS::Key');
      expect(key.Properties!.EnableKeyRotation).toBe(true);
      const keyStatements = asArray(key.Properties!.KeyPolicy.Statement) as Array<Statement & { Principal: any }>;
      const principals = (s: { Principal: any }, kind: 'AWS' | 'Service') => asArray(s.Principal?.[kind]).map(arnText);
      // the account administers the key (and grants it through IAM): never an unmanageable key
      expect(keyStatements.some((s) => s.Effect === 'Allow' && principals(s, 'AWS').includes('arn:aws:iam::123456789012:root'))).toBe(true);
      const forCloudWatch = keyStatements.filter((s) => s.Effect === 'Allow' && principals(s, 'Service').includes('cloudwatch.amazonaws.com'));
      expect(forCloudWatch).toHaveLength(1);
      expect(actionsOf(forCloudWatch[0]!).sort()).toEqual(['kms:decrypt', 'kms:generatedatakey*']);
      // no one else is named in the key policy
      for (const s of keyStatements) {
        expect(s.Principal, JSON.stringify(s)).not.toBe('*');
        expect(principals(s, 'AWS').every((a) => a === 'arn:aws:iam::123456789012:root')).toBe(true);
        expect(principals(s, 'Service').every((a) => a === 'cloudwatch.amazonaws.com' || a === 'events.amazonaws.com')).toBe(true);
      }

      // the topic policy lets CloudWatch publish for alarms of this account only
      const policies = resourcesOfType('AWS::SNS::TopicPolicy').filter(([, r]) => asArray(r.Properties!.Topics).some((t) => refId(t) === topicId));
      expect(policies).toHaveLength(1);
      const topicStatements = asArray(policies[0]![1].Properties!.PolicyDocument.Statement) as Array<Statement & { Principal: any }>;
      const cwPublish = topicStatements.filter((s) => s.Effect === 'Allow' && principals(s, 'Service').includes('cloudwatch.amazonaws.com'));
      expect(cwPublish).toHaveLength(1);
      expect(actionsOf(cwPublish[0]!)).toEqual(['sns:publish']);
      expect(asArray(cwPublish[0]!.Resource).map(refId)).toEqual([topicId]);
      expect(cwPublish[0]!.Condition?.StringEquals?.['aws:SourceAccount']).toEqual({ Ref: 'AWS::AccountId' });
      // EventBridge publishes for the stage's example rule, and no other rule
      const rulePublish = topicStatements.filter((s) => s.Effect === 'Allow' && principals(s, 'Service').includes('events.amazonaws.com'));
      expect(rulePublish).toHaveLength(1);
      expect(actionsOf(rulePublish[0]!)).toEqual(['sns:publish']);
      const rules = resourcesOfType('AWS::Events::Rule').filter(([, r]) => asArray(r.Properties!.Targets).some((t: any) => refId(t.Arn) === topicId));
      expect(rules).toHaveLength(1);
      expect(arnText(rulePublish[0]!.Condition?.ArnEquals?.['aws:SourceArn'])).toBe(
        `arn:aws:events:us-east-1:123456789012:rule/landfall-ci/${rules[0]![1].Properties!.Name as string}`,
      );
      for (const s of topicStatements.filter((x) => x.Effect === 'Allow')) {
        expect(s.Principal, JSON.stringify(s)).not.toBe('*');
        expect(principals(s, 'AWS'), JSON.stringify(s)).toEqual([]);
      }

      // a function that publishes to the topic may use its key, and only for that; no other may use any key
      for (const [fnId, name] of functions()) {
        const statements = roleStatements(roleIdOf(fnId)).filter((s) => s.Effect === 'Allow');
        const publishes = statements.some((s) => actionsOf(s).includes('sns:publish') && asArray(s.Resource).some((r) => refId(r) === topicId));
        const kms = statements.filter((s) => actionsOf(s).some((a) => a.startsWith('kms:')));
        if (!publishes) {
          expect(kms, `${name} may use a KMS key`).toEqual([]);
          continue;
        }
        expect(kms.flatMap(actionsOf).sort(), name).toEqual(['kms:decrypt', 'kms:generatedatakey']);
        expect(
          kms.flatMap((s) => asArray(s.Resource).map(keyIdOf)),
          name,
        ).toEqual(kms.map(() => keyId));
      }
      expect([...functions()].filter(([fnId]) => roleStatements(roleIdOf(fnId)).some((s) => actionsOf(s).includes('sns:publish'))).map(([, n]) => n)).toContain(
        'jobstep',
      );
    });
  });

  it("(y) puts state-change events on the stage's bus: the events function reads both tables' streams, puts on that bus only, and an example rule (disabled) routes failed runs", () => {
    const buses = resourcesOfType('AWS::Events::EventBus');
    expect(buses).toHaveLength(1);
    const [busId, bus] = buses[0]!;
    expect(bus.Properties!.Name).toBe('landfall-ci');
    const eventsId = functionIdByName('events');
    expect(template.Resources[eventsId]!.Properties!.Environment.Variables.EVENT_BUS_NAME).toBe('landfall-ci');
    // its mappings: one per table's stream, partial failures reported, the failed-events queue at the end
    const mappings = resourcesOfType('AWS::Lambda::EventSourceMapping').filter(
      ([, r]) => (r.Properties!.FunctionName as any)?.['Fn::GetAtt']?.[0] === eventsId,
    );
    expect(mappings.map(([, r]) => (r.Properties!.EventSourceArn as any)['Fn::GetAtt'].join('.')).sort()).toEqual([
      'FileStateTable.StreamArn',
      'JobRunsTable.StreamArn',
    ]);
    for (const [id, r] of mappings) {
      expect(r.Properties!.FunctionResponseTypes, id).toEqual(['ReportBatchItemFailures']);
      expect(r.Properties!.BisectBatchOnFunctionError, id).toBe(true);
      expect(r.Properties!.DestinationConfig?.OnFailure?.Destination, id).toEqual({ 'Fn::GetAtt': ['FailedEventsQueue', 'Arn'] });
    }
    // its role: the two streams, PutEvents on the stage's bus, its log, the failed-events queue; nothing else
    const statements = roleStatements(roleIdOf(eventsId)).filter((s) => s.Effect === 'Allow');
    const granted = statements.flatMap((s) => actionsOf(s).flatMap((a) => asArray(s.Resource).map((r) => `${a} ${arnText(r)}`)));
    const streamReads = ['dynamodb:describestream', 'dynamodb:getrecords', 'dynamodb:getsharditerator', 'dynamodb:liststreams'];
    expect(granted.sort()).toEqual(
      [
        ...streamReads.flatMap((a) => [`${a} <GetAtt FileStateTable.StreamArn>`, `${a} <GetAtt JobRunsTable.StreamArn>`]),
        'events:putevents arn:aws:events:us-east-1:123456789012:event-bus/landfall-ci',
        'logs:createlogstream <GetAtt EventsLogGroup.Arn>',
        'logs:putlogevents <GetAtt EventsLogGroup.Arn>',
        'sqs:sendmessage <GetAtt FailedEventsQueue.Arn>',
      ].sort(),
    );
    // no other function puts events
    for (const [fnId, name] of functions()) {
      if (fnId === eventsId) continue;
      expect(roleStatements(roleIdOf(fnId)).flatMap(actionsOf), name).not.toContain('events:putevents');
    }
    // the example rule: on the stage's bus, disabled, failed runs to the alerts topic
    // (the reconciler's schedule is a rule too, on the default bus)
    const rules = resourcesOfType('AWS::Events::Rule').filter(([, r]) => r.Properties!.EventBusName !== undefined);
    expect(rules).toHaveLength(1);
    const rule = rules[0]![1].Properties!;
    expect(rule.EventBusName).toEqual({ Ref: busId });
    expect(rule.State).toBe('DISABLED');
    expect(rule.EventPattern).toEqual({ source: ['landfall'], 'detail-type': ['Run state changed'], detail: { state: ['FAILED', 'CHECK_FAILED'] } });
    expect(rule.Targets).toEqual([{ Id: 'alerts', Arn: { Ref: outputRef('FailureTopicArn') } }]);
  });

  it('(z) has a dashboard of the stage: every function, both state machines, the failed-events queue, the reconciler, files by state, output checks', () => {
    const dashboards = resourcesOfType('AWS::CloudWatch::Dashboard');
    expect(dashboards).toHaveLength(1);
    const body = dashboards[0]![1].Properties!.DashboardBody as { 'Fn::Sub': string };
    // the body is JSON once its references are put in
    const json = JSON.parse(body['Fn::Sub'].replace(/\$\{([^}]+)\}/g, '<$1>')) as {
      widgets: Array<{ type: string; properties: { title?: string; stat?: string; metrics?: unknown[][] } }>;
    };
    const metricWidgets = json.widgets.filter((w) => w.type === 'metric');
    /** the widgets showing `metric` (namespace/name) for a dimension value */
    const showing = (namespace: string, metric: string, value: string) =>
      metricWidgets.filter((w) => (w.properties.metrics ?? []).some((m) => m[0] === namespace && m[1] === metric && m.includes(value)));
    for (const [fnId, name] of functions()) {
      for (const metric of ['Errors', 'Throttles', 'Duration']) expect(showing('AWS/Lambda', metric, `<${fnId}>`), `${name} ${metric}`).toHaveLength(1);
      expect(showing('AWS/Lambda', 'Duration', `<${fnId}>`)[0]!.properties.stat, name).toBe('p95');
    }
    for (const [smId] of resourcesOfType('AWS::StepFunctions::StateMachine')) {
      for (const metric of ['ExecutionsStarted', 'ExecutionsSucceeded', 'ExecutionsFailed', 'ExecutionsTimedOut', 'ExecutionsAborted']) {
        expect(showing('AWS/States', metric, `<${smId}>`), `${smId} ${metric}`).toHaveLength(1);
      }
    }
    expect(showing('AWS/SQS', 'ApproximateNumberOfMessagesVisible', `<${outputRef('FailedEventsQueueUrl')}.QueueName>`)).toHaveLength(1);
    expect(showing('landfall', 'Repairs', 'ci')).toHaveLength(1);
    expect(showing('landfall', 'BatchesPastDeadline', 'ci')).toHaveLength(1);
    for (const state of FILE_STATES) expect(showing('landfall', 'FileStateChanges', state), state).toHaveLength(1);
    // the output checks per job: a search, so any pipeline's jobs show
    expect(body['Fn::Sub']).toMatch(/SEARCH\('\{landfall,Job,Stage\} MetricName=\\"OutputChecksPassRate\\" Stage=\\"ci\\"'/);
  });

  it("(q) passes cfn-lint (AWS resource specification) with no error or warning but the framework's W3005", async () => {
    // local/install.sh (pretest) installs it; the script only prints the binary when it is there
    const install = await run('bash', [join(root, 'local', 'install-cfn-lint.sh')]);
    expect(install.code, `local/install-cfn-lint.sh failed:\n${install.stderr}`).toBe(0);
    const lint = await run(install.stdout.trim(), ['--format', 'json', '--', templatePath]);
    let findings: Array<{ Level: string; Rule: { Id: string }; Location: { Path: Array<string | number> }; Message: string }>;
    try {
      findings = JSON.parse(lint.stdout);
    } catch {
      throw new Error(`cfn-lint exited ${lint.code} without a JSON report:\n${lint.stdout}\n${lint.stderr}`);
    }
    const text = (f: (typeof findings)[number]) => `${f.Level} ${f.Rule.Id} ${f.Location.Path.join('/')}: ${f.Message}`;
    // W3005 (a DependsOn beside a GetAtt) only where serverless writes the DependsOn itself
    const frameworkTypes = ['AWS::Lambda::Function', 'AWS::StepFunctions::StateMachine'];
    const expected = (f: (typeof findings)[number]) =>
      f.Rule.Id === 'W3005' &&
      f.Location.Path[0] === 'Resources' &&
      f.Location.Path[2] === 'DependsOn' &&
      frameworkTypes.includes(template.Resources[String(f.Location.Path[1])]?.Type ?? '');
    const unexpected = findings.filter((f) => !expected(f));
    expect(unexpected.map(text), `cfn-lint findings:\n${unexpected.map(text).join('\n')}`).toEqual([]);
    // exit code: 0 clean, 4 warnings (the W3005 above); errors (2) or a crash (1) never pass
    expect([0, 4], `cfn-lint exit code ${lint.code}:\n${lint.stderr}`).toContain(lint.code);
  }, 180_000);

  it('(t) passes checkov (3.3.30) with no failed check, and every check skipped in the template says why', async () => {
    // local/install.sh (pretest) installs it; the script only prints the binary when it is there
    const install = await run('bash', [join(root, 'local', 'install-checkov.sh')]);
    expect(install.code, `local/install-checkov.sh failed:\n${install.stderr}`).toBe(0);
    // --skip-download: no request to the vendor's platform (check guidelines); the checks are all local
    const scan = await run(install.stdout.trim(), ['-f', templatePath, '--framework', 'cloudformation', '--skip-download', '--compact', '-o', 'json']);
    type Finding = { check_id: string; check_name: string; resource: string; check_result: { suppress_comment?: string } };
    let report: { results: { failed_checks: Finding[]; skipped_checks: Finding[]; passed_checks: Finding[] }; summary: { parsing_errors: number } };
    try {
      report = JSON.parse(scan.stdout);
    } catch {
      throw new Error(`checkov exited ${scan.code} without a JSON report:\n${scan.stdout.slice(0, 2000)}\n${scan.stderr}`);
    }
    const text = (f: Finding) => `${f.check_id} ${f.resource}: ${f.check_name}`;
    const { failed_checks: failed, skipped_checks: skipped, passed_checks: passed } = report.results;
    expect(failed.map(text), `checkov failures:\n${failed.map(text).join('\n')}`).toEqual([]);
    expect(report.summary.parsing_errors).toBe(0);
    // exit code: 0 with no failed check (1 on a failure or a crash)
    expect(scan.code, scan.stderr).toBe(0);
    expect(passed.length).toBeGreaterThan(100);

    // each skip in the template names a check and gives a reason a reviewer can judge
    const skips = Object.entries(template.Resources).flatMap(([resource, r]) =>
      asArray((r as { Metadata?: { checkov?: { skip?: Array<{ id: string; comment?: string }> } } }).Metadata?.checkov?.skip).map((skip) => ({
        resource,
        check: skip.id,
        comment: skip.comment,
      })),
    );
    expect(skips.length).toBeGreaterThan(0);
    for (const skip of skips) {
      expect(skip.check, JSON.stringify(skip)).toMatch(/^CKV2?_AWS_\d+$/);
      expect(skip.comment?.length ?? 0, `${skip.check} on ${skip.resource}: a skip without a reason`).toBeGreaterThan(60);
    }
    // and checkov honoured them: every skipped result is one of them, with its reason
    for (const f of skipped) {
      const resource = f.resource.split('.').pop();
      expect(
        skips.some((x) => x.resource === resource && x.check === f.check_id),
        text(f),
      ).toBe(true);
      expect(f.check_result.suppress_comment?.length ?? 0, text(f)).toBeGreaterThan(60);
    }
  }, 180_000);

  it('(u) keeps each log for LogRetentionDays (90 by default) and puts a given data key on the buckets, tables, queue, logs and functions', () => {
    const params = (template as Template & { Parameters: Record<string, { Default?: unknown }> }).Parameters;
    const conditions = (template as Template & { Conditions: Record<string, unknown> }).Conditions;
    expect(String(params.LogRetentionDays?.Default)).toBe('90');
    expect(params.KmsKeyArn?.Default).toBe('');
    expect(conditions.HasDataKey).toEqual({ 'Fn::Not': [{ 'Fn::Equals': [{ Ref: 'KmsKeyArn' }, ''] }] });
    const keyIfGiven = { 'Fn::If': ['HasDataKey', { Ref: 'KmsKeyArn' }, { Ref: 'AWS::NoValue' }] };

    const logGroups = resourcesOfType('AWS::Logs::LogGroup');
    // one per function at least (and any other log group of the stack)
    expect(logGroups.length).toBeGreaterThanOrEqual(functions().size);
    for (const [id, r] of logGroups) {
      expect(r.Properties!.RetentionInDays, id).toEqual({ Ref: 'LogRetentionDays' });
      expect(r.Properties!.KmsKeyId, id).toEqual(keyIfGiven);
    }
    for (const [id, r] of resourcesOfType('AWS::Lambda::Function')) expect(r.Properties!.KmsKeyArn, id).toEqual(keyIfGiven);
    for (const [id, r] of resourcesOfType('AWS::DynamoDB::Table')) {
      expect(r.Properties!.SSESpecification, id).toEqual({ SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: keyIfGiven });
    }
    for (const [id, r] of resourcesOfType('AWS::SQS::Queue')) {
      expect(r.Properties!.KmsMasterKeyId, id).toEqual(keyIfGiven);
      // never both: SQS-managed keys only without the data key
      expect(r.Properties!.SqsManagedSseEnabled, id).toEqual({ 'Fn::If': ['HasDataKey', { Ref: 'AWS::NoValue' }, true] });
    }
    for (const id of [outputRef('RawBucketName'), outputRef('LakeBucketName')]) {
      const [withKey, withoutKey] = (template.Resources[id]!.Properties!.BucketEncryption as { 'Fn::If': [string, any, any] })['Fn::If'].slice(1);
      expect(withKey.ServerSideEncryptionConfiguration, id).toEqual([
        { ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: { Ref: 'KmsKeyArn' } }, BucketKeyEnabled: true },
      ]);
      expect(withoutKey.ServerSideEncryptionConfiguration, id).toEqual([{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }]);
    }

    // with the key, every role that reads or writes what it protects may use it (and only that key,
    // only to encrypt and decrypt data); without it, no role gains a KMS permission
    const protectedData = /^(s3:(get|put)object|sqs:|dynamodb:)/;
    let withKeyRoles = 0;
    for (const [roleId] of resourcesOfType('AWS::IAM::Role')) {
      const touches = roleStatements(roleId).some((s) => s.Effect === 'Allow' && actionsOf(s).some((a) => protectedData.test(a)));
      const added = roleStatements(roleId, { dataKey: true }).filter((s) => !roleStatements(roleId).includes(s));
      if (!touches) {
        expect(added, roleId).toEqual([]);
        continue;
      }
      expect(added, roleId).toEqual([{ Sid: 'DataKey', Effect: 'Allow', Action: ['kms:Decrypt', 'kms:GenerateDataKey'], Resource: { Ref: 'KmsKeyArn' } }]);
      withKeyRoles += 1;
    }
    expect(withKeyRoles).toBeGreaterThan(functions().size - 2);
  });

  it('(v) logs every request to the raw, lake and deployment buckets into a private access-log bucket that expires them', () => {
    const logs = outputRef('AccessLogsBucketName');
    const sources = [outputRef('RawBucketName'), outputRef('LakeBucketName'), 'ServerlessDeploymentBucket'];
    const prefixes = sources.map((id) => {
      const logging = template.Resources[id]!.Properties!.LoggingConfiguration;
      expect(logging?.DestinationBucketName, id).toEqual({ Ref: logs });
      expect(logging.LogFilePrefix, id).toMatch(/^[a-z]+\/$/);
      return logging.LogFilePrefix as string;
    });
    expect(new Set(prefixes).size).toBe(prefixes.length);
    const p = template.Resources[logs]!.Properties!;
    // S3 delivers server access logs only to a bucket with S3-managed default encryption
    expect(p.BucketEncryption.ServerSideEncryptionConfiguration).toEqual([{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }]);
    expect(p.LoggingConfiguration).toBeUndefined();
    const expiry = (p.LifecycleConfiguration.Rules as any[]).find((rule) => rule.ExpirationInDays !== undefined);
    expect(expiry.Status).toBe('Enabled');
    expect(expiry.ExpirationInDays).toEqual({ Ref: 'AccessLogRetentionDays' });
    expect(expiry.NoncurrentVersionExpiration?.NoncurrentDays).toBeGreaterThan(0);
    // only the S3 logging service may write, and only for this stack's three buckets of this account
    const [[, policy]] = resourcesOfType('AWS::S3::BucketPolicy').filter(([, r]) => r.Properties?.Bucket?.Ref === logs) as [[string, Resource]];
    const allows = (asArray(policy.Properties!.PolicyDocument.Statement) as Array<Statement & { Principal: any }>).filter((s) => s.Effect === 'Allow');
    expect(allows).toHaveLength(1);
    const [allow] = allows;
    expect(allow!.Principal).toEqual({ Service: 'logging.s3.amazonaws.com' });
    expect(actionsOf(allow!)).toEqual(['s3:putobject']);
    expect(asArray(allow!.Resource).map(arnText)).toEqual([`<${logs}.Arn>/*`]);
    expect(allow!.Condition?.StringEquals?.['aws:SourceAccount']).toEqual({ Ref: 'AWS::AccountId' } as never);
    const bucketNames = bucketIdsByName();
    const allowedSources = asArray(allow!.Condition?.ArnLike?.['aws:SourceArn'] as unknown[]).map((a) => {
      const arn = arnText(a);
      return /^<GetAtt (\w+)\.Arn>$/.exec(arn)?.[1] ?? bucketNames.get(/^arn:aws:s3:::([^/]+)$/.exec(arn)?.[1] ?? '');
    });
    expect(allowedSources.sort()).toEqual([...sources].sort());
  });

  it('(w) reserves each function its own concurrency parameter (0 stops it, `none` reserves nothing), leaving the account 100 unreserved of 1,000', () => {
    const params = (template as Template & { Parameters: Record<string, { Default?: unknown; AllowedPattern?: string }> }).Parameters;
    let reserved = 0;
    const used = new Set<string>();
    for (const [id, name] of functions()) {
      const setting = template.Resources[id]!.Properties!.ReservedConcurrentExecutions as { 'Fn::If': [string, { Ref: string }, unknown] };
      const [condition, value, otherwise] = setting['Fn::If'];
      expect(otherwise, name).toEqual({ Ref: 'AWS::NoValue' });
      const param = value.Ref;
      expect(used.has(param), `${name} shares ${param}`).toBe(false);
      used.add(param);
      expect((template as Template & { Conditions: Record<string, unknown> }).Conditions[condition], name).toEqual({
        'Fn::Not': [{ 'Fn::Equals': [{ Ref: param }, 'none'] }],
      });
      expect(params[param]!.AllowedPattern, name).toBe('^(none|[0-9]+)$');
      const byDefault = String(params[param]!.Default);
      expect(byDefault, name).toMatch(/^[1-9][0-9]*$/);
      reserved += Number(byDefault);
    }
    // Lambda keeps 100 of an account's concurrency unreserved; 1,000 is the default quota
    expect(reserved).toBeLessThanOrEqual(900);
  });

  it('(g) ships small bundles, and DuckDB beside the functions that import it', () => {
    const fnNames = [...functions().values()].sort();
    // (dist/spark/ holds the EMR artifacts, not a function)
    const built = readdirSync(distDir)
      .filter((d) => statSync(join(distDir, d)).isDirectory() && d !== 'spark')
      .sort();
    expect(built).toEqual(fnNames);
    let plain = 0;
    for (const name of built) {
      const bundle = join(distDir, name, 'index.mjs');
      expect(existsSync(`${bundle}.map`), `${name} sourcemap`).toBe(true);
      const importsDuckDb = /from\s*["']@duckdb\/node-api["']|import\(\s*["']@duckdb\/node-api["']\)/.test(readFileSync(bundle, 'utf8'));
      const shipsDuckDb = existsSync(join(distDir, name, 'node_modules', '@duckdb', 'node-api'));
      expect(shipsDuckDb, `${name}: imports DuckDB = ${importsDuckDb}`).toBe(importsDuckDb);
      const zip = readFileSync(join(root, '.serverless', `${name}.zip`)).toString('latin1');
      expect(zip.includes(`dist/${name}/index.mjs`), `${name}.zip has the handler`).toBe(true);
      if (!importsDuckDb) {
        // the reconciler runs on a schedule, off the data path (its cold start delays nothing),
        // and needs six service clients: it may be a little larger than the data path's functions
        expect(statSync(bundle).size, `${name} bundle`).toBeLessThan((name === 'reconcile' ? 1.25 : 1) * 1024 * 1024);
        expect(zip.includes('node_modules/'), `${name}.zip ships node_modules`).toBe(false);
        plain += 1;
      } else {
        expect(zip.includes(`dist/${name}/node_modules/@duckdb/node-bindings-linux-x64/libduckdb.so`), `${name}.zip has libduckdb`).toBe(true);
      }
    }
    expect(plain).toBeGreaterThan(0);
    // only the functions whose work is DuckDB's carry its 70 MB (an import through a stage's index
    // of a module that imports DuckDB would add it to another function's package and cold start)
    const withDuckDb = built.filter((name) => existsSync(join(distDir, name, 'node_modules', '@duckdb', 'node-api')));
    expect(withDuckDb).toEqual(['convert', 'transform', 'validate']);
    expect(existsSync(join(distDir, 'convert', 'node_modules', '@duckdb', 'node-api'))).toBe(true);
    expect(existsSync(join(distDir, 'convert', 'node_modules', '@duckdb', 'node-bindings-linux-x64', 'libduckdb.so'))).toBe(true);
  });
});
