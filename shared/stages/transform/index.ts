export { runSqlTransform, sqlStringLiteral } from './run-sql';
export { CURATED_PREFIX, OutputValueTooLongError, runStage, sqlParams } from './run-stage';
export type { StageDeps } from './run-stage';
export { loadSql } from './sql-files';
export { findTooLongValue } from './output-limits';
