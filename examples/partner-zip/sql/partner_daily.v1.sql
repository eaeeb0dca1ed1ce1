-- Per partner, day and ordering customer: the customer's name and city, the orders, their total,
-- the first order date and the distinct notes on them.
SELECT CAST($partner AS VARCHAR) AS partner,
       c.customer_id,
       c.name,
       c.city,
       count(*) AS orders,
       CAST(sum(o.amount) AS DECIMAL(38, 2)) AS total,
       CAST(min(o.order_date) AS VARCHAR) AS first_order,
       string_agg(DISTINCT o.note, ' / ' ORDER BY o.note) AS notes,
       CAST($day AS VARCHAR) AS day
FROM orders AS o
JOIN customers AS c ON c.customer_id = o.customer_id
GROUP BY c.customer_id, c.name, c.city
