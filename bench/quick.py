"""A quick ingest measurement with the release `tributary` binary, while the
full harness (benches/ingest.rs) is the one to use: CSV files -> a streaming
job, a one-shot INSERT, tributary's S3() read, DuckDB's CREATE TABLE AS
read_csv, and DataFusion's (Python package) CSV read into a no-op sink, each
a separate process timed by wall clock with its own peak RSS (wait4).

    cargo build --release && python bench/quick.py FILES MIB_PER_FILE
(with duckdb and datafusion installed in the Python that runs it)
"""
import json, os, pathlib, subprocess, sys, time, tempfile
N, MIB = int(sys.argv[1]), int(sys.argv[2])
root = pathlib.Path(tempfile.mkdtemp(prefix="qb"))
csv = root / "csv"; csv.mkdir()
S = ["NEW","PAID","SHIPPED","DELIVERED","RETURNED"]
nid = 1; total = 0
for f in range(N):
    lines = []; size = 0
    while size < MIB << 20:
        x = (nid * 2654435761) % 1000003
        l = f"{nid},{x%50000},{x%10000}.{x%100:02},{1+x%9},{S[x%5]},2026-{1+x%12:02}-{1+x%28:02},order {nid} for customer {x%50000} via channel {x%7}\n"
        lines.append(l); size += len(l); nid += 1
    total += len(lines)
    (csv / f"orders-{f:05}.csv").write_text("".join(lines))
nbytes = sum(p.stat().st_size for p in csv.iterdir())
def run(cmd, env=None):
    t = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    _, status, ru = os.wait4(p.pid, 0)
    out = p.stdout.read().decode(); err = p.stderr.read().decode()
    assert status == 0, err
    return time.perf_counter() - t, ru.ru_maxrss / 1024, out
HERE = pathlib.Path(__file__).resolve().parent
TARGET = os.environ.get("CARGO_TARGET_DIR", str(HERE.parent / "target"))
T = os.path.join(TARGET, "release", "tributary")
table = "CREATE TABLE bench.orders (order_id BIGINT NOT NULL, customer_id INT, amount DECIMAL(12,2), quantity INT, status VARCHAR(16), order_date DATE, comment STRING)"
src = f"S3('uri' = 'file://{csv}/*.csv', 'format' = 'csv', 'column_separator' = ',')"
env = dict(os.environ, TRIBUTARY_SECRET_KEY_FILE=str(root/"key"))
res = {}
base, rss0, _ = run([T, "-w", str(root/"wh0"), "-e", f"CREATE DATABASE bench; {table}"], env)
res["tributary startup+create table"] = (base, rss0)
s, r, out = run([T, "-w", str(root/"wh1"), "-e", f"CREATE DATABASE bench; {table}; CREATE JOB j ON STREAMING PROPERTIES ('max_interval'='1s') DO INSERT INTO bench.orders SELECT * FROM {src}; WAIT JOB WHERE jobName = 'j' TIMEOUT 3600; SELECT count(*) FROM bench.orders"], env)
assert str(total) in out, out
res["tributary job file:// CSV -> Lance"] = (s, r)
s, r, out = run([T, "-w", str(root/"wh2"), "-e", f"CREATE DATABASE bench; {table}; INSERT INTO bench.orders SELECT * FROM {src}; SELECT count(*) FROM bench.orders"], env)
assert str(total) in out, out
res["tributary INSERT file:// CSV -> Lance"] = (s, r)
s, r, out = run([T, "-w", str(root/"wh3"), "-e", f"SELECT count(*), max(c7) FROM {src}"], env)
res["tributary S3() CSV read, count(*)"] = (s, r)
py = sys.executable
s, r, out = run([py, str(HERE / "duckdb_load.py"), str(root/"duck.db"), f"{csv}/*.csv"])
assert json.loads(out)["rows"] == total
res["DuckDB read_csv -> DuckDB table"] = (s, r)
dfs = f"""
import datafusion, pyarrow as pa
ctx = datafusion.SessionContext()
schema = pa.schema([('order_id', pa.int64()), ('customer_id', pa.int32()), ('amount', pa.decimal128(12,2)), ('quantity', pa.int32()), ('status', pa.string()), ('order_date', pa.date32()), ('comment', pa.string())])
df = ctx.read_csv('{csv}', schema=schema, has_header=False, file_extension='.csv')
n = 0
for b in df.execute_stream():
    n += b.to_pyarrow().num_rows
assert n == {total}, n
"""
s, r, out = run([py, "-c", dfs])
res["DataFusion (python 55) CSV read, no-op sink"] = (s, r)
print(f"{N} files x {MIB} MiB = {nbytes/2**20:.0f} MiB, {total} rows")
for k, (s, r) in res.items():
    print(f"{k:<46} {s:8.2f} s {nbytes/2**20/s:8.1f} MiB/s {total/s:12.0f} rows/s {r:8.0f} MiB peak")
