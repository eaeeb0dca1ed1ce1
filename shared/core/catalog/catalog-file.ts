import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { setting } from '../settings';
import type { CatalogTable } from './tables';

/**
 * The pipeline's tables as the catalog has them, written at build time beside the bundled
 * pipeline (pipeline/catalog.json; the local stack writes its own and names it with
 * LANDFALL_CATALOG_FILE): a function reading it needs no DuckDB to know a table's columns.
 */
const BUNDLED = fileURLToPath(new URL('./pipeline/catalog.json', import.meta.url));

let cached: { file: string; tables: CatalogTable[] } | undefined;

export function loadCatalog(env: NodeJS.ProcessEnv = process.env): CatalogTable[] {
  const file = setting('LANDFALL_CATALOG_FILE', env) ?? BUNDLED;
  if (cached?.file === file) return cached.tables;
  if (!existsSync(file)) throw new Error(`no catalog at ${file}: build the functions (npm run build) or set LANDFALL_CATALOG_FILE`);
  const tables = (JSON.parse(readFileSync(file, 'utf8')) as { tables: CatalogTable[] }).tables;
  cached = { file, tables };
  return tables;
}
