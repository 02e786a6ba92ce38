//! Properties committed with the rows of an append (the basis of a streaming
//! job's exactly-once offset) are found again after a reopen.

use std::collections::HashMap;
use std::sync::Arc;

use datafusion::arrow::array::Int32Array;
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::datasource::sink::DataSink;
use datafusion::execution::TaskContext;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use tributary::write::{commits_with_property, create_dataset, open_dataset, LanceSink};

async fn append(uri: &str, values: Vec<i32>, properties: HashMap<String, String>) -> u64 {
    let schema = Arc::new(Schema::new(vec![Field::new("v", DataType::Int32, true)]));
    let batch =
        RecordBatch::try_new(schema.clone(), vec![Arc::new(Int32Array::from(values))]).unwrap();
    let dataset = Arc::new(open_dataset(uri, &HashMap::new()).await.unwrap());
    let sink =
        LanceSink::new("d.t".into(), schema.clone(), dataset).with_commit_properties(properties);
    let stream = RecordBatchStreamAdapter::new(schema, futures::stream::iter(vec![Ok(batch)]));
    sink.write_all(Box::pin(stream), &Arc::new(TaskContext::default()))
        .await
        .unwrap()
}

#[tokio::test]
async fn the_offset_committed_with_rows_is_read_back() {
    let dir = tempfile::tempdir().unwrap();
    let uri = dir.path().join("t.lance");
    let uri = uri.to_str().unwrap();
    let schema = Arc::new(Schema::new(vec![Field::new("v", DataType::Int32, true)]));
    create_dataset(uri, schema, Default::default(), &HashMap::new())
        .await
        .unwrap();

    let offset =
        |file: &str| HashMap::from([("tributary.job.7.offset".to_string(), file.to_string())]);
    assert_eq!(append(uri, vec![1, 2], offset("a/0001.csv")).await, 2);
    assert_eq!(append(uri, vec![3], offset("a/0002.csv")).await, 1);
    // A plain INSERT in between carries no offset.
    assert_eq!(append(uri, vec![4], HashMap::new()).await, 1);

    let dataset = open_dataset(uri, &HashMap::new()).await.unwrap();
    let key = "tributary.job.7.offset";
    let commits = commits_with_property(&dataset, key, 0).await.unwrap();
    let (version, properties) = commits.last().expect("an offset was committed");
    let version = *version;
    assert_eq!(properties[key], "a/0002.csv");
    assert_eq!(commits.len(), 2, "both offsets, oldest first: {commits:?}");
    assert_eq!(version, dataset.version().version - 1);
    assert_eq!(dataset.count_rows(None).await.unwrap(), 4);
    // Another job's key was never committed; a search after the last offset finds nothing newer.
    assert!(commits_with_property(&dataset, "tributary.job.8.offset", 0)
        .await
        .unwrap()
        .is_empty());
    assert!(commits_with_property(&dataset, key, version)
        .await
        .unwrap()
        .is_empty());
}
