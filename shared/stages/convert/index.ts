export { convertValidatedObject } from './convert-object';
export { csvToParquet, lineageColumns } from './csv-to-parquet';
