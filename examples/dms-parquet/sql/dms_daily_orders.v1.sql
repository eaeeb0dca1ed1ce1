-- The day's orders: how many, how many paid, their totals, the customers and the orders without a status.
SELECT CAST($day AS VARCHAR) AS day,
       count(*) AS orders,
       count(*) FILTER (WHERE is_paid) AS paid_orders,
       CAST(sum(amount) AS DECIMAL(38, 2)) AS total,
       CAST(coalesce(sum(amount) FILTER (WHERE is_paid), 0) AS DECIMAL(38, 2)) AS paid_total,
       count(DISTINCT customer_id) AS customers,
       count(*) FILTER (WHERE status IS NULL) AS without_status,
       CAST(max(order_id) AS BIGINT) AS last_order_id
FROM orders
