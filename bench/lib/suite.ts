import { readFile, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import type { SuiteResult } from './results';

export interface SuiteOptions {
  quick: boolean;
  /** what else the runner measured before this suite (the cost model reads the others) */
  previous: SuiteResult[];
}

/**
 * The entry point of a suite file: each suite runs in its own process (its own local stack, its
 * own environment), and hands its result back as a JSON file.
 *   tsx bench/suites/<name>.ts [--quick] --out result.json [--previous results.json]
 */
export async function suiteMain(run: (options: SuiteOptions) => Promise<SuiteResult>): Promise<void> {
  const { values } = parseArgs({ options: { quick: { type: 'boolean', default: false }, out: { type: 'string' }, previous: { type: 'string' } } });
  const previous = values.previous ? (JSON.parse(await readFile(values.previous, 'utf8')) as SuiteResult[]) : [];
  const started = Date.now();
  const result = await run({ quick: values.quick!, previous });
  result.seconds = (Date.now() - started) / 1000;
  if (values.out) await writeFile(values.out, JSON.stringify(result));
  else process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  process.exit(0);
}

/** Progress on stderr (stdout may carry the result). */
export const log = (line: string) => process.stderr.write(`[bench] ${line}\n`);
