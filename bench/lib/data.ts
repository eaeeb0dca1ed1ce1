import { existsSync } from 'node:fs';
import { mkdir, rename } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeLargePosFile } from '../../examples/retail/data/pos-sample';

/** Generated inputs are kept between bench runs (they are deterministic): regenerating 1 GB costs ~20 s. */
export const BENCH_DATA_DIR = process.env.LANDFALL_BENCH_DATA ?? join(tmpdir(), 'landfall-bench-data');

export const MB = 1024 * 1024;

/** A POS store file of about `mb` MB (store ON01, 2026-11-23), generated once. */
export async function posFileOfSize(mb: number): Promise<string> {
  const path = join(BENCH_DATA_DIR, `pos-${mb}mb.tdf`);
  if (!existsSync(path)) {
    await mkdir(BENCH_DATA_DIR, { recursive: true });
    await writeLargePosFile(`${path}.part`, mb * MB);
    await rename(`${path}.part`, path);
  }
  return path;
}
