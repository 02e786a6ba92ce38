"""pylance, a peer of tributary's ingest benchmark (benches/ingest.rs):
pyarrow's streaming CSV reader over the files, in name order, into
`lance.write_dataset` (one new dataset, the same Lance version as
tributary's).

    pylance_load.py DATASET_DIR 'dir/*.csv'
    pylance_load.py DATASET_DIR 's3://bucket/prefix/'   pyarrow.dataset over
        pyarrow.fs.S3FileSystem; the server and credentials come from
        BENCH_S3_ENDPOINT, BENCH_S3_ACCESS_KEY, BENCH_S3_SECRET_KEY and
        BENCH_S3_REGION

Prints one JSON line: seconds, rows, peak_rss_mib, cpu_seconds (this
process's).
"""
import glob
import json
import sys
import time

import os

import lance
import pyarrow as pa
import pyarrow.csv as csv
import pyarrow.dataset as pads
import pyarrow.fs as pafs

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


READ = csv.ReadOptions(column_names=SCHEMA.names, block_size=1 << 20)
PARSE = csv.ParseOptions(delimiter=",", quote_char=False)
CONVERT = csv.ConvertOptions(column_types=SCHEMA)


def batches(files):
    read, parse, convert = READ, PARSE, CONVERT
    for path in files:
        with csv.open_csv(path, read_options=read, parse_options=parse, convert_options=convert) as reader:
            for batch in reader:
                yield pa.RecordBatch.from_arrays(batch.columns, schema=SCHEMA)


def s3_reader(source: str) -> pa.RecordBatchReader:
    endpoint = os.environ["BENCH_S3_ENDPOINT"]
    fs = pafs.S3FileSystem(
        access_key=os.environ["BENCH_S3_ACCESS_KEY"],
        secret_key=os.environ["BENCH_S3_SECRET_KEY"],
        region=os.environ["BENCH_S3_REGION"],
        endpoint_override=endpoint.split("://", 1)[1],
        scheme=endpoint.split("://", 1)[0],
    )
    fmt = pads.CsvFileFormat(read_options=READ, parse_options=PARSE, convert_options=CONVERT)
    dataset = pads.dataset(source.removeprefix("s3://"), filesystem=fs, format=fmt, schema=SCHEMA)
    return dataset.scanner().to_reader()


def main(target: str, pattern: str) -> None:
    start, cpu = time.perf_counter(), cpu_seconds()
    if pattern.startswith("s3://"):
        reader = s3_reader(pattern)
    else:
        files = sorted(glob.glob(pattern))
        reader = pa.RecordBatchReader.from_batches(SCHEMA, batches(files))
    dataset = lance.write_dataset(reader, target, mode="create")
    seconds, cpu = time.perf_counter() - start, cpu_seconds() - cpu
    peak = peak_rss_mib()
    print(json.dumps({"seconds": seconds, "rows": dataset.count_rows(), "peak_rss_mib": peak, "cpu_seconds": cpu}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
