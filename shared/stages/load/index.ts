export { pollLoad, submitLoad } from './load-run';
export type { LoadDeps, LoadState } from './load-run';
export { quoteName, warehouseColumns } from './load-sql';
export { warehouseTargetFromEnv } from './target';
