-- Every file accounted for: the file ledger, rejected rows, a bad file set
-- aside without stopping the feed, and a dry run.
-- Run from the repository root: cargo run -- -f sql/ledger.sql
-- (sql/data/returns has a good file, one with a bad row, one all bad).

CREATE DATABASE IF NOT EXISTS demo;
USE demo;

DROP JOB IF EXISTS WHERE jobName = 'returns_feed';
DROP TABLE IF EXISTS returns;
CREATE TABLE returns (return_id INT NOT NULL, item VARCHAR(32), quantity INT NOT NULL);

-- Up to half of a file's rows may be left out; a file that fails anyway is
-- quarantined and the job goes on; a file that appears late is loaded.
CREATE JOB returns_feed ON STREAMING
PROPERTIES ("max_interval" = "2s", "session.insert_max_filter_ratio" = "0.5",
            "s3.on_file_error" = "skip", "s3.late_files" = "load")
DO INSERT INTO demo.returns
SELECT * FROM S3("uri" = "sql/data/returns/*.csv", "format" = "csv", "column_separator" = ",");

WAIT JOB WHERE jobName = 'returns_feed' TIMEOUT 60;

-- One row per file: LOADED, LOADED_WITH_REJECTS, QUARANTINED (with why).
SELECT FileName, Status, LoadedRows, RejectedRows, FirstError
FROM job_files(job = 'returns_feed') ORDER BY FileName;

-- The rows left out, as read, with their file, line and reason.
SELECT FileName, Position, RowValues, Reason FROM rejected_rows(job = 'returns_feed');

SELECT * FROM demo.returns ORDER BY return_id;

-- What the next task would load and leave out, committing nothing (no row:
-- nothing new). After fixing a quarantined file, load it again with
--   ALTER JOB returns_feed RETRY FILE '/absolute/path/to/sql/data/returns/2026-01-03.csv';
VALIDATE JOB WHERE jobName = 'returns_feed';
