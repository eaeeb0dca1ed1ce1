import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { DatasetConfig } from '../../shared/core/config/types';
import { MAX_MANIFEST_PARTS, readManifest, summarizeManifest } from '../../shared/stages/validate/manifest-summary';

const manifestDataset = (kind: 'lists' | 'counts', column = 'part'): DatasetConfig => ({
  name: 'event_manifests',
  keyPattern: 'manifests/{region}/{date:YYYYMMDD}.csv',
  format: { kind: 'delimited', delimiter: ',' },
  columns: [
    { name: 'region', kind: 'string' },
    { name: column, kind: kind === 'counts' ? 'integer' : 'string' },
  ],
  manifest: { column, kind },
  partitionBy: ['region'],
  dateField: 'date',
  maxBadRowRatio: 0.5,
});

const lists = manifestDataset('lists');
const counts = manifestDataset('counts', 'parts');

const dir = mkdtempSync(join(tmpdir(), 'landfall-manifest-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
function goodCsv(content: string): string {
  files += 1;
  const path = join(dir, `good-${files}.csv`);
  writeFileSync(path, content);
  return path;
}

describe('summarizing a manifest', () => {
  it('lists each part once, in file order', () => {
    expect(summarizeManifest(['p2', 'p1', 'p2', 'p3'], lists)).toEqual({ summary: { parts: ['p2', 'p1', 'p3'] } });
  });

  it('is a problem when it lists no part, or more than can be kept', () => {
    expect(summarizeManifest([], lists)).toEqual({ problem: 'the manifest lists no parts' });
    const many = Array.from({ length: MAX_MANIFEST_PARTS + 1 }, (_, i) => `p${i}`);
    expect(summarizeManifest(many, lists)).toEqual({
      problem: `the manifest lists ${MAX_MANIFEST_PARTS + 1} parts; at most ${MAX_MANIFEST_PARTS} are supported`,
    });
    // duplicates do not count toward the bound
    expect(summarizeManifest([...many.slice(0, MAX_MANIFEST_PARTS), 'p0'], lists)).toMatchObject({ summary: { parts: expect.any(Array) } });
  });

  it("reads a counting manifest's one row as a number", () => {
    expect(summarizeManifest(['3'], counts)).toEqual({ summary: { count: 3 } });
    expect(summarizeManifest(['007'], counts)).toEqual({ summary: { count: 7 } });
  });

  it('is a problem when a counting manifest has no row or several', () => {
    expect(summarizeManifest([], counts)).toEqual({ problem: 'a counting manifest has exactly one row with parts; this one has 0 good rows' });
    expect(summarizeManifest(['3', '3'], counts)).toEqual({ problem: 'a counting manifest has exactly one row with parts; this one has 2 good rows' });
  });

  // The count column is an integer column, so validation lets "-1" through; kept, it would let the
  // manifest precondition (have >= count) be met by a batch with no parts at all. A manifest "that
  // says nothing usable is a problem" (the function's own rule, as for a list of no parts).
  it('is a problem when a counting manifest holds a negative count', () => {
    expect(summarizeManifest(['-1'], counts)).toHaveProperty('problem');
    expect(summarizeManifest(['-12'], counts)).toEqual({ problem: 'the manifest counts -12 parts; a count cannot be negative' });
  });
});

describe('reading a manifest from its good rows', () => {
  it('takes the manifest column by its header, honouring CSV quotes', async () => {
    const path = goodCsv('region,part\nEAST,p1\nEAST,"p,2"\nEAST,"p""3"\nEAST,p1\n');
    expect(await readManifest(path, lists)).toEqual({ summary: { parts: ['p1', 'p,2', 'p"3'] } });
  });

  it('finds the column wherever the header puts it', async () => {
    const path = goodCsv('part,region\np9,EAST\np8,EAST\n');
    expect(await readManifest(path, lists)).toEqual({ summary: { parts: ['p9', 'p8'] } });
  });

  it('reads the count of a counting manifest', async () => {
    expect(await readManifest(goodCsv('region,parts\nEAST,12\n'), counts)).toEqual({ summary: { count: 12 } });
    expect(await readManifest(goodCsv('region,parts\nEAST,12\nEAST,13\n'), counts)).toEqual({
      problem: 'a counting manifest has exactly one row with parts; this one has 2 good rows',
    });
  });

  it('is a problem when no row is left, or the header has no manifest column', async () => {
    expect(await readManifest(goodCsv('region,part\n'), lists)).toEqual({ problem: 'the manifest lists no parts' });
    expect(await readManifest(goodCsv(''), lists)).toEqual({ problem: 'the manifest lists no parts' });
    expect(await readManifest(goodCsv('region,name\nEAST,p1\n'), lists)).toEqual({ problem: 'the manifest lists no parts' });
  });
});
