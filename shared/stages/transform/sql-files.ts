import { readFile } from 'node:fs/promises';

/** A stage's SQL, from the path the loaded configuration resolved (beside the handler once deployed). */
export async function loadSql(file: string): Promise<string> {
  if (!/^[a-z0-9_]+\.v\d+\.sql$/.test(file.split('/').pop() ?? '')) throw new Error(`not a versioned SQL file: ${JSON.stringify(file)}`);
  return readFile(file, 'utf8');
}
