import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { pathToFileURL } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Context } from 'aws-lambda';
import type { LocalFunction } from './serverless-config';

type Handler = (event: unknown, context: Context) => Promise<unknown>;

export interface FailedInvocation {
  functionName: string;
  event: unknown;
  error: string;
  attempts: number;
}

export interface RunnerOptions {
  /** `<service>-<stage>`, as Lambda names the deployed functions */
  namePrefix: string;
  /** concurrent invocations per function */
  concurrency?: number;
  /** delays before Lambda's two async retries (AWS: about 1 and 2 minutes) */
  retryDelaysMs?: number[];
  /** run each invocation in a child process (its own memory, measured) instead of in this one */
  isolate?: boolean;
}

const CHILD = fileURLToPath(new URL('./invoke-child.ts', import.meta.url));

/** One invocation's duration (the handler call), and in isolate mode its process's peak RSS. */
export interface InvocationTiming {
  functionName: string;
  durationMs: number;
  peakRssMb?: number;
  ok: boolean;
}

/** One invocation in a fresh Node process (with tsx), returning its peak RSS and duration. */
function invokeInChild(fn: LocalFunction, event: unknown, context: Context): Promise<{ peakRssMb: number; durationMs: number; result?: unknown }> {
  const { getRemainingTimeInMillis, done: _d, fail: _f, succeed: _s, ...plain } = context;
  const request = { sourceModule: fn.sourceModule, event, context: { ...plain, deadline: Date.now() + getRemainingTimeInMillis() } };
  return new Promise((resolve, reject) => {
    // Lambda's Node runtime caps the V8 heap at about 90 % of the function's memory; so does this.
    const heapMb = Math.floor(fn.memoryMb * 0.9);
    const child = spawn(process.execPath, [`--max-old-space-size=${heapMb}`, '--import', 'tsx', CHILD], { stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      const last = out.trim().split('\n').pop() ?? '';
      try {
        const reply = JSON.parse(last) as { ok: boolean; error?: string; errorName?: string; peakRssMb: number; durationMs: number; result?: unknown };
        if (reply.ok) resolve(reply);
        else reject(Object.assign(new Error(reply.error), { name: reply.errorName ?? 'Error', peakRssMb: reply.peakRssMb, durationMs: reply.durationMs }));
      } catch {
        reject(new Error(`${fn.name} child process exited with code ${code} without a reply`));
      }
    });
    child.stdin.end(JSON.stringify(request));
  });
}

/**
 * Runs the real handlers in this process the way Lambda runs async (S3-triggered) invocations:
 * queued, a few at a time, a fresh Context per call, retried twice on error, and then parked as
 * failed (AWS sends them to the on-failure destination). `settled()` tells when all work is done.
 */
export class LocalLambdas {
  private readonly handlers = new Map<string, Promise<Handler>>();
  private readonly queues = new Map<string, Array<() => Promise<void>>>();
  private readonly running = new Map<string, number>();
  private pending = 0;
  private lastActivity = Date.now();
  readonly failures: FailedInvocation[] = [];
  readonly invocations = new Map<string, number>();
  /** the highest peak RSS seen per function (isolate mode only) */
  readonly peakRssMb = new Map<string, number>();
  /** every invocation's duration (and peak RSS in isolate mode), in completion order */
  readonly timings: InvocationTiming[] = [];

  constructor(
    private readonly functions: LocalFunction[],
    private readonly options: RunnerOptions,
  ) {}

  private fn(name: string): LocalFunction {
    const fn = this.functions.find((f) => f.name === name);
    if (!fn) throw new Error(`no function "${name}" in serverless.yml`);
    return fn;
  }

  private handler(fn: LocalFunction): Promise<Handler> {
    let loaded = this.handlers.get(fn.name);
    if (!loaded) {
      loaded = import(pathToFileURL(fn.sourceModule).href).then((m: { handler: Handler }) => m.handler);
      this.handlers.set(fn.name, loaded);
    }
    return loaded;
  }

  private context(fn: LocalFunction): Context {
    const deadline = Date.now() + fn.timeoutSeconds * 1000;
    const functionName = `${this.options.namePrefix}-${fn.name}`;
    return {
      callbackWaitsForEmptyEventLoop: false,
      functionName,
      functionVersion: '$LATEST',
      invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:${functionName}`,
      memoryLimitInMB: String(fn.memoryMb),
      awsRequestId: randomUUID(),
      logGroupName: `/aws/lambda/${functionName}`,
      logStreamName: 'local',
      getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
      done: () => undefined,
      fail: () => undefined,
      succeed: () => undefined,
    };
  }

  /** One invocation, in its own process (isolate mode) or in this one, timed either way. */
  private run(fn: LocalFunction, event: unknown): Promise<unknown> {
    return this.options.isolate ? this.invokeIsolated(fn, event) : this.invokeInProcess(fn, event);
  }

  private async invokeInProcess(fn: LocalFunction, event: unknown): Promise<unknown> {
    const handler = await this.handler(fn);
    const started = performance.now();
    let ok = false;
    try {
      const result = await handler(event, this.context(fn));
      ok = true;
      return result;
    } finally {
      this.timings.push({ functionName: fn.name, durationMs: performance.now() - started, ok });
    }
  }

  private async invokeIsolated(fn: LocalFunction, event: unknown): Promise<unknown> {
    const record = (m: { peakRssMb: number; durationMs: number }, ok: boolean) => {
      this.peakRssMb.set(fn.name, Math.max(m.peakRssMb, this.peakRssMb.get(fn.name) ?? 0));
      this.timings.push({ functionName: fn.name, durationMs: m.durationMs, peakRssMb: m.peakRssMb, ok });
    };
    try {
      const reply = await invokeInChild(fn, event, this.context(fn));
      record(reply, true);
      return reply.result;
    } catch (err) {
      const m = err as { peakRssMb?: number; durationMs?: number };
      if (m.peakRssMb !== undefined) record({ peakRssMb: m.peakRssMb, durationMs: m.durationMs ?? 0 }, false);
      throw err;
    }
  }

  /**
   * A synchronous invocation (InvocationType=RequestResponse), as Step Functions and event source
   * mappings make: the caller gets the result or the error, and decides about retries.
   */
  async invoke(functionName: string, event: unknown): Promise<unknown> {
    const fn = this.fn(functionName);
    this.pending += 1;
    this.lastActivity = Date.now();
    this.invocations.set(fn.name, (this.invocations.get(fn.name) ?? 0) + 1);
    try {
      return await this.run(fn, event);
    } finally {
      this.pending -= 1;
      this.lastActivity = Date.now();
    }
  }

  /** Queues an asynchronous invocation (InvocationType=Event) and returns at once. */
  invokeAsync(functionName: string, event: unknown): void {
    const fn = this.fn(functionName);
    this.pending += 1;
    this.lastActivity = Date.now();
    const delays = this.options.retryDelaysMs ?? [200, 1000];
    const job = async () => {
      let lastError: unknown;
      try {
        for (let attempt = 0; attempt <= delays.length; attempt += 1) {
          if (attempt > 0) await sleep(delays[attempt - 1]!);
          this.invocations.set(fn.name, (this.invocations.get(fn.name) ?? 0) + 1);
          try {
            await this.run(fn, event);
            return;
          } catch (err) {
            lastError = err;
          }
        }
        const error = lastError instanceof Error ? `${lastError.name}: ${lastError.message}` : String(lastError);
        this.failures.push({ functionName: fn.name, event, error, attempts: delays.length + 1 });
      } finally {
        this.pending -= 1;
        this.lastActivity = Date.now();
      }
    };
    const queue = this.queues.get(fn.name) ?? [];
    this.queues.set(fn.name, queue);
    queue.push(job);
    this.drain(fn.name);
  }

  private drain(name: string): void {
    const queue = this.queues.get(name)!;
    const limit = this.options.concurrency ?? 4;
    while ((this.running.get(name) ?? 0) < limit && queue.length > 0) {
      const job = queue.shift()!;
      this.running.set(name, (this.running.get(name) ?? 0) + 1);
      void job().finally(() => {
        this.running.set(name, this.running.get(name)! - 1);
        this.drain(name);
      });
    }
  }

  /** Marks activity from outside (an S3 event arrived), which postpones `settled`. */
  touch(): void {
    this.lastActivity = Date.now();
  }

  /**
   * Resolves once nothing is queued or running and nothing happened for `quietMs` (S3 events of the
   * last outputs may still be on their way for a moment after a handler returns).
   */
  async settled(quietMs = 750, timeoutMs = 15 * 60_000, onProgress?: () => void): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    this.touch(); // the events of objects put just now may not have arrived yet
    while (this.pending > 0 || Date.now() - this.lastActivity < quietMs) {
      if (Date.now() > deadline) throw new Error(`the pipeline did not settle within ${timeoutMs} ms (${this.pending} invocations pending)`);
      onProgress?.();
      await sleep(50);
    }
  }

  get inFlight(): number {
    return this.pending;
  }
}
