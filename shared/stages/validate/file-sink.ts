import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import type { LineSink } from './validate-file';

/** Appends lines to a file through a 1 MiB buffer, honouring back-pressure. */
export class FileLineSink implements LineSink {
  private readonly stream: WriteStream;
  private buffer: string[] = [];
  private buffered = 0;
  lines = 0;

  constructor(readonly path: string) {
    this.stream = createWriteStream(path);
  }

  /** Synchronous unless the buffer is full: a promise per line would cost more than the line. */
  write(line: string): void | Promise<void> {
    this.buffer.push(line);
    this.lines += 1;
    this.buffered += line.length + 1;
    if (this.buffered >= 1 << 20) return this.flush();
  }

  private async flush(): Promise<void> {
    if (this.buffer.length === 0) return;
    const text = `${this.buffer.join('\n')}\n`;
    this.buffer = [];
    this.buffered = 0;
    if (!this.stream.write(text)) await once(this.stream, 'drain');
  }

  private closing?: Promise<void>;

  /** Flushes and closes the file; calling it again waits for the same close. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.flush();
      this.stream.end();
      await once(this.stream, 'close');
    })();
    return this.closing;
  }
}
