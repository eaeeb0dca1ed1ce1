-- pos_daily_sales, version 1 (the file name carries the version: a change of logic is a new file).
--
-- The "Yummy Foods" POS aggregation for ONE province and ONE business day.
-- Computes exactly one record per (store_id, item_id, transaction_date) with the day's sale (code 4),
-- tax (code 5) and discount (code 6) amounts, named from the item master.
--
-- Inputs (relations created by the runner from processed Parquet files):
--   pos          rows of the batch's store files; several CUMULATIVE files per store and day may be
--                present: only each store's newest file (greatest key_time) for the day counts.
--   item_master  the day's item master rows (the batch date's rows are preferred; if several rows
--                share an item_id, one deterministic row wins so that the join never multiplies).
-- Named parameters (bound, never spliced):
--   $province    the batch's province, e.g. 'ON'
--   $batch_date  the batch's date, 'YYYY-MM-DD'
-- Output columns, in order:
--   province VARCHAR, transaction_date DATE, store_id VARCHAR, item_id VARCHAR, item_name VARCHAR,
--   category VARCHAR, sale_amount DECIMAL(18,2), tax_amount DECIMAL(18,2),
--   discount_amount DECIMAL(18,2) (0.00 when absent), dt VARCHAR (the batch date, for partitioning).
WITH batch AS (
  SELECT CAST($province AS VARCHAR) AS province,
         strftime(CAST($batch_date AS DATE), '%Y-%m-%d') AS dt
),
newest_files AS (
  -- Cumulative files: the newest file of a store for the day supersedes the earlier ones.
  SELECT p.*
  FROM pos AS p
  JOIN batch AS b ON p.key_province = b.province AND p.key_date = b.dt
  QUALIFY dense_rank() OVER (
    PARTITION BY p.key_store, p.key_date
    ORDER BY p.key_time DESC, p.source_key DESC, p.source_version_id DESC
  ) = 1
),
daily AS (
  SELECT key_province AS province,
         transaction_date,
         store_id,
         item_id,
         CAST(coalesce(sum(amount) FILTER (WHERE transaction_code = 4), 0) AS DECIMAL(18,2)) AS sale_amount,
         CAST(coalesce(sum(amount) FILTER (WHERE transaction_code = 5), 0) AS DECIMAL(18,2)) AS tax_amount,
         CAST(coalesce(sum(amount) FILTER (WHERE transaction_code = 6), 0) AS DECIMAL(18,2)) AS discount_amount
  FROM newest_files
  WHERE transaction_code IN (4, 5, 6)
  GROUP BY key_province, transaction_date, store_id, item_id
),
items AS (
  -- One row per item_id: the batch date's master first, then the newest, then a fixed tie-break.
  SELECT m.item_id, m.item_name, m.category
  FROM item_master AS m
  CROSS JOIN batch AS b
  QUALIFY row_number() OVER (
    PARTITION BY m.item_id
    ORDER BY (m.key_date = b.dt) DESC, m.key_date DESC, m.source_key DESC, m.source_version_id DESC,
             m.item_name, m.category
  ) = 1
)
SELECT d.province,
       d.transaction_date,
       d.store_id,
       d.item_id,
       i.item_name,
       i.category,
       d.sale_amount,
       d.tax_amount,
       d.discount_amount,
       b.dt
FROM daily AS d
CROSS JOIN batch AS b
LEFT JOIN items AS i ON i.item_id = d.item_id
ORDER BY d.province, d.transaction_date, d.store_id, d.item_id
