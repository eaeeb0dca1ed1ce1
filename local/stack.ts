import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CreateTableCommand, DynamoDBClient, UpdateTimeToLiveCommand } from '@aws-sdk/client-dynamodb';
import {
  CreateBucketCommand,
  PutBucketNotificationConfigurationCommand,
  PutBucketVersioningCommand,
  S3Client,
  type QueueConfiguration,
} from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { CreateTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import { SFNClient, StopExecutionCommand } from '@aws-sdk/client-sfn';
import { CreateQueueCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { dynamoDbClient, s3Client, sfnClient } from '../shared/core/aws/clients';
import { JobRunStore } from '../shared/core/runs/job-run-store';
import { FileStateStore } from '../shared/core/state/file-state-store';
import { startStreamPoller, streamBatchFailureRecord } from './dynamodb-stream';
import { startLocalArc, type LocalArc } from './arc';
import type { AwsCallRecorder } from './aws-calls';
import { Chaos, type ChaosOptions } from './chaos';
import { startLocalEmr, type LocalEmr } from './emr';
import { sparkSubmit } from './installed';
import { uploadSparkArtifacts } from './spark-artifacts';
import { sparkPackageRoot } from '../shared/core/config/spark-package';
import type { CatalogTable } from '../shared/core/catalog/tables';
import { catalogTables, databaseName } from '../shared/stages/catalog';
import { startLocalRedshiftData, type LocalRedshiftData } from './redshift-data';
import { usePipelineFile } from './pipeline-file';
import { startLocalSns, type LocalSns } from './sns';
import { startLocalStepFunctions, type LocalStepFunctions } from './stepfunctions';
import { startLocalLambdaApi, type LocalLambdaApi } from './lambda-api';
import { LocalLambdas } from './lambda-runner';
import { freePort } from './ports';
import { startNotificationReceiver } from './s3-notifications';
import { readDeployment, type Deployment } from '../deploy/serverless-config';
import { startDynamoDbLocal, startMinio, startTogether, type RunningServer } from './servers';
import { startLocalSqs, type LocalSqs } from './sqs';
import { startLocalEventBridge, type LocalEventBridge } from './eventbridge';
import { startLocalGlue, type LocalGlue } from './glue';

export const PROJECT_ROOT = resolve(import.meta.dirname, '..');
const CREDENTIALS = { accessKeyId: 'landfall', secretAccessKey: 'landfall-local-secret' };
const REGION = 'us-east-1';
const ACCOUNT_ID = '000000000000';

export interface LocalStack {
  deployment: Deployment;
  endpoints: {
    s3: string;
    dynamodb: string;
    stepfunctions: string;
    sns: string;
    emr: string;
    arc: string[];
    lambda: string;
    sqs: string;
    redshiftData: string;
    eventbridge: string;
  };
  s3: S3Client;
  dynamodb: DynamoDBClient;
  documents: DynamoDBDocumentClient;
  fileStates: FileStateStore;
  jobRuns: JobRunStore;
  lambdas: LocalLambdas;
  stepFunctions: LocalStepFunctions;
  sns: LocalSns;
  emr: LocalEmr;
  arc: LocalArc;
  /** the warehouse: the Redshift Data API on PGlite (`warehouse.query(sql)` reads it; `warehouse.fault` injects failures, conflicts, throttling) */
  warehouse: LocalRedshiftData;
  /** the pipeline's tables as the catalog has them (what the Glue tables, the loads and `landfall query` read) */
  catalog: CatalogTable[];
  /** the Lambda API (Invoke) in front of `lambdas`; `lambdaApi.fault('Invoke', …)` injects throttling and errors */
  lambdaApi: LocalLambdaApi;
  /** EventBridge with the stage's bus: `eventBridge.events()` the state-change events received, `failEntries` / `fault` inject failures */
  eventBridge: LocalEventBridge;
  /** SQS with the failed-events queue; `sqs.fault(op, …)` injects errors */
  sqs: LocalSqs;
  /** the Glue catalog's tables (seeded from `catalog`; convert appends an additive dataset's new columns); `glue.fault(op, …)` injects errors */
  glue: LocalGlue;
  /** the Glue database of the processed datasets' tables */
  glueProcessedDatabase: string;
  /** the URL of the failed-events queue (FailedEventsQueue), where async invocations and stream batches that ran out of retries go */
  failedEventsQueueUrl: string;
  /** fault injection for chaos tests (inert unless StackOptions.chaos was given or it is configured and enabled) */
  chaos: Chaos;
  /** resolves when no handler, stream delivery or execution is at work and nothing arrived for `quietMs` */
  settled(quietMs?: number, timeoutMs?: number, onProgress?: () => void): Promise<void>;
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
  /** with `isolate`: run the functions built there (npm run build: dist/) as deployed (see LocalLambdas) */
  bundles?: string;
  /** give functions another memory size than serverless.yml (e.g. to prove bounded memory) */
  memoryMb?: Record<string, number>;
  /** Wait states take this many ms and retry intervals none (default 200: polling loops stay cheap) */
  fastWaits?: boolean | number;
  /**
   * Fault injection (see local/chaos.ts), armed from the start unless `enabled: false`; without it
   * `stack.chaos` exists but is disabled with every probability 0. Crashes reach in-process
   * handlers only (not `isolate` mode).
   */
  chaos?: ChaosOptions;
  /**
   * transient (default): heavy runs create a cluster in the ARC-active cell (RunJobFlow on the
   * local EMR, which provisions in a moment and ends idle clusters after a scaled-down timeout);
   * standing: the two cells' always-on clusters (LOCAL_CELLS' clusterId).
   */
  emrMode?: 'transient' | 'standing';
  /** records every AWS call the handlers (and the state machines, as the stand-ins see them) make, as IAM authorizes it */
  awsCalls?: AwsCallRecorder;
}

/** The Redshift Serverless workgroup the local loads name (the stand-in has one database behind every name). */
export const LOCAL_WAREHOUSE_WORKGROUP = 'landfall-local';

/** The two local cells, named as in serverless.yml's EMR_CELLS; clusterId is the standing mode's cluster. */
export const LOCAL_CELLS = [
  { name: 'cell-a', availabilityZone: 'us-east-1a', subnetId: 'subnet-local-a', clusterId: 'j-LOCALCELLA' },
  { name: 'cell-b', availabilityZone: 'us-east-1b', subnetId: 'subnet-local-b', clusterId: 'j-LOCALCELLB' },
];

/**
 * The local EMR's clock for transient clusters: provisioning takes a moment, and the idle timeout
 * (60 s, EMR's minimum, as the local EMR_CLUSTER_SPEC asks) lasts 60 × 50 ms = 3 s.
 */
export const LOCAL_EMR_TIMING = { provisioningDelayMs: 400, bootstrapDelayMs: 200, terminationDelayMs: 100, idleTimeoutScaleMs: 50 };

/** How a transient cluster is made, as serverless.yml's EMR_CLUSTER_SPEC says it (local names for the roles). */
export function localClusterSpec(deployment: Deployment) {
  return {
    stack: `${deployment.service}-${deployment.stage}`,
    releaseLabel: 'emr-7.13.0',
    logUri: `s3://${deployment.names.lakeBucket}/emr-logs/`,
    serviceRole: `${deployment.service}-${deployment.stage}-emr-service`,
    jobFlowRole: `${deployment.service}-${deployment.stage}-emr-instance`,
    idleTimeoutSeconds: 60,
    provisionTimeoutMinutes: 45,
    primary: { instanceTypes: ['m7g.xlarge', 'm6g.xlarge'], capacity: 1 },
    core: { instanceTypes: ['m7g.xlarge', 'm6g.xlarge'], capacity: 2 },
    task: { instanceTypes: ['m7g.xlarge', 'm6g.xlarge', 'r7g.xlarge'], capacity: 2 },
  };
}

export function stackEnv(
  deployment: Deployment,
  endpoints: LocalStack['endpoints'],
  arns: { stateMachine: string; emrStateMachine: string; failureTopic: string; failedEventsQueueUrl: string },
  logLevel: string,
): Record<string, string> {
  return {
    AWS_ENDPOINT_URL_REDSHIFT_DATA: endpoints.redshiftData,
    AWS_ENDPOINT_URL_LAMBDA: endpoints.lambda,
    AWS_ENDPOINT_URL_SQS: endpoints.sqs,
    AWS_ENDPOINT_URL_EVENTBRIDGE: endpoints.eventbridge,
    // the stack's bus, as serverless.yml names it (custom.names.eventBus)
    EVENT_BUS_NAME: `${deployment.service}-${deployment.stage}`,
    FAILED_EVENTS_QUEUE_URL: arns.failedEventsQueueUrl,
    AWS_ENDPOINT_URL_EMR: endpoints.emr,
    EMR_STATE_MACHINE_ARN: arns.emrStateMachine,
    AWS_ENDPOINT_URL_SFN: endpoints.stepfunctions,
    AWS_ENDPOINT_URL_SNS: endpoints.sns,
    JOB_RUNS_TABLE: deployment.names.jobRunsTable,
    STATE_MACHINE_ARN: arns.stateMachine,
    FAILURE_TOPIC_ARN: arns.failureTopic,
    AWS_REGION: REGION,
    AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
    AWS_ENDPOINT_URL_S3: endpoints.s3,
    AWS_ENDPOINT_URL_DYNAMODB: endpoints.dynamodb,
    LANDFALL_S3_PATH_STYLE: 'true',
    RAW_BUCKET: deployment.names.rawBucket,
    LAKE_BUCKET: deployment.names.lakeBucket,
    FILE_STATE_TABLE: deployment.names.fileStateTable,
    POWERTOOLS_SERVICE_NAME: 'landfall',
    POWERTOOLS_LOG_LEVEL: logLevel,
    // the reconciler's: its re-drives invoke `<service>-<stage>-<fn>`, its metrics name the stage
    FUNCTION_NAME_PREFIX: `${deployment.service}-${deployment.stage}-`,
    LANDFALL_STAGE: deployment.stage,
  };
}

/** Clients for a stack's endpoints (used by the CLI and the tests; handlers build their own). */
export function stackClients(endpoints: Pick<LocalStack['endpoints'], 's3' | 'dynamodb'>) {
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
      await dynamodb.send(
        new UpdateTimeToLiveCommand({ TableName: table.create.TableName, TimeToLiveSpecification: { Enabled: true, AttributeName: table.ttlAttribute } }),
      );
    }
  }
}

/**
 * Starts the embedded local stack: DynamoDB Local, MinIO with bucket notifications, and the real
 * handlers behind them, with the buckets, tables and triggers serverless.yml declares.
 */
export async function startLocalStack(options: StackOptions = {}): Promise<LocalStack> {
  const root = options.root ?? PROJECT_ROOT;
  // the functions load LANDFALL_CONFIG_FILE: the one the caller chose, or the samples' pipeline
  const pipeline = usePipelineFile(undefined);
  const deployment = readDeployment(root, options.stage ?? 'local');
  for (const fn of deployment.functions) fn.memoryMb = options.memoryMb?.[fn.name] ?? fn.memoryMb;
  const workDir = await mkdtemp(join(tmpdir(), 'landfall-stack-'));
  const log = options.log ?? (() => undefined);
  const lambdas = new LocalLambdas(deployment.functions, {
    namePrefix: `${deployment.service}-${deployment.stage}`,
    region: REGION,
    accountId: ACCOUNT_ID,
    isolate: options.isolate ?? false,
    ...(options.bundles ? { bundles: options.bundles } : {}),
    ...(options.retryDelaysMs ? { retryDelaysMs: options.retryDelaysMs } : {}),
  });
  const keyAttributes = Object.fromEntries(deployment.tables.map((t) => [t.create.TableName!, (t.create.KeySchema ?? []).map((k) => k.AttributeName!)]));
  const chaos = new Chaos(options.chaos ?? { seed: 0, enabled: false }, keyAttributes);
  const receiverPort = await freePort();
  const receiver = await startNotificationReceiver(
    receiverPort,
    (fn, event) => {
      lambdas.touch();
      lambdas.invokeAsync(fn, event);
    },
    { chaos: chaos.deliveryChaos(), onArrival: () => lambdas.touch() },
  );
  const servers: RunningServer[] = [];
  const stoppers: Array<() => Promise<void>> = [];
  try {
    log('starting DynamoDB Local and MinIO…');
    const webhooks = Object.fromEntries(deployment.functions.map((f) => [f.name, `http://127.0.0.1:${receiverPort}/events/${f.name}`]));
    const [ddb, minio] = (await startTogether([
      startDynamoDbLocal(workDir),
      startMinio({ workDir, accessKey: CREDENTIALS.accessKeyId, secretKey: CREDENTIALS.secretAccessKey, region: REGION, webhooks }),
    ])) as [RunningServer, RunningServer];
    servers.push(ddb, minio);
    const sns = await startLocalSns({ region: REGION });
    stoppers.push(() => sns.stop());
    let sfnForChaos: SFNClient | undefined;
    const tasks = chaos.abortingTasks(
      (functionName, payload) => lambdas.invoke(functionName, payload),
      async (executionArn) => {
        await sfnForChaos!.send(new StopExecutionCommand({ executionArn, error: 'ChaosAbort', cause: 'aborted after its first task by fault injection' }));
      },
    );
    const stepFunctions = await startLocalStepFunctions({
      region: REGION,
      stateMachines: Object.fromEntries(deployment.stateMachines.map((sm) => [sm.name, { definition: sm.definition }])),
      // Task states call the real handlers synchronously, as lambda:invoke does (and chaos may stop
      // an execution after its first task, through the API like an operator would).
      invokeLambda: (functionName, payload, caller) => {
        // Step Functions invokes a Task's function with the state machine's role
        if (caller) options.awsCalls?.stateMachineInvoked(caller.stateMachine, lambdas.functionArn(functionName));
        return tasks(functionName, payload);
      },
      fastWaits: options.fastWaits ?? 200,
    });
    stoppers.push(() => stepFunctions.stop());
    sfnForChaos = new SFNClient({ endpoint: stepFunctions.endpoint, region: REGION, credentials: CREDENTIALS });
    const lambdaApi = await startLocalLambdaApi({ lambdas, region: REGION, accountId: ACCOUNT_ID });
    stoppers.push(() => lambdaApi.stop());
    const sqs = await startLocalSqs({ region: REGION, accountId: ACCOUNT_ID });
    stoppers.push(() => sqs.stop());
    const eventBridge = await startLocalEventBridge({ region: REGION, accountId: ACCOUNT_ID, buses: [`${deployment.service}-${deployment.stage}`] });
    stoppers.push(() => eventBridge.stop());
    const sqsClient = new SQSClient({ endpoint: sqs.endpoint, region: REGION, credentials: CREDENTIALS });
    const failedEventsQueueUrl = (await sqsClient.send(new CreateQueueCommand({ QueueName: deployment.names.failedEventsQueue }))).QueueUrl!;
    // Lambda's on-failure destination: the invocation record goes to the queue as a message.
    const toFailedEvents = async (record: object) => {
      options.awsCalls?.destinationDelivered(record, failedEventsQueueUrl, (arn) => lambdas.resolveFunctionName(arn));
      await sqsClient.send(new SendMessageCommand({ QueueUrl: failedEventsQueueUrl, MessageBody: JSON.stringify(record) }));
    };
    lambdas.setFailureDestination(toFailedEvents);
    stoppers.push(async () => {
      sqsClient.destroy();
      sfnForChaos?.destroy();
    });
    const minioClients = stackClients({ s3: minio.endpoint, dynamodb: ddb.endpoint });
    // EMR: clusters whose steps run spark-submit on local Spark, staging s3:// paths via MinIO;
    // created by the runs in the cells' subnets (transient), or the two cells' standing ones
    const emrMode = options.emrMode ?? 'transient';
    const spark = sparkSubmit();
    Object.assign(process.env, spark.env); // the steps' spark-submit processes inherit it
    const emr = await startLocalEmr({
      clusters: emrMode === 'standing' ? LOCAL_CELLS.map((c) => ({ id: c.clusterId, name: c.name, availabilityZone: c.availabilityZone })) : [],
      subnets: Object.fromEntries(LOCAL_CELLS.map((c) => [c.subnetId, c.availabilityZone])),
      ...LOCAL_EMR_TIMING,
      s3: minioClients.s3,
      sparkSubmit: spark.binary,
      sparkMaster: 'local[2]',
      region: REGION,
      logUri: `s3://${deployment.names.lakeBucket}/emr-logs/`,
    });
    stoppers.push(() => emr.stop());
    // ARC: five endpoints, the first cell's routing control On
    const arc = await startLocalArc({ clusters: LOCAL_CELLS.map((c) => c.name), active: LOCAL_CELLS[0]!.name, region: REGION });
    stoppers.push(() => arc.stop());
    // the warehouse: the Redshift Data API on PGlite, its COPY reading the local S3
    const warehouse = await startLocalRedshiftData({ s3: minioClients.s3 });
    stoppers.push(() => warehouse.stop());
    const catalogFile = join(workDir, 'catalog.json');
    const catalog = (await catalogTables(pipeline)).tables;
    await writeFile(catalogFile, JSON.stringify({ tables: catalog }));
    // the template's database name (shared/stages/catalog/cloudformation.ts databaseName)
    const glueProcessedDatabase = databaseName(deployment.stage, 'processed');
    const glue = await startLocalGlue({ seed: { database: glueProcessedDatabase, tables: catalog, lakeBucket: deployment.names.lakeBucket } });
    stoppers.push(() => glue.stop());
    const endpoints = {
      s3: minio.endpoint,
      dynamodb: ddb.endpoint,
      stepfunctions: stepFunctions.endpoint,
      sns: sns.endpoint,
      emr: emr.endpoint,
      arc: arc.endpoints,
      lambda: lambdaApi.endpoint,
      sqs: sqs.endpoint,
      redshiftData: warehouse.endpoint,
      eventbridge: eventBridge.endpoint,
    };
    const arns = {
      stateMachine: stepFunctions.stateMachineArn(deployment.names.stateMachine),
      emrStateMachine: stepFunctions.stateMachineArn(deployment.names.emrStateMachine),
      failureTopic: sns.topicArn(deployment.names.failureTopic),
      failedEventsQueueUrl,
    };
    const lake = deployment.names.lakeBucket;
    const env = {
      ...stackEnv(deployment, endpoints, arns, options.handlerLogLevel ?? process.env.POWERTOOLS_LOG_LEVEL ?? 'WARN'),
      EMR_MODE: emrMode,
      EMR_CELLS: JSON.stringify(LOCAL_CELLS.map((c) => ({ ...c, routingControlArn: arc.controlArn(c.name) }))),
      EMR_CLUSTER_SPEC: JSON.stringify(localClusterSpec(deployment)),
      EMR_CLUSTER_WAIT_SECONDS: '1',
      ARC_ENDPOINTS: JSON.stringify(arc.endpoints),
      ARC_REGION: REGION,
      SPARK_ENTRY_POINT: `s3://${lake}/artifacts/spark/main.py`,
      SPARK_SUBMIT_ARGS: JSON.stringify([
        '--py-files',
        `s3://${lake}/artifacts/spark/landfall_jobs.zip,s3://${lake}/artifacts/spark/pipeline.zip`,
        '--driver-memory',
        '1g',
        '--conf',
        'spark.ui.enabled=false',
        '--conf',
        'spark.sql.shuffle.partitions=4',
      ]),
      EMR_BACKOFF_BASE_SECONDS: '1',
      LANDFALL_CATALOG_FILE: catalogFile,
      AWS_ENDPOINT_URL_GLUE: glue.endpoint,
      GLUE_PROCESSED_DATABASE: glueProcessedDatabase,
      WAREHOUSE_DATABASE: 'dev',
      WAREHOUSE_WORKGROUP: LOCAL_WAREHOUSE_WORKGROUP,
      WAREHOUSE_COPY_ROLE_ARN: `arn:aws:iam::${ACCOUNT_ID}:role/landfall-local-warehouse-copy`,
      WAREHOUSE_BACKOFF_BASE_SECONDS: '1',
      WAREHOUSE_MAX_ATTEMPTS: '4',
    };
    // The handlers run in this process, as one Lambda container per function would.
    Object.assign(process.env, env);
    // The handlers' shared clients (built now, from that environment) get the crash points; the
    // stack's own clients below do not.
    const uninstallCrashPoints = chaos.installCrashPoints([s3Client(), dynamoDbClient(), sfnClient()]);
    stoppers.push(async () => uninstallCrashPoints());
    const uninstallRecorder = options.awsCalls?.install();
    if (uninstallRecorder) stoppers.push(async () => uninstallRecorder());
    const clients = stackClients(endpoints);
    await createResources(deployment, clients.s3, clients.dynamodb);
    await uploadSparkArtifacts(clients.s3, lake, root, sparkPackageRoot(pipeline.config));
    const snsClient = new SNSClient({ endpoint: sns.endpoint, region: REGION, credentials: CREDENTIALS });
    for (const topic of deployment.topics) await snsClient.send(new CreateTopicCommand({ Name: topic }));
    for (const fn of deployment.functions) {
      // an event source mapping reads the stream with its function's role: one client per function
      const streams = new DynamoDBStreamsClient({ endpoint: ddb.endpoint, region: REGION, credentials: CREDENTIALS });
      options.awsCalls?.attribute(streams, fn.name);
      for (const stream of fn.streams) {
        const poller = startStreamPoller({
          dynamodb: clients.dynamodb,
          streams,
          tableName: stream.tableName,
          batchSize: stream.batchSize,
          filterPatterns: stream.filterPatterns,
          deliver: (event) => lambdas.invoke(fn.name, event),
          dropRecord: (record) => chaos.dropStreamRecord(record),
          onDiscard: async (records, error, batch) => {
            lambdas.failures.push({ functionName: fn.name, event: { Records: records }, error, attempts: batch.attempts });
            await lambdas
              .during(() => toFailedEvents(streamBatchFailureRecord(records, batch, lambdas.functionArn(fn.name))))
              .catch((err: Error) => {
                process.stderr.write(`landfall local: a discarded stream batch of ${fn.name} did not reach the failed-events queue: ${err.message}\n`);
              });
          },
        });
        stoppers.unshift(() => poller.stop());
      }
    }
    log(`local stack up: S3 ${endpoints.s3}, DynamoDB ${endpoints.dynamodb}, Step Functions ${endpoints.stepfunctions}`);
    const settled: LocalStack['settled'] = async (quietMs = 750, timeoutMs = 60 * 60_000, onProgress) => {
      // A run's states follow each other within milliseconds; go round until nothing is running.
      for (;;) {
        await lambdas.settled(quietMs, timeoutMs, onProgress);
        // S3 events held back to be delivered as a reversed burst (chaos) are still to come.
        if (receiver.held() > 0) {
          await sleep(10);
          continue;
        }
        if (!stepFunctions.executions().some((e) => e.status === 'RUNNING')) return;
        await stepFunctions.idle(timeoutMs);
        await emr.idle(timeoutMs);
      }
    };
    return {
      deployment,
      endpoints,
      ...clients,
      fileStates: new FileStateStore(clients.documents, deployment.names.fileStateTable),
      jobRuns: new JobRunStore(clients.documents, deployment.names.jobRunsTable),
      lambdas,
      stepFunctions,
      sns,
      emr,
      arc,
      warehouse,
      catalog,
      lambdaApi,
      sqs,
      eventBridge,
      glue,
      glueProcessedDatabase,
      failedEventsQueueUrl,
      chaos,
      settled,
      workDir,
      env,
      async stop() {
        for (const stop of stoppers) await stop();
        await receiver.close();
        await Promise.all(servers.map((s) => s.process.stop()));
        await rm(workDir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    for (const stop of stoppers) await stop().catch(() => undefined);
    await receiver.close();
    await Promise.all(servers.map((s) => s.process.stop()));
    throw err;
  }
}
