/**
 * Runs one handler invocation in its own process, as a Lambda container would, and reports the
 * result and the process's peak RSS (VmHWM) as the last line of stdout. Input: a JSON request on
 * stdin. Used by LocalLambdas in `isolate` mode (memory measurements, large files).
 */
import { readFileSync } from 'node:fs';
import { peakRssMb } from './peak-rss';
import { pathToFileURL } from 'node:url';
import type { Context } from 'aws-lambda';

export interface ChildRequest {
  sourceModule: string;
  event: unknown;
  context: Omit<Context, 'getRemainingTimeInMillis' | 'done' | 'fail' | 'succeed'> & { deadline: number };
}

export interface ChildReply {
  ok: boolean;
  result?: unknown;
  error?: string;
  errorName?: string;
  peakRssMb: number;
  /** the handler call alone (the module import, a cold start's code part, is not in it) */
  durationMs: number;
}

const input = readFileSync(0, 'utf8');
const request = JSON.parse(input) as ChildRequest;
const { deadline, ...context } = request.context;
const { handler } = (await import(pathToFileURL(request.sourceModule).href)) as { handler: (e: unknown, c: Context) => Promise<unknown> };
let reply: ChildReply;
const started = performance.now();
try {
  const result = await handler(request.event, {
    ...context,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  });
  reply = { ok: true, result, peakRssMb: peakRssMb(), durationMs: performance.now() - started };
} catch (err) {
  const e = err instanceof Error ? err : new Error(String(err));
  reply = { ok: false, error: e.message, errorName: e.name, peakRssMb: peakRssMb(), durationMs: performance.now() - started };
}
process.stdout.write(`\n${JSON.stringify(reply)}\n`);
process.exit(0);
