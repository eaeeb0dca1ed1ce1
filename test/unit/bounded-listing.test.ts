import { describe, expect, it } from 'vitest';
import { boundedListing, keyPrefixOf } from '../../shared/stages/resolve/bounded-listing';
import { UNRECORDED_HOLD_MS, holdReason, type ListedObject } from '../../shared/stages/resolve/unrecorded-hold';

/* Which dataset layouts give a batch a bounded listing (a prefix holding only its own keys), and when a listed object holds the batch. */

const dataset = (keyPattern: string, dateField = 'date') => ({ keyPattern, dateField });
const DAY = { date: '2026-12-01' };

describe('the bounded listing of a batch', () => {
  it.each([
    ['a day folder', 'meters/{date:YYYY-MM-DD}/{meter}.csv', ['date'], DAY, 'landing/meters/2026-12-01/'],
    ['a compact date folder and a fixed file', 'master/{date:YYYYMMDD}/Item.csv', ['date'], DAY, 'landing/master/20261201/Item.csv'],
    ['a Firehose date path', 'clicks/{date:YYYY/MM/DD}/{hour:HH}/{name:TEXT}', ['date'], DAY, 'landing/clicks/2026/12/01/'],
    [
      'a matched field before the date',
      'meters/{region}/{day:YYYYMMDD}/part-{part}.csv',
      ['region', 'day'],
      { region: 'north', day: '2026-05-01' },
      'landing/meters/north/20260501/part-',
    ],
    ['a date inside a file name', 'dms/orders/{date:YYYYMMDD}_LOAD{seq}.parquet', ['date'], DAY, 'landing/dms/orders/20261201_LOAD'],
  ])('lists %s: %s', (_what, pattern, match, values, prefix) => {
    const dateField = match.includes('day') ? 'day' : 'date';
    expect(boundedListing(dataset(pattern, dateField), { match }, values)?.prefix).toBe(prefix);
  });

  it.each([
    [
      'the store before the date (the POS sample)',
      'pos/{province}/{store}_{date:YYYYMMDD}_{time:HHMMSS}.tdf',
      ['province', 'date'],
      { province: 'ON', ...DAY },
    ],
    ['a folder the batch does not fix before the date', 'meters/{region}/{date:YYYYMMDD}/part-{part}.csv', ['date'], DAY],
    ['no date in the key at all for this batch', 'tariffs/{date:YYYYMMDD}.jsonl', ['region'], { region: 'north' }],
  ])('gives none for %s', (_what, pattern, match, values) => {
    expect(boundedListing(dataset(pattern), { match }, values)).toBeNull();
  });

  it("lists an archive's members from the archive's key, so the archive is seen before it is unpacked", () => {
    const listing = boundedListing(
      dataset('partner/{partner}_{day:YYYYMMDD}.zip!/orders.csv', 'day'),
      { match: ['partner', 'day'] },
      { partner: 'acme', day: '2026-12-07' },
    )!;
    expect(listing.prefix).toBe('landing/partner/acme_20261207.zip');
    expect(listing.kindOf('landing/partner/acme_20261207.zip')).toBe('archive');
    expect(listing.kindOf('landing/partner/acme_20261207.zip!/orders.csv')).toBe('file');
    // another dataset's member of the same archive, and a file of the same name outside it
    expect(listing.kindOf('landing/partner/acme_20261207.zip!/customers.csv')).toBeNull();
    expect(listing.kindOf('landing/partner/acme_20261207.zipx')).toBeNull();
  });

  it('gives none for an archive whose date is only in its member names (its key would list its whole history)', () => {
    expect(
      boundedListing(dataset('drops/{partner}.zip!/{day:YYYYMMDD}.csv', 'day'), { match: ['partner', 'day'] }, { partner: 'acme', day: '2026-12-07' }),
    ).toBeNull();
  });

  it("ignores keys under the prefix that are not the batch's files of the dataset", () => {
    const listing = boundedListing(dataset('meters/{date:YYYY-MM-DD}/{meter}.csv'), { match: ['date'] }, DAY)!;
    expect(listing.kindOf('landing/meters/2026-12-01/M001.csv')).toBe('file');
    expect(listing.kindOf('landing/meters/2026-12-01/summary.json')).toBeNull();
    expect(listing.kindOf('landing/meters/2026-12-01/sub/M001.csv')).toBeNull();
    expect(listing.kindOf('landing/meters/2026-12-01/M_001.csv')).toBeNull(); // `{meter}` takes no `_`
    expect(listing.kindOf('meters/2026-12-01/M001.csv')).toBeNull(); // not under landing/
  });

  it("ignores a file of another batch that shares the prefix's text (a matched field only the key's end fixes)", () => {
    const listing = boundedListing(dataset('sites/{date:YYYYMMDD}/{site}_{region}.csv'), { match: ['date', 'region'] }, { ...DAY, region: 'east' })!;
    expect(listing.prefix).toBe('landing/sites/20261201/');
    expect(listing.kindOf('landing/sites/20261201/a_east.csv')).toBe('file');
    expect(listing.kindOf('landing/sites/20261201/a_west.csv')).toBeNull();
  });
});

describe('an object the file-state table has not recorded', () => {
  const landed = new Date('2026-12-01T10:00:00.000Z');
  const object = (kind: ListedObject['kind'] = 'file'): ListedObject => ({
    key: 'landing/meters/2026-12-01/M001.csv',
    versionId: 'v2',
    eTag: 'new',
    size: 10,
    lastModified: landed,
    relation: 'readings',
    kind,
  });
  const at = (ms: number) => new Date(landed.getTime() + ms);

  it('holds the batch, naming the object, its version, its landing and how long it may hold', () => {
    expect(holdReason(object(), false, {}, at(60_000))).toBe(
      `readings: landing/meters/2026-12-01/M001.csv (version v2) landed at 2026-12-01T10:00:00.000Z is not yet recorded by validate (it holds the batch until ${new Date(landed.getTime() + UNRECORDED_HOLD_MS).toISOString()} at the latest)`,
    );
    // a newer version of a key the table knows is unrecorded too
    expect(holdReason(object(), false, { latest: { versionId: 'v1', eTag: 'old' } }, at(1000))).toMatch(/is not yet recorded by validate/);
  });

  it('no longer holds it once its hold has run out (validate may never record it)', () => {
    expect(holdReason(object(), false, {}, at(UNRECORDED_HOLD_MS - 1))).not.toBeNull();
    expect(holdReason(object(), false, {}, at(UNRECORDED_HOLD_MS))).toBeNull();
  });

  it('does not hold it for a version the evaluation saw, or one recorded in a state that never becomes an input', () => {
    expect(holdReason(object(), true, { state: 'RECEIVED' }, at(1000))).toBeNull();
    for (const state of ['REJECTED', 'UNRECOGNISED', 'SUPERSEDED', 'QUARANTINED', 'FAILED'] as const)
      expect(holdReason(object(), false, { state }, at(1000)), state).toBeNull();
  });

  it('holds it for a version recorded but not yet in the index the evaluation read', () => {
    expect(holdReason(object(), false, { state: 'RECEIVED' }, at(1000))).toBe(
      'readings: landing/meters/2026-12-01/M001.csv (version v2) is recorded RECEIVED but not yet indexed',
    );
    expect(holdReason(object(), false, { state: 'CONVERTED' }, at(1000))).toMatch(/recorded CONVERTED but not yet indexed/);
  });

  it('does not hold it for identical bytes re-landed over the newest recorded version (validate records no version for them)', () => {
    expect(holdReason(object(), false, { latest: { versionId: 'v1', eTag: 'new' } }, at(1000))).toBeNull();
  });

  it('holds it while an archive its files come from is unrecorded or still being unpacked, not once unpacked', () => {
    expect(holdReason(object('archive'), false, {}, at(1000))).toMatch(/^readings: archive landing\/.* is not yet recorded by validate/);
    expect(holdReason(object('archive'), false, { state: 'RECEIVED' }, at(1000))).toMatch(/is still being unpacked \(RECEIVED\)$/);
    expect(holdReason(object('archive'), false, { state: 'UNPACKED' }, at(1000))).toBeNull();
    expect(holdReason(object('archive'), false, { state: 'REJECTED' }, at(1000))).toBeNull();
  });
});

describe('the key prefix a batch reads its files of a day under (the index Query)', () => {
  it.each([
    [
      'the province of the POS layout, cut at the store',
      'pos/{province}/{store}_{date:YYYYMMDD}_{time:HHMMSS}.tdf',
      ['province', 'date'],
      { province: 'ON', date: '2026-12-01' },
      'landing/pos/ON/',
    ],
    [
      'a date-only input of a province batch',
      'master/{date:YYYYMMDD}/Item.csv',
      ['date'],
      { province: 'ON', date: '2026-12-01' },
      'landing/master/20261201/Item.csv',
    ],
    [
      'a field the input does not match on, left free',
      'pos/{province}/{store}_{date:YYYYMMDD}.tdf',
      ['date'],
      { province: 'ON', date: '2026-12-01' },
      'landing/pos/',
    ],
    ['a Firehose date path', 'clicks/{date:YYYY/MM/DD}/{hour:HH}/{name:TEXT}', ['date'], DAY, 'landing/clicks/2026/12/01/'],
  ])('%s: %s', (_what, pattern, match, values, prefix) => {
    expect(keyPrefixOf(dataset(pattern), { match }, values)).toBe(prefix);
  });
});
