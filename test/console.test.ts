import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningConsole } from '../ops/console/server';
import type { Target } from '../ops/targets';
import { PREFIX } from '../shared/core/s3/layout';
import { LAKE_AWAY, landAll, stackTarget, startStackConsole, withCuratedWritesRefused } from './support/console-stack';
import { useLocalStack } from './support/local-stack';
import { itemMaster, masterKey, storeFile, storeKey } from './support/pos-files';

/*
 * The console served in-process over the local stack, reached the way `landfall console` reaches a
 * running `landfall up` stack (its stack file), its pages fetched over HTTP.
 */
const stack = useLocalStack();
const DATE = '2026-09-14';
const BATCH = `province=ON,date=${DATE}`;
const BATCH_ID = `pos_daily_sales#province=ON#date=${DATE}`;
const HOSTILE = '<img src=x onerror=alert(1)>.csv';

let target: Target;
let console_: RunningConsole;
let readOnly: RunningConsole;

beforeAll(async () => {
  target = await stackTarget(stack());
  console_ = await startStackConsole(target);
  readOnly = await startStackConsole(target, { readOnly: true });
});

afterAll(async () => {
  await console_?.close();
  await readOnly?.close();
});

const land = (key: string, body: string) => landAll(stack(), { [key]: body });

async function get(c: RunningConsole, path: string): Promise<{ status: number; text: string; headers: Headers }> {
  const res = await fetch(new URL(path, c.url));
  return { status: res.status, text: await res.text(), headers: res.headers };
}

async function post(c: RunningConsole, path: string, form: Record<string, string>, headers: Record<string, string> = {}) {
  const res = await fetch(new URL(path, c.url), {
    method: 'POST',
    body: new URLSearchParams(form),
    headers: { origin: c.url.replace(/\/$/, ''), ...headers },
    redirect: 'manual',
  });
  return { status: res.status, text: await res.text(), location: res.headers.get('location') };
}

const batchPage = (c: RunningConsole) => get(c, `/batch?job=pos_daily_sales&batch=${encodeURIComponent(BATCH)}`);

describe('the landfall console over the local stack', () => {
  it('shows a waiting batch with the store it misses, and every page answers', { timeout: 240_000 }, async () => {
    for (const store of ['ON01', 'ON02', 'ON03', 'ON04']) await land(storeKey(store, DATE), storeFile(store, DATE, 10));
    await land(masterKey(DATE), itemMaster());

    const batch = await batchPage(console_);
    expect(batch.status, batch.text).toBe(200);
    expect(batch.text).toContain('✘ not met: 5 distinct stores of pos — 4 of 5 stores of pos (have ON01, ON02, ON03, ON04)');
    expect(batch.text).toContain('missing <strong>ON05</strong>');
    expect(batch.headers.get('content-security-policy')).toContain("default-src 'none'");

    const grid = await get(console_, `/batches?job=pos_daily_sales&from=${DATE}&to=${DATE}`);
    expect(grid.status).toBe(200);
    expect(grid.text).toMatch(/<a href="\/batch\?job=pos_daily_sales&amp;batch=province%3DON%2Cdate%3D2026-09-14"[^>]*><span class="st st-(waiting|late)">/);

    const overview = await get(console_, '/');
    expect(overview.status).toBe(200);
    expect(overview.text).toContain('failed events queued');
    // the five files settled this hour, counted by state
    expect(overview.text).toContain('<tr><td><span class="st st-succeeded">CONVERTED</span></td><td class="num">5</td><td class="num">0</td></tr>');

    const file = await get(console_, `/file?key=${encodeURIComponent(`${PREFIX.landing}${storeKey('ON01', DATE)}`)}`);
    expect(file.text).toContain('<span class="st st-succeeded">CONVERTED</span>');
    expect((await get(console_, '/lineage')).text).toContain('dataset <strong>pos</strong> as pos');
    expect((await get(console_, '/recovery')).status).toBe(200);
    expect((await get(console_, '/batches?from=nonsense')).status).toBe(400);
    expect((await get(console_, '/batch?job=nope&batch=a=b')).status).toBe(400);
    expect((await get(console_, '/nowhere')).status).toBe(404);
  });

  it('escapes a hostile key wherever it shows: the overview and its file view', { timeout: 120_000 }, async () => {
    await land(HOSTILE, 'a,b\n1,2\n');
    const overview = await get(console_, '/');
    expect(overview.text).toContain('landing/&lt;img src=x onerror=alert(1)&gt;.csv');
    expect(overview.text).not.toMatch(/<img/i);
    const file = await get(console_, `/file?key=${encodeURIComponent(`${PREFIX.landing}${HOSTILE}`)}`);
    expect(file.status).toBe(200);
    expect(file.text).toContain('<span class="st st-failed">UNRECOGNISED</span>');
    expect(file.text).toContain('landing/&lt;img src=x onerror=alert(1)&gt;.csv');
    expect(file.text).not.toMatch(/<img/i);
  });

  it('retries a failed batch from the page: token and origin checked, read-only refused, the action recorded and shown', { timeout: 240_000 }, async () => {
    // the lake refuses the curated write: the run fails
    await withCuratedWritesRefused(() => land(storeKey('ON05', DATE), storeFile('ON05', DATE, 10)));
    expect(await target.runs.getBatch(BATCH_ID)).toMatchObject({ status: 'FAILED' });
    const failed = await batchPage(console_);
    expect(failed.text).toContain('<span class="st st-failed">failed</span>');
    expect(failed.text).toContain(LAKE_AWAY);

    // the confirmation step carries this start's token
    const confirm = await get(console_, `/confirm?action=retry&job=pos_daily_sales&batch=${encodeURIComponent(BATCH)}`);
    const token = /name="token" value="([^"]+)"/.exec(confirm.text)?.[1];
    expect(token).toBe(console_.token);
    const form = { job: 'pos_daily_sales', batch: BATCH };

    expect((await post(console_, '/actions/retry', form)).status).toBe(403);
    expect((await post(console_, '/actions/retry', { ...form, token: 'guessed' })).status).toBe(403);
    const foreign = await post(console_, '/actions/retry', { ...form, token: token! }, { origin: 'http://evil.example' });
    expect(foreign.status).toBe(403);
    expect(foreign.text).toContain('another origin');
    const refused = await post(readOnly, '/actions/retry', { ...form, token: token! }, { origin: readOnly.url.replace(/\/$/, '') });
    expect(refused.status).toBe(403);
    expect(refused.text).toContain('read-only');
    expect((await batchPage(readOnly)).text).not.toContain('/confirm');
    // nothing was done or recorded by the refused requests
    expect(await target.runs.actionsOf(BATCH_ID)).toEqual([]);
    expect(await target.runs.getBatch(BATCH_ID)).toMatchObject({ status: 'FAILED' });

    const done = await post(console_, '/actions/retry', { ...form, token: token! });
    expect(done.status).toBe(303);
    expect(done.location).toBe('/batch?job=pos_daily_sales&batch=province%3DON%2Cdate%3D2026-09-14');
    await stack().settled(400);
    expect(await target.runs.getBatch(BATCH_ID)).toMatchObject({ status: 'SUCCEEDED' });
    const actions = await target.runs.actionsOf(BATCH_ID);
    expect(actions).toHaveLength(1);
    expect(actions[0]).toMatchObject({ action: 'retry', outcome: 'done', via: 'console', who: expect.stringContaining('(local user)') });
    expect(actions[0]!.detail).toContain('"kind":"started"');

    const after = await batchPage(console_);
    expect(after.text).toContain('<span class="st st-succeeded">succeeded</span>');
    expect(after.text).toMatch(/<td>retry <span class="muted">\(console\)<\/span><\/td><td>done<\/td>/);
    // two runs, each with its input generation (key@version of every input)
    expect(after.text).toContain('Runs (2)');
    expect(after.text).toMatch(/landing\/pos\/ON\/ON05_20260914_200000\.tdf<\/a>@<code>[^<]+<\/code>/);

    // a second retry of a batch that succeeded is refused, and recorded as refused
    await post(console_, '/actions/retry', { ...form, token: token! });
    expect((await target.runs.actionsOf(BATCH_ID)).map((a) => a.outcome)).toEqual(['done', 'refused']);
  });
});
