-- tributary quickstart: a Lance table fed by a streaming job over CSV files.
-- Run from the repository root: cargo run -- -f sql/quickstart.sql
-- (the job reads sql/data/orders/*.csv; a path without a scheme is a local
-- path, resolved once when the job is created).

CREATE DATABASE IF NOT EXISTS demo;
USE demo;

DROP JOB IF EXISTS WHERE jobName = 'orders_feed';
DROP TABLE IF EXISTS orders;
CREATE TABLE orders (
  order_id BIGINT NOT NULL COMMENT 'order number',
  customer VARCHAR(64),
  amount DECIMAL(10, 2),
  order_date DATE
)
DUPLICATE KEY(order_id)
DISTRIBUTED BY HASH(order_id) BUCKETS 4;

-- The job loads every file after its offset, at most two files per task,
-- and polls for new files every 2 seconds.
CREATE JOB orders_feed ON STREAMING
PROPERTIES ("s3.max_batch_files" = "2", "max_interval" = "2s")
COMMENT 'orders from sql/data/orders'
DO INSERT INTO demo.orders
SELECT * FROM S3("uri" = "sql/data/orders/*.csv", "format" = "csv", "column_separator" = ",");

-- Block until every file there now is loaded.
WAIT JOB WHERE jobName = 'orders_feed' TIMEOUT 60;

SELECT customer, count(*) AS orders, sum(amount) AS total
FROM demo.orders
GROUP BY customer
ORDER BY total DESC;

-- The job: its offset (the last file loaded), statistics and state.
SELECT Name, Status, SucceedTaskCount, CurrentOffset, LoadStatistic
FROM job(type=insert) WHERE Name = 'orders_feed'\G

-- One row per task: two files, then one.
SELECT Label, Status, RunningOffset, LoadStatistic
FROM tasks(type='insert') WHERE JobName = 'orders_feed' ORDER BY TaskId;

-- One row per file: what became of it, and its rows.
SELECT FileName, Status, TaskId, LoadedRows, RejectedRows
FROM job_files(job = 'orders_feed') ORDER BY FileName;

-- How far behind it is: files waiting (none once it caught up), when its
-- rows last became visible, which process runs it.
SELECT BacklogFiles, BacklogBytes, LastLoadTime, LeaseHolder
FROM job_status(job = 'orders_feed');

-- The job keeps running: a file added to sql/data/orders later is loaded
-- within max_interval. Pause it until then.
PAUSE JOB WHERE jobName = 'orders_feed';
SELECT Name, Status FROM job(type=insert);
