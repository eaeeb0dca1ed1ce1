import { describe, expect, it } from 'vitest';
import { Html, escapeHtml, href, html } from '../../ops/console/html';
import { page } from '../../ops/console/layout';
import { batchView } from '../../ops/console/views/batch';
import { fileView } from '../../ops/console/views/file';
import { overviewView } from '../../ops/console/views/overview';
import { batchItem, fileItem, pageContext, retailPipeline, runItem } from './console-fixtures';

const HOSTILE = 'landing/<img src=x onerror=alert(1)>.csv';
/** No element of the hostile markup survives: no tag opens with it, no attribute carries it. */
const noHostileTag = (text: string) => {
  expect(text).not.toMatch(/<img/i);
  expect(text).not.toMatch(/<script/i);
};

describe('the console escapes every value from data through one function', () => {
  it('escapeHtml replaces the characters that open markup or close an attribute', () => {
    expect(escapeHtml(`<a href="x" onclick='y'>&\`</a>`)).toBe('&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;&#96;&lt;/a&gt;');
    expect(escapeHtml(42)).toBe('42');
  });

  it('html`` escapes each value, keeps fragments it built, joins lists and drops null, undefined and false', () => {
    const inner = html`<b>${'<i>'}</b>`;
    expect(inner).toBeInstanceOf(Html);
    expect(html`<p title="${'"x"'}">${inner}${['<', '>']}${null}${undefined}${false}</p>`.text).toBe(
      '<p title="&quot;x&quot;">' + '<b>&lt;i&gt;</b>&lt;&gt;</p>',
    );
  });

  it('href encodes each query value, so a key cannot end the attribute or add a parameter', () => {
    expect(href('/file', { key: 'landing/a&b=c"d.csv' })).toBe('/file?key=landing%2Fa%26b%3Dc%22d.csv');
    expect(html`<a href="${href('/file', { key: HOSTILE })}">`.text).not.toContain('<img');
  });

  it('the file view: a hostile key, reason, error and rejects excerpt are text, not markup', () => {
    const item = fileItem(HOSTILE, {
      state: 'REJECTED',
      reason: 'bad header "<script>alert(1)</script>"',
      lastError: '<b>boom</b>',
      history: [{ state: 'REJECTED', at: '2026-08-03T09:00:01.000Z', reason: '<svg onload=alert(1)>' }],
      rows: { in: 3, out: 2, rejected: 1, junk: 0 },
    });
    const body = fileView(
      { key: HOSTILE, versions: [item], latestVersionId: 'v1' },
      new Map([['v1', { runs: [], rejects: { key: `rejected/${HOSTILE}@v1.rejects.csv`, lines: ['line,reason,text', '2,bad,"<img src=y onerror=z>"'] } }]]),
      pageContext(),
    ).text;
    noHostileTag(body);
    expect(body).not.toContain('<svg');
    expect(body).toContain('landing/&lt;img src=x onerror=alert(1)&gt;.csv');
    expect(body).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(body).toContain('2,bad,&quot;&lt;img src=y onerror=z&gt;&quot;');
  });

  it('the batch view: a hostile SQL error, stage output, input key and action history are text', () => {
    const pipeline = retailPipeline();
    const batch = batchItem('ON', '2026-08-01', 'FAILED', {
      lastRun: { executionName: 'e1', fingerprint: 'f', status: 'FAILED', finishedAt: '2026-08-03T09:01:00.000Z', error: 'SqlError: <img src=x onerror=1>' },
    });
    const run = runItem(batch, 'e1', {
      status: 'FAILED',
      inputs: { pos: [{ key: HOSTILE, versionId: 'v"1', processedKey: 'p' }] },
      stages: { aggregate: { status: 'SUCCEEDED', at: '2026-08-03T09:00:30.000Z', output: { rows: 3, note: '<script>x</script>' } } },
      error: { error: 'SqlError', cause: 'Binder Error: column "<img src=x onerror=1>" not found' },
    });
    const body = batchView(
      {
        id: batch.batchId,
        job: pipeline.jobsByName.get('pos_daily_sales')!,
        batch: { job: 'pos_daily_sales', values: batch.values },
        state: batch,
        waitingFor: [],
        live: false,
        runs: [run],
        actions: [
          {
            pk: batch.pk,
            sk: 'ACTION#x',
            batchId: batch.batchId,
            id: 'a',
            action: 'retry',
            who: '<b>me</b>',
            at: '2026-08-03T09:02:00.000Z',
            via: 'console',
            outcome: 'refused',
            detail: '<i>no</i>',
          },
        ],
      },
      pipeline,
      pageContext(),
    ).text;
    noHostileTag(body);
    expect(body).toContain('column &quot;&lt;img src=x onerror=1&gt;&quot; not found');
    expect(body).toContain('&lt;b&gt;me&lt;/b&gt;');
    expect(body).not.toContain('<i>no</i>');
  });

  it('the overview: a held-out file with a hostile key is listed as text, linking to its file view', () => {
    const body = overviewView(
      {
        window: { from: '2026-08-02T12:00:00.000Z', to: '2026-08-03T12:00:00.000Z' },
        settled: { UNRECOGNISED: 1 },
        inFlight: {},
        problems: [{ pk: `FILE#${HOSTILE}`, sk: 'V#v1', key: HOSTILE, versionId: 'v1', state: 'UNRECOGNISED', updatedAt: '2026-08-03T11:00:00.000Z' }],
        unsettledBatches: [],
        cutoffRuns: [],
        failedEvents: { messages: 0, inFlight: 0 },
      },
      retailPipeline(),
      pageContext(),
    ).text;
    noHostileTag(body);
    expect(body).toContain(`href="/file?key=landing%2F%3Cimg+src%3Dx+onerror%3Dalert%281%29%3E.csv"`);
  });

  it('a page: the title is escaped, a read view refreshes itself, no script is served', () => {
    const text = page('<img src=x>', html`<p>x</p>`, pageContext(), 30);
    noHostileTag(text);
    expect(text).toContain('<meta http-equiv="refresh" content="30">');
    expect(text).not.toContain('<script');
  });
});
