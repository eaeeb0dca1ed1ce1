import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { S3Client } from '@aws-sdk/client-s3';
import { ListStateMachinesCommand, SFNClient, type StateMachineListItem } from '@aws-sdk/client-sfn';
import { SNSClient } from '@aws-sdk/client-sns';
import { GetQueueUrlCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { loadPipeline } from '../shared/core/config/load-config';
import type { ReconcileDeps } from '../shared/stages/reconcile';
import { JobRunStore } from '../shared/core/runs/job-run-store';
import type { ResolverDeps } from '../shared/stages/resolve';
import { FileStateStore } from '../shared/core/state/file-state-store';
import { readDeployment, type Deployment } from '../deploy/serverless-config';
import { LandfallError } from '../shared/core/errors';
import type { LocalStack } from '../local/stack';

/**
 * Where an operator's command runs: the running local stack (`landfall up`), or a deployed stage
 * (`--stage S`: default AWS credentials, names from serverless.yml for that stage). Either way the
 * commands run the same code (the resolver, the reconciler) with clients for that place.
 */
export interface Target {
  /** "the local stack" or "stage dev (us-east-1)" */
  label: string;
  names: Deployment['names'];
  s3: S3Client;
  documents: DynamoDBDocumentClient;
  files: FileStateStore;
  runs: JobRunStore;
  /** what the resolver needs (retry): the state machines' ARNs are looked up on AWS */
  resolverDeps(): Promise<ResolverDeps>;
  reconcileDeps(): Promise<ReconcileDeps>;
}

/** The command line or the environment is wrong: exit 2 with this message. */
export class TargetError extends LandfallError {
  override readonly name = 'TargetError';
  readonly code = 'TARGET_UNAVAILABLE';
}

export interface StackFile {
  pid: number;
  /** the pipeline `landfall up` was started with */
  pipelineFile?: string;
  endpoints: { s3: string; dynamodb: string; stepfunctions: string; sns: string; lambda?: string; sqs?: string };
  names: Deployment['names'];
  stateMachineArns: { duckdb: string; emr: string };
  alertsTopicArn?: string;
  failedEventsQueueUrl?: string;
  functionNamePrefix?: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
}

/** What `landfall up` records of a running stack (its stack file): where `localTarget` finds it. */
export function stackFileOf(stack: LocalStack, pipelineFile?: string): StackFile {
  return {
    pid: process.pid,
    ...(pipelineFile ? { pipelineFile } : {}),
    endpoints: stack.endpoints,
    names: stack.deployment.names,
    stateMachineArns: { duckdb: stack.env.STATE_MACHINE_ARN ?? '', emr: stack.env.EMR_STATE_MACHINE_ARN ?? '' },
    alertsTopicArn: stack.env.FAILURE_TOPIC_ARN,
    failedEventsQueueUrl: stack.env.FAILED_EVENTS_QUEUE_URL,
    functionNamePrefix: stack.env.FUNCTION_NAME_PREFIX,
    credentials: { accessKeyId: stack.env.AWS_ACCESS_KEY_ID ?? '', secretAccessKey: stack.env.AWS_SECRET_ACCESS_KEY ?? '' },
  };
}

function targetOf(
  label: string,
  names: Deployment['names'],
  clients: { s3: S3Client; dynamodb: DynamoDBClient; sfn: SFNClient; sns: SNSClient; lambda: LambdaClient; sqs: SQSClient },
  operations: () => Promise<{ alertsTopicArn: string; failedEventsQueueUrl?: string; functionNamePrefix: string }>,
  stateMachineArns: () => Promise<ResolverDeps['stateMachineArns']> | ResolverDeps['stateMachineArns'],
): Target {
  const documents = DynamoDBDocumentClient.from(clients.dynamodb, { marshallOptions: { removeUndefinedValues: true } });
  const files = new FileStateStore(documents, names.fileStateTable);
  const runs = new JobRunStore(documents, names.jobRunsTable);
  const resolverDeps = async (): Promise<ResolverDeps> => ({
    pipeline: loadPipeline(),
    files,
    runs,
    sfn: clients.sfn,
    stateMachineArns: await stateMachineArns(),
    // objects landed but not yet recorded hold a batch back (shared/stages/resolve/unrecorded-hold.ts)
    landing: { s3: clients.s3, bucket: names.rawBucket },
  });
  return {
    label,
    names,
    s3: clients.s3,
    documents,
    files,
    runs,
    resolverDeps,
    async reconcileDeps() {
      const found = await operations();
      return {
        ...(await resolverDeps()),
        s3: clients.s3,
        lambda: clients.lambda,
        sns: clients.sns,
        alertsTopicArn: found.alertsTopicArn,
        rawBucket: names.rawBucket,
        lakeBucket: names.lakeBucket,
        functionNames: {
          validate: `${found.functionNamePrefix}validate`,
          convert: `${found.functionNamePrefix}convert`,
          track: `${found.functionNamePrefix}track`,
        },
        ...(found.failedEventsQueueUrl ? { sqs: clients.sqs, failedEventsQueueUrl: found.failedEventsQueueUrl } : {}),
      };
    },
  };
}

/** The running local stack recorded by `landfall up`. */
export async function localTarget(stackFile: string): Promise<Target> {
  if (!existsSync(stackFile)) throw new TargetError('no local stack is running: start one with `landfall up` (or name a deployed stage with --stage S)');
  const info = JSON.parse(await readFile(stackFile, 'utf8')) as StackFile;
  try {
    process.kill(info.pid, 0);
  } catch {
    throw new TargetError(`the local stack recorded in ${stackFile} (pid ${info.pid}) is not running: start one with \`landfall up\``);
  }
  const base = { region: 'us-east-1', credentials: info.credentials };
  const clients = {
    s3: new S3Client({ ...base, endpoint: info.endpoints.s3, forcePathStyle: true }),
    dynamodb: new DynamoDBClient({ ...base, endpoint: info.endpoints.dynamodb }),
    sfn: new SFNClient({ ...base, endpoint: info.endpoints.stepfunctions }),
    sns: new SNSClient({ ...base, endpoint: info.endpoints.sns }),
    lambda: new LambdaClient({ ...base, ...(info.endpoints.lambda ? { endpoint: info.endpoints.lambda } : {}) }),
    sqs: new SQSClient({ ...base, ...(info.endpoints.sqs ? { endpoint: info.endpoints.sqs } : {}) }),
  };
  const operations = async () => ({
    alertsTopicArn: info.alertsTopicArn ?? '',
    ...(info.failedEventsQueueUrl ? { failedEventsQueueUrl: info.failedEventsQueueUrl } : {}),
    functionNamePrefix: info.functionNamePrefix ?? 'landfall-local-',
  });
  return targetOf('the local stack', info.names, clients, operations, () => info.stateMachineArns);
}

/**
 * A deployed stage: default AWS credentials and region (or --region), names from serverless.yml
 * for that stage; the state machines' ARNs are looked up by name, the queue URL by name.
 */
export function stageTarget(root: string, stage: string, region?: string): Target {
  const deployment = readDeployment(root, stage);
  const names = deployment.names;
  const config = region ? { region } : {};
  // path-style S3 for S3-compatible endpoints (LANDFALL_S3_PATH_STYLE, as the handlers' clients)
  const clients = {
    s3: new S3Client({ ...config, forcePathStyle: process.env.LANDFALL_S3_PATH_STYLE === 'true' }),
    dynamodb: new DynamoDBClient(config),
    sfn: new SFNClient(config),
    sns: new SNSClient(config),
    lambda: new LambdaClient(config),
    sqs: new SQSClient(config),
  };
  let machines: Promise<StateMachineListItem[]> | undefined;
  const listMachines = async () => {
    const all: StateMachineListItem[] = [];
    let nextToken: string | undefined;
    do {
      const page = await clients.sfn.send(new ListStateMachinesCommand({ ...(nextToken ? { nextToken } : {}) }));
      all.push(...(page.stateMachines ?? []));
      nextToken = page.nextToken;
    } while (nextToken);
    return all;
  };
  const stateMachineArns = async () => {
    machines ??= listMachines();
    const arnOf = async (name: string) => {
      const found = (await machines!).find((m) => m.name === name);
      if (!found?.stateMachineArn) throw new TargetError(`stage ${stage}: no state machine named ${name} (is the stage deployed in this account and region?)`);
      return found.stateMachineArn;
    };
    return { duckdb: await arnOf(names.stateMachine), emr: await arnOf(names.emrStateMachine) };
  };
  // what the reconciler needs besides the resolver's: the alerts topic, the queue, the functions
  const operations = async () => {
    const machinesArns = await stateMachineArns();
    // arn:aws:states:<region>:<account>:stateMachine:<name> → the topic lives in the same account and region
    const [, partition, , smRegion, account] = machinesArns.duckdb.split(':');
    const queue = await clients.sqs.send(new GetQueueUrlCommand({ QueueName: names.failedEventsQueue }));
    return {
      alertsTopicArn: `arn:${partition}:sns:${smRegion}:${account}:${names.failureTopic}`,
      ...(queue.QueueUrl ? { failedEventsQueueUrl: queue.QueueUrl } : {}),
      functionNamePrefix: `${deployment.service}-${stage}-`,
    };
  };
  return targetOf(`stage ${stage}${region ? ` (${region})` : ''}`, names, clients, operations, stateMachineArns);
}

export const STACK_FILE_NAME = join('.landfall', 'stack.json');
