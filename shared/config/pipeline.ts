import type { PipelineConfig } from './types';

/**
 * The pipeline's configuration, reviewed like code. `parsePipelineConfig` validates it at load time
 * (and in the tests), so a mistake here fails with the name of the field.
 */
export const PROVINCES = { ON: 5, QC: 4, BC: 3 } as const;

/** Transaction codes a store system may send; the POS job counts 4 (sale), 5 (tax) and 6 (discount). */
export const KNOWN_TRANSACTION_CODES = [1, 2, 3, 4, 5, 6, 7, 8, 9];

export const pipelineConfig: PipelineConfig = {
  provinces: { ...PROVINCES },
  datasets: [
    {
      name: 'pos',
      keyPattern: 'pos/{province}/{store}_{date:YYYYMMDD}_{time:HHMMSS}.tdf',
      format: { kind: 'delimited', delimiter: '\t', junkLinePrefix: '----' },
      columns: [
        { name: 'store_id', kind: 'string', equalsKeyField: 'store' },
        { name: 'item_id', kind: 'string' },
        { name: 'transaction_date', kind: 'date' },
        { name: 'transaction_code', kind: 'integer', allowed: KNOWN_TRANSACTION_CODES },
        { name: 'amount', kind: 'decimal', scale: 2 },
      ],
      keyFieldValues: { province: Object.keys(PROVINCES) },
      partitionBy: ['province'],
      dateField: 'date',
      maxBadRowRatio: 0.5,
    },
    {
      name: 'item_master',
      keyPattern: 'master/{date:YYYYMMDD}/Item.csv',
      format: { kind: 'delimited', delimiter: ',' },
      columns: [
        { name: 'item_id', kind: 'string' },
        { name: 'item_name', kind: 'string' },
        { name: 'category', kind: 'string' },
        { name: 'unit_price', kind: 'decimal', scale: 2 },
      ],
      partitionBy: [],
      dateField: 'date',
      maxBadRowRatio: 0.5,
    },
  ],
  jobs: [
    {
      // The "Yummy Foods" aggregation: a province's day runs once all its stores and the day's item
      // master are in, and again whenever a newer input lands.
      name: 'pos_daily_sales',
      batchKey: ['province', 'date'],
      inputs: [
        { relation: 'pos', dataset: 'pos', match: ['province', 'date'], newestPer: 'store', newestBy: 'time' },
        { relation: 'item_master', dataset: 'item_master', match: ['date'] },
      ],
      preconditions: [
        { kind: 'minDistinct', input: 'pos', field: 'store', count: 'provinceStores' },
        { kind: 'present', input: 'item_master' },
        { kind: 'minTotalBytes', input: 'pos', bytes: 1 },
        { kind: 'newerThanLastRun' },
      ],
      engine: 'duckdb',
      stages: [{ name: 'aggregate', sql: 'pos_daily_sales.v1.sql' }],
      output: { table: 'pos_daily_sales', partitionBy: ['province', 'date'], key: ['store_id', 'item_id', 'transaction_date'] },
    },
  ],
};
