import type { PipelineConfig } from './types';

/**
 * The pipeline's configuration, reviewed like code. `parsePipelineConfig` validates it at load time
 * (and in the tests), so a mistake here fails with the name of the field.
 */
export const PROVINCES = { ON: 5, QC: 4, BC: 3 } as const;

function storesOf(provinces: Record<string, number>): Record<string, string[]> {
  return Object.fromEntries(Object.entries(provinces).map(([p, n]) => [p, Array.from({ length: n }, (_, i) => `${p}${String(i + 1).padStart(2, '0')}`)]));
}

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
        { name: 'transaction_date', kind: 'date', equalsKeyField: 'date' },
        { name: 'transaction_code', kind: 'integer', allowed: KNOWN_TRANSACTION_CODES },
        { name: 'amount', kind: 'decimal', scale: 2 },
      ],
      keyFieldValues: { province: Object.keys(PROVINCES) },
      // every province's stores, ON01…ON05 and so on: a file of another store id is rejected
      members: { field: 'store', per: 'province', values: storesOf(PROVINCES) },
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
    // ---- e-commerce clickstream (use case 2): events as JSON lines, orders and daily reference snapshots ----
    {
      name: 'click_events',
      keyPattern: 'clickstream/events/{date:YYYYMMDD}/{part}.jsonl',
      format: { kind: 'jsonl' },
      columns: [
        { name: 'event_id', kind: 'string' },
        { name: 'customer_id', kind: 'string' },
        { name: 'event_type', kind: 'string', allowed: ['view', 'search', 'add_to_cart', 'checkout', 'purchase'] },
        { name: 'product_id', kind: 'string', nullable: true },
        { name: 'event_ts', kind: 'timestamp' },
        { name: 'channel', kind: 'string', allowed: ['web', 'mobile', 'store'] },
        { name: 'region', kind: 'string' },
        { name: 'order_id', kind: 'string', nullable: true },
      ],
      partitionBy: [],
      dateField: 'date',
      maxBadRowRatio: 0.5,
    },
    {
      name: 'orders',
      keyPattern: 'clickstream/orders/{date:YYYYMMDD}/{part}.csv',
      format: { kind: 'delimited', delimiter: ',' },
      columns: [
        { name: 'order_id', kind: 'string' },
        { name: 'order_line', kind: 'integer' },
        { name: 'customer_id', kind: 'string' },
        { name: 'order_ts', kind: 'timestamp' },
        { name: 'channel', kind: 'string', allowed: ['web', 'mobile', 'store'] },
        { name: 'store_id', kind: 'string', nullable: true },
        { name: 'product_id', kind: 'string' },
        { name: 'quantity', kind: 'integer' },
        { name: 'unit_price', kind: 'decimal', scale: 2 },
      ],
      partitionBy: [],
      dateField: 'date',
      maxBadRowRatio: 0.5,
    },
    {
      name: 'customers',
      keyPattern: 'reference/customers/{date:YYYYMMDD}/customers.csv',
      format: { kind: 'delimited', delimiter: ',' },
      columns: [
        { name: 'customer_id', kind: 'string' },
        { name: 'customer_name', kind: 'string' },
        { name: 'segment', kind: 'string' },
        { name: 'home_region', kind: 'string' },
        { name: 'signup_date', kind: 'date' },
      ],
      partitionBy: [],
      dateField: 'date',
      maxBadRowRatio: 0.5,
    },
    {
      name: 'products',
      keyPattern: 'reference/products/{date:YYYYMMDD}/products.csv',
      format: { kind: 'delimited', delimiter: ',' },
      columns: [
        { name: 'product_id', kind: 'string' },
        { name: 'product_name', kind: 'string' },
        { name: 'category', kind: 'string' },
        { name: 'list_price', kind: 'decimal', scale: 2 },
      ],
      partitionBy: [],
      dateField: 'date',
      maxBadRowRatio: 0.5,
    },
    {
      name: 'stores',
      keyPattern: 'reference/stores/{date:YYYYMMDD}/stores.csv',
      format: { kind: 'delimited', delimiter: ',' },
      columns: [
        { name: 'store_id', kind: 'string' },
        { name: 'store_name', kind: 'string' },
        { name: 'region', kind: 'string' },
        { name: 'city', kind: 'string' },
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
      // a province's day is due by 18:00 Toronto time; past it, a batch still waiting is alerted
      freshness: { deadline: '18:00', timeZone: 'America/Toronto' },
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
      stages: [{ name: 'aggregate', sql: 'pos_daily_sales.v3.sql' }],
      output: { table: 'pos_daily_sales', partitionBy: ['province', 'date'], key: ['store_id', 'item_id', 'transaction_date'] },
    },
    {
      // The heavy path: Spark on the ARC-selected EMR cluster, one batch per day, resumable per stage.
      name: 'clickstream_daily',
      batchKey: ['date'],
      inputs: [
        { relation: 'events', dataset: 'click_events', match: ['date'] },
        { relation: 'orders', dataset: 'orders', match: ['date'] },
        { relation: 'customers', dataset: 'customers', match: ['date'] },
        { relation: 'products', dataset: 'products', match: ['date'] },
        { relation: 'stores', dataset: 'stores', match: ['date'] },
      ],
      preconditions: [
        { kind: 'present', input: 'events' },
        { kind: 'present', input: 'orders' },
        { kind: 'present', input: 'customers' },
        { kind: 'present', input: 'products' },
        { kind: 'present', input: 'stores' },
        { kind: 'newerThanLastRun' },
      ],
      engine: 'emr',
      stages: [{ name: 'clean' }, { name: 'enrich' }, { name: 'sessionize' }, { name: 'metrics' }],
      output: {
        table: 'clickstream',
        partitionBy: ['date'],
        key: ['date'],
        tables: {
          gmv_daily: ['date'],
          gmv_hourly: ['date', 'hour'],
          funnel: ['date', 'step_order'],
          channel_region: ['date', 'channel', 'region'],
          sessions_per_user: ['date', 'customer_id'],
        },
      },
    },
  ],
};

/** The sample pipeline for other provinces and store counts (tests and benchmarks at scale). */
export function withProvinces(provinces: Record<string, number>): PipelineConfig {
  const config = structuredClone(pipelineConfig);
  config.provinces = { ...provinces };
  const pos = config.datasets.find((d) => d.name === 'pos')!;
  pos.keyFieldValues = { province: Object.keys(provinces) };
  pos.members = { field: 'store', per: 'province', values: storesOf(provinces) };
  return config;
}
