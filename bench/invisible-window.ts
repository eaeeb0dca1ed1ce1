/**
 * How long a landed object is invisible to the resolver on a layout without a bounded listing (the
 * POS sample: the store before the date): from the PUT that made the object (S3 answered) to
 * validate's RECEIVED, and on to CONVERTED, on the local stack with the real handlers. Two rounds:
 * the files one at a time (an idle stack), then all at once (a burst).
 *   npx tsx bench/invisible-window.ts
 * Prints a JSON summary (milliseconds). Local figures: on AWS add S3's event delivery (typically
 * under a second) and validate's cold start.
 */
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { DEFAULT_SAMPLE, writePosSample } from '../examples/retail/data/pos-sample';
import { startLocalStack } from '../local/stack';
import { listFiles } from '../ops/land';
import { PREFIX } from '../shared/core/s3/layout';
import { percentile } from './lib/stats';

const stack = await startLocalStack();
try {
  const raw = stack.deployment.names.rawBucket;
  const measure = async (round: string, days: number, startDate: string, together: boolean) => {
    const dir = await mkdtemp(join(tmpdir(), `landfall-window-${round}-`));
    await writePosSample(dir, { ...DEFAULT_SAMPLE, startDate, days, badFiles: false, rowsPerFile: 20 });
    const files = (await listFiles(dir)).filter((f) => f.startsWith('pos/'));
    const landedAt = new Map<string, { at: number; versionId: string }>();
    const put = async (file: string) => {
      const out = await stack.s3.send(new PutObjectCommand({ Bucket: raw, Key: `${PREFIX.landing}${file}`, Body: await readFile(join(dir, file)) }));
      landedAt.set(`${PREFIX.landing}${file}`, { at: Date.now(), versionId: out.VersionId! });
    };
    if (together) await Promise.all(files.map(put));
    else
      for (const file of files) {
        await put(file);
        await stack.lambdas.settled(300);
      }
    await stack.settled(500);
    const items = await stack.fileStates.listAll();
    const toReceived: number[] = [];
    const toConverted: number[] = [];
    for (const [key, { at, versionId }] of landedAt) {
      const item = items.find((i) => i.key === key && i.versionId === versionId);
      const when = (state: string) => item?.history.find((h) => h.state === state)?.at;
      if (when('RECEIVED')) toReceived.push(Date.parse(when('RECEIVED')!) - at);
      if (when('CONVERTED')) toConverted.push(Date.parse(when('CONVERTED')!) - at);
    }
    const figures = (xs: number[]) => ({ n: xs.length, p50: percentile(xs, 50), p95: percentile(xs, 95), max: Math.max(...xs) });
    return { round, files: files.length, putToReceivedMs: figures(toReceived), putToConvertedMs: figures(toConverted) };
  };
  const results = [await measure('one at a time', 1, '2026-10-01', false), await measure('burst', 2, '2026-10-05', true)];
  process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
} finally {
  await stack.stop();
}
