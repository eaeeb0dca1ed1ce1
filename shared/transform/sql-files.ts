import { readFile } from 'node:fs/promises';

/**
 * Versioned SQL files live in ./sql/ beside this module; the bundle ships them in ./sql/ beside
 * the handler (esbuild.config.mjs copies them), so the same lookup works in both.
 */
export async function loadSql(file: string): Promise<string> {
  if (!/^[a-z0-9_]+\.v\d+\.sql$/.test(file)) throw new Error(`not a versioned SQL file name: ${JSON.stringify(file)}`);
  return readFile(new URL(`./sql/${file}`, import.meta.url), 'utf8');
}
