import { describe, expect, it } from 'vitest';
import type { SourceVersion } from '../shared/core/state/file-state';
import { useLocalStack } from './support/local-stack';

const stack = useLocalStack();

const version = (key: string, versionId: string, sequencer: string, eTag = 'e1'): SourceVersion => ({
  bucket: 'raw',
  key,
  versionId,
  eTag,
  size: 10,
  sequencer,
  eventTime: '2026-11-23T10:00:00.000Z',
});

describe('the file-state store on DynamoDB Local', () => {
  it('keeps the highest state when events arrive out of order, with the full history', async () => {
    const store = stack().fileStates;
    const v = version('landing/a.tdf', 'v1', '0A');
    expect(await store.recordTransition(v, 'CONVERTED', { parquetRows: 5, outputs: { processed: 'processed/a.parquet' } })).toBe('applied');
    expect(await store.recordTransition(v, 'VALIDATED', { rows: { in: 5, out: 5, rejected: 0, junk: 0 } })).toBe('history-only');
    expect(await store.recordTransition(v, 'RECEIVED')).toBe('history-only');
    const item = await store.get('landing/a.tdf', 'v1');
    expect(item).toMatchObject({ state: 'CONVERTED', parquetRows: 5, processedKey: 'processed/a.parquet', rows: { in: 5, out: 5, rejected: 0, junk: 0 } });
    expect(item!.history.map((h) => h.state)).toEqual(['CONVERTED', 'VALIDATED', 'RECEIVED']);
  });

  it("reads a dataset's files of a day, or only those under a batch's key prefix", async () => {
    const store = stack().fileStates;
    const keys = [
      'landing/prefixed/ON/ON01_20261201.tdf',
      'landing/prefixed/ON/ON02_20261201.tdf',
      'landing/prefixed/QC/QC01_20261201.tdf',
      'landing/prefixed/ONT/X_20261201.tdf',
    ];
    for (const [i, key] of keys.entries()) {
      const province = key.split('/')[2]!;
      await store.recordTransition(version(key, `v${i}`, `0P${i}`), 'CONVERTED', {
        dataset: 'prefixed',
        date: '2026-12-01',
        fields: { province, date: '2026-12-01' },
      });
    }
    const keysOf = async (prefix?: string) => (await store.filesOf('prefixed', '2026-12-01', prefix)).map((f) => f.key).sort();
    expect(await keysOf()).toEqual([...keys].sort());
    expect(await keysOf('landing/prefixed/ON/')).toEqual(keys.slice(0, 2));
    expect(await keysOf('landing/prefixed/NB/')).toEqual([]);
  });

  it('records a transition once, however often it is retried', async () => {
    const store = stack().fileStates;
    const v = version('landing/b.tdf', 'v1', '0B');
    await store.recordTransition(v, 'RECEIVED');
    expect(await store.recordTransition(v, 'REJECTED', { reason: 'empty file (0 bytes)' })).toBe('applied');
    expect(await store.recordTransition(v, 'REJECTED', { reason: 'empty file (0 bytes)' })).toBe('already-recorded');
    expect(await store.recordTransition(v, 'RECEIVED')).toBe('already-recorded');
    const item = await store.get('landing/b.tdf', 'v1');
    expect(item).toMatchObject({ state: 'REJECTED', reason: 'empty file (0 bytes)' });
    expect(item!.history).toHaveLength(2);
  });

  it('claims the newest version, and sees re-landed identical bytes and late older versions', async () => {
    const store = stack().fileStates;
    const key = 'landing/c.tdf';
    expect(await store.receive(version(key, 'v2', '0B2', 'etag-2'))).toEqual({ kind: 'new' });
    // the claim and RECEIVED are one write
    expect(await store.get(key, 'v2')).toMatchObject({ state: 'RECEIVED', history: [{ state: 'RECEIVED' }] });
    // the event of an older version arrives after the newer one was claimed
    expect(await store.receive(version(key, 'v1', '0A1', 'etag-1'))).toEqual({ kind: 'superseded', by: 'v2' });
    // the same bytes land again as version 3
    expect(await store.receive(version(key, 'v3', '0C3', 'etag-2'))).toEqual({ kind: 'duplicate', of: 'v2' });
    expect(await store.get(key, 'v3')).toBeUndefined();
    // a redelivered event of the claiming version is still its own claim, recorded once
    expect(await store.receive(version(key, 'v2', '0B2', 'etag-2'))).toEqual({ kind: 'new' });
    expect((await store.get(key, 'v2'))!.history).toHaveLength(1);
    // the same bytes again, but put as a replay: claimed, and the late v1 is still superseded
    let asked = 0;
    expect(await store.receive(version(key, 'v4', '0D4', 'etag-2'), { isReplay: async () => (asked += 1) > 0 })).toEqual({ kind: 'new' });
    expect(asked).toBe(1);
    expect(await store.get(key, 'v4')).toMatchObject({ state: 'RECEIVED' });
    expect(await store.receive(version(key, 'v1', '0A1', 'etag-1'))).toEqual({ kind: 'superseded', by: 'v4' });
  });

  it('re-validates identical bytes when the earlier version was rejected', async () => {
    const store = stack().fileStates;
    const key = 'landing/d.tdf';
    const first = version(key, 'v1', '01', 'same');
    expect(await store.receive(first)).toEqual({ kind: 'new' });
    await store.recordTransition(first, 'UNRECOGNISED', { reason: 'key matches no dataset' });
    expect(await store.receive(version(key, 'v2', '02', 'same'))).toEqual({ kind: 'new' });
  });

  it('lets exactly one of many concurrent versions of a key become the newest', async () => {
    const store = stack().fileStates;
    const key = 'landing/e.tdf';
    const versions = Array.from({ length: 8 }, (_, i) => version(key, `v${i}`, `0${i}`, `etag-${i}`));
    const claims = await Promise.all(versions.map((v) => store.receive(v)));
    // whatever the interleaving, the newest version always wins its claim
    expect(claims[7]).toEqual({ kind: 'new' });
    // each version is recorded as RECEIVED exactly once, whichever way its claim went
    for (const v of versions) expect((await store.get(key, v.versionId))!.history.map((h) => h.state)).toEqual(['RECEIVED']);
    expect(await store.receive(version(key, 'v0', '00', 'etag-0'))).toEqual({ kind: 'superseded', by: 'v7' });
  });
});
