import { MAX_LINE_BYTES } from '../../core/datasets/line-limits';
import { LandfallError } from '../../core/errors';

/** Why a file cannot be read as text; the file is REJECTED with this reason. */
export class NotTextError extends LandfallError {
  override readonly name = 'NotTextError';
  readonly code = 'NOT_TEXT';
}

/**
 * Consecutive lines of the file (without their line ends), the first being line `first` (1-based).
 * A line longer than the limit comes alone, as its first `headChars` characters with `longLineBytes`
 * set to its full size: it is a bad row, never held in memory whole.
 */
export interface LineBatch {
  first: number;
  lines: string[];
  longLineBytes?: number;
}

export interface TextLinesOptions {
  /** a longer line (in UTF-8 bytes, line end excluded) is reported by size, not read */
  maxLineBytes?: number;
  /** how much of such a line to keep, for the report */
  headChars?: number;
}

/**
 * Splits a byte stream into lines with strict UTF-8 decoding: a BOM is dropped, `\r\n` and `\n`
 * both end a line, invalid UTF-8 or a NUL byte ends the read with NotTextError. Memory is bounded
 * by the line limit: past it, a line is only counted until its newline.
 */
export async function* textLines(chunks: AsyncIterable<Uint8Array>, options: TextLinesOptions = {}): AsyncGenerator<LineBatch> {
  const maxBytes = options.maxLineBytes ?? MAX_LINE_BYTES;
  const headChars = options.headChars ?? 1000;
  // A UTF-16 code unit is at most 3 UTF-8 bytes: a line this short needs no byte count.
  const shortChars = Math.floor(maxBytes / 3);
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });
  let number = 0;
  let bytesRead = 0;
  // The unfinished line: its pieces while it may still fit, with their UTF-8 size once it matters
  // (-1 before); once it cannot fit, only its head and its size so far.
  let pieces: string[] = [];
  let chars = 0;
  let bytes = -1;
  let longHead: string | null = null;
  let endsWithCr = false;

  const decode = (chunk?: Uint8Array): string => {
    try {
      return chunk ? decoder.decode(chunk, { stream: true }) : decoder.decode();
    } catch {
      throw new NotTextError(`not UTF-8 text (invalid byte sequence within the first ${bytesRead} bytes)`);
    }
  };
  const append = (piece: string): void => {
    if (piece === '') return;
    endsWithCr = piece.charCodeAt(piece.length - 1) === 13;
    chars += piece.length;
    if (longHead !== null) {
      bytes += Buffer.byteLength(piece);
      if (longHead.length < headChars) longHead += piece.slice(0, headChars - longHead.length);
      return;
    }
    pieces.push(piece);
    if (bytes >= 0) bytes += Buffer.byteLength(piece);
    else if (chars > shortChars) bytes = pieces.reduce((sum, p) => sum + Buffer.byteLength(p), 0);
    // + 1: a CR may turn out to be the start of the line end
    if (bytes > maxBytes + 1) {
      longHead = pieces.join('').slice(0, headChars);
      pieces = [];
    }
  };
  const long = (head: string, size: number): LineBatch => ({ first: number + 1, lines: [head], longLineBytes: size });
  const split = function* (text: string, final: boolean): Generator<LineBatch> {
    if (text.includes('\u0000')) throw new NotTextError(`not text: NUL byte within the first ${bytesRead} bytes`);
    const lines = text.split('\n');
    const tail = final ? undefined : lines.pop()!;
    let from = 0;
    if (lines.length > 0) {
      // lines[0] ends the unfinished line
      if (longHead !== null) {
        append(lines[0]!);
        // the CR of a CRLF is the line end's, not the line's (nor its head's, if the head is all of it)
        const head = endsWithCr && chars <= headChars ? longHead.slice(0, -1) : longHead;
        yield long(head, bytes - (endsWithCr ? 1 : 0));
        number += 1;
        from = 1;
      } else if (pieces.length > 0) {
        lines[0] = pieces.join('') + lines[0]!;
      }
      pieces = [];
      chars = 0;
      bytes = -1;
      longHead = null;
    }
    for (let i = from; i < lines.length; i += 1) {
      let line = lines[i]!;
      if (line.charCodeAt(line.length - 1) === 13) lines[i] = line = line.slice(0, -1);
      if (line.length > shortChars) {
        const size = Buffer.byteLength(line);
        if (size > maxBytes) {
          if (i > from) yield { first: number + 1, lines: lines.slice(from, i) };
          number += i - from;
          yield long(line.slice(0, headChars), size);
          number += 1;
          from = i + 1;
        }
      }
    }
    if (from < lines.length) yield { first: number + 1, lines: from === 0 ? lines : lines.slice(from) };
    number += lines.length - from;
    if (tail !== undefined) append(tail);
  };
  for await (const chunk of chunks) {
    bytesRead += chunk.byteLength;
    yield* split(decode(chunk), false);
  }
  const rest = decode();
  // A final newline ends the last line; it does not start an empty one.
  if (rest !== '' || pieces.length > 0 || longHead !== null) yield* split(rest, true);
}
