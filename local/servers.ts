import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { dynamoDbLocalClasspath, minioBinary } from './installed';
import { freePort } from './ports';
import { startProcess, waitUntilReady, type ManagedProcess } from './processes';

export interface RunningServer {
  endpoint: string;
  process: ManagedProcess;
}

/** Servers started side by side: all of them, or (one failed) none left running. */
export async function startTogether(starting: Array<Promise<RunningServer>>): Promise<RunningServer[]> {
  const started = await Promise.allSettled(starting);
  const failed = started.find((s) => s.status === 'rejected');
  if (!failed) return started.map((s) => (s as PromiseFulfilledResult<RunningServer>).value);
  for (const s of started) if (s.status === 'fulfilled') await s.value.process.stop();
  throw failed.reason;
}

/**
 * Starts a server on a port that was free a moment ago; if another process took the port in
 * between (the server exits with "Address already in use"), starts it again on a new one.
 */
export async function onFreePort(
  start: (port: number, attempt: number) => Promise<RunningServer>,
  logPath: (attempt: number) => string,
): Promise<RunningServer> {
  for (let attempt = 0; ; attempt += 1) {
    try {
      return await start(await freePort(), attempt);
    } catch (err) {
      const log = await readFile(logPath(attempt), 'utf8').catch(() => '');
      if (attempt >= 4 || !/Address already in use|bind: address/i.test(log)) throw err;
    }
  }
}

/** DynamoDB Local, in memory (it has Streams and transactions; docs/local-stack.md lists how it differs from DynamoDB). */
export async function startDynamoDbLocal(workDir: string): Promise<RunningServer> {
  const logPath = (attempt: number) => join(workDir, attempt === 0 ? 'dynamodb-local.log' : `dynamodb-local.${attempt}.log`);
  return onFreePort(async (port, attempt) => {
    const proc = startProcess(
      'DynamoDB Local',
      'java',
      [
        '-XX:TieredStopAtLevel=1',
        '-XX:+UseSerialGC',
        '-Xmx512m',
        '-cp',
        dynamoDbLocalClasspath(),
        'software.amazon.dynamodb.services.local.main.ServerRunner',
        '-port',
        String(port),
        '-inMemory',
        '-disableTelemetry',
      ],
      { cwd: workDir, logPath: logPath(attempt) },
    );
    const endpoint = `http://127.0.0.1:${port}`;
    // Any HTTP answer (a 400 for a bare POST) means it is serving.
    await waitUntilReady(proc, async () => (await fetch(endpoint, { method: 'POST' })).status > 0, 60_000);
    return { endpoint, process: proc };
  }, logPath);
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
  const logPath = (attempt: number) => join(options.workDir, attempt === 0 ? 'minio.log' : `minio.${attempt}.log`);
  return onFreePort((port, attempt) => startMinioOn(port, options, logPath(attempt)), logPath);
}

async function startMinioOn(port: number, options: MinioOptions, logPath: string): Promise<RunningServer> {
  const consolePort = await freePort();
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
  const proc = startProcess(
    'MinIO',
    minioBinary(),
    ['server', dataDir, '--address', `127.0.0.1:${port}`, '--console-address', `127.0.0.1:${consolePort}`, '--quiet'],
    {
      env,
      logPath,
    },
  );
  const endpoint = `http://127.0.0.1:${port}`;
  await waitUntilReady(proc, async () => (await fetch(`${endpoint}/minio/health/ready`)).ok, 60_000);
  return { endpoint, process: proc };
}
