-- Per partner, day and ordering customer: the customer's name and city, the orders and their total.
SELECT CAST($partner AS VARCHAR) AS partner,
       c.customer_id,
       c.name,
       c.city,
       count(*) AS orders,
       CAST(sum(o.amount) AS DECIMAL(38, 2)) AS total,
       CAST($day AS VARCHAR) AS day
FROM orders AS o
JOIN customers AS c ON c.customer_id = o.customer_id
GROUP BY c.customer_id, c.name, c.city
