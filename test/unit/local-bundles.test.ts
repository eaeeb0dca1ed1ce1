import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalLambdas } from '../../local/lambda-runner';
import type { LocalFunction } from '../../deploy/serverless-config';

// The local stack's isolate mode can run a function from its esbuild bundle (the conversion
// benchmark does, to time the code as deployed): the bundle must read the pipeline bundled beside
// it, so the child process must not inherit LANDFALL_CONFIG_FILE.
describe('LocalLambdas in isolate mode with bundles', () => {
  let dir: string;
  const fn = (name: string): LocalFunction => ({
    name,
    sourceModule: join(dir, 'source-never-used.ts'),
    memoryMb: 256,
    timeoutSeconds: 30,
    triggers: [],
    streams: [],
  });
  const event = { Records: [{ s3: { bucket: { name: 'b' }, object: { key: 'processed/pos/x%3D1.parquet' } } }] };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'landfall-bundles-'));
    await mkdir(join(dir, 'dist', 'probe'), { recursive: true });
    // stands in for dist/<name>/index.mjs: says which configuration a deployed function would read
    await writeFile(
      join(dir, 'dist', 'probe', 'index.mjs'),
      'export const handler = async () => ({ config: process.env.LANDFALL_CONFIG_FILE ?? "bundled" });\n',
    );
    process.env.LANDFALL_CONFIG_FILE = join(dir, 'pipeline.yaml');
  });
  afterAll(async () => {
    delete process.env.LANDFALL_CONFIG_FILE;
    await rm(dir, { recursive: true, force: true });
  });

  it('runs the bundle without LANDFALL_CONFIG_FILE and records which object the call was for', async () => {
    const lambdas = new LocalLambdas([fn('probe')], { namePrefix: 'landfall-test', isolate: true, bundles: join(dir, 'dist') });
    await expect(lambdas.invoke('probe', event)).resolves.toEqual({ config: 'bundled' });
    expect(lambdas.timings).toHaveLength(1);
    expect(lambdas.timings[0]).toMatchObject({ functionName: 'probe', ok: true, s3Key: 'processed/pos/x%3D1.parquet' });
    expect(lambdas.timings[0]!.peakRssMb).toBeGreaterThan(0);
  });

  it('refuses a function whose bundle was not built, naming the build', async () => {
    const lambdas = new LocalLambdas([fn('missing')], { namePrefix: 'landfall-test', isolate: true, bundles: join(dir, 'dist') });
    await expect(lambdas.invoke('missing', event)).rejects.toThrow(/missing: no bundle at .*dist\/missing\/index\.mjs \(npm run build writes it\)/);
  });
});
