import { randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { appendFile, mkdir, mkdtemp, open, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, extname, join, relative, resolve, sep } from 'node:path';
import { DeleteObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { gzipSync } from 'node:zlib';
import { downloadToFile, headObject, ObjectGoneError, uploadFile } from '../shared/s3/object-io';
import { awsJsonServer, epochSeconds, ServiceError, str } from './aws-json';
import { listenOnLoopback } from './http';

export interface StepRunContext {
  clusterId: string;
  stepId: string;
  name: string;
  /** the step's HadoopJarStep.Args as submitted */
  args: string[];
  /** args with every s3://bucket/key replaced by its local mirror (a directory, or a file for a single object) */
  localArgs: string[];
  /** the step's own directory: its logs (stdout, stderr) and the S3 mirror (s3/<bucket>/<key>) */
  workDir: string;
  /** aborted when the step is cancelled or its cluster goes away; a runner should stop then */
  signal: AbortSignal;
}

export interface LocalEmrOptions {
  clusters: Array<{ id: string; name: string; availabilityZone?: string }>;
  /**
   * Mirrors every s3://bucket/prefix argument to a local directory: downloaded before the step,
   * everything new or changed uploaded back (and what the step deleted, deleted) after it succeeds.
   */
  s3: S3Client;
  /**
   * Runs the command. Default: spawn localArgs[0] (`spark-submit` resolved through `sparkSubmit`,
   * run with `--master <sparkMaster>` instead of the cluster's YARN and deploy mode) with the rest,
   * stdout/stderr to workDir; resolves on exit 0, rejects with the exit code and the log's tail.
   */
  runStep?: (ctx: StepRunContext) => Promise<void>;
  /** path of the spark-submit to use for 'spark-submit' (default: spark-submit on PATH) */
  sparkSubmit?: string;
  /** the master the default runner gives spark-submit (default local[*]) */
  sparkMaster?: string;
  region?: string;
  accountId?: string;
  /** where step directories go (default: a new temporary directory, removed by stop()) */
  workDir?: string;
  /** ListSteps/ListClusters page size (AWS: 50) */
  pageSize?: number;
  /**
   * The clusters' LogUri (s3://bucket/prefix/): as on EMR, a failed step's stderr is put, gzipped,
   * at <logUri><cluster>/steps/<step>/stderr.gz and FailureDetails.LogFile names it. Without
   * it, LogFile is the step's local stderr file.
   */
  logUri?: string;
}

export interface LocalStepRecord {
  id: string;
  clusterId: string;
  name: string;
  args: string[];
  state: string;
  createdAt: Date;
  startedAt?: Date;
  endedAt?: Date;
  failure?: { reason: string; message: string; logFile: string };
  workDir?: string;
  /** s3:// URIs the step's mirror uploaded or deleted after it succeeded */
  uploaded: string[];
  deleted: string[];
}

export interface LocalEmr {
  /** http://127.0.0.1:<port> */
  endpoint: string;
  /** steps in submission order, of one cluster or all */
  steps(clusterId?: string): LocalStepRecord[];
  /** the next step that starts on the cluster ends FAILED with FailureDetails (message, log file) */
  failNextStep(clusterId: string, message?: string): void;
  /**
   * The cluster goes TERMINATED_WITH_ERRORS (INSTANCE_FAILURE; the message names an impaired AZ for
   * 'az-impaired'); its running step becomes INTERRUPTED, pending ones CANCELLED; AddJobFlowSteps is refused.
   */
  makeUnhealthy(clusterId: string, how: 'terminated' | 'az-impaired'): void;
  /** back to WAITING (as if replaced by a new cluster under the same id) */
  makeHealthy(clusterId: string): void;
  /** called when a step starts (RUNNING, before its inputs are staged), e.g. to fail a cluster mid-stage */
  onStepStart(hook: (ctx: StepRunContext) => void | Promise<void>): void;
  /** the next `count` API calls answer with this error (500 InternalServerError by default) */
  failApiCalls(count: number, errorType?: 'InternalServerError' | 'ThrottlingException'): void;
  /** resolves when no step is pending or running on any cluster (rejects after timeoutMs, default 300 s) */
  idle(timeoutMs?: number): Promise<void>;
  /** cancels what still runs and closes the server */
  stop(): Promise<void>;
}


type StepState = 'PENDING' | 'CANCEL_PENDING' | 'RUNNING' | 'COMPLETED' | 'CANCELLED' | 'FAILED' | 'INTERRUPTED';
const STEP_STATES: StepState[] = ['PENDING', 'CANCEL_PENDING', 'RUNNING', 'COMPLETED', 'CANCELLED', 'FAILED', 'INTERRUPTED'];
const ACTIONS_ON_FAILURE = ['TERMINATE_JOB_FLOW', 'TERMINATE_CLUSTER', 'CANCEL_AND_WAIT', 'CONTINUE'];
const COMMAND_RUNNER = 'command-runner.jar';
const S3_URI = /s3a?:\/\/([a-z0-9][a-z0-9.-]{1,62})(?:\/([^\s,;'"]*))?/g;

interface StepRecord {
  id: string;
  clusterId: string;
  name: string;
  jar: string;
  args: string[];
  properties: Record<string, string>;
  actionOnFailure: string;
  state: StepState;
  reason?: string;
  failure?: { Reason: string; Message: string; LogFile: string };
  created: Date;
  started?: Date;
  ended?: Date;
  abort?: AbortController;
  workDir?: string;
  uploaded: string[];
  deleted: string[];
}

interface ClusterRecord {
  id: string;
  name: string;
  arn: string;
  availabilityZone?: string;
  state: 'WAITING' | 'RUNNING' | 'TERMINATED_WITH_ERRORS';
  reason?: { Code?: string; Message: string };
  created: Date;
  ready: Date;
  ended?: Date;
  steps: StepRecord[];
  failNext: string[];
  /** the executor of the step that runs now, while it runs (and while an interrupted one winds down) */
  active?: Promise<void>;
}

const ALPHANUM = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const emrId = (prefix: string) => `${prefix}-${[...randomBytes(13)].map((b) => ALPHANUM[b % 36]).join('')}`;

function required(body: Record<string, unknown>, field: string): string {
  const value = str(body, field);
  if (value === undefined || value === '') throw new ServiceError('ValidationException', `1 validation error detected: Value null at '${field}' failed to satisfy constraint: Member must not be null`);
  return value;
}

function strings(body: Record<string, unknown>, field: string): string[] | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) throw new ServiceError('ValidationException', `${field} must be a list of strings`);
  return value as string[];
}

/* ---------------------------------------------------------------- the S3 mirror */

interface MirrorRoot {
  bucket: string;
  /** without a trailing slash; '' for the whole bucket */
  key: string;
  local: string;
}

interface Staged {
  roots: MirrorRoot[];
  /** local path → size and mtime as downloaded */
  downloaded: Map<string, { size: number; mtimeMs: number }>;
}

/** Rewrites every s3:// URI in the args to its place under mirrorDir; returns the roots to stage. */
function mirrorArgs(args: string[], mirrorDir: string): { localArgs: string[]; roots: MirrorRoot[] } {
  const roots = new Map<string, MirrorRoot>();
  const localArgs = args.map((arg) =>
    arg.replace(S3_URI, (_uri, bucket: string, rawKey: string | undefined) => {
      const key = (rawKey ?? '').replace(/\/+$/, '');
      const bucketDir = join(mirrorDir, bucket);
      const local = key ? join(bucketDir, ...key.split('/')) : bucketDir;
      if (local !== bucketDir && !local.startsWith(bucketDir + sep)) throw new Error(`s3://${bucket}/${rawKey} leaves its bucket`);
      roots.set(`${bucket}/${key}`, { bucket, key, local });
      return (rawKey ?? '').endsWith('/') ? `${local}/` : local;
    }),
  );
  return { localArgs, roots: [...roots.values()] };
}

/** A root inside another one is staged through the outer one. */
function outermost(roots: MirrorRoot[]): MirrorRoot[] {
  const within = (inner: MirrorRoot, outer: MirrorRoot) => inner !== outer && inner.bucket === outer.bucket && (outer.key === '' || inner.key.startsWith(`${outer.key}/`));
  return roots.filter((r) => !roots.some((o) => within(r, o)));
}

async function listKeys(s3: S3Client, bucket: string, prefix: string): Promise<Array<{ key: string; size: number }>> {
  const keys: Array<{ key: string; size: number }> = [];
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ...(token ? { ContinuationToken: token } : {}) }));
    for (const o of page.Contents ?? []) if (o.Key !== undefined) keys.push({ key: o.Key, size: o.Size ?? 0 });
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return keys;
}

/** Runs fn over the items, `limit` at a time. */
async function eachLimited<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** The object itself (a single file, e.g. a script) if it exists, else everything under key/ as a directory. */
async function stageIn(s3: S3Client, roots: MirrorRoot[]): Promise<Staged> {
  const downloads = new Map<string, { bucket: string; key: string }>();
  for (const root of outermost(roots)) {
    const prefix = root.key ? `${root.key}/` : '';
    const children = await listKeys(s3, root.bucket, prefix);
    if (children.length === 0 && root.key) {
      const exact = await headObject(s3, root.bucket, root.key).then(
        () => true,
        (err: unknown) => {
          if (err instanceof ObjectGoneError) return false;
          throw err;
        },
      );
      if (exact) downloads.set(root.local, { bucket: root.bucket, key: root.key });
      continue; // nothing there yet: an output location
    }
    for (const { key } of children) {
      if (key.endsWith('/')) continue; // a "folder" marker
      const local = resolve(root.local, ...key.slice(prefix.length).split('/'));
      if (!local.startsWith(root.local + sep)) continue; // '..' in a key
      downloads.set(local, { bucket: root.bucket, key });
    }
  }
  const downloaded = new Map<string, { size: number; mtimeMs: number }>();
  await eachLimited([...downloads], 8, async ([local, { bucket, key }]) => {
    await mkdir(dirname(local), { recursive: true });
    await downloadToFile(s3, bucket, key, undefined, local);
    const st = await stat(local);
    downloaded.set(local, { size: st.size, mtimeMs: st.mtimeMs });
  });
  return { roots, downloaded };
}

async function walkFiles(path: string): Promise<string[]> {
  const st = await stat(path).catch(() => undefined);
  if (!st) return [];
  if (st.isFile()) return [path];
  if (!st.isDirectory()) return [];
  const files: string[] = [];
  for (const entry of await readdir(path, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) files.push(join(entry.parentPath, entry.name));
  }
  return files;
}

/** Hadoop's local file system writes a .<file>.crc beside each file; S3 never sees those. */
const isChecksumFile = (path: string) => /(^|\/)\.[^/]*\.crc$/.test(path);

const CONTENT_TYPES: Record<string, string> = {
  '.json': 'application/json',
  '.csv': 'text/csv',
  '.txt': 'text/plain',
  '.py': 'text/x-python',
  '.parquet': 'application/vnd.apache.parquet',
};

/** Uploads what is new or changed (size or mtime) under the roots; deletes what the step removed. */
async function stageOut(s3: S3Client, staged: Staged): Promise<{ uploaded: string[]; deleted: string[] }> {
  const uploads = new Map<string, { bucket: string; key: string }>();
  for (const root of outermost(staged.roots)) {
    for (const file of await walkFiles(root.local)) {
      const rel = relative(root.local, file);
      if (isChecksumFile(file) || rel.split(sep).includes('_temporary')) continue;
      const key = rel === '' ? root.key : [root.key, ...rel.split(sep)].filter(Boolean).join('/');
      const before = staged.downloaded.get(file);
      const st = await stat(file);
      if (before && before.size === st.size && before.mtimeMs === st.mtimeMs) continue;
      uploads.set(file, { bucket: root.bucket, key });
    }
  }
  const uploaded: string[] = [];
  await eachLimited([...uploads], 8, async ([file, { bucket, key }]) => {
    await uploadFile(s3, bucket, key, file, {}, CONTENT_TYPES[extname(file)] ?? 'application/octet-stream');
    uploaded.push(`s3://${bucket}/${key}`);
  });
  const deleted: string[] = [];
  for (const local of staged.downloaded.keys()) {
    if (await stat(local).catch(() => undefined)) continue;
    const root = outermost(staged.roots).find((r) => local === r.local || local.startsWith(r.local + sep));
    if (!root) continue;
    const rel = relative(root.local, local);
    const key = [root.key, ...(rel ? rel.split(sep) : [])].filter(Boolean).join('/');
    await s3.send(new DeleteObjectCommand({ Bucket: root.bucket, Key: key }));
    deleted.push(`s3://${root.bucket}/${key}`);
  }
  return { uploaded: uploaded.sort(), deleted: deleted.sort() };
}

/* ---------------------------------------------------------------- the default runner */

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

function spawnRunner(options: { sparkSubmit?: string; sparkMaster?: string }) {
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

/* ---------------------------------------------------------------- the service */

/**
 * A local Amazon EMR behind the service's JSON protocol (awsJson1_1, `X-Amz-Target:
 * ElasticMapReduce.<Op>`, timestamps as epoch seconds), so the unmodified EMRClient works against
 * it. The configured clusters run their steps one at a time in submission order (step concurrency
 * 1, EMR's default); s3:// arguments are mirrored to local files around each step.
 */
export async function startLocalEmr(options: LocalEmrOptions): Promise<LocalEmr> {
  const region = options.region ?? 'us-east-1';
  const accountId = options.accountId ?? '000000000000';
  const pageSize = options.pageSize ?? 50;
  const ownsWorkDir = options.workDir === undefined;
  const root = options.workDir ?? (await mkdtemp(join(tmpdir(), 'landfall-emr-')));
  const runStep = options.runStep ?? spawnRunner(options);
  const hooks: Array<(ctx: StepRunContext) => void | Promise<void>> = [];
  const apiFaults: string[] = [];
  let stopped = false;
  let idleWaiters: Array<() => void> = [];

  const clusters = new Map<string, ClusterRecord>();
  const now = new Date();
  for (const c of options.clusters) {
    if (clusters.has(c.id)) throw new Error(`local EMR: cluster id ${c.id} is configured twice`);
    clusters.set(c.id, {
      id: c.id,
      name: c.name,
      arn: `arn:aws:elasticmapreduce:${region}:${accountId}:cluster/${c.id}`,
      ...(c.availabilityZone ? { availabilityZone: c.availabilityZone } : {}),
      state: 'WAITING',
      reason: { Message: 'Cluster ready to run steps.' },
      created: now,
      ready: now,
      steps: [],
      failNext: [],
    });
  }

  const healthy = (c: ClusterRecord) => c.state !== 'TERMINATED_WITH_ERRORS';
  const busy = () => [...clusters.values()].some((c) => c.active !== undefined || c.steps.some((s) => s.state === 'PENDING' || s.state === 'RUNNING' || s.state === 'CANCEL_PENDING'));
  const notifyIdle = () => {
    if (busy()) return;
    const waiters = idleWaiters;
    idleWaiters = [];
    for (const w of waiters) w();
  };

  const clusterFor = (id: string): ClusterRecord => {
    const cluster = clusters.get(id);
    if (!cluster) throw new ServiceError('InvalidRequestException', `Cluster id '${id}' is not valid.`);
    return cluster;
  };
  const stepFor = (cluster: ClusterRecord, id: string): StepRecord => {
    const step = cluster.steps.find((s) => s.id === id);
    if (!step) throw new ServiceError('InvalidRequestException', `Step id '${id}' is not valid.`);
    return step;
  };

  const settle = (step: StepRecord, state: StepState, fields: { reason?: string; failure?: StepRecord['failure'] } = {}) => {
    step.state = state;
    step.ended = new Date();
    if (fields.reason !== undefined) step.reason = fields.reason;
    if (fields.failure !== undefined) step.failure = fields.failure;
  };

  const terminate = (cluster: ClusterRecord, code: string, message: string) => {
    cluster.state = 'TERMINATED_WITH_ERRORS';
    cluster.reason = { Code: code, Message: message };
    cluster.ended = new Date();
    for (const step of cluster.steps) {
      if (step.state === 'RUNNING' || step.state === 'CANCEL_PENDING') {
        settle(step, 'INTERRUPTED', { reason: `Step interrupted: the cluster terminated (${message})` });
        step.abort?.abort();
      } else if (step.state === 'PENDING') {
        settle(step, 'CANCELLED', { reason: `Step cancelled: the cluster terminated (${message})` });
      }
    }
    notifyIdle();
  };

  /** Where a failed step's stderr is for the caller: under the LogUri in S3 (as EMR puts it), or the local file. */
  const publishedLog = async (clusterId: string, stepId: string, logFile: string): Promise<string> => {
    const m = options.logUri ? /^s3:\/\/([^/]+)\/?(.*)$/.exec(options.logUri) : null;
    if (!m) return logFile;
    const key = `${m[2] ? `${m[2].replace(/\/?$/, '/')}` : ''}${clusterId}/steps/${stepId}/stderr.gz`;
    try {
      await options.s3.send(new PutObjectCommand({ Bucket: m[1]!, Key: key, Body: gzipSync(await readFile(logFile)), ContentType: 'text/plain', ContentEncoding: 'gzip' }));
      return `s3://${m[1]}/${key}`;
    } catch {
      return logFile;
    }
  };

  /** One step, start to end; its state may be changed under it (cancel, cluster failure). */
  const execute = async (cluster: ClusterRecord, step: StepRecord): Promise<void> => {
    const abort = new AbortController();
    step.abort = abort;
    step.state = 'RUNNING';
    step.started = new Date();
    cluster.state = 'RUNNING';
    cluster.reason = { Message: 'Running step' };
    const workDir = join(root, cluster.id, step.id);
    step.workDir = workDir;
    const logFile = join(workDir, 'stderr');
    // read through a function: the state changes under this code (cancel, cluster failure)
    const stateNow = (): StepState => step.state;
    const running = () => stateNow() === 'RUNNING';
    const fail = async (reason: string, message: string) => {
      await appendFile(logFile, `${message}\n`).catch(() => undefined);
      if (running()) settle(step, 'FAILED', { failure: { Reason: reason, Message: message.slice(0, 10_000), LogFile: await publishedLog(cluster.id, step.id, logFile) } });
    };
    let keepMirror = true;
    try {
      await mkdir(workDir, { recursive: true });
      await Promise.all([writeFile(join(workDir, 'stdout'), ''), writeFile(logFile, '')]);
      const { localArgs, roots } = mirrorArgs(step.args, join(workDir, 's3'));
      const ctx: StepRunContext = { clusterId: cluster.id, stepId: step.id, name: step.name, args: [...step.args], localArgs, workDir, signal: abort.signal };
      for (const hook of hooks) await hook(ctx);
      if (!running()) return;
      const injected = cluster.failNext.shift();
      if (injected !== undefined) return await fail('Unknown Error.', injected);
      if (step.jar !== COMMAND_RUNNER && options.runStep === undefined) {
        return await fail('Unknown Error.', `the local EMR runs only ${COMMAND_RUNNER} steps, not ${step.jar}`);
      }
      const staged = await stageIn(options.s3, roots);
      if (!running()) return;
      await runStep(ctx);
      if (!running()) return;
      const { uploaded, deleted } = await stageOut(options.s3, staged);
      step.uploaded = uploaded;
      step.deleted = deleted;
      if (!running()) return;
      settle(step, 'COMPLETED');
      keepMirror = false;
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      await fail('Unknown Error.', message);
    } finally {
      if (stateNow() === 'CANCEL_PENDING') settle(step, 'CANCELLED');
      if (stateNow() === 'RUNNING') settle(step, 'FAILED', { failure: { Reason: 'Unknown Error.', Message: 'the step ended without an outcome', LogFile: logFile } });
      step.abort = undefined;
      // A failed step's mirror stays for a look; a completed one's data is in S3.
      if (!keepMirror || stateNow() === 'CANCELLED' || stateNow() === 'INTERRUPTED') await rm(join(workDir, 's3'), { recursive: true, force: true }).catch(() => undefined);
      if (stateNow() === 'FAILED' && healthy(cluster)) {
        if (step.actionOnFailure === 'CANCEL_AND_WAIT') {
          for (const s of cluster.steps) if (s.state === 'PENDING') settle(s, 'CANCELLED', { reason: `Cancelled: step ${step.id} failed with ActionOnFailure CANCEL_AND_WAIT` });
        } else if (step.actionOnFailure === 'TERMINATE_CLUSTER' || step.actionOnFailure === 'TERMINATE_JOB_FLOW') {
          terminate(cluster, 'STEP_FAILURE', 'Shut down as step failed');
        }
      }
    }
  };

  /** Starts the cluster's next PENDING step when none runs: one at a time, in submission order. */
  const pump = (cluster: ClusterRecord) => {
    if (cluster.active || !healthy(cluster) || stopped) return;
    const next = cluster.steps.find((s) => s.state === 'PENDING');
    if (!next) {
      cluster.state = 'WAITING';
      cluster.reason = { Message: 'Cluster ready after last step completed.' };
      notifyIdle();
      return;
    }
    cluster.active = execute(cluster, next)
      .catch(() => undefined) // execute records every failure on the step itself
      .finally(() => {
      cluster.active = undefined;
      if (healthy(cluster)) pump(cluster);
      notifyIdle();
    });
  };

  const status = (s: StepRecord) => ({
    State: s.state,
    StateChangeReason: s.reason ? { Message: s.reason } : {},
    ...(s.failure ? { FailureDetails: s.failure } : {}),
    Timeline: { CreationDateTime: epochSeconds(s.created), StartDateTime: epochSeconds(s.started), EndDateTime: epochSeconds(s.ended) },
  });
  const stepSummary = (s: StepRecord) => ({
    Id: s.id,
    Name: s.name,
    Config: { Jar: s.jar, Properties: s.properties, Args: s.args },
    ActionOnFailure: s.actionOnFailure,
    Status: status(s),
  });
  const clusterStatus = (c: ClusterRecord) => ({
    State: c.state,
    StateChangeReason: c.reason ?? {},
    Timeline: { CreationDateTime: epochSeconds(c.created), ReadyDateTime: epochSeconds(c.ready), EndDateTime: epochSeconds(c.ended) },
  });
  const page = <T>(items: T[], body: Record<string, unknown>): { items: T[]; marker?: string } => {
    const marker = str(body, 'Marker');
    const start = marker === undefined ? 0 : Number.parseInt(Buffer.from(marker, 'base64url').toString('utf8'), 10);
    if (!Number.isInteger(start) || start < 0) throw new ServiceError('InvalidRequestException', 'Marker is not valid.');
    const end = start + pageSize;
    return { items: items.slice(start, end), ...(end < items.length ? { marker: Buffer.from(String(end)).toString('base64url') } : {}) };
  };

  const operations: Record<string, (body: Record<string, unknown>) => object> = {
    DescribeCluster: (body) => {
      const c = clusterFor(required(body, 'ClusterId'));
      return {
        Cluster: {
          Id: c.id,
          Name: c.name,
          Status: clusterStatus(c),
          ClusterArn: c.arn,
          ...(c.availabilityZone ? { Ec2InstanceAttributes: { Ec2AvailabilityZone: c.availabilityZone } } : {}),
          ReleaseLabel: 'emr-7.13.0',
          Applications: [{ Name: 'Spark', Version: '3.5.6' }],
          StepConcurrencyLevel: 1,
          AutoTerminate: false,
          TerminationProtected: false,
          VisibleToAllUsers: true,
          NormalizedInstanceHours: 0,
        },
      };
    },
    ListClusters: (body) => {
      const states = strings(body, 'ClusterStates');
      const after = body.CreatedAfter as number | undefined;
      const before = body.CreatedBefore as number | undefined;
      const list = [...clusters.values()]
        .filter((c) => !states || states.includes(c.state))
        .filter((c) => (after === undefined || c.created.getTime() / 1000 >= after) && (before === undefined || c.created.getTime() / 1000 <= before))
        .reverse();
      const { items, marker } = page(list, body);
      return { Clusters: items.map((c) => ({ Id: c.id, Name: c.name, Status: clusterStatus(c), NormalizedInstanceHours: 0, ClusterArn: c.arn })), ...(marker ? { Marker: marker } : {}) };
    },
    AddJobFlowSteps: (body) => {
      const cluster = clusterFor(required(body, 'JobFlowId'));
      const configs = body.Steps;
      if (!Array.isArray(configs) || configs.length === 0 || configs.length > 256) throw new ServiceError('ValidationException', 'Steps must hold 1 to 256 steps');
      if (!healthy(cluster)) throw new ServiceError('ValidationException', 'A job flow that is shutting down, terminated, or finished may not be modified.');
      const steps = configs.map((raw: unknown): StepRecord => {
        const config = (raw ?? {}) as Record<string, unknown>;
        const name = required(config, 'Name');
        if (name.length > 256) throw new ServiceError('ValidationException', 'Step name must be at most 256 characters');
        const jarStep = (config.HadoopJarStep ?? {}) as Record<string, unknown>;
        const actionOnFailure = str(config, 'ActionOnFailure') ?? 'CONTINUE';
        if (!ACTIONS_ON_FAILURE.includes(actionOnFailure)) throw new ServiceError('ValidationException', `ActionOnFailure ${actionOnFailure} is not valid`);
        const properties = Object.fromEntries(
          ((jarStep.Properties as Array<{ Key?: string; Value?: string }> | undefined) ?? []).map((p) => [p.Key ?? '', p.Value ?? '']),
        );
        return {
          id: emrId('s'),
          clusterId: cluster.id,
          name,
          jar: required(jarStep, 'Jar'),
          args: strings(jarStep, 'Args') ?? [],
          properties,
          actionOnFailure,
          state: 'PENDING',
          created: new Date(),
          uploaded: [],
          deleted: [],
        };
      });
      cluster.steps.push(...steps);
      setImmediate(() => pump(cluster));
      return { StepIds: steps.map((s) => s.id) };
    },
    ListSteps: (body) => {
      const cluster = clusterFor(required(body, 'ClusterId'));
      const states = strings(body, 'StepStates');
      if (states?.some((s) => !STEP_STATES.includes(s as StepState))) throw new ServiceError('ValidationException', `StepStates must be among ${STEP_STATES.join(', ')}`);
      const ids = strings(body, 'StepIds');
      // AWS lists the most recent step first.
      const list = [...cluster.steps].reverse().filter((s) => (!states || states.includes(s.state)) && (!ids || ids.includes(s.id)));
      const { items, marker } = page(list, body);
      return { Steps: items.map(stepSummary), ...(marker ? { Marker: marker } : {}) };
    },
    DescribeStep: (body) => {
      const cluster = clusterFor(required(body, 'ClusterId'));
      return { Step: stepSummary(stepFor(cluster, required(body, 'StepId'))) };
    },
    CancelSteps: (body) => {
      const cluster = clusterFor(required(body, 'ClusterId'));
      const ids = strings(body, 'StepIds') ?? [];
      const info = ids.map((id) => {
        const step = cluster.steps.find((s) => s.id === id);
        if (!step) return { StepId: id, Status: 'FAILED', Reason: `Step id '${id}' is not valid.` };
        if (step.state === 'PENDING') {
          settle(step, 'CANCELLED', { reason: 'Cancelled by CancelSteps' });
        } else if (step.state === 'RUNNING') {
          step.state = 'CANCEL_PENDING';
          step.reason = 'Cancelled by CancelSteps';
          step.abort?.abort();
        } else if (step.state !== 'CANCEL_PENDING') {
          return { StepId: id, Status: 'FAILED', Reason: `Step is in state ${step.state} and cannot be cancelled.` };
        }
        return { StepId: id, Status: 'SUBMITTED' };
      });
      notifyIdle();
      return { CancelStepsInfoList: info };
    },
  };

  const server = awsJsonServer({
    targetPrefix: 'ElasticMapReduce.',
    version: '1.1',
    operations,
    internalErrorType: 'InternalServerError',
    beforeOperation: () => {
      const fault = apiFaults.shift();
      if (fault === 'InternalServerError') throw new ServiceError('InternalServerError', 'Internal server error (local fault injection)', 500);
      if (fault) throw new ServiceError(fault, 'Rate exceeded (local fault injection)', 400);
    },
  });
  const listening = await listenOnLoopback(server);

  const clusterById = (id: string) => {
    const cluster = clusters.get(id);
    if (!cluster) throw new Error(`local EMR: no cluster ${id}`);
    return cluster;
  };

  return {
    endpoint: listening.endpoint,
    steps: (clusterId) =>
      [...clusters.values()]
        .filter((c) => clusterId === undefined || c.id === clusterId)
        .flatMap((c) => c.steps)
        .sort((a, b) => a.created.getTime() - b.created.getTime())
        .map((s) => ({
          id: s.id,
          clusterId: s.clusterId,
          name: s.name,
          args: [...s.args],
          state: s.state,
          createdAt: s.created,
          ...(s.started ? { startedAt: s.started } : {}),
          ...(s.ended ? { endedAt: s.ended } : {}),
          ...(s.failure ? { failure: { reason: s.failure.Reason, message: s.failure.Message, logFile: s.failure.LogFile } } : {}),
          ...(s.workDir ? { workDir: s.workDir } : {}),
          uploaded: [...s.uploaded],
          deleted: [...s.deleted],
        })),
    failNextStep(clusterId, message = 'Step failed (local fault injection)') {
      clusterById(clusterId).failNext.push(message);
    },
    makeUnhealthy(clusterId, how) {
      const cluster = clusterById(clusterId);
      if (!healthy(cluster)) return;
      const az = cluster.availabilityZone ?? `${region}a`;
      const message =
        how === 'az-impaired'
          ? `The cluster lost its instances: Availability Zone ${az} is impaired (local fault injection).`
          : 'The master node was lost: the cluster terminated with errors (local fault injection).';
      terminate(cluster, 'INSTANCE_FAILURE', message);
    },
    makeHealthy(clusterId) {
      const cluster = clusterById(clusterId);
      if (healthy(cluster)) return;
      cluster.state = 'WAITING';
      cluster.reason = { Message: 'Cluster ready to run steps.' };
      cluster.ready = new Date();
      delete cluster.ended;
      pump(cluster);
    },
    onStepStart(hook) {
      hooks.push(hook);
    },
    failApiCalls(count, errorType = 'InternalServerError') {
      for (let i = 0; i < count; i++) apiFaults.push(errorType);
    },
    idle(timeoutMs = 300_000) {
      if (!busy()) return Promise.resolve();
      return new Promise<void>((resolveIdle, reject) => {
        const timer = setTimeout(() => {
          idleWaiters = idleWaiters.filter((w) => w !== done);
          reject(new Error(`local EMR: steps still pending or running after ${timeoutMs} ms`));
        }, timeoutMs);
        const done = () => {
          clearTimeout(timer);
          resolveIdle();
        };
        idleWaiters.push(done);
      });
    },
    async stop() {
      stopped = true;
      for (const cluster of clusters.values()) {
        for (const step of cluster.steps) {
          if (step.state === 'PENDING') settle(step, 'CANCELLED', { reason: 'local EMR stopped' });
          if (step.state === 'RUNNING' || step.state === 'CANCEL_PENDING') {
            settle(step, 'CANCELLED', { reason: 'local EMR stopped' });
            step.abort?.abort();
          }
        }
      }
      const active = [...clusters.values()].map((c) => c.active).filter((p): p is Promise<void> => p !== undefined);
      await Promise.race([Promise.allSettled(active), new Promise((r) => setTimeout(r, 10_000).unref())]);
      await listening.close();
      if (ownsWorkDir) await rm(root, { recursive: true, force: true }).catch(() => undefined);
    },
  };
}
