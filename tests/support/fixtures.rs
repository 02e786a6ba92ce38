//! Source files the tests read: every format and compression `S3()`
//! supports, written to a local directory and uploaded to the test bucket.

use std::path::Path;
use std::sync::Arc;

use async_compression::tokio::bufread::{
    BzEncoder, GzipEncoder, Lz4Encoder, ZlibEncoder, ZstdEncoder,
};
use datafusion::arrow::array::{
    ArrayRef, Int64Array, Int64Builder, ListArray, MapBuilder, StringArray, StringBuilder,
    StructArray,
};
use datafusion::arrow::datatypes::{DataType, Field, Int64Type, Schema};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::parquet::arrow::ArrowWriter;
use object_store::path::Path as StorePath;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use tokio::io::AsyncReadExt;

const SMALL_CSV: &str = "1,a\n2,b\n3,c\n";

async fn compress(data: &[u8], codec: &str) -> Vec<u8> {
    let mut out = Vec::new();
    match codec {
        "gz" => GzipEncoder::new(data).read_to_end(&mut out).await,
        "bz2" => BzEncoder::new(data).read_to_end(&mut out).await,
        "zst" => ZstdEncoder::new(data).read_to_end(&mut out).await,
        "lz4" => Lz4Encoder::new(data).read_to_end(&mut out).await,
        "deflate" => ZlibEncoder::new(data).read_to_end(&mut out).await,
        other => panic!("unknown codec {other}"),
    }
    .unwrap();
    out
}

fn parquet() -> Vec<u8> {
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("name", DataType::Utf8, true),
    ]));
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![
            Arc::new(Int64Array::from(vec![10, 20, 30])),
            Arc::new(StringArray::from(vec![Some("ten"), None, Some("thirty")])),
        ],
    )
    .unwrap();
    let mut out = Vec::new();
    let mut writer = ArrowWriter::try_new(&mut out, schema, None).unwrap();
    writer.write(&batch).unwrap();
    writer.close().unwrap();
    out
}

/// Nested values as Parquet writes them: a MAP, an ARRAY and a STRUCT.
fn nested_parquet() -> Vec<u8> {
    let mut attrs = MapBuilder::new(None, StringBuilder::new(), Int64Builder::new());
    attrs.keys().append_value("clicks");
    attrs.values().append_value(3);
    attrs.keys().append_value("views");
    attrs.values().append_value(10);
    attrs.append(true).unwrap();
    attrs.append(true).unwrap();
    let attrs = Arc::new(attrs.finish());
    let scores = Arc::new(ListArray::from_iter_primitive::<Int64Type, _, _>(vec![
        Some(vec![Some(1), Some(2)]),
        None,
    ]));
    let who = Arc::new(StructArray::from(vec![(
        Arc::new(Field::new("name", DataType::Utf8, true)),
        Arc::new(StringArray::from(vec!["ann", "bo"])) as ArrayRef,
    )]));
    let ids = Arc::new(Int64Array::from(vec![1, 2]));
    let batch = RecordBatch::try_from_iter(vec![
        ("id", ids as ArrayRef),
        ("attrs", attrs as ArrayRef),
        ("scores", scores as ArrayRef),
        ("who", who as ArrayRef),
    ])
    .unwrap();
    let mut out = Vec::new();
    let mut writer = ArrowWriter::try_new(&mut out, batch.schema(), None).unwrap();
    writer.write(&batch).unwrap();
    writer.close().unwrap();
    out
}

/// Every fixture file: relative path and content.
pub async fn files() -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = vec![
        ("csv/orders_1.csv", b"1,alice,10.50\n2,bob,3.25\n".to_vec()),
        ("csv/orders_2.csv", b"3,carol,7.00\n".to_vec()),
        (
            "csv/orders_3.csv",
            b"4,dave,1.00\r\n5,erin,2.00\r\n".to_vec(),
        ),
        ("csv/readme.txt", b"not data\n".to_vec()),
        ("tsv/data.tsv", b"1\tx\n2\ty\n".to_vec()),
        ("pipe/data.csv", b"1|x|\n2|y|z".to_vec()),
        ("nulls/nulls.csv", b"1,\\N,\n".to_vec()),
        (
            "names/with_names.csv",
            b"id,Name\n1,alice\n2,bob\n".to_vec(),
        ),
        (
            "names/with_types.csv",
            b"id,name\nint,string\n1,alice\n".to_vec(),
        ),
        ("names/empty.csv", b"".to_vec()),
        (
            "skip/skip.csv",
            b"# exported 2024\n# id,name\n1,a\n2,b\n".to_vec(),
        ),
        ("enclose/quoted.csv", b"1,\"a,b\"\n2,\"c\"\n".to_vec()),
        // A feed for streaming jobs: five files of two rows.
        ("stream/good/part-001.csv", b"1,a\n2,b\n".to_vec()),
        ("stream/good/part-002.csv", b"3,c\n4,d\n".to_vec()),
        ("stream/good/part-003.csv", b"5,e\n6,f\n".to_vec()),
        ("stream/good/part-004.csv", b"7,g\n8,h\n".to_vec()),
        ("stream/good/part-005.csv", b"9,i\n10,j\n".to_vec()),
        // A feed with two bad rows among eight: a value that is not a
        // number (line 3 of part-002) and a NULL id (line 2 of part-003).
        ("stream/bad/part-001.csv", b"1,a\n2,b\n".to_vec()),
        (
            "stream/bad/part-002.csv",
            b"3,c\n4,d\nx,oops\n5,e\n".to_vec(),
        ),
        ("stream/bad/part-003.csv", b"6,f\n\\N,no id\n".to_vec()),
        ("bad/bad.csv", b"1,ok\nabc,not a number\n".to_vec()),
        // Empty files: among files with rows, alone, in every format.
        ("stream/empty_mix/part-001.csv", b"1,a\n2,b\n".to_vec()),
        ("stream/empty_mix/part-002.csv", b"".to_vec()),
        ("stream/empty_mix/part-003.csv", b"3,c\n".to_vec()),
        ("stream/empty_only/part-001.csv", b"".to_vec()),
        ("empty/empty.csv", b"".to_vec()),
        ("empty/empty.json", b"".to_vec()),
        ("empty/empty.parquet", b"".to_vec()),
        (
            "json/lines.json",
            b"{\"id\": 1, \"name\": \"a\"}\n{\"id\": 2, \"name\": \"b\"}\n".to_vec(),
        ),
        (
            "json/array.json",
            b"[{\"id\": 1, \"tags\": \"x\"}, {\"id\": 2}]".to_vec(),
        ),
        (
            "json/nested.json",
            b"{\"data\": {\"items\": [{\"id\": 7, \"user\": {\"name\": \"zoe\"}}]}}".to_vec(),
        ),
        ("json/broken.json", b"{\"id\": 1}\n{\"id\": \n".to_vec()),
        ("parquet/data.parquet", parquet()),
        ("parquet/not_parquet.parquet", b"hello".to_vec()),
        // Nested values: JSON objects and arrays, JSON text in CSV.
        (
            "nested/events.json",
            b"{\"id\": 1, \"tags\": [\"a\", \"b\"], \"who\": {\"name\": \"ann\", \"age\": 30}, \"payload\": {\"items\": [1, 2]}}\n{\"id\": 2, \"tags\": [], \"who\": {\"name\": \"bo\"}, \"payload\": {\"items\": []}}\n".to_vec(),
        ),
        (
            "nested/events.csv",
            b"1|[1, 2]|{\"a\": [1]}\n2|[3]|[true, null]\n3|[x]|{}\n4|[]|not json\n".to_vec(),
        ),
        ("nested/maps.parquet", nested_parquet()),
    ]
    .into_iter()
    .map(|(p, c)| (p.to_string(), c))
    .collect();
    for codec in ["gz", "bz2", "zst", "lz4", "deflate"] {
        files.push((
            format!("compressed/data.csv.{codec}"),
            compress(SMALL_CSV.as_bytes(), codec).await,
        ));
    }
    // The same gzip data without a telling suffix, for compress_type.
    files.push((
        "compressed/gzip_no_suffix.bin".into(),
        compress(SMALL_CSV.as_bytes(), "gz").await,
    ));
    files
}

/// Writes the fixtures under `dir`.
pub async fn write_local(dir: &Path) {
    for (path, content) in files().await {
        let path = dir.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, content).unwrap();
    }
}

/// Uploads the fixtures to `store`.
pub async fn upload(store: &dyn ObjectStore) {
    for (path, content) in files().await {
        store
            .put(&StorePath::from(path.as_str()), PutPayload::from(content))
            .await
            .unwrap();
    }
}
