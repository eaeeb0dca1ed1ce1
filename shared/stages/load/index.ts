export { pollLoad, submitLoad } from './load-run';
export type { LoadDeps, LoadState } from './load-run';
export { AUDIT_TABLE, quoteName, warehouseColumns } from './load-sql';
export { warehouseTargetFromEnv } from './target';
