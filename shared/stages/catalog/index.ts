export { loadCatalog } from './catalog-file';
export { catalogResources } from './cloudformation';
export { catalogTables, dataColumns } from './table-schemas';
export type { CatalogColumn, CatalogTable } from './table-schemas';
