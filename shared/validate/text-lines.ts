/** Why a file cannot be read as text; the file is REJECTED with this reason. */
export class NotTextError extends Error {
  override readonly name = 'NotTextError';
}

export interface Line {
  /** 1-based physical line number in the file. */
  number: number;
  text: string;
}

/**
 * Splits a byte stream into lines with strict UTF-8 decoding: a BOM is dropped, `\r\n` and `\n`
 * both end a line, invalid UTF-8 or a NUL byte ends the read with NotTextError. Memory is bounded
 * by the longest line (and capped: a "line" over `maxLineBytes` means the file is not line text).
 */
export async function* textLines(chunks: AsyncIterable<Uint8Array>, maxLineChars = 1 << 20): AsyncGenerator<Line[]> {
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
  const split = function* (text: string, final: boolean): Generator<Line[]> {
    if (text.includes('\u0000')) throw new NotTextError(`not text: NUL byte within the first ${bytesRead} bytes`);
    const parts = (carry + text).split('\n');
    carry = final ? '' : parts.pop()!;
    if (carry.length > maxLineChars) throw new NotTextError(`not line text: a line longer than ${maxLineChars} characters`);
    const batch: Line[] = [];
    for (const part of parts) {
      number += 1;
      batch.push({ number, text: part.endsWith('\r') ? part.slice(0, -1) : part });
    }
    if (batch.length > 0) yield batch;
  };
  for await (const chunk of chunks) {
    bytesRead += chunk.byteLength;
    yield* split(decode(chunk), false);
  }
  const rest = decode();
  // A final newline ends the last line; it does not start an empty one.
  if (carry + rest !== '') yield* split(rest, true);
}
