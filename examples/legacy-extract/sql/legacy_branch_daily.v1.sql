-- Per branch and extract day: transactions, the earliest transaction date, transactions with a memo,
-- credits, debits and the net; transactions of no branch (\N in the extract) count under 'NONE'.
SELECT CAST($day AS VARCHAR) AS day,
       coalesce(t.branch_code, 'NONE') AS branch_code,
       coalesce(b.branch_name, '(no branch)') AS branch_name,
       count(*) AS txns,
       CAST(min(t.txn_date) AS VARCHAR) AS first_txn_date,
       count(t.memo) AS with_memo,
       CAST(coalesce(sum(t.amount) FILTER (WHERE t.amount > 0), 0) AS DECIMAL(38, 2)) AS credits,
       CAST(coalesce(sum(t.amount) FILTER (WHERE t.amount < 0), 0) AS DECIMAL(38, 2)) AS debits,
       CAST(sum(t.amount) AS DECIMAL(38, 2)) AS net
FROM txn AS t
LEFT JOIN branches AS b ON b.branch_code = t.branch_code
GROUP BY coalesce(t.branch_code, 'NONE'), coalesce(b.branch_name, '(no branch)')
