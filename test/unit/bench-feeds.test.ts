import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CSV_HEADER, csvLine, feedsPipeline, jsonLine, ORDER_COLUMNS, orderText } from '../../bench/lib/feed-data';
import { loadPipelineFile } from '../../shared/core/config/load-config';
import { splitFields } from '../../shared/stages/validate/delimited';

async function text(bytes: number, line: typeof csvLine, header: string): Promise<string> {
  let all = '';
  for await (const chunk of orderText(bytes, line, header)) all += chunk;
  return all;
}

describe('the feeds benchmark inputs', () => {
  it('is a pipeline the loader accepts (the bench builds the functions with it)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bench-feeds-'));
    try {
      await writeFile(join(dir, 'pipeline.json'), JSON.stringify(feedsPipeline()));
      const pipeline = loadPipelineFile(join(dir, 'pipeline.json'));
      expect([...pipeline.datasetsByName.keys()].sort()).toEqual(['feed_csv', 'feed_jsonl', 'feed_zip_part']);
      expect(pipeline.archives).toHaveLength(1);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('writes CSV lines of the declared columns, quoting a name that holds the delimiter', async () => {
    const csv = await text(200_000, csvLine, CSV_HEADER);
    const lines = csv.trimEnd().split('\n');
    expect(lines[0]).toBe(ORDER_COLUMNS.map((c) => c.name).join(','));
    expect(lines.some((l) => /,"[^"]+, [^"]+",/.test(l))).toBe(true);
    for (const line of lines.slice(1)) expect(splitFields(line, ',')).toHaveLength(ORDER_COLUMNS.length);
    // about the size asked for (the stop is counted in characters within a chunk: a name with ü is a byte more)
    expect(Buffer.byteLength(csv)).toBeGreaterThanOrEqual(200_000);
    expect(Buffer.byteLength(csv)).toBeLessThan(202_000);
  });

  it('writes one flat JSON object per line with every column', async () => {
    const lines = (await text(50_000, jsonLine, '')).trimEnd().split('\n');
    for (const line of lines) {
      const record = JSON.parse(line) as Record<string, unknown>;
      expect(Object.keys(record)).toEqual(ORDER_COLUMNS.map((c) => c.name));
      expect(String(record.amount)).toMatch(/^\d+(\.\d+)?$/);
    }
  });
});
