/** Why a file cannot be read as text; the file is REJECTED with this reason. */
export class NotTextError extends Error {
  override readonly name = 'NotTextError';
}

/** Consecutive lines of the file (without their line ends), the first being line `first` (1-based). */
export interface LineBatch {
  first: number;
  lines: string[];
}

/**
 * Splits a byte stream into lines with strict UTF-8 decoding: a BOM is dropped, `\r\n` and `\n`
 * both end a line, invalid UTF-8 or a NUL byte ends the read with NotTextError. Memory is bounded
 * by the longest line (and capped: a "line" over `maxLineBytes` means the file is not line text).
 */
export async function* textLines(chunks: AsyncIterable<Uint8Array>, maxLineChars = 1 << 20): AsyncGenerator<LineBatch> {
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });
  let carry = '';
  let number = 0;
  let bytesRead = 0;
  const decode = (chunk?: Uint8Array): string => {
    try {
      return chunk ? decoder.decode(chunk, { stream: true }) : decoder.decode();
    } catch {
      throw new NotTextError(`not UTF-8 text (invalid byte sequence within the first ${bytesRead} bytes)`);
    }
  };
  const split = function* (text: string, final: boolean): Generator<LineBatch> {
    if (text.includes('\u0000')) throw new NotTextError(`not text: NUL byte within the first ${bytesRead} bytes`);
    const lines = (carry + text).split('\n');
    carry = final ? '' : lines.pop()!;
    if (carry.length > maxLineChars) throw new NotTextError(`not line text: a line longer than ${maxLineChars} characters`);
    for (let i = 0; i < lines.length; i += 1) {
      const line = lines[i]!;
      if (line.charCodeAt(line.length - 1) === 13) lines[i] = line.slice(0, -1);
    }
    if (lines.length > 0) yield { first: number + 1, lines };
    number += lines.length;
  };
  for await (const chunk of chunks) {
    bytesRead += chunk.byteLength;
    yield* split(decode(chunk), false);
  }
  const rest = decode();
  // A final newline ends the last line; it does not start an empty one.
  if (carry + rest !== '') yield* split(rest, true);
}
