import { spawn } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { runSimulation } from '@cloud-copilot/iam-simulate';
import { type AwsCall, CALLER_USER_ID } from '../../local/aws-calls';

/*
 * The packaged template's IAM, resolved to ARNs, and the IAM policy simulator
 * (@cloud-copilot/iam-simulate, no AWS call) run on the calls the code makes.
 */

type Json = any;
export interface Template {
  Resources: Record<string, { Type: string; Properties?: Json; Condition?: string }>;
  Parameters?: Record<string, { Default?: unknown }>;
  Conditions?: Record<string, unknown>;
}

/** Where the template is deployed, for its pseudo parameters and generated names. */
export interface Placement {
  region: string;
  accountId: string;
  stackName: string;
  /** template parameter values (the rest take their Default) */
  parameters?: Record<string, string>;
}

// ---- packaging ----

/** What a package needs of the tree (the rest, e.g. dist/ and .serverless/, is output). */
const SKIPPED = new Set(['node_modules', 'dist', '.serverless', '.git', 'bench', 'docs']);

/**
 * Packages the service as CI does (`serverless package`, esbuild included) in a copy of the tree,
 * so that it never races test/template.test.ts, which packages into this tree's dist/ and
 * .serverless/ at the same time; returns the CloudFormation template. `params`: `--param`s.
 */
export async function packageTemplate(root: string, stage: string, params: Record<string, string>): Promise<Template> {
  const copy = await mkdtemp(join(tmpdir(), 'landfall-iam-package-'));
  try {
    await cp(root, copy, {
      recursive: true,
      filter: (source) => {
        const rel = relative(root, source);
        return !SKIPPED.has(rel.split('/')[0]!) && rel !== 'spark/build';
      },
    });
    await symlink(join(root, 'node_modules'), join(copy, 'node_modules'));
    const args = ['package', '--stage', stage, ...Object.entries(params).map(([k, v]) => `--param=${k}=${v}`)];
    await new Promise<void>((resolve, reject) => {
      const child = spawn(join(copy, 'node_modules', '.bin', 'serverless'), args, {
        cwd: copy,
        // node_modules/.bin first: the build runs on the project's Node 24, as `npm run package` does
        env: {
          ...process.env,
          PATH: `${join(root, 'node_modules', '.bin')}:${process.env.PATH}`,
          CI: 'true',
          AWS_ACCESS_KEY_ID: 'x',
          AWS_SECRET_ACCESS_KEY: 'x',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      child.stdout.on('data', (d: Buffer) => (output += d.toString()));
      child.stderr.on('data', (d: Buffer) => (output += d.toString()));
      child.on('error', reject);
      child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`serverless package exited with ${code}:\n${output.slice(-4000)}`))));
    });
    return JSON.parse(await readFile(join(copy, '.serverless', 'cloudformation-template-update-stack.json'), 'utf8')) as Template;
  } finally {
    await rm(copy, { recursive: true, force: true });
  }
}

// ---- intrinsic functions → ARNs ----

const NO_VALUE = Symbol('AWS::NoValue');

/** Resolves a template's intrinsic functions for one placement: Ref, GetAtt, Sub, Join, If, Select, Split. */
export class TemplateResolver {
  constructor(
    readonly template: Template,
    readonly placement: Placement,
  ) {}

  private resource(id: string) {
    const r = this.template.Resources[id];
    if (!r) throw new Error(`no resource ${id} in the template`);
    return r;
  }

  private generatedName(id: string): string {
    return `${this.placement.stackName}-${id}`;
  }

  private pseudo(name: string): string | typeof NO_VALUE | undefined {
    const { region, accountId, stackName } = this.placement;
    const values: Record<string, string> = {
      'AWS::Region': region,
      'AWS::AccountId': accountId,
      'AWS::Partition': 'aws',
      'AWS::URLSuffix': 'amazonaws.com',
      'AWS::StackName': stackName,
      'AWS::StackId': `arn:aws:cloudformation:${region}:${accountId}:stack/${stackName}/00000000-0000-0000-0000-000000000000`,
    };
    if (name === 'AWS::NoValue') return NO_VALUE;
    return values[name];
  }

  ref(name: string): string | typeof NO_VALUE {
    const pseudo = this.pseudo(name);
    if (pseudo !== undefined) return pseudo;
    const parameter = this.template.Parameters?.[name];
    if (parameter) return this.placement.parameters?.[name] ?? String(parameter.Default ?? '');
    const r = this.resource(name);
    const p = (this.resolve(r.Properties ?? {}) ?? {}) as Json;
    const { region, accountId } = this.placement;
    switch (r.Type) {
      case 'AWS::S3::Bucket':
        return p.BucketName ?? name.toLowerCase();
      case 'AWS::SNS::Topic':
        return `arn:aws:sns:${region}:${accountId}:${p.TopicName ?? this.generatedName(name)}`;
      case 'AWS::SQS::Queue':
        return `https://sqs.${region}.amazonaws.com/${accountId}/${p.QueueName ?? this.generatedName(name)}`;
      case 'AWS::DynamoDB::Table':
        return p.TableName ?? this.generatedName(name);
      case 'AWS::Lambda::Function':
        return p.FunctionName ?? this.generatedName(name);
      case 'AWS::IAM::Role':
        return p.RoleName ?? this.generatedName(name);
      case 'AWS::IAM::InstanceProfile':
        return p.InstanceProfileName ?? this.generatedName(name);
      case 'AWS::Logs::LogGroup':
        return p.LogGroupName ?? this.generatedName(name);
      case 'AWS::KMS::Key':
        return `00000000-0000-0000-0000-${(name.replace(/[^a-z0-9]/gi, '').toLowerCase() + '0'.repeat(12)).slice(0, 12)}`;
      case 'AWS::StepFunctions::StateMachine':
        return `arn:aws:states:${region}:${accountId}:stateMachine:${p.StateMachineName ?? this.generatedName(name)}`;
      default:
        return name;
    }
  }

  getAtt(id: string, attribute: string): string {
    const r = this.resource(id);
    const name = String(this.ref(id));
    const { region, accountId } = this.placement;
    const arns: Record<string, () => string> = {
      'AWS::S3::Bucket.Arn': () => `arn:aws:s3:::${name}`,
      'AWS::SNS::Topic.TopicArn': () => name,
      'AWS::SNS::Topic.TopicName': () => name.split(':').pop()!,
      'AWS::SQS::Queue.Arn': () => `arn:aws:sqs:${region}:${accountId}:${name.split('/').pop()}`,
      'AWS::SQS::Queue.QueueName': () => name.split('/').pop()!,
      'AWS::DynamoDB::Table.Arn': () => `arn:aws:dynamodb:${region}:${accountId}:table/${name}`,
      // the stream's label is known only once deployed: any stream of the table
      'AWS::DynamoDB::Table.StreamArn': () => `arn:aws:dynamodb:${region}:${accountId}:table/${name}/stream/*`,
      'AWS::Lambda::Function.Arn': () => `arn:aws:lambda:${region}:${accountId}:function:${name}`,
      'AWS::IAM::Role.Arn': () => `arn:aws:iam::${accountId}:role/${name}`,
      'AWS::IAM::Role.RoleId': () => `AROA${id.toUpperCase().replace(/[^A-Z0-9]/g, '')}`,
      'AWS::IAM::InstanceProfile.Arn': () => `arn:aws:iam::${accountId}:instance-profile/${name}`,
      'AWS::Logs::LogGroup.Arn': () => `arn:aws:logs:${region}:${accountId}:log-group:${name}:*`,
      'AWS::KMS::Key.Arn': () => `arn:aws:kms:${region}:${accountId}:key/${name}`,
      'AWS::KMS::Key.KeyId': () => name,
      'AWS::StepFunctions::StateMachine.Arn': () => name,
      'AWS::StepFunctions::StateMachine.Name': () => name.split(':').pop()!,
    };
    const value = arns[`${r.Type}.${attribute}`];
    if (!value) throw new Error(`cannot resolve Fn::GetAtt ${id}.${attribute} (${r.Type})`);
    return value();
  }

  condition(name: string): boolean {
    const expression = this.template.Conditions?.[name];
    if (expression === undefined) throw new Error(`no condition ${name}`);
    return this.truth(expression);
  }

  private truth(expression: Json): boolean {
    if (typeof expression === 'boolean') return expression;
    const [fn, args] = Object.entries(expression as Record<string, Json>)[0]!;
    switch (fn) {
      case 'Condition':
        return this.condition(args);
      case 'Fn::Not':
        return !this.truth(args[0]);
      case 'Fn::And':
        return (args as Json[]).every((a) => this.truth(a));
      case 'Fn::Or':
        return (args as Json[]).some((a) => this.truth(a));
      case 'Fn::Equals':
        return String(this.resolve(args[0])) === String(this.resolve(args[1]));
      default:
        throw new Error(`cannot evaluate condition function ${fn}`);
    }
  }

  private sub(text: string, vars: Record<string, Json>): string {
    return text.replace(/\$\{([^}]+)\}/g, (whole, name: string) => {
      if (name.startsWith('!')) return `\${${name.slice(1)}}`;
      if (name in vars) return String(this.resolve(vars[name]));
      if (name.includes('.') && !name.startsWith('AWS::')) {
        const [id, ...attribute] = name.split('.');
        return this.getAtt(id!, attribute.join('.'));
      }
      const value = this.ref(name);
      if (value === NO_VALUE) throw new Error(`Fn::Sub of AWS::NoValue in ${whole}`);
      return value;
    });
  }

  /** The value with every intrinsic function resolved (AWS::NoValue entries dropped). */
  resolve(value: Json): Json {
    if (Array.isArray(value)) return value.map((v) => this.resolve(v)).filter((v) => v !== NO_VALUE);
    if (value === null || typeof value !== 'object') return value;
    const keys = Object.keys(value);
    if (keys.length === 1) {
      const [fn] = keys as [string];
      const args = value[fn];
      switch (fn) {
        case 'Ref':
          return this.ref(args);
        case 'Fn::GetAtt': {
          const [id, ...attribute] = Array.isArray(args) ? args : String(args).split('.');
          return this.getAtt(id, attribute.join('.'));
        }
        case 'Fn::Sub':
          return Array.isArray(args) ? this.sub(args[0], args[1] ?? {}) : this.sub(args, {});
        case 'Fn::Join':
          return (this.resolve(args[1]) as Json[]).join(args[0]);
        case 'Fn::If':
          return this.resolve(this.condition(args[0]) ? args[1] : args[2]);
        case 'Fn::Select':
          return (this.resolve(args[1]) as Json[])[Number(this.resolve(args[0]))];
        case 'Fn::Split':
          return String(this.resolve(args[1])).split(args[0]);
        default:
          if (fn.startsWith('Fn::')) throw new Error(`cannot resolve ${fn}`);
      }
    }
    const out: Record<string, Json> = {};
    for (const [k, v] of Object.entries(value)) {
      const resolved = this.resolve(v);
      if (resolved !== NO_VALUE) out[k] = resolved;
    }
    return out;
  }
}

// ---- principals and their policies ----

/** One statement of a principal's policies, as the template has it, and the label it is simulated under. */
export interface LabelledStatement {
  /** `<role logical id>/<policy name>` */
  policy: string;
  /** the statement's Sid, or its index in the policy */
  sid: string;
  /** unique: what the simulator reports as the statement's identifier */
  label: string;
  statement: Json;
}

export interface Principal {
  /** `function:<name>` or `stateMachine:<name>` (as AwsCall.principal) */
  name: string;
  roleId: string;
  roleArn: string;
  /** `AROA…:<session>`, as `aws:userid` reads for the role's sessions */
  userId: string;
  statements: LabelledStatement[];
  /** policies this check cannot read (AWS-managed: not in the template) */
  unreadable: string[];
}

const asArray = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

function roleStatements(resolver: TemplateResolver, roleId: string): { statements: LabelledStatement[]; unreadable: string[] } {
  const { template } = resolver;
  const role = template.Resources[roleId]!;
  const documents: Array<{ name: string; document: Json }> = [];
  // resolved first: a policy of the list may be an Fn::If (e.g. on an optional KMS key)
  for (const p of asArray(resolver.resolve(role.Properties?.Policies ?? [])) as Json[])
    documents.push({ name: `${roleId}/${p.PolicyName}`, document: p.PolicyDocument });
  const unreadable: string[] = [];
  for (const [id, r] of Object.entries(template.Resources)) {
    if (r.Type !== 'AWS::IAM::Policy' && r.Type !== 'AWS::IAM::ManagedPolicy') continue;
    if (asArray(r.Properties?.Roles).some((x: Json) => x?.Ref === roleId)) documents.push({ name: `${id}`, document: r.Properties.PolicyDocument });
  }
  for (const arn of asArray(role.Properties?.ManagedPolicyArns) as Json[]) {
    const ref = arn?.Ref as string | undefined;
    if (ref && template.Resources[ref]?.Type === 'AWS::IAM::ManagedPolicy')
      documents.push({ name: ref, document: template.Resources[ref]!.Properties.PolicyDocument });
    else unreadable.push(String(resolver.resolve(arn)));
  }
  const statements: LabelledStatement[] = [];
  for (const { name, document } of documents) {
    const resolved = resolver.resolve(document) as Json;
    asArray(resolved.Statement).forEach((statement: Json, index: number) => {
      statements.push({ policy: name, sid: statement.Sid ?? `#${index}`, label: `L${statements.length}`, statement });
    });
  }
  return { statements, unreadable };
}

/** The functions' and state machines' roles, by AwsCall principal. */
export function principals(resolver: TemplateResolver): Map<string, Principal> {
  const { template } = resolver;
  const out = new Map<string, Principal>();
  const add = (name: string, roleArn: Json, session: string) => {
    const roleId = roleArn?.['Fn::GetAtt']?.[0] as string | undefined;
    if (!roleId || template.Resources[roleId]?.Type !== 'AWS::IAM::Role') throw new Error(`${name} does not use a role of this template`);
    const { statements, unreadable } = roleStatements(resolver, roleId);
    out.set(name, {
      name,
      roleId,
      roleArn: resolver.getAtt(roleId, 'Arn'),
      userId: `${resolver.getAtt(roleId, 'RoleId')}:${session}`,
      statements,
      unreadable,
    });
  };
  for (const r of Object.values(template.Resources)) {
    if (r.Type === 'AWS::Lambda::Function') {
      const local = /^dist\/([^/]+)\/index\.handler$/.exec(String(r.Properties?.Handler))?.[1];
      if (local) add(`function:${local}`, r.Properties.Role, String(resolver.resolve(r.Properties.FunctionName)));
    }
    if (r.Type === 'AWS::StepFunctions::StateMachine') {
      const name = String(resolver.resolve(r.Properties.StateMachineName));
      add(`stateMachine:${name}`, r.Properties.RoleArn, name);
    }
  }
  return out;
}

/** The resource policy AWS also evaluates for a call's resource (bucket policies, KMS key policies). */
function resourcePolicy(resolver: TemplateResolver, resource: string): Json | undefined {
  for (const r of Object.values(resolver.template.Resources)) {
    if (r.Type === 'AWS::S3::BucketPolicy') {
      const bucket = String(resolver.resolve(r.Properties.Bucket));
      if (resource === `arn:aws:s3:::${bucket}` || resource.startsWith(`arn:aws:s3:::${bucket}/`)) return resolver.resolve(r.Properties.PolicyDocument);
    }
  }
  for (const [id, r] of Object.entries(resolver.template.Resources)) {
    if (r.Type === 'AWS::KMS::Key' && resource === resolver.getAtt(id, 'Arn')) return resolver.resolve(r.Properties.KeyPolicy);
  }
  return undefined;
}

// ---- what AWS checks on the caller's behalf ----

/**
 * The KMS calls a call implies when its resource is encrypted with a customer-managed key in the
 * template (AWS makes them with the caller's credentials): publishing to an encrypted topic or
 * queue, and writing or reading an object of a bucket whose default encryption is SSE-KMS.
 */
export function dependentCalls(resolver: TemplateResolver, call: AwsCall): AwsCall[] {
  const kms = (key: unknown, actions: string[]): AwsCall[] => {
    if (typeof key !== 'string' || key === '' || key.startsWith('alias/aws/')) return [];
    const arn = key.startsWith('arn:') ? key : `arn:aws:kms:${resolver.placement.region}:${resolver.placement.accountId}:key/${key}`;
    return actions.map((action) => ({ principal: call.principal, action, resource: arn, context: {}, operation: `${call.operation} (KMS)` }));
  };
  for (const [id, r] of Object.entries(resolver.template.Resources)) {
    const p = () => resolver.resolve(r.Properties ?? {}) as Json;
    if (r.Type === 'AWS::SNS::Topic' && call.action === 'sns:Publish' && call.resource === resolver.ref(id)) {
      return kms(p().KmsMasterKeyId, ['kms:GenerateDataKey', 'kms:Decrypt']);
    }
    if (r.Type === 'AWS::SQS::Queue' && call.resource === resolver.getAtt(id, 'Arn')) {
      if (call.action === 'sqs:SendMessage') return kms(p().KmsMasterKeyId, ['kms:GenerateDataKey', 'kms:Decrypt']);
      if (call.action === 'sqs:ReceiveMessage') return kms(p().KmsMasterKeyId, ['kms:Decrypt']);
    }
    if (r.Type === 'AWS::S3::Bucket' && call.resource.startsWith(`${resolver.getAtt(id, 'Arn')}/`)) {
      const rule = asArray(p().BucketEncryption?.ServerSideEncryptionConfiguration)[0] as Json;
      const byDefault = rule?.ServerSideEncryptionByDefault;
      if (!String(byDefault?.SSEAlgorithm ?? '').startsWith('aws:kms')) return [];
      if (call.action === 's3:PutObject') return kms(byDefault.KMSMasterKeyID, ['kms:GenerateDataKey']);
      if (call.action === 's3:GetObject' || call.action === 's3:GetObjectVersion') return kms(byDefault.KMSMasterKeyID, ['kms:Decrypt']);
    }
  }
  return [];
}

// ---- simulation ----

export interface CallVerdict {
  call: AwsCall;
  result: 'Allowed' | 'ImplicitlyDenied' | 'ExplicitlyDenied' | 'Error';
  /** labels of the identity statements that allowed it */
  allowedBy: string[];
  detail?: string;
}

/** The context AWS sets on every request of a role session (plus the call's own keys). */
function contextOf(call: AwsCall, principal: Principal): Record<string, string | string[]> {
  const context: Record<string, string | string[]> = {
    'aws:SecureTransport': 'true',
    'aws:PrincipalArn': principal.roleArn,
    'aws:PrincipalAccount': principal.roleArn.split(':')[4]!,
    'aws:userid': principal.userId,
    'aws:PrincipalType': 'AssumedRole',
  };
  for (const [key, value] of Object.entries(call.context)) context[key] = value === CALLER_USER_ID ? principal.userId : value;
  return context;
}

/** Simulates one recorded call with its principal's policies (and the resource's policy, if any). */
export async function simulateCall(resolver: TemplateResolver, principal: Principal, call: AwsCall): Promise<CallVerdict> {
  const sessionArn = `arn:aws:sts::${resolver.placement.accountId}:assumed-role/${String(resolver.ref(principal.roleId))}/${principal.userId.split(':')[1]}`;
  const policy = { Version: '2012-10-17', Statement: principal.statements.map((s) => ({ ...s.statement, Sid: s.label })) };
  const resource = resourcePolicy(resolver, call.resource);
  const response = await runSimulation(
    {
      request: {
        principal: sessionArn,
        action: call.action,
        resource: { resource: call.resource, accountId: resolver.placement.accountId },
        contextVariables: contextOf(call, principal),
      },
      identityPolicies: [{ name: principal.roleId, policy }],
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      ...(resource ? { resourcePolicy: resource } : {}),
    },
    {},
  );
  if (response.resultType === 'error') return { call, result: 'Error', allowedBy: [], detail: JSON.stringify(response.errors) };
  const results = response.resultType === 'single' ? [response.result] : response.results;
  const allowedBy = results.flatMap((r) => r.analysis.identityAnalysis?.allowStatements.map((s) => s.explain.identifier) ?? []);
  return { call, result: response.overallResult, allowedBy: [...new Set(allowedBy)] };
}

/** Every Allow statement of these principals that allowed none of the verdicts' calls. */
export function unusedStatements(all: Iterable<Principal>, verdicts: CallVerdict[]): Array<{ principal: string; statement: LabelledStatement }> {
  const used = new Set(verdicts.flatMap((v) => v.allowedBy.map((label) => `${v.call.principal}|${label}`)));
  const out: Array<{ principal: string; statement: LabelledStatement }> = [];
  for (const p of all) {
    for (const s of p.statements) if (s.statement.Effect === 'Allow' && !used.has(`${p.name}|${s.label}`)) out.push({ principal: p.name, statement: s });
  }
  return out;
}

/** One line for a statement: its policy, Sid, actions and resources. */
export function statementText(s: LabelledStatement): string {
  return `${s.policy} ${s.sid}: ${asArray(s.statement.Action).join(',')} on ${asArray(s.statement.Resource).join(', ')}`;
}
