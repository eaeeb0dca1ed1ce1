import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * A deploy of a configuration copy: written as JSON under a new file name in `dir` and named by
 * LANDFALL_CONFIG_FILE, so the stack's functions and this process's resolver load it (a loaded
 * configuration is kept per file name, as a deployed function keeps its bundle's). `config` is a
 * loaded configuration (its effective form) or one as a user writes it, or a mix. Returns the file.
 */
export async function deployConfig(dir: string, name: string, config: object): Promise<string> {
  const file = join(dir, `${name}.json`);
  await writeFile(file, JSON.stringify(config));
  process.env.LANDFALL_CONFIG_FILE = file;
  return file;
}

/** A SQL file's text without its trailing semicolons, to wrap in another query. */
export async function sqlBody(file: string): Promise<string> {
  return (await readFile(file, 'utf8')).trim().replace(/;+$/, '');
}

/** A test's version of a job's SQL, written to `dir/<name>.sql`; its path. */
export async function writeSql(dir: string, name: string, text: string): Promise<string> {
  const file = join(dir, `${name}.sql`);
  await writeFile(file, text);
  return file;
}
