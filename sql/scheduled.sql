-- A job on a schedule: a plain INSERT run at fixed times (Doris's
-- ON SCHEDULE). Run from the repository root after the quickstart:
--   cargo run -- -f sql/quickstart.sql && cargo run -- -f sql/scheduled.sql

USE demo;

DROP JOB IF EXISTS WHERE jobName = 'customer_totals';
DROP TABLE IF EXISTS customer_totals;
CREATE TABLE customer_totals (customer VARCHAR(64), orders BIGINT, total DECIMAL(12, 2));

-- Once, now: a snapshot of the totals. (EVERY 1 HOUR STARTS '...' would
-- repeat it; firings missed while no process ran fire once.)
CREATE JOB customer_totals ON SCHEDULE AT CURRENT_TIMESTAMP
COMMENT 'totals per customer'
DO INSERT INTO demo.customer_totals
SELECT customer, count(*), sum(amount) FROM demo.orders GROUP BY customer;

-- Returns once the firing has run: the job is then FINISHED.
WAIT JOB WHERE jobName = 'customer_totals' TIMEOUT 60;

SELECT * FROM demo.customer_totals ORDER BY total DESC;

SELECT Name, ExecuteType, RecurringStrategy, Status, SucceedTaskCount
FROM job(type=insert) WHERE Name = 'customer_totals'\G

SELECT Label, Status, LoadStatistic FROM tasks(type='insert') WHERE JobName = 'customer_totals';
