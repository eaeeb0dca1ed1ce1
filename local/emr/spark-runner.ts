import { spawn } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { appendFile, open } from 'node:fs/promises';
import { join } from 'node:path';
import type { StepRunContext } from './types';

/** The default step runner: the step's command as a local process, spark-submit on local Spark. */

/** The step's command fails: its exit code (or signal) and the tail of its log. */
export class StepCommandError extends Error {
  override readonly name = 'StepCommandError';
  constructor(
    message: string,
    readonly exitCode: number | null,
    readonly logTail: string,
  ) {
    super(message);
  }
}

const FLAG_OPTIONS = new Set(['--verbose', '-v', '--supervise', '--help', '-h', '--version', '--usage-error']);

/** spark-submit options up to the application resource: YARN's master and deploy mode become local. */
export function localSparkSubmitArgs(args: string[], master: string): string[] {
  const out = ['--master', master];
  let i = 0;
  for (; i < args.length; i++) {
    const arg = args[i]!;
    if (!arg.startsWith('-')) break; // the application resource: the rest is the job's own
    if (FLAG_OPTIONS.has(arg)) {
      out.push(arg);
      continue;
    }
    const [option] = arg.split('=', 1);
    const inline = arg.includes('=');
    if (option === '--master' || option === '--deploy-mode') {
      if (!inline) i++;
      continue;
    }
    out.push(arg);
    if (!inline && i + 1 < args.length) out.push(args[++i]!);
  }
  return [...out, ...args.slice(i)];
}

async function tailOf(path: string, bytes = 2000): Promise<string> {
  const handle = await open(path, 'r').catch(() => undefined);
  if (!handle) return '';
  try {
    const { size } = await handle.stat();
    const length = Math.min(bytes, size);
    const buffer = Buffer.alloc(length);
    await handle.read(buffer, 0, length, size - length);
    return buffer.toString('utf8').trim();
  } finally {
    await handle.close();
  }
}

function ended(stream: WriteStream): Promise<void> {
  return new Promise((res) => stream.end(() => res()));
}

export function spawnRunner(options: { sparkSubmit?: string; sparkMaster?: string }) {
  return async (ctx: StepRunContext): Promise<void> => {
    const [first, ...rest] = ctx.localArgs;
    if (!first) throw new StepCommandError('the step has no command (Args is empty)', null, '');
    if (ctx.signal.aborted) throw new StepCommandError('the step was stopped before its command started', null, '');
    const spark = first === 'spark-submit';
    const command = spark ? (options.sparkSubmit ?? 'spark-submit') : first;
    const args = spark ? localSparkSubmitArgs(rest, options.sparkMaster ?? 'local[*]') : rest;
    const stdout = createWriteStream(join(ctx.workDir, 'stdout'), { flags: 'a' });
    const stderr = createWriteStream(join(ctx.workDir, 'stderr'), { flags: 'a' });
    const outcome = await new Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }>((done) => {
      const child = spawn(command, args, { cwd: ctx.workDir, stdio: ['ignore', 'pipe', 'pipe'] });
      child.stdout.pipe(stdout, { end: false });
      child.stderr.pipe(stderr, { end: false });
      const killOnExit = () => child.kill('SIGKILL');
      process.once('exit', killOnExit);
      let killTimer: NodeJS.Timeout | undefined;
      const onAbort = () => {
        child.kill('SIGTERM');
        killTimer = setTimeout(() => child.kill('SIGKILL'), 5000);
      };
      ctx.signal.addEventListener('abort', onAbort, { once: true });
      if (ctx.signal.aborted) onAbort();
      let error: Error | undefined;
      child.once('error', (err) => {
        error = err;
        // no 'close' follows when the command could not start
        if (child.pid === undefined) finish(null, null);
      });
      const finish = (code: number | null, signal: NodeJS.Signals | null) => {
        process.removeListener('exit', killOnExit);
        ctx.signal.removeEventListener('abort', onAbort);
        clearTimeout(killTimer);
        done({ code, signal, ...(error ? { error } : {}) });
      };
      child.once('close', finish);
    });
    await Promise.all([ended(stdout), ended(stderr)]);
    if (outcome.error && outcome.code === null) {
      const message = `cannot run ${command}: ${outcome.error.message}`;
      await appendFile(join(ctx.workDir, 'stderr'), `${message}\n`);
      throw new StepCommandError(message, null, message);
    }
    if (outcome.code === 0) return;
    const tail = (await tailOf(join(ctx.workDir, 'stderr'))) || (await tailOf(join(ctx.workDir, 'stdout')));
    const how = outcome.code !== null ? `exited with code ${outcome.code}` : `was killed by ${outcome.signal}`;
    throw new StepCommandError(`${command} ${how}${tail ? `:\n${tail}` : ''}`, outcome.code, tail);
  };
}
