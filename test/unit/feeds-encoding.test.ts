import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { describeInvalid, INVALID_CHAR, type SingleByteEncoding, transcoder } from '../../shared/core/feeds/encoding';

async function decode(bytes: Buffer, encoding: SingleByteEncoding, chunkSize = 1 << 16): Promise<string> {
  const chunks: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += chunkSize) chunks.push(bytes.subarray(i, i + chunkSize));
  const out: Buffer[] = [];
  await pipeline(Readable.from(chunks), transcoder(encoding), async (source: AsyncIterable<Buffer>) => {
    for await (const c of source) out.push(c);
  });
  const utf8 = Buffer.concat(out);
  // the output is valid UTF-8: decoding it strictly must not throw
  return new TextDecoder('utf-8', { fatal: true }).decode(utf8);
}

/** Windows-1252 0x80–0x9F, written out from the WHATWG index (index-windows-1252.txt); null where undefined. */
// biome-ignore format: a table, 8 bytes a row
const CP1252: Record<number, number | null> = {
  128: 0x20ac, 129: null, 130: 0x201a, 131: 0x0192, 132: 0x201e, 133: 0x2026, 134: 0x2020, 135: 0x2021,
  136: 0x02c6, 137: 0x2030, 138: 0x0160, 139: 0x2039, 140: 0x0152, 141: null, 142: 0x017d, 143: null,
  144: null, 145: 0x2018, 146: 0x2019, 147: 0x201c, 148: 0x201d, 149: 0x2022, 150: 0x2013, 151: 0x2014,
  152: 0x02dc, 153: 0x2122, 154: 0x0161, 155: 0x203a, 156: 0x0153, 157: null, 158: 0x017e, 159: 0x0178,
};

const ALL_BYTES = Buffer.from(Array.from({ length: 256 }, (_, i) => i));

describe('transcoding single-byte encodings to UTF-8', () => {
  it('decodes the accented letters and typographic signs of real files', async () => {
    // "Café à Zürich: 12€ ‘ok’" in windows-1252
    const bytes = Buffer.from([
      0x43, 0x61, 0x66, 0xe9, 0x20, 0xe0, 0x20, 0x5a, 0xfc, 0x72, 0x69, 0x63, 0x68, 0x3a, 0x20, 0x31, 0x32, 0x80, 0x20, 0x91, 0x6f, 0x6b, 0x92,
    ]);
    expect(await decode(bytes, 'windows-1252')).toBe('Café à Zürich: 12€ ‘ok’');
    expect(await decode(Buffer.from([0xe9, 0xe0, 0xfc, 0xdf, 0xff]), 'iso-8859-1')).toBe('éàüßÿ');
  });

  it('maps every byte of windows-1252 as the WHATWG table says, undefined bytes to U+FFFD', async () => {
    const text = await decode(ALL_BYTES, 'windows-1252');
    expect(text.length).toBe(256);
    const reference = new TextDecoder('windows-1252');
    for (let b = 0; b < 256; b++) {
      const expected = b >= 0x80 && b <= 0x9f ? CP1252[b] : b;
      expect([b, text.codePointAt(b)]).toEqual([b, expected === null ? 0xfffd : expected]);
      // and the platform's decoder agrees on every defined byte
      if (expected !== null) expect([b, text[b]]).toEqual([b, reference.decode(Buffer.from([b]))]);
    }
  });

  it('maps every byte of ISO-8859-1 to the same code point, C1 controls to U+FFFD', async () => {
    const text = await decode(ALL_BYTES, 'iso-8859-1');
    expect(text.length).toBe(256);
    for (let b = 0; b < 256; b++) expect([b, text.codePointAt(b)]).toEqual([b, b >= 0x80 && b <= 0x9f ? 0xfffd : b]);
  });

  it('marks exactly the undefined bytes of windows-1252', async () => {
    const text = await decode(ALL_BYTES, 'windows-1252');
    const invalid = [...text].flatMap((c, i) => (c === INVALID_CHAR ? [i] : []));
    expect(invalid).toEqual([0x81, 0x8d, 0x8f, 0x90, 0x9d]);
    expect(await decode(Buffer.from('a\x81b', 'latin1'), 'windows-1252')).toBe(`a${INVALID_CHAR}b`);
  });

  it('does not depend on the chunking', async () => {
    const bytes = Buffer.concat(Array.from({ length: 40 }, () => ALL_BYTES));
    for (const encoding of ['windows-1252', 'iso-8859-1'] as const) {
      const whole = await decode(bytes, encoding);
      expect(await decode(bytes, encoding, 1)).toBe(whole);
      expect(await decode(bytes, encoding, 7)).toBe(whole);
    }
  });

  it('names the encoding in the reason for invalid bytes', () => {
    expect(describeInvalid('windows-1252')).toBe('bytes not defined in windows-1252');
    expect(describeInvalid('iso-8859-1')).toBe('bytes not defined in iso-8859-1');
  });
});
