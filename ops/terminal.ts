/** Renders rows as an aligned text table (first row is the header). */
export function formatTable(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  const line = (r: string[]) =>
    r
      .map((cell, c) => cell.padEnd(widths[c]!))
      .join('  ')
      .trimEnd();
  return [line(rows[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)].join('\n');
}

/** A progress line on stderr: redrawn in place on a terminal, every few seconds otherwise. */
export function progress(label: string): { update(text: string): void; done(text?: string): void } {
  const tty = process.stderr.isTTY;
  let last = 0;
  let shown = '';
  return {
    update(text) {
      const now = Date.now();
      if (tty) {
        if (text !== shown) process.stderr.write(`\r\x1b[K${label}: ${text}`);
      } else if (now - last > 3000) {
        process.stderr.write(`${label}: ${text}\n`);
        last = now;
      }
      shown = text;
    },
    done(text) {
      process.stderr.write(`${tty ? '\r\x1b[K' : ''}${label}: ${text ?? shown}\n`);
    },
  };
}

/** Greedy word wrap to `width` columns (a long word stays whole on its own line); '\n' starts a new line. */
export function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  for (const paragraph of text.split('\n')) {
    let line = '';
    for (const word of paragraph.split(/ +/).filter((w) => w !== '')) {
      if (line && line.length + 1 + word.length > width) {
        lines.push(line);
        line = word;
      } else line = line ? `${line} ${word}` : word;
    }
    lines.push(line);
  }
  return lines;
}
