import { describe, expect, it } from 'vitest';
import { compareSequencers, decodeS3Key, objectRefs } from '../../shared/core/s3/event-records';
import { landedVersionOfReport, processedKey, rejectsKey, reportKey, validatedKey } from '../../shared/core/s3/layout';
import { encodeKeyAsAws, toAwsRecord } from '../../local/s3-notifications';

describe('S3 keys in events', () => {
  it.each([
    ['landing/pos/ON/a+b.tdf', 'landing/pos/ON/a b.tdf'],
    ['landing/pos/ON/a%2Bb.tdf', 'landing/pos/ON/a+b.tdf'],
    ['landing/100%25+sure.tdf', 'landing/100% sure.tdf'],
    ['landing/caf%C3%A9/%E5%BA%97.tdf', 'landing/café/店.tdf'],
  ])('decodes %s once', (encoded, key) => {
    expect(decodeS3Key(encoded)).toBe(key);
  });

  it.each(['landing/a b+c%/é (1).txt', 'landing/x%2Fy.tdf', 'landing/日本/ファイル 1.tdf'])('round-trips %s through the AWS encoding', (key) => {
    const encoded = encodeKeyAsAws(key);
    expect(encoded).not.toContain(' ');
    expect(decodeS3Key(encoded)).toBe(key);
  });

  it('re-shapes a MinIO record into an AWS record', () => {
    const record = toAwsRecord({
      eventTime: '2026-11-24T04:23:37.294Z',
      eventName: 's3:ObjectCreated:Put',
      awsRegion: 'us-east-1',
      s3: { bucket: { name: 'raw' }, object: { key: 'landing%2Fa+b%2Bc%25%2F%C3%A9+%281%29.txt', size: 5, eTag: 'abc', versionId: 'v1', sequencer: '18EA' } },
    });
    expect(record.eventSource).toBe('aws:s3');
    expect(record.eventName).toBe('ObjectCreated:Put');
    expect(record.s3.object.key).toBe('landing/a+b%2Bc%25/%C3%A9+(1).txt');
    const [ref] = objectRefs({ Records: [record] });
    expect(ref).toMatchObject({ bucket: 'raw', key: 'landing/a b+c%/é (1).txt', versionId: 'v1', eTag: 'abc', size: 5 });
  });

  it('orders sequencers of different lengths numerically', () => {
    expect(compareSequencers('0A', 'B')).toBeLessThan(0);
    expect(compareSequencers('18EAE07A4A0A2428', '18EAE07A4A0A2429')).toBeLessThan(0);
    expect(compareSequencers('100', 'FF')).toBeGreaterThan(0);
    expect(compareSequencers('00FF', 'FF')).toBe(0);
  });

  it('rejects an event without records as malformed', () => {
    expect(() => objectRefs({} as never)).toThrow(/no Records/);
  });
});

describe('output layout', () => {
  it('keeps every output outside landing/ and names reports per version', () => {
    expect(validatedKey('pos/ON/a.tdf')).toBe('validated/pos/ON/a.tdf');
    expect(rejectsKey('pos/ON/a.tdf', 'v1')).toBe('rejected/pos/ON/a.tdf@v1.rejects.csv');
    expect(reportKey('pos/ON/a.tdf', undefined)).toBe('reports/pos/ON/a.tdf@null.json');
  });

  it('partitions Parquet by dt and the dataset partitions, escaping values', () => {
    expect(processedKey('pos', '2026-11-23', [['province', 'ON']], 'pos/ON/ON01_20261123_140000.tdf')).toBe(
      'processed/pos/dt=2026-11-23/province=ON/ON01_20261123_140000.parquet',
    );
    expect(processedKey('x', '2026-11-23', [['p', 'a/b=c']], 'x/f.csv')).toBe('processed/x/dt=2026-11-23/p=a%2Fb%3Dc/f.parquet');
  });
});

describe('report keys back to the landed version (the failed-events queue names reports)', () => {
  it('inverts reportKey, keys with @ included, and refuses other keys', () => {
    expect(landedVersionOfReport(reportKey('pos/ON/a@b c.tdf', 'v1'))).toEqual({ key: 'landing/pos/ON/a@b c.tdf', versionId: 'v1' });
    expect(landedVersionOfReport(reportKey('master/20261123/Item.csv', undefined))).toEqual({ key: 'landing/master/20261123/Item.csv', versionId: 'null' });
    expect(landedVersionOfReport('reports/no-version.json')).toBeNull();
    expect(landedVersionOfReport('validated/pos/ON/a.tdf')).toBeNull();
  });
});
