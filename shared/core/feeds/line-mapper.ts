import { StringDecoder } from 'node:string_decoder';
import { Transform, type TransformCallback } from 'node:stream';
import { MAX_LINE_BYTES } from '../datasets/line-limits';
import { badLine } from './canonical';

/** How much of a line too long to map is kept as its report text. */
const HEAD_CHARS = 1000;
/** Characters of a partial line held before it is judged too long (UTF-8 takes at least one byte per character). */
const MAX_LINE_CHARS = MAX_LINE_BYTES;

/**
 * UTF-8 text → one `map(line)` per line, each written with `\n` (a CRLF's CR is dropped; a last line
 * without a line end is mapped too). A line longer than MAX_LINE_BYTES is not held: it becomes one
 * bad line with its first characters, so memory stays bounded whatever the input.
 */
export function lineMapper(map: (line: string) => string): Transform {
  const decoder = new StringDecoder('utf8');
  let pending = '';
  let first = true;
  let tooLong: { head: string; chars: number } | undefined;
  const emit = (line: string, out: string[]) => {
    const text = line.endsWith('\r') ? line.slice(0, -1) : line;
    out.push(map(text), '\n');
  };
  const take = (text: string, out: string[]) => {
    let start = 0;
    for (;;) {
      const end = text.indexOf('\n', start);
      if (end < 0) break;
      if (tooLong) {
        out.push(badLine(`line longer than ${MAX_LINE_BYTES} bytes (${tooLong.chars + end - start} characters)`, tooLong.head), '\n');
        tooLong = undefined;
      } else {
        emit(pending + text.slice(start, end), out);
      }
      pending = '';
      start = end + 1;
    }
    const rest = text.slice(start);
    if (tooLong) tooLong.chars += rest.length;
    else if (pending.length + rest.length > MAX_LINE_CHARS) {
      const line = pending + rest;
      tooLong = { head: line.slice(0, HEAD_CHARS), chars: line.length };
      pending = '';
    } else pending += rest;
  };
  return new Transform({
    transform(chunk: Buffer, _encoding, done: TransformCallback) {
      try {
        const out: string[] = [];
        let text = decoder.write(chunk);
        // a byte order mark is no part of the first line
        if (first && text !== '') {
          first = false;
          if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
        }
        take(text, out);
        done(null, out.length > 0 ? out.join('') : undefined);
      } catch (err) {
        done(err as Error);
      }
    },
    flush(done: TransformCallback) {
      try {
        const out: string[] = [];
        take(decoder.end(), out);
        if (tooLong) out.push(badLine(`line longer than ${MAX_LINE_BYTES} bytes (${tooLong.chars} characters)`, tooLong.head), '\n');
        else if (pending !== '') emit(pending, out);
        done(null, out.length > 0 ? out.join('') : undefined);
      } catch (err) {
        done(err as Error);
      }
    },
  });
}
