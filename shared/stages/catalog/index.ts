export { catalogResources, databaseName } from './cloudformation';
export { catalogTables } from './table-schemas';
export { assertPipelineSql, checkPipelineSql } from './pipeline-binding';
export { SqlBindingError, describeProblem, type SqlProblem } from './sql-binding';
