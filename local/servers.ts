import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { dynamoDbLocalClasspath, minioBinary } from './installed';
import { freePort } from './ports';
import { startProcess, waitUntilReady, type ManagedProcess } from './processes';

export interface RunningServer {
  endpoint: string;
  process: ManagedProcess;
}

/** DynamoDB Local, in memory (it has Streams and transactions; see RECIPES.md for its differences). */
export async function startDynamoDbLocal(workDir: string): Promise<RunningServer> {
  const port = await freePort();
  const proc = startProcess(
    'DynamoDB Local',
    'java',
    ['-XX:TieredStopAtLevel=1', '-XX:+UseSerialGC', '-Xmx512m', '-cp', dynamoDbLocalClasspath(), 'software.amazon.dynamodb.services.local.main.ServerRunner', '-port', String(port), '-inMemory', '-disableTelemetry'],
    { cwd: workDir, logPath: join(workDir, 'dynamodb-local.log') },
  );
  const endpoint = `http://127.0.0.1:${port}`;
  // Any HTTP answer (a 400 for a bare POST) means it is serving.
  await waitUntilReady(proc, async () => (await fetch(endpoint, { method: 'POST' })).status > 0, 60_000);
  return { endpoint, process: proc };
}

export interface MinioOptions {
  workDir: string;
  accessKey: string;
  secretKey: string;
  region: string;
  /** webhook target id → URL; each becomes the queue ARN arn:minio:sqs::<id>:webhook */
  webhooks: Record<string, string>;
}

/** MinIO with one webhook notification target per function, so MinIO itself applies prefix filters. */
export async function startMinio(options: MinioOptions): Promise<RunningServer> {
  const [port, consolePort] = [await freePort(), await freePort()];
  const dataDir = join(options.workDir, 'minio-data');
  await mkdir(dataDir, { recursive: true });
  const env: NodeJS.ProcessEnv = {
    MINIO_ROOT_USER: options.accessKey,
    MINIO_ROOT_PASSWORD: options.secretKey,
    MINIO_REGION: options.region,
    MINIO_BROWSER: 'off',
    MINIO_UPDATE: 'off',
    MINIO_CI_CD: 'on',
  };
  for (const [id, url] of Object.entries(options.webhooks)) {
    env[`MINIO_NOTIFY_WEBHOOK_ENABLE_${id}`] = 'on';
    env[`MINIO_NOTIFY_WEBHOOK_ENDPOINT_${id}`] = url;
  }
  const proc = startProcess('MinIO', minioBinary(), ['server', dataDir, '--address', `127.0.0.1:${port}`, '--console-address', `127.0.0.1:${consolePort}`, '--quiet'], {
    env,
    logPath: join(options.workDir, 'minio.log'),
  });
  const endpoint = `http://127.0.0.1:${port}`;
  await waitUntilReady(proc, async () => (await fetch(`${endpoint}/minio/health/ready`)).ok, 60_000);
  return { endpoint, process: proc };
}
