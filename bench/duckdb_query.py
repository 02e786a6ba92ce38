"""DuckDB's side of the benchmark's queries (benches/ingest/queries.rs).

    duckdb_query.py DB_FILE SQL

Runs SQL on the database a load of duckdb_load.py made and prints its rows
as one JSON list of lists of text (NULL as "NULL"), for the benchmark to
check that both engines give the same answer. The benchmark times the
whole process, as it times tributary's.
"""
import json
import sys

import duckdb


def text(value) -> str:
    return "NULL" if value is None else str(value)


if __name__ == "__main__":
    con = duckdb.connect(sys.argv[1], read_only=True)
    rows = con.execute(sys.argv[2]).fetchall()
    print(json.dumps([[text(v) for v in row] for row in rows]))
