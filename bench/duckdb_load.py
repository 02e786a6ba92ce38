"""DuckDB, the peer of tributary's ingest benchmark (benches/ingest.rs).

    duckdb_load.py DB_FILE 'dir/*.csv'        CREATE TABLE AS SELECT * FROM read_csv(...)
    duckdb_load.py DB_FILE 'dir/*.parquet'    the same with read_parquet(...)
    duckdb_load.py --to-parquet CSV_DIR OUT   one Parquet file per CSV file

A load prints one JSON line: seconds, rows, peak_rss_mib, cpu_seconds (this
process's).
"""
import json
import pathlib
import sys
import time

import duckdb

from measure import cpu_seconds, peak_rss_mib

COLUMNS = (
    "{'order_id': 'BIGINT', 'customer_id': 'INTEGER', 'amount': 'DECIMAL(12,2)', "
    "'quantity': 'INTEGER', 'status': 'VARCHAR', 'order_date': 'DATE', 'comment': 'VARCHAR'}"
)


def read(source: str) -> str:
    if source.endswith(".parquet"):
        return f"read_parquet('{source}')"
    return f"read_csv('{source}', header = false, delim = ',', quote = '', columns = {COLUMNS})"


def to_parquet(csv_dir: str, out_dir: str) -> None:
    con = duckdb.connect()
    for csv in sorted(pathlib.Path(csv_dir).glob("*.csv")):
        target = pathlib.Path(out_dir) / (csv.stem + ".parquet")
        con.execute(f"COPY (SELECT * FROM {read(str(csv))}) TO '{target}' (FORMAT parquet)")


def load(db_file: str, source: str) -> None:
    con = duckdb.connect(db_file)
    start, cpu = time.perf_counter(), cpu_seconds()
    con.execute(f"CREATE TABLE orders AS SELECT * FROM {read(source)}")
    con.execute("CHECKPOINT")
    seconds, cpu = time.perf_counter() - start, cpu_seconds() - cpu
    rows = con.execute("SELECT count(*) FROM orders").fetchone()[0]
    peak = peak_rss_mib()
    print(json.dumps({"seconds": seconds, "rows": rows, "peak_rss_mib": peak, "cpu_seconds": cpu}))


if __name__ == "__main__":
    if sys.argv[1] == "--to-parquet":
        to_parquet(sys.argv[2], sys.argv[3])
    else:
        load(sys.argv[1], sys.argv[2])
