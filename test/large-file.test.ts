import { mkdtemp, mkdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeLargePosFile } from '../examples/retail/data/pos-sample';
import { landDirectory } from '../ops/land';
import { latestPerKey } from '../ops/reports/file-state-report';
import { useLocalStack } from './support/local-stack';

/*
 * A 500 MB store file through validate and convert, each in its own process (as in Lambda) with
 * 512 MB of function memory: less than the file. Both stream through /tmp, so their peak RSS must
 * stay under the function's memory whatever the file's size.
 */
const FUNCTION_MEMORY_MB = 512;
const FILE_BYTES = 500 * 1024 * 1024;
const stack = useLocalStack({ isolate: true, memoryMb: { validate: FUNCTION_MEMORY_MB, convert: FUNCTION_MEMORY_MB } });
const dirs: string[] = [];
afterAll(async () => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

describe('a file larger than the function memory', () => {
  it('is validated and converted with bounded memory', { timeout: 600_000 }, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'landfall-large-'));
    dirs.push(dir);
    const path = join(dir, 'pos/ON/ON01_20261123_235900.tdf');
    const rows = await writeLargePosFile(path, FILE_BYTES);
    const { size } = await stat(path);
    expect(size / 1024 / 1024).toBeGreaterThan(FUNCTION_MEMORY_MB * 0.95);

    await landDirectory(stack().s3, stack().deployment.names.rawBucket, dir);
    await stack().lambdas.settled(1000, 600_000);

    const [file] = latestPerKey(await stack().fileStates.listAll());
    expect(stack().lambdas.failures).toEqual([]);
    expect(file).toMatchObject({ state: 'CONVERTED', rows: { in: rows, out: rows, rejected: 0, junk: 0 }, parquetRows: rows });
    const peaks = Object.fromEntries(stack().lambdas.peakRssMb);
    console.info(
      `500 MB file (${rows} rows): peak RSS validate ${peaks.validate} MB, convert ${peaks.convert} MB, track ${peaks.track} MB (function memory ${FUNCTION_MEMORY_MB} MB)`,
    );
    expect(peaks.validate).toBeLessThan(FUNCTION_MEMORY_MB);
    expect(peaks.convert).toBeLessThan(FUNCTION_MEMORY_MB);
  });

  it('rejects a mostly-bad file of millions of distinct bad lines within validate’s memory, reporting every one', { timeout: 600_000 }, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'landfall-bad-'));
    dirs.push(dir);
    await mkdir(join(dir, 'pos/ON'), { recursive: true });
    const lines = ['store_id\titem_id\ttransaction_date\ttransaction_code\tamount'];
    const total = 2_000_000;
    for (let i = 0; i < total; i += 1) lines.push(`ON02\tI${i}\t2026-11-23\t4\t${i % 10 === 0 ? '1.00' : `bad-${i}`}`);
    await writeFile(join(dir, 'pos/ON/ON02_20261123_235900.tdf'), `${lines.join('\n')}\n`);
    await landDirectory(stack().s3, stack().deployment.names.rawBucket, dir);
    await stack().lambdas.settled(1000, 600_000);
    const file = latestPerKey(await stack().fileStates.listAll()).find((f) => f.key.includes('ON02_'));
    expect(file).toMatchObject({
      state: 'REJECTED',
      reason: `mostly bad: ${total * 0.9} of ${total} rows rejected (limit 50%)`,
      rows: { in: total, out: total / 10, rejected: total * 0.9 },
    });
    // the rejects report has a line for each bad line (and its header)
    const { readObject } = await import('../shared/core/s3/object-io');
    const report = await readObject(stack().s3, stack().deployment.names.rawBucket, (file as { rejectsKey?: string }).rejectsKey!);
    let newlines = 0;
    for await (const chunk of report.chunks) for (const byte of chunk as Buffer) if (byte === 10) newlines += 1;
    expect(newlines).toBe(total * 0.9 + 1);
    const peak = stack().lambdas.peakRssMb.get('validate')!;
    console.info(`mostly-bad file (${total * 0.9} distinct bad lines): peak RSS validate ${peak} MB (function memory ${FUNCTION_MEMORY_MB} MB)`);
    expect(peak).toBeLessThan(FUNCTION_MEMORY_MB);
  });
});
