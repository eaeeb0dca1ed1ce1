import { Transform, type TransformCallback } from 'node:stream';

/**
 * The encoding layer of a feed: single-byte encodings converted to UTF-8 on the way. Each byte is
 * one character, so chunks need no care at their boundaries. Most chunks hold no byte in 0x80–0x9F
 * (the only range where the two encodings differ from Unicode's first 256 code points): those take
 * Node's native `latin1` decoding (~600 MB/s). A chunk that has some is converted byte by byte from a
 * table (~250–450 MB/s), which measured faster than remapping the decoded string, since a string
 * holding `€` or `’` becomes two-byte and slow to encode as UTF-8.
 */

export type SingleByteEncoding = 'iso-8859-1' | 'windows-1252';

/**
 * Stands for a byte the encoding does not define. Neither encoding can produce U+FFFD itself, so this
 * character in the output always means such a byte: the text layer makes its line a bad row.
 */
export const INVALID_CHAR = '\uFFFD';

/** The reason given for a line holding INVALID_CHAR. */
export function describeInvalid(encoding: SingleByteEncoding): string {
  return `bytes not defined in ${encoding}`;
}

/**
 * Windows-1252's 0x80–0x9F (the WHATWG index); the five holes (0x81, 0x8D, 0x8F, 0x90, 0x9D) are
 * undefined. ISO-8859-1 puts C1 control codes there, which never occur in real text: a file that has
 * them was written in another encoding, so they are undefined too.
 */
// biome-ignore format: one row per 8 bytes, as the table is usually printed
const WINDOWS_1252_HIGH = [
  '\u20AC', INVALID_CHAR, '\u201A', '\u0192', '\u201E', '\u2026', '\u2020', '\u2021',
  '\u02C6', '\u2030', '\u0160', '\u2039', '\u0152', INVALID_CHAR, '\u017D', INVALID_CHAR,
  INVALID_CHAR, '\u2018', '\u2019', '\u201C', '\u201D', '\u2022', '\u2013', '\u2014',
  '\u02DC', '\u2122', '\u0161', '\u203A', '\u0153', INVALID_CHAR, '\u017E', '\u0178',
];

const C1 = /[\u0080-\u009F]/;

/** Per byte value, its UTF-8 encoding packed as `length << 24 | b0 << 16 | b1 << 8 | b2`. */
function utf8Table(high: readonly string[]): Uint32Array {
  const table = new Uint32Array(256);
  for (let b = 0; b < 256; b++) {
    const char = b >= 0x80 && b <= 0x9f ? high[b - 0x80]! : String.fromCharCode(b);
    const u = Buffer.from(char, 'utf8');
    table[b] = (u.length << 24) | (u[0]! << 16) | ((u[1] ?? 0) << 8) | (u[2] ?? 0);
  }
  return table;
}

const TABLES: Record<SingleByteEncoding, Uint32Array> = {
  'windows-1252': utf8Table(WINDOWS_1252_HIGH),
  'iso-8859-1': utf8Table(Array.from({ length: 32 }, () => INVALID_CHAR)),
};

function byTable(bytes: Buffer, table: Uint32Array): Buffer {
  const out = Buffer.allocUnsafe(bytes.length * 3);
  let j = 0;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (b < 0x80) {
      out[j++] = b;
      continue;
    }
    const t = table[b]!;
    out[j++] = (t >>> 16) & 0xff;
    out[j++] = (t >>> 8) & 0xff;
    if (t >>> 24 === 3) out[j++] = t & 0xff;
  }
  return out.subarray(0, j);
}

/** One chunk of bytes (any boundary) in `encoding`, as UTF-8 bytes. */
export function toUtf8(bytes: Buffer, encoding: SingleByteEncoding): Buffer {
  const latin1 = bytes.toString('latin1');
  if (!C1.test(latin1)) return Buffer.from(latin1, 'utf8');
  // copied, so the 3× scratch buffer is not kept alive by the output
  return Buffer.from(byTable(bytes, TABLES[encoding]));
}

/** A stream of bytes in `encoding` to the same text as UTF-8 bytes. */
export function transcoder(encoding: SingleByteEncoding): Transform {
  return new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
      callback(null, toUtf8(chunk, encoding));
    },
  });
}
