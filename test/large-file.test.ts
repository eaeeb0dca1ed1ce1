import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeLargePosFile } from '../examples/retail/data/pos-sample';
import { landDirectory } from '../local/land';
import { latestPerKey } from '../local/file-state-report';
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
    console.info(`500 MB file (${rows} rows): peak RSS validate ${peaks.validate} MB, convert ${peaks.convert} MB, track ${peaks.track} MB (function memory ${FUNCTION_MEMORY_MB} MB)`);
    expect(peaks.validate).toBeLessThan(FUNCTION_MEMORY_MB);
    expect(peaks.convert).toBeLessThan(FUNCTION_MEMORY_MB);
  });
});
