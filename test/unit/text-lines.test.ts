import { describe, expect, it } from 'vitest';
import { NotTextError, textLines, type LineBatch, type TextLinesOptions } from '../../shared/stages/validate/text-lines';

/* The line reader of validation: UTF-8 bytes in, numbered lines out, long lines by size only. */

type Part = string | number[] | Uint8Array;

async function* stream(parts: Part[]): AsyncGenerator<Uint8Array> {
  for (const part of parts) yield typeof part === 'string' ? Buffer.from(part) : Uint8Array.from(part);
}

async function batches(parts: Part[], options?: TextLinesOptions): Promise<LineBatch[]> {
  const out: LineBatch[] = [];
  for await (const batch of textLines(stream(parts), options)) out.push(batch);
  return out;
}

/** Every line with its number (a long line as `[n, head, size]`), checking that batches number on without gaps. */
async function lines(parts: Part[], options?: TextLinesOptions): Promise<Array<[number, string] | [number, string, number]>> {
  const out: Array<[number, string] | [number, string, number]> = [];
  let next = 1;
  for (const batch of await batches(parts, options)) {
    expect(batch.first).toBe(next);
    expect(batch.lines.length).toBeGreaterThan(0);
    if (batch.longLineBytes !== undefined) {
      expect(batch.lines).toHaveLength(1);
      out.push([batch.first, batch.lines[0]!, batch.longLineBytes]);
    } else {
      batch.lines.forEach((line, i) => out.push([batch.first + i, line]));
    }
    next = batch.first + batch.lines.length;
  }
  return out;
}

/** The bytes of `text` cut at the given offsets. */
function cut(text: string, at: number[]): Uint8Array[] {
  const bytes = Buffer.from(text);
  const points = [0, ...at, bytes.length];
  return points.slice(1).map((end, i) => bytes.subarray(points[i], end));
}

async function failure(parts: Part[]): Promise<unknown> {
  try {
    await batches(parts);
  } catch (err) {
    return err;
  }
  throw new Error('the stream was read as text');
}

describe('splitting text into lines', () => {
  it('ends lines at LF and CRLF, and a final line end starts no empty line', async () => {
    expect(await lines(['a\r\nb\n\nc\n'])).toEqual([
      [1, 'a'],
      [2, 'b'],
      [3, ''],
      [4, 'c'],
    ]);
    expect(await lines(['a\nb'])).toEqual([
      [1, 'a'],
      [2, 'b'],
    ]);
    expect(await lines(['a\r\n'])).toEqual([[1, 'a']]);
  });

  it('reads nothing from an empty stream, and one empty line from a lone line end', async () => {
    expect(await lines([])).toEqual([]);
    expect(await lines(['', ''])).toEqual([]);
    expect(await lines(['\n'])).toEqual([[1, '']]);
    expect(await lines(['\n\n'])).toEqual([
      [1, ''],
      [2, ''],
    ]);
  });

  it('keeps a CR inside a line (only CRLF ends one)', async () => {
    expect(await lines(['a\rb\nc\r\r\n'])).toEqual([
      [1, 'a\rb'],
      [2, 'c\r'],
    ]);
  });

  it('drops a byte order mark, even split across chunks, and only at the start', async () => {
    expect(await lines([[0xef, 0xbb, 0xbf], 'id\n1\n'])).toEqual([
      [1, 'id'],
      [2, '1'],
    ]);
    expect(await lines([[0xef], [0xbb], [0xbf, 0x69, 0x64, 0x0a]])).toEqual([[1, 'id']]);
    expect(await lines(['id\n', [0xef, 0xbb, 0xbf, 0x78, 0x0a]])).toEqual([
      [1, 'id'],
      [2, '\ufeffx'],
    ]);
  });

  it('reads the same lines wherever the chunks are cut: inside a character, a CRLF or a BOM', async () => {
    const text = '\ufeffstore\tprix\r\nON01\t9,99 €\r\n\nQC01\t😀 déjà\rvu\nlast';
    const expected = await lines([text]);
    expect(expected).toEqual([
      [1, 'store\tprix'],
      [2, 'ON01\t9,99 €'],
      [3, ''],
      [4, 'QC01\t😀 déjà\rvu'],
      [5, 'last'],
    ]);
    const size = Buffer.byteLength(text);
    for (let i = 1; i < size; i += 1) {
      expect(await lines(cut(text, [i]))).toEqual(expected);
      for (let j = i + 1; j < size; j += 7) expect(await lines(cut(text, [i, j]))).toEqual(expected);
    }
    expect(
      await lines(
        cut(
          text,
          Array.from({ length: size - 1 }, (_, i) => i + 1),
        ),
      ),
    ).toEqual(expected);
  });
});

describe('what is not text', () => {
  it('stops at an invalid UTF-8 byte with NotTextError, after the lines before it', async () => {
    const seen: string[] = [];
    let error: unknown;
    try {
      for await (const batch of textLines(stream(['id\n1\n', [0x41, 0xff, 0x0a]]))) seen.push(...batch.lines);
    } catch (err) {
      error = err;
    }
    expect(seen).toEqual(['id', '1']);
    expect(error).toBeInstanceOf(NotTextError);
    expect(error).toMatchObject({ name: 'NotTextError', message: 'not UTF-8 text (invalid byte sequence within the first 8 bytes)' });
  });

  it('refuses a character cut short by the end of the file', async () => {
    const err = await failure(['total 9,99 ', [0xe2, 0x82]]);
    expect(err).toBeInstanceOf(NotTextError);
    expect((err as Error).message).toMatch(/^not UTF-8 text/);
  });

  it('refuses overlong encodings and encoded surrogates', async () => {
    expect(await failure([[0xc0, 0xaf, 0x0a]])).toBeInstanceOf(NotTextError);
    expect(await failure([[0xed, 0xa0, 0x80, 0x0a]])).toBeInstanceOf(NotTextError);
  });

  it('refuses a NUL byte (UTF-16 or binary data), wherever it is', async () => {
    const err = await failure(['a\nb', [0x00], 'c\n']);
    expect(err).toBeInstanceOf(NotTextError);
    expect((err as Error).message).toBe('not text: NUL byte within the first 4 bytes');
    expect(await failure([Buffer.from('id\n', 'utf16le')])).toBeInstanceOf(NotTextError);
  });
});

describe('lines over the limit', () => {
  const options = { maxLineBytes: 10, headChars: 4 };

  it('gives a long line alone, as its head and its size, and numbers the others on', async () => {
    expect(await lines([`short\n${'x'.repeat(25)}\nend\n`], options)).toEqual([
      [1, 'short'],
      [2, 'xxxx', 25],
      [3, 'end'],
    ]);
  });

  it('measures the limit in UTF-8 bytes, without the line end', async () => {
    expect(await lines([`${'x'.repeat(10)}\n${'x'.repeat(11)}\n`], options)).toEqual([
      [1, 'x'.repeat(10)],
      [2, 'xxxx', 11],
    ]);
    expect(await lines([`${'x'.repeat(10)}\r\n${'x'.repeat(11)}\r\n`], options)).toEqual([
      [1, 'x'.repeat(10)],
      [2, 'xxxx', 11],
    ]);
    // five characters, ten bytes: at the limit; six characters, twelve bytes: over it
    expect(await lines(['ééééé\néééééé\n'], options)).toEqual([
      [1, 'ééééé'],
      [2, 'éééé', 12],
    ]);
    expect(await lines(['😀😀😀\n'], options)).toEqual([[1, '😀😀', 12]]);
  });

  it('keeps a whole long line as its head when the head is longer than it, without the CR of its CRLF', async () => {
    expect(await lines([`${'y'.repeat(12)}\r\nz\n`], { maxLineBytes: 10, headChars: 100 })).toEqual([
      [1, 'y'.repeat(12), 12],
      [2, 'z'],
    ]);
  });

  it('reads the same long lines wherever the chunks are cut', async () => {
    const text = `ab\n${'y'.repeat(30)}\r\néééé\n\n${'€'.repeat(4)}\r\n${'z'.repeat(11)}`;
    for (const opts of [options, { maxLineBytes: 10, headChars: 100 }]) {
      const expected = await lines([text], opts);
      const head = (s: string) => s.slice(0, opts.headChars);
      expect(expected).toEqual([
        [1, 'ab'],
        [2, head('y'.repeat(30)), 30],
        [3, 'éééé'],
        [4, ''],
        [5, head('€'.repeat(4)), 12],
        [6, head('z'.repeat(11)), 11],
      ]);
      const size = Buffer.byteLength(text);
      for (let i = 1; i < size; i += 1) {
        expect(await lines(cut(text, [i]), opts)).toEqual(expected);
        for (let j = i + 1; j < size; j += 5) expect(await lines(cut(text, [i, j]), opts)).toEqual(expected);
      }
      expect(
        await lines(
          cut(
            text,
            Array.from({ length: size - 1 }, (_, i) => i + 1),
          ),
          opts,
        ),
      ).toEqual(expected);
    }
  });

  it('counts a long line to its end across many chunks', async () => {
    const parts = [...Array.from({ length: 100 }, () => 'x'.repeat(1000)), '\r', '\nnext'];
    expect(await lines(parts, options)).toEqual([
      [1, 'xxxx', 100_000],
      [2, 'next'],
    ]);
  });

  it('uses a 1000-character head by default', async () => {
    const [first] = await batches([`${'q'.repeat(5000)}\n`], { maxLineBytes: 2000 });
    expect(first).toEqual({ first: 1, lines: ['q'.repeat(1000)], longLineBytes: 5000 });
  });
});
