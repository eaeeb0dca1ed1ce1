import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { landDirectory } from '../ops/land';
import { PREFIX } from '../shared/core/s3/layout';
import type { ReceivedEvent } from '../local/eventbridge';
import { itemMaster, masterKey, storeFile, storeKey, writeFiles } from './support/pos-files';
import { useLocalStack } from './support/local-stack';

/*
 * The events function on the local stack: a small day lands (Ontario's five stores and the item
 * master), and the local EventBridge receives one "File state changed" event per state each file
 * version entered and "Run state changed" / "Batch state changed" events for the run, with the
 * detail an operator's rule routes on. PutEvents fails on the way (a failed entry, a throttled
 * request, entries failing past the function's own retries): nothing is lost.
 */
// INFO: the events function logs its EMF lines through the Powertools logger (a local stack logs WARN by default)
const stack = useLocalStack({ handlerLogLevel: 'INFO' });
const DATE = '2026-11-23';
const STORES = ['ON01', 'ON02', 'ON03', 'ON04', 'ON05'];

// the events function's EMF lines (the logger writes them to this process's stdout)
const logged: string[] = [];
const write = process.stdout.write.bind(process.stdout);
const log = vi.spyOn(process.stdout, 'write').mockImplementation(((chunk: unknown, ...rest: unknown[]) => {
  const text = String(chunk);
  if (text.includes('"FileStateChanges"')) {
    logged.push(...text.split('\n').filter((l) => l.includes('"FileStateChanges"')));
    return true;
  }
  return (write as (...a: unknown[]) => boolean)(chunk, ...rest);
}) as typeof process.stdout.write);
afterAll(() => log.mockRestore());

/** The events received, one per stream record (a redelivered record's event has the same eventId). */
const distinct = (events: ReceivedEvent[]) => [...new Map(events.map((e) => [String(e.detail.eventId), e])).values()];
const ofType = (type: string) =>
  distinct(
    stack()
      .eventBridge.events()
      .filter((e) => e.detailType === type),
  );

describe('state-change events on EventBridge', () => {
  it('a landed day: an event per file state change and per run and batch status, nothing lost to failed PutEvents', { timeout: 300_000 }, async () => {
    const { eventBridge, s3, deployment } = stack();
    // a file's first event fails once (put again by the function), one request is throttled (the SDK
    // retries it), and the run's events fail more often than the function tries (the stream delivers them again)
    eventBridge.failEntries({ entries: 1, detailType: 'File state changed' });
    eventBridge.fault('PutEvents', { kind: 'throttle', times: 1 });
    eventBridge.failEntries({ entries: 6, detailType: 'Run state changed' });

    const dir = await mkdtemp(join(tmpdir(), 'landfall-events-'));
    await writeFiles(dir, { ...Object.fromEntries(STORES.map((s) => [storeKey(s, DATE), storeFile(s, DATE, 12)])), [masterKey(DATE)]: itemMaster() });
    await landDirectory(s3, deployment.names.rawBucket, dir);
    await stack().settled(1000, 240_000);

    const { runs } = await stack().jobRuns.listAll();
    const run = runs.find((r) => r.job === 'pos_daily_sales' && r.values.province === 'ON');
    expect(run?.status).toBe('SUCCEEDED');
    // the run's last event may follow its last write by a stream poll
    await vi.waitFor(() => expect(ofType('Run state changed').some((e) => e.detail.state === 'SUCCEEDED')).toBe(true), { timeout: 10_000, interval: 100 });

    // every file version: its events are the states it entered, in order, each naming the one it left
    const files = await stack().fileStates.listAll();
    expect(files).toHaveLength(STORES.length + 1);
    const fileEvents = ofType('File state changed');
    for (const file of files) {
      const object = `${file.key}@${file.versionId}`;
      const events = fileEvents.filter((e) => e.detail.object === object).sort((a, b) => String(a.detail.at).localeCompare(String(b.detail.at)));
      const states = events.map((e) => e.detail.state);
      expect(states[0], object).toBe('RECEIVED');
      expect(states.at(-1), object).toBe('CONVERTED');
      // each state entered once (VALIDATED is skipped when the Parquet was tracked first)
      expect(new Set(states).size, object).toBe(states.length);
      expect(
        states.every((s) => file.history.some((h) => h.state === s)),
        object,
      ).toBe(true);
      expect(events.map((e) => e.detail.previousState)).toEqual([null, ...states.slice(0, -1)]);
      for (const e of events) {
        expect(e).toMatchObject({ source: 'landfall', bus: `${deployment.service}-${deployment.stage}` });
        expect(e.detail).toMatchObject({ stage: deployment.stage, key: file.key, versionId: file.versionId, dataset: file.dataset });
      }
    }
    const store = fileEvents.find((e) => e.detail.key === `${PREFIX.landing}${storeKey('ON03', DATE)}` && e.detail.state === 'CONVERTED');
    expect(store?.detail).toMatchObject({
      dataset: 'pos',
      fields: { province: 'ON', store: 'ON03', date: DATE },
      batches: [{ job: 'pos_daily_sales', batch: { province: 'ON', date: DATE } }],
      rows: { in: 12, out: 12, rejected: 0 },
    });

    // the run: claimed, running, succeeded, with its batch, execution and stage
    const runEvents = ofType('Run state changed').filter((e) => e.detail.executionName === run!.executionName);
    expect(runEvents.map((e) => [e.detail.previousState, e.detail.state])).toEqual([
      [null, 'CLAIMED'],
      ['CLAIMED', 'RUNNING'],
      ['RUNNING', 'SUCCEEDED'],
    ]);
    for (const e of runEvents) {
      expect(e.detail).toMatchObject({
        stage: deployment.stage,
        job: 'pos_daily_sales',
        batch: { province: 'ON', date: DATE },
        batchId: run!.batchId,
        attempt: 1,
      });
    }
    expect(runEvents.at(-1)!.detail.executionArn).toBe(run!.executionArn);
    // the batch ends SUCCEEDED, having run
    const batchStates = ofType('Batch state changed')
      .filter((e) => e.detail.batchId === run!.batchId)
      .map((e) => e.detail.state);
    expect(batchStates).toContain('RUNNING');
    expect(batchStates.at(-1)).toBe('SUCCEEDED');

    // the faults did happen: entries failed (the run's past the function's tries: delivered again), a request was throttled
    expect(eventBridge.failedEntries()).toBe(7);
    expect(stack().lambdas.failures).toEqual([]);

    // FileStateChanges by State: each change counted once, though some records were delivered again
    const counted = new Map<string, number>();
    for (const line of logged.filter((l) => l.includes('"FileStateChanges"'))) {
      const m = JSON.parse(line) as { State: string; FileStateChanges: number };
      counted.set(m.State, (counted.get(m.State) ?? 0) + m.FileStateChanges);
    }
    const expected = new Map<string, number>();
    for (const e of fileEvents) expected.set(String(e.detail.state), (expected.get(String(e.detail.state)) ?? 0) + 1);
    expect(counted).toEqual(expected);
    expect(counted.get('CONVERTED')).toBe(STORES.length + 1);
  });
});
