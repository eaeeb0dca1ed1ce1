export { runSqlTransform, sqlStringLiteral } from './run-sql';
export { CURATED_PREFIX, OutputValueTooLongError, runStage, sqlParams } from './run-stage';
export { OutputCheckFailedError } from '../../core/checks/check-failed';
export type { StageDeps, StageOutput } from './run-stage';
export { loadSql } from './sql-files';
export { findTooLongValue } from './output-limits';
export { SAMPLE_ROWS, failedChecks, runOutputChecks } from './output-checks';
export type { OutputCheckRequest, OutputCheckResult } from './output-checks';
