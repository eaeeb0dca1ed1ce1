import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningConsole } from '../ops/console/server';
import { PREFIX } from '../shared/core/s3/layout';
import { LAKE_AWAY, landAll, stackTarget, startStackConsole, withCuratedWritesRefused } from './support/console-stack';
import { useLocalStack } from './support/local-stack';
import { itemMaster, masterKey, storeFile, storeKey } from './support/pos-files';

/*
 * The console in a real browser (Debian's chromium driven by playwright-core) over the local stack:
 * what an operator sees and does, link by link. The pages carry no script, so the browser checks the
 * rendered pages, the links between them and the confirmation form. Each view is photographed into
 * test/screenshots/ (git-ignored; docs/images/ holds copies of two).
 */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SHOTS = fileURLToPath(new URL('./screenshots/', import.meta.url));
const HOSTILE = '<img src=x onerror=alert(1)>.csv';

/** The three days before today: recent dates, so the grid reads like a working week's. */
const [D1, D2, D3] = [3, 2, 1].map((back) => new Date(Date.now() - back * 86_400_000).toISOString().slice(0, 10)) as [string, string, string];
const STORES = { ON: ['ON01', 'ON02', 'ON03', 'ON04', 'ON05'], QC: ['QC01', 'QC02', 'QC03', 'QC04'], BC: ['BC01', 'BC02', 'BC03'] };
const batchId = (province: string, date: string) => `pos_daily_sales#province=${province}#date=${date}`;

/** Store files (key → body) of some stores for a day, with the day's item master. */
function day(date: string, stores: string[]): Record<string, string> {
  return { [masterKey(date)]: itemMaster(), ...Object.fromEntries(stores.map((s) => [storeKey(s, date), storeFile(s, date, 10)])) };
}

const stack = useLocalStack();
let console_: RunningConsole;
let browser: Browser;
let page: Page;
const dialogs: string[] = [];

beforeAll(async () => {
  console_ = await startStackConsole(await stackTarget(stack()));
  await mkdir(SHOTS, { recursive: true });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] }).catch((err: Error) => {
    throw new Error(`cannot start chromium at ${CHROMIUM} (apt-get install chromium, as .ci/run does): ${err.message}`);
  });
  page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  // a script that ran (it must not: the pages have none, and escape every value) would show here
  page.on('dialog', (dialog) => {
    dialogs.push(dialog.message());
    void dialog.dismiss();
  });
});

afterAll(async () => {
  await browser?.close();
  await console_?.close();
});

const snap = (name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`) });
/** What the user reads in an element: Playwright's rendered text (table cells tab-separated), not the DOM's property. */
// biome-ignore lint/performance/useDomNodeTextContent: a Playwright Locator, whose innerText is the text as rendered
const shown = (locator: Locator) => locator.innerText();
const text = (selector: string) => shown(page.locator(selector).first());
/** The batch page's status badge (the first line names the batch). */
const batchStatus = () => text('main > p:first-of-type .st');
const openGridCell = (province: string, date: string) => page.getByTitle(batchId(province, date), { exact: true }).click();
const goByNav = (name: string) => page.locator('header').getByRole('link', { name, exact: true }).click();

describe('the landfall console in a browser', () => {
  it('leads from the overview through the grid to a waiting batch that names its missing store', { timeout: 300_000 }, async () => {
    // D1 complete; D2 lacks ON05; D3 lacks ON04, ON05 and QC04
    await landAll(stack(), {
      ...day(D1, [...STORES.ON, ...STORES.QC, ...STORES.BC]),
      ...day(D2, [...STORES.ON.slice(0, 4), ...STORES.QC, ...STORES.BC]),
      ...day(D3, [...STORES.ON.slice(0, 3), ...STORES.QC.slice(0, 3), ...STORES.BC]),
    });

    await page.goto(console_.url);
    expect(await text('main h1')).toBe('Overview');
    expect(await text('main table')).toContain('CONVERTED');
    await snap('overview');

    await goByNav('Batch grid');
    expect(await text('main h1')).toBe('Batch grid');
    const grid = await text('table.grid');
    for (const date of [D1, D2, D3]) expect(grid).toContain(date);
    for (const province of ['ON', 'QC', 'BC']) expect(grid).toContain(`province=${province}`);

    await openGridCell('ON', D2);
    expect(new URL(page.url()).pathname).toBe('/batch');
    expect(await text('main h1')).toBe(`Batch ${batchId('ON', D2)}`);
    expect(await batchStatus()).toMatch(/^(waiting|late)$/);
    const checklist = await text('ul.checklist');
    expect(checklist).toContain('✘ not met: 5 distinct stores of pos');
    expect(checklist).toContain('have ON01, ON02, ON03, ON04; missing ON05');
    expect(await page.locator('ul.checklist strong').allInnerTexts()).toEqual(['ON05']);
    await snap('batch-waiting');
  });

  it('shows the batch succeeded once the store lands, and links each input to its file', { timeout: 180_000 }, async () => {
    await landAll(stack(), { [storeKey('ON05', D2)]: storeFile('ON05', D2, 10) });
    await page.reload();
    expect(await batchStatus()).toBe('succeeded');
    expect(await text('main')).toContain('Runs (1)');
    expect(await text('ul.checklist')).not.toContain('missing');
    await snap('batch-succeeded');

    const key = `${PREFIX.landing}${storeKey('ON05', D2)}`;
    await page.getByRole('link', { name: key, exact: true }).click();
    expect(new URL(page.url()).searchParams.get('key')).toBe(key);
    expect(await text('main h2')).toContain('CONVERTED');
    expect(await text('main ul')).toContain(batchId('ON', D2));
    await snap('file');
  });

  it('shows a failed run with its error, retries it from the page after confirmation, and lists the action', { timeout: 240_000 }, async () => {
    await withCuratedWritesRefused(() => landAll(stack(), { [storeKey('QC04', D3)]: storeFile('QC04', D3, 10) }));

    await page.goto(console_.url);
    await goByNav('Batch grid');
    expect(await shown(page.getByTitle(batchId('QC', D3), { exact: true }))).toBe('failed');
    await snap('grid');

    await openGridCell('QC', D3);
    expect(await batchStatus()).toBe('failed');
    // the run's failure as the batch page shows it now: its error name and message
    const failure = await text('main');
    expect(failure).toContain(LAKE_AWAY);
    expect(failure).toContain('the lake is away');
    await snap('batch-failed');

    await page.getByRole('link', { name: 'Retry the failed run…' }).click();
    expect(await text('main h1')).toBe(`Confirm: retry ${batchId('QC', D3)}`);
    const [posted] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === 'POST'),
      page.getByRole('button', { name: `Yes, retry ${batchId('QC', D3)}` }).click(),
    ]);
    // the console answers the action with a redirect to the batch (a refusal is a 403 page saying why)
    expect(posted.status(), posted.status() === 303 ? '' : `${JSON.stringify(await posted.request().allHeaders())}\n${await posted.text()}`).toBe(303);
    await page.waitForURL((url) => url.pathname === '/batch');

    await stack().settled(400);
    await page.reload();
    expect(await batchStatus()).toBe('succeeded');
    expect(await text('main')).toContain('Runs (2)');
    const history = await shown(page.locator('main table').last());
    expect(history).toMatch(/retry \(console\)\s+done/);
    expect(history).toContain('(local user)');
  });

  it('shows a hostile key as text: no img element, no dialog', { timeout: 120_000 }, async () => {
    await landAll(stack(), { [HOSTILE]: 'a,b\n1,2\n' });
    const key = `${PREFIX.landing}${HOSTILE}`;

    await page.goto(console_.url);
    const link = page.getByRole('link', { name: key, exact: true });
    expect(await link.count()).toBe(1);
    expect(await page.locator('img').count()).toBe(0);

    await link.click();
    expect(new URL(page.url()).searchParams.get('key')).toBe(key);
    expect(await text('main code')).toBe(key);
    expect(await text('main h2')).toContain('UNRECOGNISED');
    expect(await page.locator('img').count()).toBe(0);
    await snap('file-hostile');
    expect(dialogs).toEqual([]);
  });

  it('shows the recovery, quality and lineage views from the navigation', { timeout: 60_000 }, async () => {
    await goByNav('Recovery');
    expect(await text('main h1')).toBe('Recovery');
    expect(await text('main')).toContain('No failover recorded');
    await snap('recovery');

    await goByNav('Freshness and quality');
    expect(await text('main h1')).toBe('Freshness and quality');
    await snap('quality');

    await goByNav('Lineage');
    expect(await text('main h1')).toBe('Lineage');
    await page.getByRole('link', { name: 'pos_daily_sales', exact: true }).waitFor();
    expect(await text('main table')).toContain('dataset pos as pos');
    await snap('lineage');

    // the lineage's job links to its batches in the grid
    await page.getByRole('link', { name: 'pos_daily_sales', exact: true }).click();
    expect(new URL(page.url()).searchParams.get('job')).toBe('pos_daily_sales');
    expect(await text('table.grid')).toContain('pos_daily_sales');
  });
});
