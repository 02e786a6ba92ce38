//! Parquet files read through DataFusion's Parquet scan: a query reads the
//! columns it uses and skips the row groups its filter rules out, and the
//! files after the first are read by column name.

use std::sync::Arc;

use datafusion::arrow::array::{Int64Array, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::file::properties::WriterProperties;
use tributary::Engine;

use crate::support::query;

/// Writes `columns` of `ids` to `path`, in row groups of 1,000 rows.
fn write_parquet(path: &std::path::Path, ids: std::ops::Range<i64>, with_name: bool) {
    let mut fields = vec![Field::new("id", DataType::Int64, false)];
    let mut columns: Vec<Arc<dyn datafusion::arrow::array::Array>> =
        vec![Arc::new(Int64Array::from_iter_values(ids.clone()))];
    if with_name {
        fields.push(Field::new("name", DataType::Utf8, true));
        columns.push(Arc::new(StringArray::from_iter_values(
            ids.map(|i| format!("name-{i}")),
        )));
    }
    let batch = RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).unwrap();
    let properties = WriterProperties::builder()
        .set_max_row_group_row_count(Some(1000))
        .build();
    let file = std::fs::File::create(path).unwrap();
    let mut writer = ArrowWriter::try_new(file, batch.schema(), Some(properties)).unwrap();
    writer.write(&batch).unwrap();
    writer.close().unwrap();
}

#[tokio::test]
async fn parquet_scans_prune_row_groups_and_read_later_files_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let files = dir.path().join("files");
    std::fs::create_dir(&files).unwrap();
    write_parquet(&files.join("a.parquet"), 0..4000, true);
    // A later file without the `name` column.
    write_parquet(&files.join("b.parquet"), 4000..5000, false);
    let engine = Engine::open(dir.path().join("wh").to_str().unwrap())
        .await
        .unwrap();
    let call = format!(
        "S3(\"uri\" = \"file://{}/*.parquet\", \"format\" = \"parquet\")",
        files.display()
    );

    let found = query(
        &engine,
        &format!(
            "SELECT id, name, name IS NULL AS missing FROM {call} WHERE id = 2500 OR id = 4500 ORDER BY id"
        ),
    )
    .await;
    assert!(found.contains("| 2500 | name-2500 | false   |"), "{found}");
    assert!(found.contains("| 4500 |           | true    |"), "{found}");

    let plan = query(
        &engine,
        &format!("EXPLAIN ANALYZE SELECT id FROM {call} WHERE id = 2500"),
    )
    .await;
    // Of the five row groups, the statistics keep one.
    assert!(
        plan.contains("row_groups_pruned_statistics=5 total → 1 matched"),
        "{plan}"
    );
    // Only the column the query uses is read.
    assert!(plan.contains("projection=[id]"), "{plan}");
}
