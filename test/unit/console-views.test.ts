import { describe, expect, it } from 'vitest';
import { ConsoleForbiddenError } from '../../ops/console/errors';
import { checkAction, checkHost } from '../../ops/console/guard';
import { preconditionChecklist } from '../../ops/console/preconditions';
import { batchView, confirmView } from '../../ops/console/views/batch';
import type { BatchExplanation } from '../../ops/operations/batch-explanation';
import { batchItem, pageContext, retailPipeline } from './console-fixtures';

const pipeline = retailPipeline();
const job = pipeline.jobsByName.get('pos_daily_sales')!;
const values = { province: 'ON', date: '2026-08-01' };

describe('the precondition checklist of a batch', () => {
  it('names what has arrived and what is missing, from what the batch waits for now', () => {
    const list = preconditionChecklist(pipeline.config, job, values, ['4 of 5 stores of pos (have ON01, ON02, ON03, ON04)', 'item_master for ON 2026-08-01']);
    expect(list.items.map((i) => [i.label, i.met])).toEqual([
      ['5 distinct stores of pos', false],
      ['item_master present', false],
      ['pos: at least 1 bytes', true],
      ['an input newer than the last successful run', true],
    ]);
    expect(list.items[0]).toMatchObject({ have: ['ON01', 'ON02', 'ON03', 'ON04'], missing: ['ON05'] });
    expect(list.other).toEqual([]);
  });

  it('keeps files in flight apart from the preconditions, and an unknown line too', () => {
    const inFlight = 'pos: 1 file(s) still being processed (landing/pos/ON/ON05_20260801_200000.tdf)';
    const list = preconditionChecklist(pipeline.config, job, values, [inFlight, 'an input newer than the last successful run', 'pos: 0 of 1 bytes']);
    expect(list.items.map((i) => i.met)).toEqual([true, true, false, false]);
    expect(list.other).toEqual([inFlight]);
    expect(preconditionChecklist(pipeline.config, job, values, ['lookup stores has no count for province XX']).other).toEqual([
      'lookup stores has no count for province XX',
    ]);
  });

  it('is shown in the batch view as a list with its words, not colour alone', () => {
    const state = batchItem('ON', '2026-08-01', 'WAITING', { waitingFor: [] });
    const explanation: BatchExplanation = {
      id: state.batchId,
      job,
      batch: { job: job.name, values },
      state,
      waitingFor: ['4 of 5 stores of pos (have ON01, ON02, ON03, ON04)'],
      live: true,
      runs: [],
      actions: [],
    };
    const body = batchView(explanation, pipeline, pageContext()).text;
    expect(body).toContain('✘ not met: 5 distinct stores of pos — 4 of 5 stores of pos (have ON01, ON02, ON03, ON04)');
    expect(body).toContain('missing <strong>ON05</strong>');
    expect(body).toContain('✔ met: item_master present');
    // 2026-08-01 18:00 Toronto has passed at NOW
    expect(body).toContain('<span class="st st-late">missed</span>');
  });
});

describe('actions on the batch view', () => {
  const state = batchItem('ON', '2026-08-01', 'FAILED');
  const explanation: BatchExplanation = { id: state.batchId, job, batch: { job: job.name, values }, state, waitingFor: [], live: false, runs: [], actions: [] };

  it('are links to a confirmation step; read-only hides them', () => {
    const body = batchView(explanation, pipeline, pageContext()).text;
    expect(body).toContain('href="/confirm?action=retry&amp;job=pos_daily_sales&amp;batch=province%3DON%2Cdate%3D2026-08-01"');
    expect(body).not.toContain('<form');
    // a batch that ran is not re-evaluated for the page: its checklist says so
    expect(body).toContain('Preconditions (as recorded: the batch is FAILED; a newer input re-evaluates it)');
    const readOnly = batchView(explanation, pipeline, pageContext({ readOnly: true, token: undefined })).text;
    expect(readOnly).not.toContain('/confirm');
    expect(readOnly).toContain('Read-only console: actions are off.');
  });

  it('the confirmation posts to the action with the session token; read-only has no form', () => {
    const body = confirmView(explanation, 'retry', pageContext()).text;
    expect(body).toContain('<form class="action" method="post" action="/actions/retry">');
    expect(body).toContain('<input type="hidden" name="token" value="tok-123">');
    expect(body).toContain('<input type="hidden" name="batch" value="province=ON,date=2026-08-01">');
    expect(confirmView(explanation, 'retry', pageContext({ readOnly: true, token: undefined })).text).not.toContain('<form');
  });
});

describe('the guard of actions', () => {
  const session = { readOnly: false, token: 'secret-token', port: 8421 };

  it('lets an action from the console itself, with the token, through', () => {
    expect(() => checkAction({ origin: 'http://127.0.0.1:8421', token: 'secret-token' }, session)).not.toThrow();
    expect(() => checkAction({ origin: 'http://localhost:8421', token: 'secret-token' }, session)).not.toThrow();
    expect(() => checkAction({ token: 'secret-token' }, session)).not.toThrow();
  });

  it('refuses read-only, a foreign origin, and a missing or wrong token', () => {
    expect(() => checkAction({ token: 'secret-token' }, { ...session, readOnly: true })).toThrow(/read-only/);
    expect(() => checkAction({ origin: 'http://evil.example', token: 'secret-token' }, session)).toThrow(ConsoleForbiddenError);
    expect(() => checkAction({ origin: 'http://127.0.0.1:9999', token: 'secret-token' }, session)).toThrow(/another origin/);
    expect(() => checkAction({ origin: 'http://127.0.0.1:8421' }, session)).toThrow(/no valid session token/);
    expect(() => checkAction({ origin: 'http://127.0.0.1:8421', token: 'secret-tokeN' }, session)).toThrow(/no valid session token/);
  });

  it('answers only requests addressed to its loopback address (no DNS rebinding)', () => {
    expect(() => checkHost('127.0.0.1:8421', 8421)).not.toThrow();
    expect(() => checkHost('LOCALHOST:8421', 8421)).not.toThrow();
    expect(() => checkHost('attacker.example:8421', 8421)).toThrow(ConsoleForbiddenError);
    expect(() => checkHost(undefined, 8421)).toThrow(ConsoleForbiddenError);
  });
});
