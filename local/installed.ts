import { existsSync, readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';

/** Where local/install.sh puts the servers (shared by every checkout on the machine). */
export const cacheDir = () => process.env.LANDFALL_CACHE ?? join(homedir(), '.cache', 'landfall');

export class NotInstalledError extends Error {
  override readonly name = 'NotInstalledError';
  constructor(what: string) {
    super(`${what} is not installed: run \`bash local/install.sh\` (npm test and npm run demo do it for you)`);
  }
}

export function dynamoDbLocalClasspath(): string {
  const dir = join(cacheDir(), 'dynamodb-local');
  if (!existsSync(dir) || !readdirSync(dir).some((f) => f.startsWith('DynamoDBLocal'))) throw new NotInstalledError('DynamoDB Local');
  return `${dir}/*`;
}

export function minioBinary(): string {
  const cached = join(cacheDir(), 'bin', 'minio');
  if (existsSync(cached)) return cached;
  try {
    return execFileSync('sh', ['-c', 'command -v minio'], { encoding: 'utf8' }).trim();
  } catch {
    throw new NotInstalledError('MinIO');
  }
}

/**
 * spark-submit of the venv that spark/install.sh creates (local/install.sh runs it), and the
 * environment it needs: its launcher finds Spark through the venv's python, so that python must
 * come first on PATH, and the driver and executors must use it too.
 */
export function sparkSubmit(): { binary: string; env: Record<string, string> } {
  const venv = process.env.LANDFALL_SPARK_VENV ?? join(cacheDir(), 'spark-venv');
  const binary = join(venv, 'bin', 'spark-submit');
  if (!existsSync(binary)) throw new NotInstalledError('PySpark (spark-submit)');
  const python = join(venv, 'bin', 'python');
  return { binary, env: { PATH: `${join(venv, 'bin')}:${process.env.PATH ?? ''}`, PYSPARK_PYTHON: python, PYSPARK_DRIVER_PYTHON: python } };
}
