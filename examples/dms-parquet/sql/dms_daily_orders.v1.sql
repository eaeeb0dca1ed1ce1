-- The day's orders: how many, how many paid, their totals, the customers, the orders without a
-- status, the last order id and the first and last creation time (UTC, to the microsecond).
SELECT CAST($day AS VARCHAR) AS day,
       count(*) AS orders,
       count(*) FILTER (WHERE is_paid) AS paid_orders,
       CAST(sum(amount) AS DECIMAL(38, 2)) AS total,
       CAST(coalesce(sum(amount) FILTER (WHERE is_paid), 0) AS DECIMAL(38, 2)) AS paid_total,
       count(DISTINCT customer_id) AS customers,
       count(*) FILTER (WHERE status IS NULL) AS without_status,
       CAST(max(order_id) AS BIGINT) AS last_order_id,
       strftime(min(created_at), '%Y-%m-%dT%H:%M:%S.%fZ') AS first_created,
       strftime(max(created_at), '%Y-%m-%dT%H:%M:%S.%fZ') AS last_created
FROM orders
