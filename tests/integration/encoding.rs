//! The table property "compression": each value writes the files Lance's
//! encodings make of it (compact, LZ4, uncompressed strings), and a
//! change applies to the files written after it.

use tributary::Engine;

use crate::support::query;

/// Rows of repetitive strings, which the three encodings store in
/// clearly different sizes.
const ROWS: &str = "SELECT value, concat('customer-', CAST(value % 5000 AS STRING), '-', md5(CAST(value % 777 AS STRING))) FROM range(200000)";

/// The bytes of the table's data files, as SHOW TABLE STATUS gives them.
async fn data_length(engine: &Engine, table: &str) -> u64 {
    let status = query(engine, &format!("SHOW TABLE STATUS FROM d LIKE '{table}'")).await;
    let row = status.lines().nth(3).expect("a status row");
    let cells: Vec<&str> = row.split('|').map(str::trim).collect();
    // Name is the first cell after the leading border, Data_length the 7th.
    assert_eq!(cells[1], table, "{status}");
    cells[7]
        .parse()
        .unwrap_or_else(|_| panic!("Data_length in {status}"))
}

/// The data bytes of table `d.{table}` of `columns`, created with
/// `compression` and loaded with the rows of `select`.
async fn loaded_bytes(
    engine: &Engine,
    table: &str,
    columns: &str,
    compression: &str,
    select: &str,
) -> u64 {
    query(
        engine,
        &format!(
            "CREATE TABLE d.{table} ({columns}) PROPERTIES (\"compression\" = \"{compression}\")"
        ),
    )
    .await;
    query(engine, &format!("INSERT INTO d.{table} {select}")).await;
    data_length(engine, table).await
}

#[tokio::test]
async fn compression_chooses_the_encoding_of_new_files() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(dir.path().to_str().unwrap()).await.unwrap();
    query(&engine, "CREATE DATABASE d").await;
    let mut sizes = Vec::new();
    for compression in ["zstd", "lz4", "none"] {
        let table = format!("t_{compression}");
        let columns = "id BIGINT, name STRING";
        sizes.push(loaded_bytes(&engine, &table, columns, compression, ROWS).await);
    }
    let [compact, lz4, none] = sizes[..] else {
        unreachable!()
    };
    assert!(
        compact < lz4 && lz4 < none,
        "zstd {compact}, lz4 {lz4}, none {none} bytes"
    );

    // The change applies to the files written after it; the rows stay.
    query(
        &engine,
        "ALTER TABLE d.t_zstd SET (\"compression\" = \"none\")",
    )
    .await;
    query(&engine, &format!("INSERT INTO d.t_zstd {ROWS}")).await;
    let added = data_length(&engine, "t_zstd").await - compact;
    assert!(
        added > compact + (none - compact) / 2,
        "the second file took {added} bytes; compact {compact}, none {none}"
    );
    let counts = query(
        &engine,
        "SELECT count(*) = 400000 AND count(DISTINCT name) = (SELECT count(DISTINCT name) FROM d.t_none) AS same FROM d.t_zstd",
    )
    .await;
    assert!(counts.contains("true"), "{counts}");
}

/// The `lance-encoding:compression` of each column of the one table of
/// the warehouse at `dir`, as its dataset's schema records it.
async fn column_compressions(dir: &std::path::Path) -> Vec<(String, Option<String>)> {
    let table = std::fs::read_dir(dir.join("tables"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "lance"))
        .expect("the table's dataset");
    let dataset = lance::Dataset::open(table.to_str().unwrap()).await.unwrap();
    dataset
        .schema()
        .fields
        .iter()
        .map(|f| {
            let compression = f.metadata.get("lance-encoding:compression").cloned();
            (f.name.clone(), compression)
        })
        .collect()
}

#[tokio::test]
async fn an_added_column_is_written_as_the_table_compression_says() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(dir.path().to_str().unwrap()).await.unwrap();
    query(&engine, "CREATE DATABASE d").await;
    query(
        &engine,
        "CREATE TABLE d.t (id BIGINT, name STRING) PROPERTIES (\"compression\" = \"lz4\")",
    )
    .await;
    query(&engine, "INSERT INTO d.t VALUES (1, 'a')").await;
    query(&engine, "ALTER TABLE d.t ADD COLUMN note STRING").await;
    query(&engine, "ALTER TABLE d.t ADD COLUMN tag STRING DEFAULT 'x'").await;
    let lz4 = Some("lz4".to_string());
    assert_eq!(
        column_compressions(dir.path()).await,
        vec![
            ("id".to_string(), None),
            ("name".to_string(), lz4.clone()),
            ("note".to_string(), lz4.clone()),
            ("tag".to_string(), lz4),
        ]
    );
}

/// Decimals are stored in less than half their 16 bytes by default
/// (Lance packs no bits of them), and as they are with "none".
#[tokio::test]
async fn decimals_are_compressed_by_default() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(dir.path().to_str().unwrap()).await.unwrap();
    query(&engine, "CREATE DATABASE d").await;
    let rows = "SELECT CAST(value * 7919 % 10000000 AS DECIMAL(12,2)) / 100 FROM range(200000)";
    let mut sizes = Vec::new();
    for compression in ["zstd", "none"] {
        let table = format!("amounts_{compression}");
        let columns = "amount DECIMAL(12,2)";
        sizes.push(loaded_bytes(&engine, &table, columns, compression, rows).await);
    }
    let [compact, none] = sizes[..] else {
        unreachable!()
    };
    assert!(none >= 200_000 * 16, "none: {none} bytes");
    assert!(compact * 2 < none, "zstd {compact}, none {none} bytes");
}
