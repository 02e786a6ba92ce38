//! Queries on a loaded table against DuckDB on its own: the CSV files
//! loaded by a job into tributary and by `CREATE TABLE AS SELECT * FROM
//! read_csv` into DuckDB, then each query run by a new process of each
//! (the `tributary -e` client; Python with duckdb), timed whole: start-up,
//! opening the table, the query and printing its rows, what a user running
//! one query from a shell waits for. Both must give the same rows.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use super::{median, run_child, Spec};

pub const QUERIES: &str = "queries";

/// Timed runs of each query on each side (after one untimed run).
const RUNS: usize = 3;

/// The warehouse the job loads, under the benchmark's work directory.
const WAREHOUSE: &str = "wh-queries";

#[derive(Debug, serde::Serialize)]
pub struct QueryCost {
    rows: u64,
    /// Seconds of the maintenance round after the load (it builds the
    /// zone maps), run at once with `ADMIN COMPACT TABLE`; the
    /// background does it within a minute of the load.
    maintenance_seconds: f64,
    queries: Vec<QueryTime>,
}

#[derive(Debug, serde::Serialize)]
struct QueryTime {
    name: &'static str,
    sql: String,
    /// Median seconds of the whole process.
    tributary_seconds: f64,
    duckdb_seconds: f64,
}

/// The queries, over a table named `orders`, and what each is for. Ties
/// are broken so that both engines have one answer.
fn queries(id: u64) -> Vec<(&'static str, String)> {
    vec![
        ("count", "SELECT count(*) FROM orders".into()),
        (
            "group by status, sum(amount)",
            "SELECT status, sum(amount) FROM orders GROUP BY status ORDER BY status".into(),
        ),
        (
            DICTIONARY_GROUP_BY,
            "SELECT status, sum(amount) FROM orders GROUP BY status ORDER BY status".into(),
        ),
        (
            "selective string equality",
            format!(
                "SELECT order_id, status FROM orders WHERE comment = '{}'",
                super::comment_of(id)
            ),
        ),
        (
            "date range aggregate",
            "SELECT count(*), sum(amount) FROM orders WHERE order_date BETWEEN DATE '2026-03-01' AND DATE '2026-03-07'".into(),
        ),
        (
            "top 10 by amount",
            "SELECT order_id, amount FROM orders ORDER BY amount DESC, order_id LIMIT 10".into(),
        ),
        (
            "count distinct customers",
            "SELECT count(DISTINCT customer_id) FROM orders".into(),
        ),
        (
            "point lookup",
            format!("SELECT * FROM orders WHERE order_id = {id}"),
        ),
    ]
}

/// The query run on a copy of the table whose `status` is stored as a
/// dictionary (`"dictionary_columns"`).
const DICTIONARY_GROUP_BY: &str = "group by status, sum(amount), status a dictionary column";

/// The table `query` reads on tributary's side.
fn table_of(query: &str) -> &'static str {
    match query {
        DICTIONARY_GROUP_BY => "bench.orders_dict",
        _ => "bench.orders",
    }
}

/// The aggregates of [`queries`]: those that read the whole table.
pub(super) fn aggregates(id: u64) -> Vec<(&'static str, String)> {
    const AGGREGATES: [&str; 5] = [
        "count",
        "group by status, sum(amount)",
        "date range aggregate",
        "top 10 by amount",
        "count distinct customers",
    ];
    (queries(id).into_iter())
        .filter(|(name, _)| AGGREGATES.contains(name))
        .collect()
}

pub fn query_cost(root: &Path, csv_dir: &Path, python: &str, rows: u64) -> QueryCost {
    eprintln!("bench: {QUERIES}: loading both tables");
    let loaded = run_child(&Spec {
        kind: "job".into(),
        uri: format!("file://{}/*.csv", csv_dir.display()),
        format: "csv".into(),
        endpoint: String::new(),
        work: root.to_path_buf(),
        compression: None,
        warehouse: Some(WAREHOUSE.into()),
        workers: Vec::new(),
    });
    assert_eq!(loaded.rows, rows, "the job loaded every row");
    let tributary = Tributary {
        warehouse: root.join(WAREHOUSE),
        secret_key: root.join("secret.key"),
        workers: Vec::new(),
    };
    // The job is caught up; a client process must not poll it meanwhile.
    tributary.run("DROP JOB WHERE jobName = 'load'");
    let maintenance_seconds = timed(|| tributary.run("ADMIN COMPACT TABLE bench.orders"));
    eprintln!("bench: {QUERIES}: maintenance after the load took {maintenance_seconds:.2} s");
    let with_dictionary = super::TABLE.replace("bench.orders", "bench.orders_dict");
    tributary.run(&format!(
        "{with_dictionary} PROPERTIES (\"dictionary_columns\" = \"status\")"
    ));
    tributary.run("INSERT INTO bench.orders_dict SELECT * FROM bench.orders");
    tributary.run("ADMIN COMPACT TABLE bench.orders_dict");
    let duckdb = DuckDb {
        python: python.to_string(),
        db: root.join("duckdb-queries.db"),
    };
    duckdb.load(&format!("{}/*.csv", csv_dir.display()));
    let mut times = Vec::new();
    for (name, sql) in queries(rows / 2) {
        let table = format!(" FROM {}", table_of(name));
        let ours = tributary.run(&sql.replace(" FROM orders", &table));
        let theirs = duckdb.run(&sql);
        assert_eq!(
            ours, theirs,
            "{name}: tributary and DuckDB give the same rows"
        );
        let mut seconds = (Vec::new(), Vec::new());
        for _ in 0..RUNS {
            seconds.0.push(timed(|| {
                tributary.run(&sql.replace(" FROM orders", &table))
            }));
            seconds.1.push(timed(|| duckdb.run(&sql)));
        }
        let time = QueryTime {
            name,
            sql,
            tributary_seconds: median(&seconds.0),
            duckdb_seconds: median(&seconds.1),
        };
        eprintln!("bench: {QUERIES}: {time:?}");
        times.push(time);
    }
    QueryCost {
        rows,
        maintenance_seconds,
        queries: times,
    }
}

pub(super) fn timed<T>(run: impl FnOnce() -> T) -> f64 {
    let start = Instant::now();
    run();
    start.elapsed().as_secs_f64()
}

/// The `tributary` client on the loaded warehouse (across `workers`,
/// when there are some).
pub(super) struct Tributary {
    pub(super) warehouse: std::path::PathBuf,
    pub(super) secret_key: std::path::PathBuf,
    pub(super) workers: Vec<String>,
}

impl Tributary {
    /// Runs `sql` in a new client process; its result rows, as text.
    pub(super) fn run(&self, sql: &str) -> Vec<Vec<String>> {
        let mut command = Command::new(env!("CARGO_BIN_EXE_tributary"));
        if !self.workers.is_empty() {
            command.args(["--workers", &self.workers.join(",")]);
            command.args(["--distribute-min-bytes", "0"]);
        }
        let output = command
            .arg("--warehouse")
            .arg(&self.warehouse)
            .args(["--local-files", "none", "-e", sql])
            .env("TRIBUTARY_SECRET_KEY_FILE", &self.secret_key)
            .env("RUST_LOG", "warn")
            .stderr(Stdio::inherit())
            .output()
            .expect("the tributary client runs");
        assert!(output.status.success(), "tributary -e {sql} failed");
        table_rows(&String::from_utf8_lossy(&output.stdout))
    }
}

/// The rows of the client's result table (`| a | b |` lines after the
/// header line).
fn table_rows(printed: &str) -> Vec<Vec<String>> {
    printed
        .lines()
        .filter(|l| l.starts_with('|'))
        .skip(1)
        .map(|l| {
            l.trim_matches('|')
                .split('|')
                .map(|cell| cell.trim().to_string())
                .collect()
        })
        .collect()
}

/// DuckDB, through Python, on its own database file.
struct DuckDb {
    python: String,
    db: std::path::PathBuf,
}

impl DuckDb {
    fn script(name: &str) -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("bench")
            .join(name)
    }

    fn load(&self, source: &str) {
        let _ = std::fs::remove_file(&self.db);
        let status = Command::new(&self.python)
            .arg(Self::script("duckdb_load.py"))
            .arg(&self.db)
            .arg(source)
            .stdout(Stdio::null())
            .status()
            .expect("python runs");
        assert!(status.success(), "duckdb_load.py failed");
    }

    /// Runs `sql` in a new Python process; its result rows, as text.
    fn run(&self, sql: &str) -> Vec<Vec<String>> {
        let output = Command::new(&self.python)
            .arg(Self::script("duckdb_query.py"))
            .arg(&self.db)
            .arg(sql)
            .stderr(Stdio::inherit())
            .output()
            .expect("python runs");
        assert!(output.status.success(), "duckdb_query.py {sql} failed");
        serde_json::from_slice(&output.stdout).expect("duckdb_query.py prints JSON")
    }
}

impl QueryCost {
    /// One line: each query, tributary's seconds against DuckDB's.
    pub fn summary(&self) -> String {
        let each: Vec<String> = self
            .queries
            .iter()
            .map(|q| {
                format!(
                    "{} {:.2} s vs {:.2} s ({:.2}x)",
                    q.name,
                    q.tributary_seconds,
                    q.duckdb_seconds,
                    q.duckdb_seconds / q.tributary_seconds
                )
            })
            .collect();
        format!(
            "{} rows, whole process, tributary vs DuckDB (DuckDB's time / ours): {}",
            self.rows,
            each.join("; ")
        )
    }
}
