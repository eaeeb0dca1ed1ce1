import { readFileSync, writeFileSync } from 'node:fs';

/**
 * The end of a generator script (the configuration reference, the configuration types, the
 * environment page): write `file`, or with `--check` only say whether it holds `text` (exit 1 when
 * not, naming `command`, the way to regenerate it).
 */
export function writeOrCheck(file: string, text: string, command: string, argv = process.argv): void {
  if (!argv.includes('--check')) {
    writeFileSync(file, text);
    console.log(`wrote ${file}`);
    return;
  }
  let current = '';
  try {
    current = readFileSync(file, 'utf8');
  } catch {
    // missing: out of date
  }
  if (current !== text) {
    console.error(`${file} is out of date: run ${command}`);
    process.exit(1);
  }
  console.log(`${file} is up to date`);
}
