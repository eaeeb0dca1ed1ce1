export { catalogResources } from './cloudformation';
export { catalogTables } from './table-schemas';
