import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { describe, expect, it } from 'vitest';
import { parseBadLine } from '../../shared/core/feeds/canonical';
import { lineMapper } from '../../shared/core/feeds/line-mapper';
import { MAX_LINE_BYTES } from '../../shared/core/datasets/line-limits';

const mapped = (chunks: Array<string | Buffer>, map: (line: string) => string = (l) => `<${l}>`) =>
  text(Readable.from(chunks.map((c) => (typeof c === 'string' ? Buffer.from(c) : c))).pipe(lineMapper(map)));

describe('lineMapper: one mapped line per line of text', () => {
  it('maps every line, CRLF or LF, the last one without a line end included', async () => {
    expect(await mapped(['a\r\nb\n', 'c'])).toBe('<a>\n<b>\n<c>\n');
    expect(await mapped(['a\n\nb\n'])).toBe('<a>\n<>\n<b>\n');
  });

  it('joins lines and characters split across chunks', async () => {
    const euro = Buffer.from('x€y\n');
    expect(await mapped([euro.subarray(0, 2), euro.subarray(2, 3), euro.subarray(3)])).toBe('<x€y>\n');
    expect(await mapped(['ab', 'c', '\nd', 'e'])).toBe('<abc>\n<de>\n');
  });

  it('turns a line too long into one bad line without holding it, and goes on', async () => {
    const long = 'x'.repeat(MAX_LINE_BYTES + 10);
    const out = (await mapped([long.slice(0, 1000), long.slice(1000), '\nnext\n'])).split('\n');
    expect(out).toHaveLength(3);
    const bad = parseBadLine(out[0]!);
    expect(bad?.reason).toMatch(/line longer than 1048576 bytes/);
    expect(bad?.text.length).toBe(1000);
    expect(out[1]).toBe('<next>');
  });

  it('writes nothing for empty input', async () => {
    expect(await mapped([])).toBe('');
  });
});

describe('lineMapper and a byte order mark', () => {
  it('drops a BOM before the first line only', async () => {
    expect(await mapped(['\uFEFFa\n\uFEFFb\n'])).toBe('<a>\n<\uFEFFb>\n');
    const bom = Buffer.from('\uFEFF{}\n');
    expect(await mapped([bom.subarray(0, 1), bom.subarray(1)])).toBe('<{}>\n');
  });
});
