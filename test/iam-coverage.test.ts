import { copyFile, mkdir, mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CLICKSTREAM, writeClickstreamSample } from '../examples/retail/data/clickstream-sample';
import { writePosSample } from '../examples/retail/data/pos-sample';
import { AwsCallRecorder, type AwsCall } from '../local/aws-calls';
import { LOCAL_WAREHOUSE_WORKGROUP, PROJECT_ROOT } from '../local/stack';
import { readDeployment } from '../deploy/serverless-config';
import { landDirectory } from '../ops/land';
import { replayPrefix } from '../shared/core/s3/replay';
import { resolverDepsFromEnv, retryBatch } from '../shared/stages/resolve';
import {
  type CallVerdict,
  dependentCalls,
  packageTemplate,
  principals,
  simulateCall,
  statementText,
  type Template,
  TemplateResolver,
  unusedStatements,
} from './support/iam-simulation';
import { useLocalStack } from './support/local-stack';

/*
 * No AccessDenied on the first deploy: every AWS call the functions (and the state machines, as
 * the stand-ins see them) make during a representative run on the local stack, recorded as IAM
 * authorizes it (local/aws-calls.ts), is evaluated against that principal's policies in the
 * packaged template by an IAM policy simulator. Least privilege is measured from the other side
 * too: the statements no recorded call used are listed (and must be justified below).
 */

const REGION = 'us-east-1';
const ACCOUNT = '000000000000';
const DATE = '2026-11-23';
/** every store the samples' pipeline expects (a batch runs only once all of them landed) */
const PROVINCES = { ON: 5, QC: 4, BC: 3 };
/** the workgroup the local loads name, and the ARN the template is given for it (AWS's holds the workgroup's id) */
const WORKGROUP_ARN = `arn:aws:redshift-serverless:${REGION}:${ACCOUNT}:workgroup/6f1c3f9e-8b0a-4c4e-9d52-0c2b4a7e1d11`;

const deployment = readDeployment(PROJECT_ROOT, 'local');
const recorder = new AwsCallRecorder({
  region: REGION,
  accountId: ACCOUNT,
  partitionKeys: Object.fromEntries(deployment.tables.map((t) => [t.create.TableName!, t.create.KeySchema!.find((k) => k.KeyType === 'HASH')!.AttributeName!])),
  workgroupArns: { [LOCAL_WAREHOUSE_WORKGROUP]: WORKGROUP_ARN },
});
const stack = useLocalStack({ awsCalls: recorder });

/**
 * Statements no recorded call uses, each with the reason it stays (a path the run does not take,
 * or a call AWS makes that no stand-in sees). Keyed `<principal> <policy> <Sid or #index>`.
 */
const ON_FAILURE =
  'Lambda sends a failed async invocation (or stream batch) to the failed-events queue with this role, and checks the permission when the destination is configured; this run fails only validate';
const GRACE =
  'the reconciler repairs a file stuck past its 20-minute grace (handler default) or an active claim due for a look; this run has none (test/reliability and the chaos test take these paths)';
const UNINDEXED =
  "whether validate recorded a listed landed object is asked only for one the day's index did not show (validate crashed before RECEIVED, or is still at work: test/invisible-files.test.ts); every object listed here was indexed";
const JUSTIFIED_UNUSED: Record<string, string> = {
  'function:validate ValidateRole/s3 PutArchiveMembers': "an archive's members (examples/* feeds with `archives`), not in the samples' pipeline this run uses",
  'function:convert ConvertRole/s3 ListVerdictAndLanded':
    'a read of a missing verdict or landed version answers 404 (NotFound) rather than 403 only with ListBucket; no key was missing here',
  'function:convert ConvertRole/on-failure #0': ON_FAILURE,
  'function:convert ConvertRole/glue AddProcessedColumns':
    "an additive dataset's file with a new column (test/schema-changes.test.ts); the samples' files add none here (checked by simulation below)",
  'function:track TrackRole/on-failure #0': ON_FAILURE,
  'function:resolve ResolveRole/on-failure #0': ON_FAILURE,
  'function:events EventsRole/on-failure #0': ON_FAILURE,
  'function:resolve ResolveRole/dynamodb FileVerdicts': 'a file quarantined by a batch (its verdict recorded on the file); no batch quarantined a file here',
  'function:jobstep JobStepRole/dynamodb FileVerdicts': 'a file quarantined by a failing run; no run quarantined a file here',
  'function:resolve ResolveRole/stepfunctions SeeExecutions':
    'a batch found with an active claim is compared with its execution; no claim was left active here',
  'function:jobstep JobStepRole/stepfunctions SeeExecutions': 'a claim compared with its execution when a generation starts; none was left active here',
  'function:jobstep JobStepRole/stepfunctions #0': "StartNextGeneration starts a batch's waiting generation; no generation waited here",
  'function:jobstep JobStepRole/emr-logs FailingStepLogs': "a failing EMR step's log tail in the failure alert; no step failed here",
  'function:jobstep JobStepRole/emr-logs WrittenPartitions':
    "HEADs the partitions a run read that other jobs wrote (job dependencies: test/fixtures/meters); the samples' jobs read none",
  'function:resolve ResolveRole/dynamodb LandedRecorded': UNINDEXED,
  'function:jobstep JobStepRole/dynamodb LandedRecorded': UNINDEXED,
  'function:reconcile ReconcileRole/dynamodb LandedRecorded': UNINDEXED,
  'function:reconcile ReconcileRole/s3 ListLanded':
    "a batch lists its landed objects when it could run; none of the batches the reconciler resolved here could (test/invisible-files.test.ts: the reconciler's pass runs the held batch)",
  'function:reconcile ReconcileRole/s3 WhichReportsExist': GRACE,
  'function:reconcile ReconcileRole/s3 WhichParquetExists': GRACE,
  'function:reconcile ReconcileRole/s3 ReadLineage': GRACE,
  'function:reconcile ReconcileRole/stepfunctions StartRuns': GRACE,
  'function:reconcile ReconcileRole/stepfunctions SeeExecutions': GRACE,
};

const describeCall = (c: AwsCall) =>
  `${c.principal} ${c.action} ${c.resource}${Object.keys(c.context).length ? ` ${JSON.stringify(c.context)}` : ''} (${c.operation})`;

/** Copies one landed file of `dir` to a new key of the same store and day (a later file of it). */
async function laterFile(dir: string): Promise<string> {
  const province = (await readdir(join(dir, 'pos'))).sort()[0]!;
  const name = (await readdir(join(dir, 'pos', province))).filter((n) => n.endsWith('.tdf')).sort()[0]!;
  const key = `pos/${province}/${name.replace(/_(\d{6})\.tdf$/, '_235959.tdf')}`;
  const out = await mkdtemp(join(tmpdir(), 'landfall-iam-later-'));
  await mkdir(dirname(join(out, key)), { recursive: true });
  await copyFile(join(dir, 'pos', province, name), join(out, key));
  return out;
}

describe('the recorder names the IAM action and resource AWS authorizes', () => {
  const r = new AwsCallRecorder({ region: REGION, accountId: ACCOUNT, partitionKeys: { runs: 'pk' } });
  it('S3: a versioned read, a multipart upload, a listing with its prefix, a missing key', () => {
    expect(r.authorizations('S3', 'GetObject', { Bucket: 'b', Key: 'landing/x', VersionId: 'v1' })).toEqual([
      { action: 's3:GetObjectVersion', resource: 'arn:aws:s3:::b/landing/x', context: {} },
    ]);
    expect(r.authorizations('S3', 'UploadPart', { Bucket: 'b', Key: 'k', UploadId: 'u', PartNumber: 1 })[0]!.action).toBe('s3:PutObject');
    expect(r.authorizations('S3', 'ListObjectsV2', { Bucket: 'b', Prefix: 'reports/x' })).toEqual([
      { action: 's3:ListBucket', resource: 'arn:aws:s3:::b', context: { 's3:prefix': 'reports/x' } },
    ]);
    const missing = Object.assign(new Error('not found'), { name: 'NotFound' });
    expect(r.authorizations('S3', 'HeadObject', { Bucket: 'b', Key: 'k' }, missing).map((a) => a.action)).toEqual(['s3:GetObject', 's3:ListBucket']);
  });
  it('DynamoDB: one action per transaction item with its leading key; a Query on an index is on the index', () => {
    const items = r.authorizations('DynamoDB', 'TransactWriteItems', {
      TransactItems: [{ ConditionCheck: { TableName: 'runs', Key: { pk: 'A' } } }, { Put: { TableName: 'runs', Item: { pk: { S: 'B' } } } }],
    });
    expect(items).toEqual([
      { action: 'dynamodb:ConditionCheckItem', resource: `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/runs`, context: { 'dynamodb:LeadingKeys': ['A'] } },
      { action: 'dynamodb:PutItem', resource: `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/runs`, context: { 'dynamodb:LeadingKeys': ['B'] } },
    ]);
    expect(r.authorizations('DynamoDB', 'Query', { TableName: 'runs', IndexName: 'gsi1' })[0]!.resource).toBe(
      `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/runs/index/gsi1`,
    );
  });
  it('EMR: a cluster created with tags passes its roles; later calls carry the tags it was created with', () => {
    const run = r.authorizations('EMR', 'RunJobFlow', { Tags: [{ Key: 'landfall:stack', Value: 's' }], ServiceRole: 'svc', JobFlowRole: 'inst' });
    expect(run.map((a) => [a.action, a.context['iam:PassedToService'] ?? a.context['aws:RequestTag/landfall:stack']])).toEqual([
      ['elasticmapreduce:RunJobFlow', 's'],
      ['iam:PassRole', 'elasticmapreduce.amazonaws.com'],
      ['iam:PassRole', 'ec2.amazonaws.com'],
    ]);
  });
});

describe('IAM coverage: every call the code makes is allowed by the packaged template', () => {
  let template: Template;
  let verdicts: CallVerdict[];
  let resolver: TemplateResolver;

  beforeAll(async () => {
    const s = stack();
    // the template as deployed for this environment: the local ARC controls and warehouse
    const packaged = packageTemplate(PROJECT_ROOT, deployment.stage, {
      arcCellAControlArn: s.arc.controlArn('cell-a'),
      arcCellBControlArn: s.arc.controlArn('cell-b'),
      warehouseWorkgroup: LOCAL_WAREHOUSE_WORKGROUP,
      warehouseWorkgroupArn: WORKGROUP_ARN,
    });
    packaged.catch(() => undefined); // awaited below; no unhandled rejection meanwhile
    const raw = deployment.names.rawBucket;

    // 1. the POS sample (bad files included) through every stage, its job loading the warehouse
    const pos = await mkdtemp(join(tmpdir(), 'landfall-iam-pos-'));
    await writePosSample(pos, { seed: 5, startDate: DATE, days: 1, provinces: PROVINCES, rowsPerFile: 8, filesPerStore: 1, items: 6, badFiles: true });
    await landDirectory(s.s3, raw, pos);
    await s.settled(600);

    // 2. the clickstream job on a transient EMR cluster (ARC, RunJobFlow, steps, checkpoints)
    const clicks = await mkdtemp(join(tmpdir(), 'landfall-iam-clicks-'));
    await writeClickstreamSample(clicks, { ...DEFAULT_CLICKSTREAM, seed: 7, startDate: DATE, sessionsPerDay: 15 });
    await landDirectory(s.s3, raw, clicks);
    await s.settled(1000, 600_000);
    await s.emr.allEnded(120_000);

    // 3. a forced replay whose first load fails (the failure alert), then an operator's retry
    s.warehouse.fault.failStatement(/^COPY "landfall_staging_pos_daily_sales"/, 'ERROR: S3ServiceException: Access Denied', { times: 1 });
    await replayPrefix(s.s3, raw, 'pos/', { force: true });
    await s.settled(600);
    for (const province of Object.keys(PROVINCES)) {
      const batch = await s.jobRuns.getBatch(`pos_daily_sales#province=${province}#date=${DATE}`);
      if (batch?.status === 'FAILED') await retryBatch(resolverDepsFromEnv(), { job: 'pos_daily_sales', values: { province, date: DATE } });
    }
    await s.settled(600);

    // 4. validate dies before it records a file (retries run out: the on-failure destination), and
    //    the reconciler drains the failed-events queue and validates it again
    s.chaos.configure({ crashProbability: 1, crashPoints: ['before'], crashFunctions: ['validate'], crashOperations: ['TransactWriteItems'] });
    s.chaos.enable();
    await landDirectory(s.s3, raw, await laterFile(pos));
    await s.settled(600);
    s.chaos.disable();
    expect(s.lambdas.failures.map((f) => f.functionName)).toContain('validate');
    await s.lambdas.invoke('reconcile', {});
    await s.settled(600);

    // what Lambda itself does with each function's role: its logs
    for (const [fn, count] of s.lambdas.invocations) if (count > 0) recorder.functionLogged(fn, s.lambdas.deployedName(fn));

    template = await packaged;
    resolver = new TemplateResolver(template, { region: REGION, accountId: ACCOUNT, stackName: `${deployment.service}-${deployment.stage}` });
    const roles = principals(resolver);
    // the roles a transient cluster is given are the template's (the local stack names them)
    const passed: Record<string, string> = {
      [`arn:aws:iam::${ACCOUNT}:role/${deployment.service}-${deployment.stage}-emr-service`]: resolver.getAtt('EmrServiceRole', 'Arn'),
      [`arn:aws:iam::${ACCOUNT}:role/${deployment.service}-${deployment.stage}-emr-instance`]: resolver.getAtt('EmrInstanceRole', 'Arn'),
    };
    verdicts = [];
    const calls = recorder.calls().map((c) => ({ ...c, resource: passed[c.resource] ?? c.resource }));
    for (const call of [...calls, ...calls.flatMap((c) => dependentCalls(resolver, c))]) {
      const principal = roles.get(call.principal);
      verdicts.push(
        principal ? await simulateCall(resolver, principal, call) : { call, result: 'Error', allowedBy: [], detail: 'no such principal in the template' },
      );
    }
  }, 900_000);

  it('records the calls of every function and of both state machines', () => {
    const by = new Set(verdicts.map((v) => v.call.principal));
    for (const fn of deployment.functions) expect(by, fn.name).toContain(`function:${fn.name}`);
    for (const sm of deployment.stateMachines) expect(by, sm.name).toContain(`stateMachine:${sm.name}`);
    const actions = new Set(verdicts.map((v) => `${v.call.principal} ${v.call.action}`));
    // the shapes that differ from the API's name were seen
    expect(actions).toContain('function:convert s3:GetObjectVersion');
    expect(actions).toContain('function:resolve dynamodb:GetRecords');
    expect(actions).toContain('function:events dynamodb:GetRecords');
    expect(actions).toContain('function:events events:PutEvents');
    expect(actions).toContain('function:emrstep iam:PassRole');
    expect(actions).toContain('function:validate sqs:SendMessage');
    expect(actions).toContain('function:reconcile lambda:InvokeFunction');
    console.log(`IAM coverage: ${verdicts.length} distinct calls checked`);
  });

  it('allows every recorded call', () => {
    const denied = verdicts.filter((v) => v.result !== 'Allowed').map((v) => `${v.result}: ${describeCall(v.call)}${v.detail ? ` — ${v.detail}` : ''}`);
    expect(denied).toEqual([]);
  });

  it('leaves no statement unused unless it is justified', () => {
    const unused = unusedStatements(principals(resolver).values(), verdicts).map(({ principal, statement }) => ({
      key: `${principal} ${statement.policy} ${statement.sid}`,
      text: `${principal}: ${statementText(statement)}`,
    }));
    console.log(`IAM coverage: statements no recorded call used:\n${unused.map((u) => `  ${u.text}`).join('\n')}`);
    expect(unused.filter((u) => !(u.key in JUSTIFIED_UNUSED)).map((u) => u.text)).toEqual([]);
  });
  it("lets convert add columns to a processed dataset's Glue table, and to no curated one", async () => {
    const convert = principals(resolver).get('function:convert')!;
    const call = (action: string, resource: string) => ({ principal: 'function:convert', action, resource, context: {}, operation: `Glue.${action.slice(5)}` });
    const arn = (what: string) => `arn:aws:glue:us-east-1:000000000000:${what}`;
    for (const action of ['glue:GetTable', 'glue:UpdateTable']) {
      for (const what of ['catalog', 'database/landfall_local_processed', 'table/landfall_local_processed/orders'])
        expect((await simulateCall(resolver, convert, call(action, arn(what)))).result, `${action} ${what}`).toBe('Allowed');
      expect((await simulateCall(resolver, convert, call(action, arn('table/landfall_local_curated/orders')))).result).not.toBe('Allowed');
    }
    expect((await simulateCall(resolver, convert, call('glue:DeleteTable', arn('table/landfall_local_processed/orders')))).result).not.toBe('Allowed');
  });
  it("lets validate put an archive's members under landing/, and no other key there (the calls the feed examples make)", async () => {
    const validate = principals(resolver).get('function:validate')!;
    const put = (key: string) => ({
      principal: 'function:validate',
      action: 's3:PutObject',
      resource: `arn:aws:s3:::${deployment.names.rawBucket}/${key}`,
      context: {},
      operation: 'S3.PutObject',
    });
    expect((await simulateCall(resolver, validate, put('landing/partner/acme_20261207.zip!/orders.csv'))).result).toBe('Allowed');
    expect((await simulateCall(resolver, validate, put('landing/partner/acme_20261207.zip'))).result).not.toBe('Allowed');
    expect((await simulateCall(resolver, validate, put('landing/pos/ON/ON01_20261207_120000.tdf'))).result).not.toBe('Allowed');
    // a dataset's schema change is alerted on the alerts topic
    const topic = resolver.ref('FailureTopic');
    const publish = { principal: 'function:validate', action: 'sns:Publish', resource: String(topic), context: {}, operation: 'SNS.Publish' };
    expect((await simulateCall(resolver, validate, publish)).result).toBe('Allowed');
  });
});
