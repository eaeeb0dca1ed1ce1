import { describe, expect, it } from 'vitest';
import { compilePipeline, resolveLandingKey } from '../../shared/core/config/load-config';
import { archiveOrigin, memberKey } from '../../shared/stages/validate/archive-members';

const pipeline = compilePipeline({
  archives: [{ keyPattern: 'drops/{partner}/{name:TEXT}' }],
  datasets: [
    {
      name: 'orders',
      keyPattern: 'drops/{partner}/{name:TEXT}!/orders_{date:YYYYMMDD}.csv',
      format: { kind: 'delimited', delimiter: ';' },
      columns: [{ name: 'id', kind: 'integer' }],
      partitionBy: ['partner', 'name'],
      dateField: 'date',
    },
  ],
});

describe('archive keys', () => {
  it('resolves an archive, with its limits filled in', () => {
    const resolved = resolveLandingKey(pipeline, 'drops/acme/2026-12-07.zip');
    expect(resolved).toEqual({
      kind: 'archive',
      archive: { keyPattern: 'drops/{partner}/{name:TEXT}', maxMembers: 1000, maxUnpackedBytes: 4 * 1024 ** 3, maxRatio: 200 },
      fields: { partner: 'acme', name: '2026-12-07.zip' },
    });
  });

  it('resolves a member by the datasets, never as an archive again (a zip inside a zip is a member)', () => {
    expect(resolveLandingKey(pipeline, 'drops/acme/d.zip!/orders_20261207.csv')).toMatchObject({
      kind: 'matched',
      fields: { partner: 'acme', date: '2026-12-07' },
    });
    // `{name:TEXT}` would match `inner.zip`: the member is still not unpacked
    expect(resolveLandingKey(pipeline, 'drops/acme/d.zip!/inner.zip').kind).toBe('unrecognised');
  });

  it('names a member under landing/ after its archive, and reads its origin back from its metadata', () => {
    const key = memberKey('drops/acme/d.zip', 'données/orders_20261207.csv');
    expect(key).toBe('landing/drops/acme/d.zip!/données/orders_20261207.csv');
    const metadata = {
      'landfall-archive': encodeURIComponent('landing/drops/acme/d.zip'),
      'landfall-archive-version': 'v1',
      'landfall-member': encodeURIComponent('données/orders_20261207.csv'),
    };
    expect(archiveOrigin(key, metadata)).toEqual({ key: 'landing/drops/acme/d.zip', versionId: 'v1', member: 'données/orders_20261207.csv' });
    // an object put by hand with the same metadata is no member unless its key is one
    expect(archiveOrigin('landing/drops/acme/orders.csv', metadata)).toBeUndefined();
  });
});
