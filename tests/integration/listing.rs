//! Listing after a job's offset on a real S3-compatible server: only keys
//! that sort after the offset and match the pattern, in order.

use object_store::path::Path;
use object_store::{ObjectStoreExt, PutPayload};
use tributary::ingest::cut_batch;
use tributary::read::listing::list_files;
use tributary::read::{Location, S3Options};

use crate::s3_server::{S3Server, ACCESS_KEY, REGION, SECRET_KEY};

#[tokio::test]
async fn lists_after_the_offset_and_cuts_batches() {
    let server = S3Server::start();
    server.create_bucket("feed");
    let store = server.store("feed");
    for key in [
        "orders/0001.csv",
        "orders/0002.csv",
        "orders/0003.csv",
        "orders/0003.txt",
        "orders/0004.csv",
        "orders/0005.csv",
        "orders/sub/0006.csv",
        "other/0007.csv",
    ] {
        store
            .put(&Path::from(key), PutPayload::from(vec![b'x'; 10]))
            .await
            .unwrap();
    }
    let pairs: Vec<(String, String)> = [
        ("uri", "s3://feed/orders/*.csv"),
        ("format", "csv"),
        ("s3.endpoint", server.endpoint.as_str()),
        ("s3.region", REGION),
        ("s3.access_key", ACCESS_KEY),
        ("s3.secret_key", SECRET_KEY),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let options = S3Options::parse(&pairs).unwrap();
    let location = Location::parse(&options.uri, &options.connection).unwrap();
    let keys = |files: &[object_store::ObjectMeta]| {
        files
            .iter()
            .map(|f| f.location.to_string())
            .collect::<Vec<_>>()
    };

    let all = list_files(&location, None).await.unwrap();
    assert_eq!(
        keys(&all),
        [
            "orders/0001.csv",
            "orders/0002.csv",
            "orders/0003.csv",
            "orders/0004.csv",
            "orders/0005.csv"
        ]
    );
    let after = list_files(&location, Some(&Path::from("orders/0002.csv")))
        .await
        .unwrap();
    assert_eq!(
        keys(&after),
        ["orders/0003.csv", "orders/0004.csv", "orders/0005.csv"]
    );
    // The offset names the last file of the batch, which matched the pattern.
    let batch = cut_batch(after, 2, u64::MAX).unwrap();
    assert_eq!(
        (batch.end_offset(), batch.full, batch.bytes),
        ("orders/0004.csv", true, 20)
    );
    let rest = list_files(&location, Some(&Path::from(batch.end_offset())))
        .await
        .unwrap();
    assert_eq!(keys(&rest), ["orders/0005.csv"]);
    let none = list_files(&location, Some(&Path::from("orders/0005.csv")))
        .await
        .unwrap();
    assert!(none.is_empty());
}
