"""pylance, a peer of tributary's ingest benchmark (benches/ingest.rs):
pyarrow's streaming CSV reader over the files, in name order, into
`lance.write_dataset` (one new dataset, the same Lance version as
tributary's).

    pylance_load.py DATASET_DIR 'dir/*.csv'

Prints one JSON line: seconds, rows, peak_rss_mib, cpu_seconds (this
process's).
"""
import glob
import json
import sys
import time

import lance
import pyarrow as pa
import pyarrow.csv as csv

from measure import cpu_seconds, peak_rss_mib

SCHEMA = pa.schema(
    [
        pa.field("order_id", pa.int64(), nullable=False),
        pa.field("customer_id", pa.int32()),
        pa.field("amount", pa.decimal128(12, 2)),
        pa.field("quantity", pa.int32()),
        pa.field("status", pa.string()),
        pa.field("order_date", pa.date32()),
        pa.field("comment", pa.string()),
    ]
)


def batches(files):
    read = csv.ReadOptions(column_names=SCHEMA.names, block_size=1 << 20)
    parse = csv.ParseOptions(delimiter=",", quote_char=False)
    convert = csv.ConvertOptions(column_types=SCHEMA)
    for path in files:
        with csv.open_csv(path, read_options=read, parse_options=parse, convert_options=convert) as reader:
            for batch in reader:
                yield pa.RecordBatch.from_arrays(batch.columns, schema=SCHEMA)


def main(target: str, pattern: str) -> None:
    files = sorted(glob.glob(pattern))
    start, cpu = time.perf_counter(), cpu_seconds()
    reader = pa.RecordBatchReader.from_batches(SCHEMA, batches(files))
    dataset = lance.write_dataset(reader, target, mode="create")
    seconds, cpu = time.perf_counter() - start, cpu_seconds() - cpu
    peak = peak_rss_mib()
    print(json.dumps({"seconds": seconds, "rows": dataset.count_rows(), "peak_rss_mib": peak, "cpu_seconds": cpu}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
