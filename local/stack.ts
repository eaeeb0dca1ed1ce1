import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Server } from 'node:http';
import { CreateTableCommand, DynamoDBClient, UpdateTimeToLiveCommand } from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, PutBucketNotificationConfigurationCommand, PutBucketVersioningCommand, S3Client, type QueueConfiguration } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { FileStateStore } from '../shared/state/file-state-store';
import { LocalLambdas } from './lambda-runner';
import { freePort } from './ports';
import { startNotificationReceiver } from './s3-notifications';
import { readDeployment, type Deployment } from './serverless-config';
import { startDynamoDbLocal, startMinio, type RunningServer } from './servers';

export const PROJECT_ROOT = resolve(import.meta.dirname, '..');
const CREDENTIALS = { accessKeyId: 'landfall', secretAccessKey: 'landfall-local-secret' };
const REGION = 'us-east-1';

export interface LocalStack {
  deployment: Deployment;
  endpoints: { s3: string; dynamodb: string };
  s3: S3Client;
  dynamodb: DynamoDBClient;
  documents: DynamoDBDocumentClient;
  fileStates: FileStateStore;
  lambdas: LocalLambdas;
  workDir: string;
  /** the environment the handlers run with (also what a second process needs to reach the stack) */
  env: Record<string, string>;
  stop(): Promise<void>;
}

export interface StackOptions {
  root?: string;
  stage?: string;
  /** console lines about start-up */
  log?: (line: string) => void;
  /** Powertools log level for the handlers (default WARN: the CLI prints its own summary) */
  handlerLogLevel?: string;
  retryDelaysMs?: number[];
  /** run each handler invocation in its own process (see LocalLambdas) */
  isolate?: boolean;
  /** give functions another memory size than serverless.yml (e.g. to prove bounded memory) */
  memoryMb?: Record<string, number>;
}

export function stackEnv(deployment: Deployment, endpoints: LocalStack['endpoints'], logLevel: string): Record<string, string> {
  return {
    AWS_REGION: REGION,
    AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
    AWS_ENDPOINT_URL_S3: endpoints.s3,
    AWS_ENDPOINT_URL_DYNAMODB: endpoints.dynamodb,
    LANDFALL_S3_PATH_STYLE: 'true',
    RAW_BUCKET: deployment.names.rawBucket,
    LAKE_BUCKET: deployment.names.lakeBucket,
    FILE_STATE_TABLE: deployment.names.fileStateTable,
    IDEMPOTENCY_TABLE: deployment.names.idempotencyTable,
    POWERTOOLS_SERVICE_NAME: 'landfall',
    POWERTOOLS_LOG_LEVEL: logLevel,
  };
}

/** Clients for a stack's endpoints (used by the CLI and the tests; handlers build their own). */
export function stackClients(endpoints: LocalStack['endpoints']) {
  const s3 = new S3Client({ endpoint: endpoints.s3, forcePathStyle: true, region: REGION, credentials: CREDENTIALS });
  const dynamodb = new DynamoDBClient({ endpoint: endpoints.dynamodb, region: REGION, credentials: CREDENTIALS });
  const documents = DynamoDBDocumentClient.from(dynamodb, { marshallOptions: { removeUndefinedValues: true } });
  return { s3, dynamodb, documents };
}

async function createResources(deployment: Deployment, s3: S3Client, dynamodb: DynamoDBClient): Promise<void> {
  const { rawBucket, lakeBucket } = deployment.names;
  for (const bucket of [rawBucket, lakeBucket]) {
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await s3.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }));
    const queues: QueueConfiguration[] = [];
    for (const fn of deployment.functions) {
      for (const trigger of fn.triggers.filter((t) => t.bucket === bucket)) {
        const rules = [
          ...(trigger.prefix ? [{ Name: 'prefix' as const, Value: trigger.prefix }] : []),
          ...(trigger.suffix ? [{ Name: 'suffix' as const, Value: trigger.suffix }] : []),
        ];
        queues.push({ QueueArn: `arn:minio:sqs::${fn.name}:webhook`, Events: ['s3:ObjectCreated:*'], Filter: { Key: { FilterRules: rules } } });
      }
    }
    if (queues.length > 0) {
      await s3.send(new PutBucketNotificationConfigurationCommand({ Bucket: bucket, NotificationConfiguration: { QueueConfigurations: queues } }));
    }
  }
  for (const table of deployment.tables) {
    await dynamodb.send(new CreateTableCommand(table.create));
    if (table.ttlAttribute) {
      await dynamodb.send(new UpdateTimeToLiveCommand({ TableName: table.create.TableName, TimeToLiveSpecification: { Enabled: true, AttributeName: table.ttlAttribute } }));
    }
  }
}

/**
 * Starts the embedded local stack: DynamoDB Local, MinIO with bucket notifications, and the real
 * handlers behind them, with the buckets, tables and triggers serverless.yml declares.
 */
export async function startLocalStack(options: StackOptions = {}): Promise<LocalStack> {
  const root = options.root ?? PROJECT_ROOT;
  const deployment = readDeployment(root, options.stage ?? 'local');
  for (const fn of deployment.functions) fn.memoryMb = options.memoryMb?.[fn.name] ?? fn.memoryMb;
  const workDir = await mkdtemp(join(tmpdir(), 'landfall-stack-'));
  const log = options.log ?? (() => undefined);
  const lambdas = new LocalLambdas(deployment.functions, {
    namePrefix: `${deployment.service}-${deployment.stage}`,
    isolate: options.isolate ?? false,
    ...(options.retryDelaysMs ? { retryDelaysMs: options.retryDelaysMs } : {}),
  });
  const receiverPort = await freePort();
  const receiver: Server = await startNotificationReceiver(receiverPort, (fn, event) => {
    lambdas.touch();
    lambdas.invokeAsync(fn, event);
  });
  const servers: RunningServer[] = [];
  try {
    log('starting DynamoDB Local and MinIO…');
    const webhooks = Object.fromEntries(deployment.functions.map((f) => [f.name, `http://127.0.0.1:${receiverPort}/events/${f.name}`]));
    const [ddb, minio] = await Promise.all([startDynamoDbLocal(workDir), startMinio({ workDir, accessKey: CREDENTIALS.accessKeyId, secretKey: CREDENTIALS.secretAccessKey, region: REGION, webhooks })]);
    servers.push(ddb, minio);
    const endpoints = { s3: minio.endpoint, dynamodb: ddb.endpoint };
    const env = stackEnv(deployment, endpoints, options.handlerLogLevel ?? process.env.POWERTOOLS_LOG_LEVEL ?? 'WARN');
    // The handlers run in this process, as one Lambda container per function would.
    Object.assign(process.env, env);
    const clients = stackClients(endpoints);
    await createResources(deployment, clients.s3, clients.dynamodb);
    log(`local stack up: S3 ${endpoints.s3}, DynamoDB ${endpoints.dynamodb}`);
    return {
      deployment,
      endpoints,
      ...clients,
      fileStates: new FileStateStore(clients.documents, deployment.names.fileStateTable),
      lambdas,
      workDir,
      env,
      async stop() {
        await new Promise<void>((r) => receiver.close(() => r()));
        await Promise.all(servers.map((s) => s.process.stop()));
        await rm(workDir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    receiver.close();
    await Promise.all(servers.map((s) => s.process.stop()));
    throw err;
  }
}
