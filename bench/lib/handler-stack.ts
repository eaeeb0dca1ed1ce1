import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { InvocationTiming } from '../../local/lambda-runner';
import { usePipelineFile } from '../../local/pipeline-file';
import { type LocalStack, startLocalStack } from '../../local/stack';
import { LandfallError } from '../../shared/core/errors';
import { PREFIX } from '../../shared/core/s3/layout';
import { uploadFile } from '../../shared/core/s3/object-io';
import { MB } from './data';
import { log } from './suite';

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, '..', '..');

/**
 * The local stack running the functions from their esbuild bundles (built with `pipelineFile`), as
 * deployed; `retries`: a failed async invocation is retried twice, as Lambda does (else it fails at once).
 */
export async function startBundledStack(
  pipelineFile: string,
  options: { retries?: boolean } = {},
): Promise<{ stack: LocalStack; memoryMb: Record<string, number> }> {
  usePipelineFile(pipelineFile);
  log(`building the functions (esbuild) with ${pipelineFile}`);
  await run(process.execPath, [join(ROOT, 'esbuild.config.mjs'), '--pipeline', pipelineFile], { cwd: ROOT, maxBuffer: 64 * MB });
  const stack = await startLocalStack({ isolate: true, bundles: join(ROOT, 'dist'), retryDelaysMs: options.retries ? [200, 1000] : [] });
  return { stack, memoryMb: Object.fromEntries(stack.deployment.functions.map((f) => [f.name, f.memoryMb])) };
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

/**
 * Lands the local file at `landing/<relative>` and waits until the pipeline settles; returns every
 * invocation it caused. A failed invocation throws LandingFailed with the invocations' errors.
 */
export async function landAndSettle(stack: LocalStack, relative: string, path: string, contentType: string): Promise<TimedInvocation[]> {
  const seen = stack.lambdas.timings.length;
  const failed = stack.lambdas.failures.length;
  await uploadFile(stack.s3, stack.deployment.names.rawBucket, `${PREFIX.landing}${relative}`, path, {}, contentType);
  const landed = performance.now();
  const ended: number[] = [];
  const notice = () => {
    for (let i = seen + ended.length; i < stack.lambdas.timings.length; i += 1) ended.push(performance.now() - landed);
  };
  await stack.settled(300, 60 * 60_000, notice);
  notice();
  if (stack.lambdas.failures.length > failed) throw new LandingFailed(stack.lambdas.failures.slice(failed));
  return stack.lambdas.timings.slice(seen).map((t, i) => ({ ...t, endedMs: ended[i]!, key: decodeURIComponent((t.s3Key ?? '').replaceAll('+', ' ')) }));
}

/** The steps of one landed file from landing to CONVERTED: validate, convert, and track of its Parquet (processed/). */
export function pathToConverted(
  invocations: TimedInvocation[],
  what: string,
): { validate: TimedInvocation; convert: TimedInvocation; trackConverted: TimedInvocation } {
  // (a retried invocation's failed attempts are not its time)
  const validate = invocations.find((r) => r.ok && r.functionName === 'validate');
  const convert = invocations.find((r) => r.ok && r.functionName === 'convert');
  const trackConverted = invocations.find((r) => r.ok && r.functionName === 'track' && r.key.startsWith(PREFIX.processed));
  if (!validate || !convert || !trackConverted) throw new Error(`${what}: validate, convert or track of the Parquet did not run`);
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
