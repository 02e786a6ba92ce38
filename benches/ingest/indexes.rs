//! What an index does for a query on a large table: the CSV files loaded
//! by one INSERT, a point lookup and a text search timed without
//! indexes, then with a BTREE index on the key and an INVERTED index on
//! the text, on the same table in the same run.

use std::path::Path;

use datafusion::arrow::util::pretty::pretty_format_batches;

use super::maintenance::{dir_bytes, middle_id};
use super::{count, median, open, s3_call, timed};

pub const INDEXES: &str = "indexes";

#[derive(Debug, serde::Serialize)]
pub struct IndexCost {
    rows: u64,
    table_bytes: u64,
    /// Seconds to build the BTREE and the INVERTED index.
    build_seconds: (f64, f64),
    /// Bytes of the indexes on disk.
    index_bytes: u64,
    /// Median seconds of `SELECT * ... WHERE order_id = <one id>`:
    /// without the index, with it.
    point_seconds: (f64, f64),
    /// Median seconds of `SELECT order_id, comment ... WHERE comment
    /// MATCH_ANY '<a customer>'`: without the index, with it.
    text_seconds: (f64, f64),
    /// Rows the text search finds.
    text_rows: usize,
}

pub async fn index_cost(root: &Path, csv_dir: &Path) -> IndexCost {
    eprintln!("bench: {INDEXES} on the CSV files loaded at once");
    let call = s3_call(&format!("file://{}/*.csv", csv_dir.display()), "csv", "");
    let mut session = open(root, "wh-indexed", None).await;
    session
        .sql(&format!("INSERT INTO bench.orders SELECT * FROM {call}"))
        .await
        .unwrap();
    let rows = count(&mut session).await;
    let table_bytes = dir_bytes(&root.join("wh-indexed/tables"));
    let point = format!(
        "SELECT * FROM bench.orders WHERE order_id = {}",
        middle_id(&mut session).await
    );
    // A customer's orders: about one row in 50,000.
    let text = "SELECT order_id, comment FROM bench.orders WHERE comment MATCH_ANY '4242'";
    let without = (
        five(&mut session, &point).await,
        five(&mut session, text).await,
    );
    let answers = (
        answer(&mut session, &point).await,
        answer(&mut session, text).await,
    );
    let build_seconds = (
        timed(
            &mut session,
            "CREATE INDEX i_order ON bench.orders (order_id) USING BTREE",
        )
        .await,
        timed(
            &mut session,
            "CREATE INDEX i_comment ON bench.orders (comment) USING INVERTED",
        )
        .await,
    );
    let index_bytes = dir_bytes(&root.join("wh-indexed/tables")) - table_bytes;
    let with = (
        five(&mut session, &point).await,
        five(&mut session, text).await,
    );
    assert_eq!(answer(&mut session, &point).await, answers.0);
    assert_eq!(answer(&mut session, text).await, answers.1);
    let cost = IndexCost {
        rows,
        table_bytes,
        build_seconds,
        index_bytes,
        point_seconds: (without.0, with.0),
        text_seconds: (without.1, with.1),
        text_rows: answers.1 .0,
    };
    eprintln!("bench: {INDEXES}: {cost:?}");
    cost
}

/// The median of five runs of `sql`.
async fn five(session: &mut tributary::Session, sql: &str) -> f64 {
    let mut times = Vec::new();
    for _ in 0..5 {
        times.push(timed(session, sql).await);
    }
    median(&times)
}

/// How many rows `sql` gives, and they sorted, as text: what the index
/// must not change.
async fn answer(session: &mut tributary::Session, sql: &str) -> (usize, String) {
    let batches = session.sql(&format!("{sql} ORDER BY 1")).await.unwrap();
    let rows = batches.iter().map(|b| b.num_rows()).sum();
    (rows, pretty_format_batches(&batches).unwrap().to_string())
}

impl IndexCost {
    /// One line: each query with the index against without.
    pub fn summary(&self) -> String {
        format!(
            "{} rows ({:.0} MiB): point lookup {:.3} s without / {:.3} s with a BTREE ({:.0}x faster); text search ({} rows) {:.3} s without / {:.3} s with an INVERTED index ({:.0}x faster); built in {:.1} s and {:.1} s, {:.0} MiB of indexes",
            self.rows,
            self.table_bytes as f64 / (1u64 << 20) as f64,
            self.point_seconds.0,
            self.point_seconds.1,
            self.point_seconds.0 / self.point_seconds.1,
            self.text_rows,
            self.text_seconds.0,
            self.text_seconds.1,
            self.text_seconds.0 / self.text_seconds.1,
            self.build_seconds.0,
            self.build_seconds.1,
            self.index_bytes as f64 / (1u64 << 20) as f64,
        )
    }
}
