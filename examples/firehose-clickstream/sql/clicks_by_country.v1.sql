-- Per country and day: events, distinct users, the first and last event (UTC, to the millisecond),
-- item quantities (from the list of items) and the revenue of purchases. A user without geo counts
-- under '(unknown)'.
WITH events AS (
  SELECT coalesce(country, '(unknown)') AS country, user_id, event_type, event_time, items
  FROM clicks
),
items AS (
  SELECT country, event_type, unnest(items) AS item
  FROM events
),
item_totals AS (
  SELECT country,
         CAST(sum(item.qty) AS BIGINT) AS quantity,
         CAST(sum(CASE WHEN event_type = 'purchase' THEN item.qty * item.price ELSE 0 END) AS DECIMAL(38, 2)) AS revenue
  FROM items
  GROUP BY country
)
SELECT CAST($day AS VARCHAR) AS day,
       e.country,
       count(*) AS events,
       count(DISTINCT e.user_id) AS users,
       strftime(min(e.event_time), '%Y-%m-%dT%H:%M:%S.%gZ') AS first_event,
       strftime(max(e.event_time), '%Y-%m-%dT%H:%M:%S.%gZ') AS last_event,
       coalesce(max(t.quantity), 0) AS quantity,
       coalesce(max(t.revenue), CAST(0 AS DECIMAL(38, 2))) AS revenue
FROM events AS e
LEFT JOIN item_totals AS t ON t.country = e.country
GROUP BY e.country
