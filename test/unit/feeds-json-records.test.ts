import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { badLine, FeedRejection, parseBadLine } from '../../shared/core/feeds/canonical';
import { type JsonLayout, jsonRecords } from '../../shared/core/feeds/json-records';

/** The lines `jsonRecords` writes for `input`, fed in chunks of `chunkSize` bytes. */
async function records(layout: JsonLayout, input: string | Buffer, chunkSize = 1 << 16, maxRecordBytes?: number): Promise<string[]> {
  const bytes = Buffer.isBuffer(input) ? input : Buffer.from(input, 'utf8');
  const chunks: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += chunkSize) chunks.push(bytes.subarray(i, i + chunkSize));
  const out: Buffer[] = [];
  await pipeline(Readable.from(chunks), jsonRecords(layout, { maxRecordBytes }), async (source: AsyncIterable<Buffer>) => {
    for await (const c of source) out.push(c);
  });
  const text = Buffer.concat(out).toString('utf8');
  if (text === '') return [];
  expect(text.endsWith('\n')).toBe(true);
  return text.slice(0, -1).split('\n');
}

/** Every line parses back to the value given (so nothing was changed inside a record). */
const parsed = (lines: string[]) => lines.map((l) => JSON.parse(l));

describe('concatenated JSON records', () => {
  it('passes JSON lines through, one record per line', async () => {
    expect(await records('concatenated', '{"a":1}\n{"a":2}\n')).toEqual(['{"a":1}', '{"a":2}']);
    expect(await records('concatenated', '{"a":1}\r\n{"a":2}')).toEqual(['{"a":1}', '{"a":2}']);
  });

  it('splits records written with no separator, or any whitespace between them', async () => {
    expect(await records('concatenated', '{"a":1}{"a":2}\n{"a":3}  \t {"a":4}\n\n')).toEqual(['{"a":1}', '{"a":2}', '{"a":3}', '{"a":4}']);
  });

  it('follows nesting, and ignores braces, brackets and quotes inside strings', async () => {
    const tricky = [
      { user: { geo: { country: 'CA' } }, tags: ['a', ['b']] },
      { text: 'a } closing brace { and ] [ inside' },
      { text: 'an escaped \\" quote and a \\\\ backslash', after: '}' },
      { text: 'ends with a backslash \\' },
      { emoji: '😀 Zoë', nested: [{ x: [] }, {}] },
    ];
    const input = tricky.map((r) => JSON.stringify(r)).join('');
    expect(parsed(await records('concatenated', input))).toEqual(tricky);
    expect(parsed(await records('concatenated', input, 1))).toEqual(tricky);
    expect(parsed(await records('concatenated', input, 3))).toEqual(tricky);
  });

  it('keeps a pretty-printed record on one line', async () => {
    const record = { id: 1, user: { name: 'Ann', tags: ['x', 'y'] } };
    const input = `${JSON.stringify(record, null, 2)}\n${JSON.stringify(record, null, '\t')}\r\n`;
    const lines = await records('concatenated', input);
    expect(lines).toHaveLength(2);
    expect(parsed(lines)).toEqual([record, record]);
  });

  it('drops a UTF-8 byte order mark at the start', async () => {
    expect(await records('concatenated', '\uFEFF{"a":1}{"a":2}')).toEqual(['{"a":1}', '{"a":2}']);
    expect(await records('concatenated', '\uFEFF{"a":1}', 1)).toEqual(['{"a":1}']);
  });

  it('writes a malformed but balanced record as its line, for the engine to reject', async () => {
    expect(await records('concatenated', '{"a":}{"b":1}')).toEqual(['{"a":}', '{"b":1}']);
  });

  it('writes top-level values that are not objects as lines of their own', async () => {
    expect(await records('concatenated', '123 true"s"{"a":1}[1,2]null')).toEqual(['123', 'true', '"s"', '{"a":1}', '[1,2]', 'null']);
    expect(await records('concatenated', '}{"a":1}')).toEqual(['}', '{"a":1}']);
    // a value starting with a canonical mark must not be taken for a junk or bad line
    expect(await records('concatenated', '\u0001junk {"a":1}\u0002x')).toEqual([
      badLine('not a JSON value', '\u0001junk'),
      '{"a":1}',
      badLine('not a JSON value', '\u0002x'),
    ]);
  });

  it('makes a truncated record a bad line, with its first 1000 characters', async () => {
    const lines = await records('concatenated', `{"a":1}\n{"b":"${'x'.repeat(5000)}`);
    expect(lines[0]).toBe('{"a":1}');
    expect(lines).toHaveLength(2);
    expect(parseBadLine(lines[1]!)).toEqual({ reason: 'truncated JSON record', text: `{"b":"${'x'.repeat(994)}` });
    expect(await records('concatenated', '{"a":{"b":1}', 1)).toEqual([badLine('truncated JSON record', '{"a":{"b":1}')]);
  });

  it('makes a record with a raw line end inside a string a bad line, never two lines', async () => {
    const lines = await records('concatenated', '{"a":"two\nlines"}{"b":1}');
    expect(lines).toEqual([badLine('raw line end inside a JSON string', '{"a":"two lines"}'), '{"b":1}']);
    expect(await records('concatenated', '{"a":"two\r\nlines"}', 1)).toEqual([badLine('raw line end inside a JSON string', '{"a":"two  lines"}')]);
  });

  it('handles multi-byte characters split across chunks', async () => {
    const record = { name: 'Łukasz 😀 Zoë 北京' };
    for (const size of [1, 2, 3, 5]) expect(parsed(await records('concatenated', JSON.stringify(record).repeat(3), size))).toEqual([record, record, record]);
  });

  it('gives the same lines whatever the chunking (1-byte chunks)', async () => {
    const input = '\uFEFF{"a":[1,{"b":"}\\""}]}  {"c":"\\\\"}\n[true]"x"7 {"d":"é"}';
    const whole = await records('concatenated', input);
    expect(whole).toEqual(['{"a":[1,{"b":"}\\""}]}', '{"c":"\\\\"}', '[true]', '"x"', '7', '{"d":"é"}']);
    expect(await records('concatenated', input, 1)).toEqual(whole);
  });

  it('makes a record over the limit a bad line without holding it', async () => {
    const big = `{"blob":"${'y'.repeat(10_000)}"}`;
    const lines = await records('concatenated', `{"a":1}${big}{"a":2}`, 1000, 4096);
    expect(lines).toHaveLength(3);
    expect(lines[0]).toBe('{"a":1}');
    expect(parseBadLine(lines[1]!)).toEqual({ reason: 'record longer than 4096 bytes', text: big.slice(0, 1000) });
    expect(lines[2]).toBe('{"a":2}');
    // counted in UTF-8 bytes, not characters: 2100 × "é" is 4200 bytes, 2100 characters
    const accented = `{"s":"${'é'.repeat(2100)}"}`;
    expect(parseBadLine((await records('concatenated', accented, 1 << 16, 4096))[0]!)?.reason).toBe('record longer than 4096 bytes');
    expect(await records('concatenated', `{"s":"${'e'.repeat(4000)}"}`, 1 << 16, 4096)).toHaveLength(1);
    expect(parseBadLine((await records('concatenated', `{"s":"${'e'.repeat(4000)}"}`, 1 << 16, 4096))[0]!)).toBeNull();
  });

  it('writes nothing for an empty or blank input', async () => {
    expect(await records('concatenated', '')).toEqual([]);
    expect(await records('concatenated', ' \n\r\n ')).toEqual([]);
  });
});

describe('a top-level JSON array', () => {
  it('writes its elements one per line', async () => {
    const items = [{ a: 1 }, { a: [2, 3], s: '],[' }, { a: { b: null } }];
    expect(parsed(await records('array', JSON.stringify(items)))).toEqual(items);
    expect(parsed(await records('array', JSON.stringify(items, null, 2), 1))).toEqual(items);
    expect(await records('array', '\uFEFF [ ] \n')).toEqual([]);
    expect(await records('array', '[1, "two", {"x":3}, null]')).toEqual(['1', '"two"', '{"x":3}', 'null']);
  });

  it('rejects a file that is not one array', async () => {
    await expect(records('array', '{"a":1}')).rejects.toThrow(new FeedRejection('not a JSON array: it starts with "{\\"a\\":1}"'));
    await expect(records('array', '')).rejects.toThrow('not a JSON array: the file holds no JSON');
    await expect(records('array', '[{"a":1}] [{"a":2}]')).rejects.toThrow('not a JSON array: "[{\\"a\\":2}]" follows its closing bracket');
  });

  it('rejects a truncated array, even when its last element is complete', async () => {
    await expect(records('array', '[{"a":1},{"a":2}')).rejects.toThrow(new FeedRejection('truncated JSON array: it has no closing bracket'));
    await expect(records('array', '[{"a":1},{"a":')).rejects.toBeInstanceOf(FeedRejection);
  });
});

describe('streaming', () => {
  it('converts 50 MB with memory far below the input size', async () => {
    const record = (i: number) => `{"id":${i},"user":{"name":"user ${i}","tags":["a","b\\"c"]},"text":"${'lorem ipsum '.repeat(20)}"}`;
    const total = 50 << 20;
    async function* input() {
      let written = 0;
      let i = 0;
      while (written < total) {
        const parts: string[] = [];
        for (let k = 0; k < 200; k++) parts.push(record(i++));
        const chunk = Buffer.from(parts.join(i % 3 === 0 ? '' : '\n'));
        written += chunk.length;
        yield chunk;
      }
    }
    const before = process.memoryUsage().heapUsed;
    let peak = 0;
    let lines = 0;
    let carry = '';
    await pipeline(Readable.from(input()), jsonRecords('concatenated'), async (source: AsyncIterable<Buffer>) => {
      for await (const c of source) {
        const text = carry + c.toString('utf8');
        const parts = text.split('\n');
        carry = parts.pop()!;
        lines += parts.length;
        peak = Math.max(peak, process.memoryUsage().heapUsed - before);
      }
    });
    expect(carry).toBe('');
    expect(lines).toBeGreaterThan(150_000);
    expect(lines).toBe(Math.ceil(lines / 200) * 200);
    expect(peak).toBeLessThan(total / 2);
  });
});
