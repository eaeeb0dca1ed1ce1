import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CLICKSTREAM, writeClickstreamSample } from '../examples/retail/data/clickstream-sample';
import { landDirectory } from '../ops/land';
import type { RunningConsole } from '../ops/console/server';
import type { Target } from '../ops/targets';
import { PREFIX } from '../shared/core/s3/layout';
import { LAKE_AWAY, landAll, stackTarget, startStackConsole, withCuratedWritesRefused } from './support/console-stack';
import { useLocalStack } from './support/local-stack';
import { itemMaster, masterKey, storeFile, storeKey } from './support/pos-files';

/*
 * The console's batch failure, load audit, recovery, lineage and quality views over the local
 * stack: a DuckDB run that fails (a Lambda trace) then loads the warehouse, and an EMR run whose
 * every step fails (the local EMR's fault injection), failing over between the cells until it
 * gives up (a step log's tail, the failovers, both cells' clusters).
 */
const stack = useLocalStack();
const daysAgo = (n: number) => new Date(Date.now() - n * 86_400_000).toISOString().slice(0, 10);
/** two days ago: its 18:00 Toronto deadline has passed whenever the test runs */
const POS_DAY = daysAgo(2);
const CLICK_DAY = daysAgo(3);
const POS_BATCH = `province=BC,date=${POS_DAY}`;
const HOSTILE_PART = '<img src=x onerror=alert(1)>';
const STEP_ERROR = 'Traceback (most recent call last):\nValueError: bad row 7 <script>alert(1)</script>';

let target: Target;
let console_: RunningConsole;

beforeAll(async () => {
  target = await stackTarget(stack());
  console_ = await startStackConsole(target);
});

afterAll(async () => {
  await console_?.close();
});

async function get(path: string): Promise<{ status: number; text: string }> {
  const res = await fetch(new URL(path, console_.url));
  return { status: res.status, text: await res.text() };
}

/** The section of a page with this id (its whole markup), or undefined. */
const section = (page: string, id: string) => new RegExp(`<section id="${id}">[\\s\\S]*?</section>`).exec(page)?.[0];

describe('the console’s failure, audit, recovery, lineage and quality views', () => {
  it('shows a DuckDB run’s failure, then what the warehouse load recorded, its lineage and its deadline', { timeout: 300_000 }, async () => {
    const files = {
      [storeKey('BC01', POS_DAY)]: storeFile('BC01', POS_DAY, 10, [`BC01\tI-0001\t${POS_DAY}\t99\t1.00`]),
      [storeKey('BC02', POS_DAY)]: storeFile('BC02', POS_DAY, 10),
      [storeKey('BC03', POS_DAY)]: storeFile('BC03', POS_DAY, 10),
      [masterKey(POS_DAY)]: itemMaster(),
    };
    await withCuratedWritesRefused(() => landAll(stack(), files));
    const page = `/batch?job=pos_daily_sales&batch=${encodeURIComponent(POS_BATCH)}`;
    const failed = await get(page);
    expect(failed.status, failed.text).toBe(200);
    const failure = section(failed.text, 'failure');
    expect(failure).toContain(`<strong>${LAKE_AWAY}</strong>`);
    expect(failure).toContain('at stage <strong>aggregate</strong>');
    // (the local Step Functions records a Task's cause as the error's message; AWS's is Lambda's JSON with its trace, which the unit tests show)
    expect(failure).toContain('<pre>the lake is away</pre>');

    // retried from the console: the run succeeds and loads the warehouse
    const token = /name="token" value="([^"]+)"/.exec(
      (await get(`/confirm?action=retry&job=pos_daily_sales&batch=${encodeURIComponent(POS_BATCH)}`)).text,
    )![1]!;
    const retried = await fetch(new URL('/actions/retry', console_.url), {
      method: 'POST',
      body: new URLSearchParams({ job: 'pos_daily_sales', batch: POS_BATCH, token }),
      headers: { origin: console_.url.replace(/\/$/, '') },
      redirect: 'manual',
    });
    expect(retried.status).toBe(303);
    await stack().settled(400);
    const loaded = await get(page);
    expect(loaded.text).toContain('<span class="st st-succeeded">succeeded</span>');
    // the audit as the warehouse holds it, read independently of the console
    const audit = (await stack().warehouse.query(
      `SELECT execution_name, row_count FROM landfall_load_audit WHERE batch_id = 'pos_daily_sales#province=BC#date=${POS_DAY}'`,
    )) as Array<{ execution_name: string; row_count: unknown }>;
    expect(audit).toHaveLength(1);
    const loadAudit = section(loaded.text, 'load-audit');
    expect(loadAudit).toContain(`Run <code>${audit[0]!.execution_name}</code>`);
    expect(loadAudit).toContain(`<td>pos_daily_sales</td><td>replaced the batch&#39;s rows</td><td class="num">${Number(audit[0]!.row_count)}</td>`);
    expect(Number(audit[0]!.row_count)).toBeGreaterThan(0);
    // the newest run succeeded: no failure section
    expect(section(loaded.text, 'failure')).toBeUndefined();

    // what the batch read, each version linked to its file; nothing reads pos_daily_sales
    const lineage = await get(`/lineage?job=pos_daily_sales&batch=${encodeURIComponent(POS_BATCH)}`);
    expect(lineage.status).toBe(200);
    expect(lineage.text).toMatch(
      new RegExp(`<a href="/file\\?key=landing%2Fpos%2FBC%2FBC01_${POS_DAY.replaceAll('-', '')}_200000\\.tdf">[^<]+</a>@<code>[^<]+</code>`),
    );
    expect(lineage.text).toContain('re-runs this batch only');
    expect(loaded.text).toContain(`href="/lineage?job=pos_daily_sales&amp;batch=province%3DBC%2Cdate%3D${POS_DAY}"`);

    // freshness: BC done after its deadline, ON and QC never; quality: 1 of 31 pos rows rejected
    const quality = await get('/quality?days=7');
    expect(quality.status).toBe(200);
    expect(quality.text).toContain('Freshness and quality</a>');
    expect(quality.text).toMatch(
      new RegExp(`pos_daily_sales#province=BC#date=${POS_DAY}</a></td><td>[\\s\\S]*?</td><td><span class="st st-late">done late</span>`),
    );
    expect(quality.text).toContain(`pos_daily_sales#province=ON#date=${POS_DAY}`);
    expect(quality.text).toMatch(/<tr><td>pos<\/td><td>[\s\S]*?\(1 of 31 rows, 3 version\(s\)\)/);
    expect((await get('/quality?days=0')).status).toBe(400);
  });

  it('shows an EMR run’s step log tail, its failovers and both cells’ clusters; a hostile key stays text', { timeout: 600_000 }, async () => {
    // every step of the day fails at once: no Spark runs; the run fails over to cell B and back, then gives up
    stack().emr.onStepStart((step) => {
      if (step.name.includes(`-${CLICK_DAY}-`)) stack().emr.failNextStep(step.clusterId, STEP_ERROR);
    });
    const dir = await mkdtemp(join(tmpdir(), 'landfall-console-click-'));
    await writeClickstreamSample(dir, { ...DEFAULT_CLICKSTREAM, seed: 7, startDate: CLICK_DAY, sessionsPerDay: 10, parts: 1 });
    // one more part of the day's events, under a hostile name
    const eventsDir = join(dir, 'clickstream', 'events', CLICK_DAY.replaceAll('-', ''));
    const events = await readFile(join(eventsDir, (await readdir(eventsDir))[0]!), 'utf8');
    await landDirectory(stack().s3, stack().deployment.names.rawBucket, dir);
    await stack().s3.send(
      new PutObjectCommand({
        Bucket: stack().deployment.names.rawBucket,
        Key: `${PREFIX.landing}clickstream/events/${CLICK_DAY.replaceAll('-', '')}/${HOSTILE_PART}.jsonl`,
        Body: events,
      }),
    );
    await stack().settled(1000, 600_000);
    expect(await target.runs.getBatch(`clickstream_daily#date=${CLICK_DAY}`)).toMatchObject({ status: 'FAILED' });

    const batch = await get(`/batch?job=clickstream_daily&batch=${encodeURIComponent(`date=${CLICK_DAY}`)}`);
    expect(batch.status, batch.text).toBe(200);
    const failure = section(batch.text, 'failure')!;
    expect(failure).toContain('<strong>FailoverExhaustedError</strong>');
    expect(failure).toMatch(/Step log <code>s3:\/\/[^<]+\/emr-logs\/[^<]+\/stderr\.gz<\/code>, its last 2 lines:/);
    expect(failure).toContain('<pre class="log-tail">Traceback (most recent call last):\nValueError: bad row 7 &lt;script&gt;alert(1)&lt;/script&gt;</pre>');
    // the run never loaded: the audit says so (the warehouse answered)
    expect(section(batch.text, 'load-audit')).toContain('No load of this batch is recorded');
    for (const page of [batch.text]) {
      expect(page).toContain('&lt;img src=x onerror=alert(1)&gt;');
      expect(page).not.toMatch(/<img|<script/i);
    }

    const recovery = await get('/recovery');
    expect(recovery.status).toBe(200);
    expect(recovery.text).toContain('<h3>Cell cell-a');
    expect(recovery.text).toContain('<h3>Cell cell-b');
    expect(recovery.text).toContain('Failovers (2)');
    expect(recovery.text).toMatch(/<code>clickstream_daily-[^<]+-clean-cell-b-a\d+<\/code><\/td><td><span class="st st-failed">FAILED<\/span>/);
    expect(recovery.text).toContain('stage <strong>clean</strong> ran again from its inputs (no stage was checkpointed)');
    expect(recovery.text).toMatch(/resumed <time[^>]*>[^<]+<\/time> <span class="muted">\([^)]+\)<\/span>; <strong>[\d.]+ s<\/strong> from the loss/);
    expect(recovery.text).not.toMatch(/<script/i);

    const lineage = await get(`/lineage?job=clickstream_daily&batch=${encodeURIComponent(`date=${CLICK_DAY}`)}`);
    expect(lineage.status).toBe(200);
    expect(lineage.text).toContain(`clickstream/events/${CLICK_DAY.replaceAll('-', '')}/&lt;img src=x onerror=alert(1)&gt;.jsonl</a>`);
    expect(lineage.text).not.toMatch(/<img|<script/i);
  });

  it('draws the pipeline as SVG naming every dataset, job and warehouse table', { timeout: 60_000 }, async () => {
    const lineage = await get('/lineage');
    expect(lineage.status).toBe(200);
    const svg = /<svg[\s\S]*<\/svg>/.exec(lineage.text)?.[0];
    for (const dataset of ['pos', 'item_master', 'click_events', 'orders', 'customers', 'products', 'stores'])
      expect(svg).toContain(`<title>dataset ${dataset}</title>`);
    expect(svg).toContain('<title>job clickstream_daily</title>');
    expect(svg).toContain('<title>warehouse table gmv_daily</title>');
    expect(lineage.text).toContain('7 datasets → 2 jobs → 6 tables → 6 warehouse tables');
  });
});
