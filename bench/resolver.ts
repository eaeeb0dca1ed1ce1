/**
 * Resolver benchmark on the local stack: the latency from the landing of a batch's last required
 * file to its StartExecution, and the DynamoDB requests per landed file (all handlers, counted on
 * the SDK client they share). Usage: npm run bench -- [--days N] (batches: 3 provinces × N days, default 3)
 */
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { dynamoDbClient } from '../shared/aws/clients';
import { PREFIX } from '../shared/s3/layout';
import { addDays, compactDate } from '../shared/sample/dates';
import { writePosSample } from '../shared/sample/pos-sample';
import { listFiles } from '../local/land';
import { startLocalStack } from '../local/stack';

const { values } = parseArgs({ options: { days: { type: 'string', default: '3' } } });
const days = Number(values.days);
const provinces = { ON: 5, QC: 4, BC: 3 };
const startDate = '2026-09-01';

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;

const stack = await startLocalStack();
try {
  const requests = new Map<string, number>();
  dynamoDbClient().middlewareStack.add(
    (next, context) => async (args) => {
      requests.set(context.commandName!, (requests.get(context.commandName!) ?? 0) + 1);
      return next(args);
    },
    { step: 'initialize', name: 'countRequests' },
  );
  const dir = await mkdtemp(join(tmpdir(), 'landfall-bench-'));
  await writePosSample(dir, { seed: 1, startDate, days, provinces, rowsPerFile: 50, filesPerStore: 1, items: 10, badFiles: false });
  const files = await listFiles(dir);
  // Each batch's last store file lands last, on its own, so its latency is measured alone.
  const lastOf = Object.keys(provinces).flatMap((p) => Array.from({ length: days }, (_, d) => files.filter((f) => f.startsWith(`pos/${p}/`) && f.includes(compactDate(addDays(startDate, d)))).pop()!));
  const put = async (key: string) => stack.s3.send(new PutObjectCommand({ Bucket: stack.deployment.names.rawBucket, Key: `${PREFIX.landing}${key}`, Body: await readFile(join(dir, key)) }));
  for (const key of files.filter((f) => !lastOf.includes(f))) await put(key);
  await stack.settled(500);
  const latencies: number[] = [];
  for (const key of lastOf) {
    const landed = Date.now();
    await put(key);
    await stack.settled(300);
    const [, province, rest] = key.split('/') as [string, string, string];
    const date = rest.split('_')[1]!;
    const execution = stack.stepFunctions.executions().find((e) => e.name.startsWith(`pos_daily_sales-${province}-${date.slice(0, 4)}-${date.slice(4, 6)}-${date.slice(6)}-`));
    if (!execution) throw new Error(`no execution for ${key}`);
    latencies.push(execution.startDate.getTime() - landed);
  }
  latencies.sort((a, b) => a - b);
  const total = [...requests.values()].reduce((a, b) => a + b, 0);
  const writes = ['PutItemCommand', 'UpdateItemCommand', 'DeleteItemCommand', 'TransactWriteItemsCommand'].reduce((sum, c) => sum + (requests.get(c) ?? 0), 0);
  const result = {
    files: files.length,
    batches: lastOf.length,
    executions: stack.stepFunctions.executions().length,
    latencyMs: { p50: percentile(latencies, 50), p99: percentile(latencies, 99), min: latencies[0], max: latencies.at(-1) },
    dynamodbRequestsPerFile: +(total / files.length).toFixed(2),
    dynamodbWritesPerFile: +(writes / files.length).toFixed(2),
    requestsByOperation: Object.fromEntries([...requests.entries()].sort()),
  };
  console.log(JSON.stringify(result, null, 2));
} finally {
  await stack.stop();
}
