import { AsyncLocalStorage } from 'node:async_hooks';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pathToFileURL } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Context } from 'aws-lambda';
import type { LocalFunction } from '../deploy/serverless-config';

type Handler = (event: unknown, context: Context) => Promise<unknown>;

export interface FailedInvocation {
  functionName: string;
  event: unknown;
  error: string;
  attempts: number;
}

/**
 * What Lambda sends to an async invocation's on-failure destination when its retries ran out
 * (AWS "invocation record"; see "Capturing records of Lambda asynchronous invocations").
 */
export interface AsyncFailureRecord {
  version: '1.0';
  timestamp: string;
  requestContext: { requestId: string; functionArn: string; condition: 'RetriesExhausted'; approximateInvokeCount: number };
  requestPayload: unknown;
  responseContext: { statusCode: 200; executedVersion: '$LATEST'; functionError: 'Unhandled' };
  /** what the Node runtime reports for a thrown error */
  responsePayload: { errorType: string; errorMessage: string; trace: string[] };
}

/** The function and request an in-process handler call belongs to (read by local fault injection). */
export interface InvocationScope {
  /** the local name, e.g. `validate` */
  functionName: string;
  requestId: string;
}

const invocationScope = new AsyncLocalStorage<InvocationScope>();

/** The invocation whose code is running now (in-process mode), or undefined outside any handler. */
export function currentInvocation(): InvocationScope | undefined {
  return invocationScope.getStore();
}

export interface RunnerOptions {
  /** `<service>-<stage>`, as Lambda names the deployed functions */
  namePrefix: string;
  /** for function ARNs (default `local` and 000000000000) */
  region?: string;
  accountId?: string;
  /** concurrent invocations per function */
  concurrency?: number;
  /** delays before Lambda's two async retries (AWS: about 1 and 2 minutes) */
  retryDelaysMs?: number[];
  /** run each invocation in a child process (its own memory, measured) instead of in this one */
  isolate?: boolean;
  /**
   * isolate mode only: run every function from its esbuild bundle, `<bundles>/<name>/index.mjs`
   * (npm run build; a function not built fails its invocations): the code as deployed, reading the
   * pipeline bundled beside it (pipeline/pipeline.json) instead of LANDFALL_CONFIG_FILE's file
   */
  bundles?: string;
}

const CHILD = fileURLToPath(new URL('./invoke-child.ts', import.meta.url));

/** One invocation's duration (the handler call), and in isolate mode its process's peak RSS. */
export interface InvocationTiming {
  functionName: string;
  durationMs: number;
  peakRssMb?: number;
  ok: boolean;
  /** an S3 notification's first object key (which file's step this was) */
  s3Key?: string;
}

/** `{ s3Key }`: an S3 notification's first object key (as it arrives: URL-encoded); `{}` for other events. */
function withKey(event: unknown): { s3Key?: string } {
  const key = (event as { Records?: Array<{ s3?: { object?: { key?: unknown } } }> } | null)?.Records?.[0]?.s3?.object?.key;
  return typeof key === 'string' ? { s3Key: key } : {};
}

/** The function's bundle under `bundles` (none asked: undefined). */
function bundleOf(fn: LocalFunction, bundles: string | undefined): string | undefined {
  if (!bundles) return undefined;
  const bundle = join(bundles, fn.name, 'index.mjs');
  if (!existsSync(bundle)) throw new Error(`${fn.name}: no bundle at ${bundle} (npm run build writes it)`);
  return bundle;
}

/** One invocation in a fresh Node process (with tsx), returning its peak RSS and duration. */
function invokeInChild(
  fn: LocalFunction,
  event: unknown,
  context: Context,
  bundles?: string,
): Promise<{ peakRssMb: number; durationMs: number; result?: unknown }> {
  const { getRemainingTimeInMillis, done: _d, fail: _f, succeed: _s, ...plain } = context;
  const bundle = bundleOf(fn, bundles);
  const request = { sourceModule: bundle ?? fn.sourceModule, event, context: { ...plain, deadline: Date.now() + getRemainingTimeInMillis() } };
  // a bundle reads the pipeline the build put beside it, as a deployed function does
  const env = { ...process.env };
  if (bundle) delete env.LANDFALL_CONFIG_FILE;
  return new Promise((resolve, reject) => {
    // Lambda's Node runtime caps the V8 heap at about 90 % of the function's memory; so does this.
    const heapMb = Math.floor(fn.memoryMb * 0.9);
    const child = spawn(process.execPath, [`--max-old-space-size=${heapMb}`, '--import', 'tsx', CHILD], { stdio: ['pipe', 'pipe', 'inherit'], env });
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
 * queued, a few at a time, a fresh Context per call, retried twice on error, and then recorded in
 * `failures` and sent to the on-failure destination as AWS's invocation record (see
 * setFailureDestination). `settled()` tells when all work is done.
 */
export class LocalLambdas {
  private readonly handlers = new Map<string, Promise<Handler>>();
  private readonly queues = new Map<string, Array<() => Promise<void>>>();
  private readonly running = new Map<string, number>();
  private pending = 0;
  private lastActivity = Date.now();
  readonly failures: FailedInvocation[] = [];
  /** records the on-failure destination refused (AWS counts them as DestinationDeliveryFailures) */
  readonly destinationFailures: Array<{ record: AsyncFailureRecord; error: string }> = [];
  private failureDestination?: (record: AsyncFailureRecord) => Promise<void>;
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

  /** The deployed name, `<service>-<stage>-<fn>`. */
  deployedName(name: string): string {
    return `${this.options.namePrefix}-${name}`;
  }

  /** arn:aws:lambda:<region>:<account>:function:<deployed name> */
  functionArn(name: string): string {
    return `arn:aws:lambda:${this.options.region ?? 'local'}:${this.options.accountId ?? '000000000000'}:function:${this.deployedName(name)}`;
  }

  /**
   * The local function a Lambda API FunctionName means: its local name, its deployed name, or its
   * (partial) ARN, without a qualifier or with $LATEST. Undefined when there is no such function.
   */
  resolveFunctionName(nameOrArn: string): string | undefined {
    const parts = /^(?:(?:arn:[\w-]+:lambda:[\w-]*:)?\d{12}:function:)?([A-Za-z0-9_-]+)(?::([\w$-]+))?$/.exec(nameOrArn);
    if (!parts || (parts[2] !== undefined && parts[2] !== '$LATEST')) return undefined;
    const name = parts[1]!.startsWith(`${this.options.namePrefix}-`) ? parts[1]!.slice(this.options.namePrefix.length + 1) : parts[1]!;
    return this.functions.some((f) => f.name === name) ? name : undefined;
  }

  /** Where async invocations go once their retries ran out (serverless.yml `destinations.onFailure`). */
  setFailureDestination(send: (record: AsyncFailureRecord) => Promise<void>): void {
    this.failureDestination = send;
  }

  private context(fn: LocalFunction, requestId: string = randomUUID()): Context {
    const deadline = Date.now() + fn.timeoutSeconds * 1000;
    const functionName = this.deployedName(fn.name);
    return {
      callbackWaitsForEmptyEventLoop: false,
      functionName,
      functionVersion: '$LATEST',
      invokedFunctionArn: this.functionArn(fn.name),
      memoryLimitInMB: String(fn.memoryMb),
      awsRequestId: requestId,
      logGroupName: `/aws/lambda/${functionName}`,
      logStreamName: 'local',
      getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
      done: () => undefined,
      fail: () => undefined,
      succeed: () => undefined,
    };
  }

  /** One invocation, in its own process (isolate mode) or in this one, timed either way. */
  private async run(fn: LocalFunction, event: unknown, requestId?: string): Promise<unknown> {
    try {
      return await (this.options.isolate ? this.invokeIsolated(fn, event, this.context(fn, requestId)) : this.invokeInProcess(fn, event, requestId));
    } catch (err) {
      // An injected crash stands for the function's process dying: Lambda reports that as
      // Runtime.ExitError, whatever the code was doing (the chaos crash's words stay in the message).
      if ((err as Error)?.name === 'ChaosCrash')
        throw Object.assign(new Error(`Runtime exited with error: exit status 1 (${(err as Error).message})`), { name: 'Runtime.ExitError' });
      throw err;
    }
  }

  private async invokeInProcess(fn: LocalFunction, event: unknown, requestId?: string): Promise<unknown> {
    const handler = await this.handler(fn);
    const context = this.context(fn, requestId);
    const started = performance.now();
    let ok = false;
    try {
      // The scope lets fault injection in shared SDK clients know which function is calling.
      const result = await invocationScope.run({ functionName: fn.name, requestId: context.awsRequestId }, () => handler(event, context));
      ok = true;
      return result;
    } finally {
      this.timings.push({ functionName: fn.name, durationMs: performance.now() - started, ok, ...withKey(event) });
    }
  }

  private async invokeIsolated(fn: LocalFunction, event: unknown, context: Context): Promise<unknown> {
    const record = (m: { peakRssMb: number; durationMs: number }, ok: boolean) => {
      this.peakRssMb.set(fn.name, Math.max(m.peakRssMb, this.peakRssMb.get(fn.name) ?? 0));
      this.timings.push({ functionName: fn.name, durationMs: m.durationMs, peakRssMb: m.peakRssMb, ok, ...withKey(event) });
    };
    try {
      const reply = await invokeInChild(fn, event, context, this.options.bundles);
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
    // Lambda keeps one request id across an async invocation's retries.
    const requestId = randomUUID();
    const job = async () => {
      let lastError: unknown;
      try {
        for (let attempt = 0; attempt <= delays.length; attempt += 1) {
          if (attempt > 0) await sleep(delays[attempt - 1]!);
          this.invocations.set(fn.name, (this.invocations.get(fn.name) ?? 0) + 1);
          try {
            await this.run(fn, event, requestId);
            return;
          } catch (err) {
            lastError = err;
          }
        }
        const error = lastError instanceof Error ? `${lastError.name}: ${lastError.message}` : String(lastError);
        this.failures.push({ functionName: fn.name, event, error, attempts: delays.length + 1 });
        await this.sendToFailureDestination(this.failureRecord(fn, event, requestId, lastError, delays.length + 1));
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

  private failureRecord(fn: LocalFunction, event: unknown, requestId: string, error: unknown, attempts: number): AsyncFailureRecord {
    const err = error instanceof Error ? error : new Error(String(error));
    return {
      version: '1.0',
      timestamp: new Date().toISOString(),
      requestContext: { requestId, functionArn: `${this.functionArn(fn.name)}:$LATEST`, condition: 'RetriesExhausted', approximateInvokeCount: attempts },
      requestPayload: event,
      responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
      responsePayload: { errorType: err.name, errorMessage: err.message, trace: (err.stack ?? '').split('\n').filter((line) => line !== '') },
    };
  }

  private async sendToFailureDestination(record: AsyncFailureRecord): Promise<void> {
    if (!this.failureDestination) return;
    try {
      await this.failureDestination(record);
    } catch (err) {
      this.destinationFailures.push({ record, error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) });
    }
  }

  /** Counts outside work (e.g. a stream batch's on-failure delivery) as in flight, so `settled` waits for it. */
  async during<T>(work: () => Promise<T>): Promise<T> {
    this.pending += 1;
    this.lastActivity = Date.now();
    try {
      return await work();
    } finally {
      this.pending -= 1;
      this.lastActivity = Date.now();
    }
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
