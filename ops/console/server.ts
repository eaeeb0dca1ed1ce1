import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Pipeline } from '../../shared/core/config/load-config';
import { LandfallError } from '../../shared/core/errors';
import { batchId as batchIdOf } from '../../shared/core/runs/batches';
import type { Target } from '../targets';
import { UsageError } from '../commands';
import { BATCH_ACTIONS, actOnBatch, type BatchAction } from '../operations/batch-actions';
import { explainBatchNow } from '../operations/batch-explanation';
import { batchRefOf, batchSpecOf } from '../operations/batch-ref';
import { fileHistory, rejectsPreview, runsReading } from '../operations/file-history';
import { SettledHours, overviewData } from '../operations/overview';
import { emrClientOf, warehouseOf } from '../operations/extra-clients';
import { dependentBatches } from '../operations/lineage';
import { loadAuditOf } from '../operations/load-audit';
import { DEFAULT_QUALITY_DAYS, MAX_QUALITY_DAYS, qualityData } from '../operations/quality';
import { recoveryData } from '../operations/recovery';
import { failureOf, failureWithLog } from '../operations/run-failure';
import { gridFilters, pagedGrid, readGridPage } from './batch-grid';
import { ConsoleForbiddenError, ConsoleRequestError } from './errors';
import { checkAction, checkHost, newSessionToken } from './guard';
import { href, html, type Html } from './html';
import { page, type PageContext } from './layout';
import { batchView, confirmView } from './views/batch';
import { batchGridView } from './views/batches';
import { fileView, type VersionExtras } from './views/file';
import { lineageView } from './views/lineage';
import { overviewView } from './views/overview';
import { qualityView } from './views/quality';
import { recoveryView } from './views/recovery';

export interface ConsoleOptions {
  target: Target;
  pipeline: Pipeline;
  /** 0: any free port */
  port?: number;
  readOnly?: boolean;
  /** who acts, for the audit (the AWS principal or the local user); asked once, at the first action */
  operator: () => Promise<string>;
}

export interface RunningConsole {
  url: string;
  port: number;
  /** this start's session token (the pages carry it; tests read it here) */
  token: string;
  server: Server;
  close(): Promise<void>;
}

/** Read views refresh themselves this often (seconds). */
const REFRESH_SECONDS = 30;
const MAX_BODY_BYTES = 16 * 1024;

const SECURITY_HEADERS = {
  // no script at all, styles inline only, forms post to the console itself, never framed
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'x-content-type-options': 'nosniff',
  // same-origin, not no-referrer: with no-referrer Chromium posts the confirmation form with `Origin: null`, which the origin check refuses
  'referrer-policy': 'same-origin',
  'cache-control': 'no-store',
};

function send(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', ...SECURITY_HEADERS, ...headers });
  res.end(body);
}

async function formBody(req: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new ConsoleRequestError('the request body is too large');
    chunks.push(chunk as Buffer);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

const isAction = (name: string): name is BatchAction => (BATCH_ACTIONS as readonly string[]).includes(name);

/**
 * The console: server-rendered pages over a Target (the local stack or a deployed stage), bound
 * to 127.0.0.1. Reads are GETs; actions are POSTs carrying this start's session token, from the
 * console's own origin, refused when read-only, and recorded beside the batch (docs/console.md).
 */
export async function startConsole(options: ConsoleOptions): Promise<RunningConsole> {
  const { target, pipeline } = options;
  const readOnly = options.readOnly === true;
  const token = newSessionToken();
  let operator: Promise<string> | undefined;
  // the overview's past hours of settled files, kept a minute (ops/operations/overview.ts)
  const settledHours = new SettledHours();
  let port = 0;

  const context = (): PageContext => ({ label: target.label, readOnly, now: new Date(), ...(readOnly ? {} : { token }) });
  const batchOf = (query: URLSearchParams) => batchRefOf(pipeline, query.get('job') ?? undefined, query.get('batch') ?? undefined, 'the batch view');

  const views: Record<string, (query: URLSearchParams, ctx: PageContext) => Promise<{ title: string; body: Html; refresh?: boolean }>> = {
    '/': async (_, ctx) => ({
      title: 'Overview',
      body: overviewView(await overviewData(target, pipeline, ctx.now, settledHours), pipeline, ctx),
      refresh: true,
    }),
    // one page of rows from the job-runs table's indexes (Queries, never a Scan), the next behind a token
    '/batches': async (query, ctx) => {
      const filters = gridFilters(query);
      const grid = pagedGrid(await readGridPage(target.runs, pipeline, filters, ctx.now), pipeline, filters, ctx.now);
      return { title: 'Batch grid', body: batchGridView(grid, filters, pipeline), refresh: true };
    },
    '/batch': async (query, ctx) => {
      const { job, batch } = batchOf(query);
      const explanation = await explainBatchNow(target, pipeline, job, batch, { liveOnlyWhileWaiting: true });
      // the failure of the newest finished run (a later success clears it), its step log's tail read now; the warehouse's audit of the batch's loads
      const finished = [...explanation.runs].reverse().find((r) => r.finishedAt);
      const failure = finished ? failureOf(finished, job) : undefined;
      const [withLog, audit] = await Promise.all([
        failure ? failureWithLog(target, failure) : undefined,
        job.load?.length ? loadAuditOf(warehouseOf(target), explanation.id) : undefined,
      ]);
      const extras = { ...(withLog ? { failure: withLog } : {}), ...(audit ? { audit } : {}) };
      return { title: `Batch ${explanation.id}`, body: batchView(explanation, pipeline, ctx, extras), refresh: true };
    },
    '/confirm': async (query, ctx) => {
      const action = query.get('action') ?? '';
      if (!isAction(action)) throw new ConsoleRequestError(`action must be one of ${BATCH_ACTIONS.join(', ')}, got "${action}"`);
      const { job, batch } = batchOf(query);
      const explanation = await explainBatchNow(target, pipeline, job, batch, { liveOnlyWhileWaiting: true });
      return { title: `Confirm: ${action} ${explanation.id}`, body: confirmView(explanation, action, ctx) };
    },
    '/file': async (query, ctx) => {
      const key = query.get('key');
      if (!key) throw new ConsoleRequestError('the file view needs ?key=<the landed key>');
      const history = await fileHistory(target, key);
      const extras = new Map<string, VersionExtras>();
      for (const v of history.versions) {
        const [rejects, runs] = await Promise.all([v.rows?.rejected ? rejectsPreview(target, v) : undefined, runsReading(target, pipeline, v)]);
        extras.set(v.versionId, { runs, ...(rejects ? { rejects } : {}) });
      }
      return { title: 'File', body: fileView(history, extras, ctx), refresh: true };
    },
    '/recovery': async (_, ctx) => ({
      title: 'Recovery',
      body: recoveryView(await recoveryData(target, pipeline, emrClientOf(target), ctx.now), ctx),
      refresh: true,
    }),
    '/lineage': async (query, ctx) => {
      if (!query.get('job') && !query.get('batch')) return { title: 'Lineage', body: lineageView(pipeline, ctx) };
      const { job, batch } = batchOf(query);
      const id = batchIdOf(batch, job);
      const run = (await target.runs.runsOf(id)).at(-1);
      const lineage = { id, job: job.name, values: batch.values, ...(run ? { run } : {}), dependents: dependentBatches(pipeline, batch) };
      return { title: `Lineage of ${id}`, body: lineageView(pipeline, ctx, lineage) };
    },
    '/quality': async (query, ctx) => {
      const days = Number(query.get('days') ?? DEFAULT_QUALITY_DAYS);
      if (!Number.isInteger(days) || days < 1 || days > MAX_QUALITY_DAYS)
        throw new ConsoleRequestError(`days must be a whole number from 1 to ${MAX_QUALITY_DAYS}`);
      return { title: 'Freshness and quality', body: qualityView(await qualityData(target, pipeline, ctx.now, days), ctx), refresh: true };
    },
  };

  async function act(req: IncomingMessage, res: ServerResponse, name: string): Promise<void> {
    const form = await formBody(req);
    checkAction({ ...(req.headers.origin !== undefined ? { origin: req.headers.origin } : {}), token: form.get('token') ?? '' }, { readOnly, token, port });
    if (!isAction(name)) throw new ConsoleRequestError(`no action "${name}"`, 404);
    const { job, batch } = batchOf(form);
    operator ??= options.operator();
    try {
      await actOnBatch(target, pipeline, job, batch, name, await operator);
    } catch (err) {
      // recorded as refused or failed: the batch's page shows it in its history
      if (!(err instanceof LandfallError)) throw err;
    }
    res.writeHead(303, { location: href('/batch', { job: batch.job, batch: batchSpecOf(batch.values) }), ...SECURITY_HEADERS });
    res.end();
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const ctx = context();
    try {
      checkHost(req.headers.host, port);
      const url = new URL(req.url ?? '/', `http://127.0.0.1:${port}`);
      if (req.method === 'POST' && url.pathname.startsWith('/actions/')) return await act(req, res, url.pathname.slice('/actions/'.length));
      if (req.method !== 'GET' && req.method !== 'HEAD') throw new ConsoleRequestError(`${req.method} ${url.pathname} is not served`, 404);
      const view = views[url.pathname];
      if (!view) throw new ConsoleRequestError(`no page ${url.pathname}`, 404);
      const { title, body, refresh } = await view(url.searchParams, ctx);
      send(res, 200, page(title, body, ctx, refresh ? REFRESH_SECONDS : undefined));
    } catch (err) {
      const status = err instanceof ConsoleForbiddenError ? 403 : err instanceof ConsoleRequestError ? err.status : err instanceof UsageError ? 400 : 500;
      const e = err as Error;
      send(res, status, page(status === 500 ? 'Error' : 'Cannot do that', html`<p>${e.name}: ${e.message}</p><p><a href="/">Overview</a></p>`, ctx));
    }
  }

  const server = createServer((req, res) => {
    void handle(req, res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/`,
    port,
    token,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
