import { Transform, type TransformCallback } from 'node:stream';
import { MAX_LINE_BYTES } from '../datasets/line-limits';
import { badLine, FeedRejection } from './canonical';

/**
 * JSON records as they come, turned into JSON lines (one record per `\n`-terminated line):
 * - `concatenated`: top-level values one after another, separated by whitespace, line ends or nothing
 *   (`{"a":1}{"a":2}`, as Kinesis Data Firehose writes them), pretty-printed ones included;
 * - `array`: the elements of one top-level array (`[ {...}, {...} ]`).
 * Records are split by tracking string/escape state and bracket depth only, not parsed: a malformed
 * but balanced record (`{"a":}`) is written as its line and the validation engine rejects it with
 * JSON.parse's reason. Only one record is ever held, and never more than the limit of it.
 *
 * The scan works on the UTF-8 bytes, never decoding them: every byte JSON's structure uses is ASCII,
 * and no byte of a multi-byte UTF-8 character is, so a character split between chunks needs no care
 * and a record is written out as the very bytes it came in.
 */

export type JsonLayout = 'concatenated' | 'array';

export interface JsonRecordsOptions {
  /** a longer record is a bad row (default MAX_LINE_BYTES, the longest line validation reads) */
  maxRecordBytes?: number;
}

/** How much of a bad record is shown in the rejects report, in characters. */
const SHOWN_CHARS = 1000;
/** Bytes that always hold SHOWN_CHARS characters (4 bytes at most per character). */
const SHOWN_BYTES = 4 * SHOWN_CHARS;

const LF = 0x0a;
const CR = 0x0d;
const QUOTE = 0x22;
const COMMA = 0x2c;
const OPEN_BRACKET = 0x5b;
const BACKSLASH = 0x5c;
const CLOSE_BRACKET = 0x5d;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const JUNK_BYTE = 0x01; // canonical.ts JUNK_MARK
const BAD_BYTE = 0x02; // canonical.ts BAD_MARK
const BOM = Buffer.from([0xef, 0xbb, 0xbf]);
const NEWLINE = Buffer.from('\n');

const isSpace = (c: number) => c === 0x20 || c === LF || c === CR || c === 0x09;

/** The next index of `byte` in `bytes` at or after `from`, reusing `cached` while it is still ahead (keeps scans linear). */
function nextIndex(bytes: Buffer, byte: number, from: number, cached: number): number {
  return cached === -1 || cached >= from ? cached : bytes.indexOf(byte, from);
}

/** The first SHOWN_CHARS characters of some leading bytes of a record (a character cut at the end is dropped). */
function shown(bytes: Buffer): string {
  return bytes.toString('utf8').slice(0, SHOWN_CHARS);
}

class RecordSplitter {
  /** the lines found so far, each without its line end */
  readonly lines: Buffer[] = [];
  private array: 'before' | 'open' | 'closed' = 'before';
  private inRecord = false;
  /** a record that is not an object, array or string (`123`, `true`, junk): it ends at whitespace or the next value */
  private scalar = false;
  private depth = 0;
  private inString = false;
  private escaped = false;
  /** a line end outside strings (a pretty-printed record): written as a space */
  private lineEnd = false;
  /** a raw line end inside a string: invalid JSON, and it cannot stay on one line as it is */
  private lineEndInString = false;
  private pieces: Buffer[] = [];
  private bytes = 0;
  /** the first SHOWN_BYTES of a record over the limit, whose rest is scanned but not kept */
  private oversizeHead: Buffer | undefined;

  constructor(
    private readonly layout: JsonLayout,
    private readonly maxBytes: number,
  ) {}

  scan(chunk: Buffer): void {
    const n = chunk.length;
    let i = 0;
    let start = 0;
    // positions of the next backslash and line ends in this chunk, looked for lazily (-2: not yet)
    let backslash = -2;
    let lf = -2;
    let cr = -2;
    while (i < n) {
      if (!this.inRecord) {
        const c = chunk[i]!;
        if (isSpace(c) || (this.layout === 'array' && this.arrayPunctuation(c, chunk, i))) {
          i++;
          continue;
        }
        this.begin();
        start = i++;
        if (c === OPEN_BRACE || c === OPEN_BRACKET) this.depth = 1;
        else if (c === QUOTE) this.inString = true;
        else this.scalar = true;
      } else if (this.scalar) {
        while (i < n && !this.endsScalar(chunk[i]!)) i++;
        if (i < n) this.end(chunk.subarray(start, i));
      } else if (this.inString) {
        if (this.escaped) {
          this.escaped = false;
          i++;
          continue;
        }
        const quote = chunk.indexOf(QUOTE, i);
        backslash = nextIndex(chunk, BACKSLASH, i, backslash);
        const escaped = backslash !== -1 && (quote === -1 || backslash < quote);
        const stop = escaped ? backslash : quote === -1 ? n : quote;
        if (!this.lineEndInString) {
          lf = nextIndex(chunk, LF, i, lf);
          cr = nextIndex(chunk, CR, i, cr);
          this.lineEndInString = (lf !== -1 && lf < stop) || (cr !== -1 && cr < stop);
        }
        i = stop + 1;
        if (escaped) this.escaped = true;
        else if (quote !== -1) {
          this.inString = false;
          if (this.depth === 0) this.end(chunk.subarray(start, i));
        }
      } else {
        for (; i < n; i++) {
          const c = chunk[i]!;
          if (c === QUOTE) {
            this.inString = true;
            i++;
            break;
          }
          if (c === OPEN_BRACE || c === OPEN_BRACKET) this.depth++;
          else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
            if (--this.depth === 0) {
              this.end(chunk.subarray(start, ++i));
              break;
            }
          } else if (c === LF || c === CR) this.lineEnd = true;
        }
      }
    }
    if (this.inRecord) this.keep(chunk.subarray(start, n));
  }

  /** At the end of the input: a record still open is truncated; an array must have been closed. */
  finish(): void {
    if (this.layout === 'array' && this.array === 'before') throw new FeedRejection('not a JSON array: the file holds no JSON');
    if (this.layout === 'array' && this.array === 'open') throw new FeedRejection('truncated JSON array: it has no closing bracket');
    if (!this.inRecord) return;
    if (this.scalar) {
      this.end(Buffer.alloc(0));
      return;
    }
    this.bad('truncated JSON record', this.oversizeHead ?? Buffer.concat(this.pieces).subarray(0, SHOWN_BYTES));
    this.inRecord = false;
  }

  /** The array's own `[`, `,` and `]`; true when `c` is one of them. */
  private arrayPunctuation(c: number, chunk: Buffer, i: number): boolean {
    const next = () => JSON.stringify(shown(chunk.subarray(i, i + 80)).slice(0, 20));
    if (this.array === 'before') {
      if (c !== OPEN_BRACKET) throw new FeedRejection(`not a JSON array: it starts with ${next()}`);
      this.array = 'open';
      return true;
    }
    if (this.array === 'closed') throw new FeedRejection(`not a JSON array: ${next()} follows its closing bracket`);
    // commas are not checked: a missing or doubled one cannot change where a record ends
    if (c === COMMA) return true;
    if (c === CLOSE_BRACKET) {
      this.array = 'closed';
      return true;
    }
    return false;
  }

  private endsScalar(c: number): boolean {
    if (isSpace(c) || c === OPEN_BRACE || c === OPEN_BRACKET || c === QUOTE) return true;
    return this.layout === 'array' && (c === COMMA || c === CLOSE_BRACKET);
  }

  private begin(): void {
    this.inRecord = true;
    this.scalar = false;
    this.depth = 0;
    this.inString = false;
    this.escaped = false;
    this.lineEnd = false;
    this.lineEndInString = false;
    this.pieces = [];
    this.bytes = 0;
    this.oversizeHead = undefined;
  }

  /** Holds a piece of the current record, or only its head once the record is over the limit. */
  private keep(piece: Buffer): void {
    if (this.oversizeHead !== undefined || piece.length === 0) return;
    this.bytes += piece.length;
    if (this.bytes <= this.maxBytes) {
      // a copy: a view would keep the whole chunk it came from alive
      this.pieces.push(Buffer.from(piece));
      return;
    }
    this.oversizeHead = Buffer.concat([...this.pieces, piece.subarray(0, SHOWN_BYTES)]).subarray(0, SHOWN_BYTES);
    this.pieces = [];
  }

  private end(last: Buffer): void {
    this.inRecord = false;
    if (this.oversizeHead === undefined && this.bytes + last.length > this.maxBytes) this.keep(last);
    if (this.oversizeHead !== undefined) {
      this.bad(`record longer than ${this.maxBytes} bytes`, this.oversizeHead);
      return;
    }
    // the common case, a record within one chunk, is written as a view of it, uncopied
    let line = this.pieces.length === 0 ? last : Buffer.concat([...this.pieces, last]);
    this.pieces = [];
    if (this.lineEnd || this.lineEndInString) line = withoutLineEnds(line);
    if (this.lineEndInString) this.bad('raw line end inside a JSON string', line.subarray(0, SHOWN_BYTES));
    else if (line[0] === JUNK_BYTE || line[0] === BAD_BYTE) this.bad('not a JSON value', line.subarray(0, SHOWN_BYTES));
    else this.lines.push(line);
  }

  private bad(reason: string, head: Buffer): void {
    this.lines.push(Buffer.from(badLine(reason, shown(head)), 'utf8'));
  }
}

/** A copy of `line` with its line ends as spaces (a pretty-printed record kept on one line). */
function withoutLineEnds(line: Buffer): Buffer {
  const copy = Buffer.from(line);
  for (let i = 0; i < copy.length; i++) if (copy[i] === LF || copy[i] === CR) copy[i] = 0x20;
  return copy;
}

/**
 * JSON records in the given layout (UTF-8 bytes, a leading BOM dropped) to JSON lines, one record per
 * line. A record truncated by the end of the file, or longer than the limit, becomes a bad line with
 * its first 1000 characters; so does one with a raw line end inside a string (invalid JSON: it is not
 * read as a space, which would quietly change the value). An `array` that does not open or never
 * closes rejects the file.
 */
export function jsonRecords(layout: JsonLayout, options: JsonRecordsOptions = {}): Transform {
  const splitter = new RecordSplitter(layout, options.maxRecordBytes ?? MAX_LINE_BYTES);
  /** the first bytes, held until there are enough to see whether they are a BOM (null once seen) */
  let head: Buffer | null = Buffer.alloc(0);
  const scan = (stream: Transform, chunk: Buffer, atEnd: boolean) => {
    if (head !== null) {
      head = Buffer.concat([head, chunk]);
      if (head.length < BOM.length && !atEnd) return;
      chunk = head.subarray(0, BOM.length).equals(BOM) ? head.subarray(BOM.length) : head;
      head = null;
    }
    splitter.scan(chunk);
    if (atEnd) splitter.finish();
    if (splitter.lines.length === 0) return;
    const out: Buffer[] = [];
    for (const line of splitter.lines) out.push(line, NEWLINE);
    splitter.lines.length = 0;
    stream.push(Buffer.concat(out));
  };
  return new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
      try {
        scan(this, chunk, false);
        callback();
      } catch (err) {
        callback(err as Error);
      }
    },
    flush(callback: TransformCallback) {
      try {
        scan(this, Buffer.alloc(0), true);
        callback();
      } catch (err) {
        callback(err as Error);
      }
    },
  });
}
