import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { InvocationTiming } from '../../local/lambda-runner';
import { usePipelineFile } from '../../local/pipeline-file';
import { type LocalStack, startLocalStack } from '../../local/stack';
import { LandfallError } from '../../shared/core/errors';
import { PREFIX } from '../../shared/core/s3/layout';
import { uploadFile } from '../../shared/core/s3/object-io';
import { loadPipelineFile } from '../../shared/core/config/load-config';
import { BENCH_DATA_DIR, MB } from './data';
import { log } from './suite';

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, '..', '..');

/**
 * The local stack running the functions from their esbuild bundles (built with `pipelineFile`), as
 * deployed; `retries`: a failed async invocation is retried twice, as Lambda does (else it fails at once).
 */
export async function startBundledStack(
  pipelineFile: string,
  options: { retries?: boolean; functions?: string[] } = {},
): Promise<{ stack: LocalStack; memoryMb: Record<string, number> }> {
  usePipelineFile(pipelineFile);
  const bundles = await privateBundles(pipelineFile, options.functions ?? ['validate', 'convert', 'track', 'resolve', 'events']);
  const stack = await startLocalStack({ isolate: true, bundles, retryDelaysMs: options.retries ? [200, 1000] : [] });
  return { stack, memoryMb: Object.fromEntries(stack.deployment.functions.map((f) => [f.name, f.memoryMb])) };
}

/**
 * Builds the functions (into dist/, the only place the build writes) and copies them aside at once:
 * another build of the same tree (another pipeline) may replace dist/ during a long run. A copy
 * whose bundled pipeline is not this one (a build raced ours) is built again.
 */
async function privateBundles(pipelineFile: string, functions: string[]): Promise<string> {
  const aside = join(BENCH_DATA_DIR, 'bundles');
  const expected = JSON.stringify(loadPipelineFile(pipelineFile).config.datasets.map((d) => d.name));
  for (let attempt = 1; ; attempt += 1) {
    log(`building the functions (esbuild) with ${pipelineFile}`);
    await run(process.execPath, [join(ROOT, 'esbuild.config.mjs'), '--pipeline', pipelineFile], { cwd: ROOT, maxBuffer: 64 * MB });
    await rm(aside, { recursive: true, force: true });
    const copied = await Promise.all(
      functions.map((fn) =>
        cp(join(ROOT, 'dist', fn), join(aside, fn), { recursive: true }).then(
          () => true,
          () => false,
        ),
      ),
    );
    const pipelines = functions.map((fn) => join(aside, fn, 'pipeline', 'pipeline.json')).filter((path) => existsSync(path));
    const bundled = await Promise.all(
      pipelines.map(async (path) =>
        JSON.stringify((JSON.parse(await readFile(path, 'utf8')) as { datasets: Array<{ name: string }> }).datasets.map((d) => d.name)),
      ),
    );
    if (copied.every(Boolean) && bundled.every((names) => names === expected)) return aside;
    if (attempt === 5) throw new Error(`dist/ was rebuilt with another pipeline during each of ${attempt} builds`);
  }
}

/** An invocation of this landing, with when it ended (ms after the PUT returned; seen within 50 ms). */
export interface TimedInvocation extends InvocationTiming {
  endedMs: number;
  /** the S3 key it was invoked for, decoded */
  key: string;
}

/** An invocation of the landing failed (no retries here): the run is lost, the stack goes on. */
export class LandingFailed extends LandfallError {
  override readonly name = 'LandingFailed';
  readonly code = 'BENCH_LANDING_FAILED';
  constructor(readonly failures: Array<{ functionName: string; error: string }>) {
    super(failures.map((f) => `${f.functionName}: ${f.error.split('\n')[0]}`).join('; '));
  }
}

/** How long a landing may show no new invocation before it is taken as ended (S3 events can lag on a loaded machine). */
const STALL_MS = 120_000;

/**
 * Lands the local file at `landing/<relative>` and waits until `done` holds for the invocations it
 * caused (the pipeline settling is not enough: under load an S3 event can arrive after a quiet
 * spell), or until nothing new ran for STALL_MS. A failed invocation throws LandingFailed.
 */
export async function landAndSettle(
  stack: LocalStack,
  relative: string,
  path: string,
  contentType: string,
  done: (invocations: TimedInvocation[]) => boolean,
): Promise<TimedInvocation[]> {
  const seen = stack.lambdas.timings.length;
  const failed = stack.lambdas.failures.length;
  await uploadFile(stack.s3, stack.deployment.names.rawBucket, `${PREFIX.landing}${relative}`, path, {}, contentType);
  const landed = performance.now();
  const ended: number[] = [];
  const notice = () => {
    for (let i = seen + ended.length; i < stack.lambdas.timings.length; i += 1) ended.push(performance.now() - landed);
  };
  const invocations = () =>
    stack.lambdas.timings.slice(seen).map((t, i) => ({ ...t, endedMs: ended[i]!, key: decodeURIComponent((t.s3Key ?? '').replaceAll('+', ' ')) }));
  for (;;) {
    await stack.settled(300, 60 * 60_000, notice);
    notice();
    if (stack.lambdas.failures.length > failed) throw new LandingFailed(stack.lambdas.failures.slice(failed));
    const so = invocations();
    if (done(so) || performance.now() - landed - (ended.at(-1) ?? 0) > STALL_MS) return so;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Whether `count` landed files reached CONVERTED: as many successful tracks of a Parquet (processed/). */
export const convertedFiles = (count: number) => (invocations: TimedInvocation[]) =>
  invocations.filter((r) => r.ok && r.functionName === 'track' && r.key.startsWith(PREFIX.processed)).length >= count;

/** The steps of one landed file from landing to CONVERTED: validate, convert, and track of its Parquet (processed/). */
export function pathToConverted(
  invocations: TimedInvocation[],
  what: string,
): { validate: TimedInvocation; convert: TimedInvocation; trackConverted: TimedInvocation } {
  // (a retried invocation's failed attempts are not its time)
  const validate = invocations.find((r) => r.ok && r.functionName === 'validate');
  const convert = invocations.find((r) => r.ok && r.functionName === 'convert');
  const trackConverted = invocations.find((r) => r.ok && r.functionName === 'track' && r.key.startsWith(PREFIX.processed));
  if (!validate || !convert || !trackConverted)
    throw new Error(`${what}: validate, convert or track of the Parquet did not run (ran: ${invocations.map((r) => `${r.functionName} ${r.key}`).join(', ')})`);
  return { validate, convert, trackConverted };
}

/** What a floor script prints: DuckDB alone, in its own process. */
export interface FloorRun {
  durationMs: number;
  peakRssMb: number;
  rows: number;
}

/** Runs a floor script (`node --import tsx <script> ...args <out.parquet> <memoryMb>`) in a fresh process, its Parquet in a temporary folder. */
export async function runFloor(script: string, args: string[], memoryMb: number): Promise<FloorRun> {
  const dir = await mkdtemp(join(tmpdir(), 'landfall-floor-'));
  try {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', script, ...args, join(dir, 'out.parquet'), String(memoryMb)]);
    return JSON.parse(stdout.trim().split('\n').pop()!) as FloorRun;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
