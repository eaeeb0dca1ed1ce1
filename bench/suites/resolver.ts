/**
 * 4. The resolver at scale: 100 provinces of 50 stores (5,000 store files, 100 batches) and the
 * day's item master land at once, 32 PUTs at a time, on the local stack with the real handlers.
 * Counts executions, the latency from the landing of each batch's last required file to its
 * StartExecution, and DynamoDB requests and consumed capacity per landed file (every handler, on
 * the SDK client they share). Quick mode: 10 provinces (500 files).
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { readFile } from 'node:fs/promises';
import { dynamoDbClient, s3Client } from '../../shared/core/aws/clients';
import { retailConfig, retailProvinces } from '../../examples/retail/config';
const withProvinces = retailConfig;
import { PREFIX } from '../../shared/core/s3/layout';
import { writePosSample } from '../../examples/retail/data/pos-sample';
import { listFiles } from '../../ops/land';
import { startLocalStack } from '../../local/stack';
import type { Target } from '../lib/results';
import { percentile } from '../lib/stats';
import { log, suiteMain } from '../lib/suite';

const DATE = '2026-10-10';
const STORES = 50;
const WRITES = ['PutItemCommand', 'UpdateItemCommand', 'DeleteItemCommand', 'TransactWriteItemsCommand', 'BatchWriteItemCommand'];
const WRITE_TARGET = 4;

const provinceName = (i: number) => String.fromCharCode(65 + Math.floor(i / 26)) + String.fromCharCode(65 + (i % 26));

interface Capacity {
  CapacityUnits?: number;
  ReadCapacityUnits?: number;
  WriteCapacityUnits?: number;
}

await suiteMain(async ({ quick }) => {
  const provinces = Array.from({ length: quick ? 10 : 100 }, (_, i) => provinceName(i));
  const config = withProvinces(Object.fromEntries(provinces.map((p) => [p, STORES])));
  const configDir = await mkdtemp(join(tmpdir(), 'landfall-bench-config-'));
  process.env.LANDFALL_CONFIG_FILE = join(configDir, 'pipeline.json');
  await writeFile(process.env.LANDFALL_CONFIG_FILE, JSON.stringify(config));

  const dir = await mkdtemp(join(tmpdir(), 'landfall-bench-resolver-'));
  await writePosSample(dir, {
    seed: 11,
    startDate: DATE,
    days: 1,
    provinces: retailProvinces(config),
    rowsPerFile: 5,
    filesPerStore: 1,
    items: 5,
    badFiles: false,
  });
  const files = await listFiles(dir);
  const stack = await startLocalStack();
  const requests = new Map<string, number>();
  const capacity = { read: 0, write: 0 };
  const s3Requests = new Map<string, number>();
  try {
    dynamoDbClient().middlewareStack.add(
      (next, context) => async (args) => {
        const name = context.commandName!;
        requests.set(name, (requests.get(name) ?? 0) + 1);
        (args.input as { ReturnConsumedCapacity?: string }).ReturnConsumedCapacity ??= 'TOTAL';
        const result = await next(args);
        const consumed = (result.output as { ConsumedCapacity?: Capacity | Capacity[] }).ConsumedCapacity;
        for (const c of [consumed ?? []].flat()) {
          const units = c.CapacityUnits ?? 0;
          if (WRITES.includes(name)) capacity.write += c.WriteCapacityUnits ?? units;
          else capacity.read += c.ReadCapacityUnits ?? units;
        }
        return result;
      },
      { step: 'initialize', name: 'benchCountRequests' },
    );
    s3Client().middlewareStack.add(
      (next, context) => async (args) => {
        s3Requests.set(context.commandName!, (s3Requests.get(context.commandName!) ?? 0) + 1);
        return next(args);
      },
      { step: 'initialize', name: 'benchCountS3' },
    );
    const landedAt = new Map<string, number>();
    const started = Date.now();
    const queue = [...files];
    await Promise.all(
      Array.from({ length: 32 }, async () => {
        for (let key = queue.shift(); key; key = queue.shift()) {
          await stack.s3.send(
            new PutObjectCommand({ Bucket: stack.deployment.names.rawBucket, Key: `${PREFIX.landing}${key}`, Body: await readFile(join(dir, key)) }),
          );
          landedAt.set(key, Date.now());
        }
      }),
    );
    log(`${files.length} files landed in ${((Date.now() - started) / 1000).toFixed(1)} s; waiting for the pipeline`);
    await stack.settled(1000, 30 * 60_000);
    const seconds = (Date.now() - started) / 1000;
    if (stack.lambdas.failures.length > 0) throw new Error(`pipeline failures: ${JSON.stringify(stack.lambdas.failures.slice(0, 3))}`);
    const executions = stack.stepFunctions.executions();
    const item = files.find((f) => f.startsWith('master/'))!;
    const latencies: number[] = [];
    for (const province of provinces) {
      const execution = executions.find((e) => e.name.startsWith(`pos_daily_sales-${province}-${DATE}-`));
      if (!execution) throw new Error(`no execution for ${province}`);
      const last = Math.max(landedAt.get(item)!, ...files.filter((f) => f.startsWith(`pos/${province}/`)).map((f) => landedAt.get(f)!));
      latencies.push(execution.startDate.getTime() - last);
    }
    const total = [...requests.values()].reduce((a, b) => a + b, 0);
    const writes = WRITES.reduce((sum, c) => sum + (requests.get(c) ?? 0), 0);
    const perFile = (n: number) => n / files.length;
    const p50 = percentile(latencies, 50);
    const p99 = percentile(latencies, 99);
    const targets: Target[] = [
      {
        metric: `executions for ${provinces.length} batches`,
        target: `= ${provinces.length}`,
        actual: String(executions.length),
        met: executions.length === provinces.length,
      },
      { metric: 'DynamoDB writes per landed file', target: `≤ ${WRITE_TARGET}`, actual: perFile(writes).toFixed(2), met: perFile(writes) <= WRITE_TARGET },
    ];
    return {
      id: 'resolver',
      title: `4. Resolver at scale: ${files.length.toLocaleString('en-US')} files, ${provinces.length} batches, landed concurrently`,
      tables: [
        {
          header: [
            'files',
            'batches',
            'executions',
            'latency p50 ms',
            'latency p99 ms',
            'DynamoDB requests / file',
            'writes / file',
            'WCU / file',
            'RCU / file',
            'all settled s',
          ],
          rows: [
            [
              files.length,
              provinces.length,
              executions.length,
              p50,
              p99,
              perFile(total).toFixed(2),
              perFile(writes).toFixed(2),
              perFile(capacity.write).toFixed(2),
              perFile(capacity.read).toFixed(2),
              seconds.toFixed(0),
            ],
          ],
        },
        {
          header: ['DynamoDB operation', 'requests', 'per file'],
          rows: [...requests.entries()].sort().map(([op, n]) => [op.replace(/Command$/, ''), n, perFile(n).toFixed(2)]),
        },
      ],
      targets,
      notes: [
        "Latency: from the PUT of the batch's last required file returning to its StartExecution. All files land at once on 2 cores, so it includes queueing behind the other batches' files.",
        "Writes per file: the LATEST claim and RECEIVED in one transaction, VALIDATED, CONVERTED, plus each batch's claim, start, checkpoint and end spread over its 51 files. WCU: a transaction costs 2 per item.",
      ],
      data: {
        files: files.length,
        batches: provinces.length,
        executions: executions.length,
        latencyMs: { p50, p99, min: Math.min(...latencies), max: Math.max(...latencies) },
        dynamodb: {
          requestsPerFile: perFile(total),
          writesPerFile: perFile(writes),
          wcuPerFile: perFile(capacity.write),
          rcuPerFile: perFile(capacity.read),
          byOperation: Object.fromEntries(requests),
        },
        s3RequestsPerFile: Object.fromEntries([...s3Requests.entries()].map(([op, n]) => [op.replace(/Command$/, ''), perFile(n)])),
        executionsPerBatch: executions.length / provinces.length,
        // per landed file: invocations and their median duration (in-process, under the concurrent load)
        lambda: Object.fromEntries(
          [...new Set(stack.lambdas.timings.map((t) => t.functionName))].map((fn) => {
            const mine = stack.lambdas.timings.filter((t) => t.functionName === fn).map((t) => t.durationMs);
            return [fn, { invocationsPerFile: perFile(mine.length), medianMs: percentile(mine, 50) }];
          }),
        ),
        settledSeconds: seconds,
      },
    };
  } finally {
    await stack.stop();
  }
});
