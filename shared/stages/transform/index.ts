export { runSqlTransform, sqlStringLiteral } from './run-sql';
export { CURATED_PREFIX, runStage, sqlParams } from './run-stage';
export type { StageDeps } from './run-stage';
export { loadSql } from './sql-files';
