//! Writing: creating Lance datasets and appending record batches to them.

mod convert;
pub mod dictionary;
pub mod encoding;
mod fence;
pub mod json;
mod sink;
mod threads;

use std::collections::HashMap;
use std::sync::Arc;

use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::record_batch::RecordBatchIterator;
use lance::dataset::builder::DatasetBuilder;
use lance::dataset::{WriteMode, WriteParams};
use lance::io::{ObjectStoreParams, StorageOptionsAccessor};
use lance::Dataset;

use crate::error::{Error, Result};

pub use convert::{Conversion, Converted, Rejected};
pub use fence::Fence;
pub(crate) use sink::counted;
pub use sink::{
    commit, commit_fenced, gathered, write_fragments, write_fragments_in_parallel, LanceSink,
    Written,
};
pub use threads::tune_encoder_threads;

/// Lance object-store parameters for a warehouse's storage options.
pub(crate) fn store_params(storage_options: &HashMap<String, String>) -> Option<ObjectStoreParams> {
    if storage_options.is_empty() {
        return None;
    }
    Some(ObjectStoreParams {
        storage_options_accessor: Some(Arc::new(StorageOptionsAccessor::with_static_options(
            storage_options.clone(),
        ))),
        ..Default::default()
    })
}

/// Creates an empty dataset with `schema` at `uri`, in tributary's file
/// format version, its columns encoded as `compression` says.
pub async fn create_dataset(
    uri: &str,
    schema: SchemaRef,
    compression: encoding::Compression,
    storage_options: &HashMap<String, String>,
) -> Result<Dataset> {
    let schema = compression.encoded(&schema);
    let params = WriteParams {
        mode: WriteMode::Create,
        store_params: store_params(storage_options),
        data_storage_version: Some(encoding::FILE_VERSION),
        ..Default::default()
    };
    let empty = RecordBatchIterator::new(vec![], schema);
    Dataset::write(empty, uri, Some(params))
        .await
        .map_err(|e| Error::lance(uri, e))
}

/// The transaction properties of every version after `after_version` that
/// holds `key`, oldest first, with their versions: the batches a streaming
/// job committed that its job store may not know of yet.
pub async fn commits_with_property(
    dataset: &Dataset,
    key: &str,
    after_version: u64,
) -> Result<Vec<(u64, HashMap<String, String>)>> {
    let uri = dataset.uri().to_string();
    let mut commits = Vec::new();
    for version in (after_version + 1)..=dataset.version().version {
        let properties = transaction_of(dataset, version)
            .await
            .map_err(|e| Error::lance(&uri, e))?
            .and_then(|t| t.transaction_properties);
        if let Some(properties) = properties.filter(|p| p.contains_key(key)) {
            commits.push((version, properties.as_ref().clone()));
        }
    }
    Ok(commits)
}

/// The transaction of `version`; `None` for a version without one, or
/// one that table maintenance removed (it never removes a version that
/// holds a commit a job has not recorded: see [`crate::maintenance`]).
pub(crate) async fn transaction_of(
    dataset: &Dataset,
    version: u64,
) -> lance::Result<Option<lance::dataset::transaction::Transaction>> {
    match dataset.read_transaction_by_version(version).await {
        Err(error) if is_removed(&error) => Ok(None),
        read => read,
    }
}

/// Whether `error` says a version Lance listed is gone: table maintenance
/// (this process's or another's) removed its manifest before it was read.
/// Lance says so in several ways: not found, the dataset or version not
/// found, or an IO error around a not found (a small file read once for
/// several readers).
pub(crate) fn is_removed(error: &lance::Error) -> bool {
    error.is_not_found()
        || matches!(
            error,
            lance::Error::VersionNotFound { .. } | lance::Error::DatasetNotFound { .. }
        )
}

/// How many times [`open_dataset`] and [`versions`] look again when a
/// version they listed was removed before it was read.
const OPEN_ATTEMPTS: usize = 5;

/// Runs `read` (a Lance call that lists versions, then reads them) again
/// while what it listed was removed before it read it, at most
/// [`OPEN_ATTEMPTS`] times in all.
async fn listed_again<T, F>(mut read: impl FnMut() -> F) -> lance::Result<T>
where
    F: std::future::Future<Output = lance::Result<T>>,
{
    let mut attempt = 1;
    loop {
        match read().await {
            Err(error) if is_removed(&error) && attempt < OPEN_ATTEMPTS => attempt += 1,
            read => return read,
        }
    }
}

/// Opens the latest version of the dataset at `uri`. Lance finds the
/// latest version by listing, then reads its manifest; in between, a
/// commit can supersede it and table maintenance remove it, so a manifest
/// removed is looked for again.
pub async fn open_dataset(uri: &str, storage_options: &HashMap<String, String>) -> Result<Dataset> {
    open_dataset_with(uri, store_params(storage_options)).await
}

async fn open_dataset_with(uri: &str, params: Option<ObjectStoreParams>) -> Result<Dataset> {
    listed_again(|| {
        let mut builder = DatasetBuilder::from_uri(uri);
        if let Some(params) = params.clone() {
            builder = builder.with_store_params(params);
        }
        builder.load()
    })
    .await
    .map_err(|e| Error::lance(uri, e))
}

/// Every version of `dataset`, oldest first. Lance lists them, then reads
/// each one's manifest, so a version removed in between (see
/// [`open_dataset`]) makes it list again.
pub async fn versions(dataset: &Dataset) -> Result<Vec<lance::dataset::Version>> {
    listed_again(|| dataset.versions())
        .await
        .map_err(|e| Error::lance(dataset.uri(), e))
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;
    use std::sync::Mutex;

    use async_trait::async_trait;
    use datafusion::arrow::array::Int32Array;
    use datafusion::arrow::datatypes::{DataType, Field, Schema};
    use datafusion::arrow::record_batch::RecordBatch;
    use futures::stream::BoxStream;
    use lance::io::WrappingObjectStore;
    use lance_object_store::list::PaginatedListStore;
    use lance_object_store::path::Path;
    use lance_object_store::{
        CopyOptions, GetOptions, GetResult, ListResult, MultipartUpload, ObjectMeta, ObjectStore,
        PutMultipartOptions, PutOptions, PutPayload, PutResult,
    };

    use super::*;

    /// Whether each next read of a version's manifest finds it, then
    /// finds it always: a manifest not found is one table maintenance
    /// removed just after Lance listed it (or looked it up: HEAD requests
    /// still find it).
    type Script = Arc<Mutex<VecDeque<bool>>>;

    #[derive(Debug, Clone)]
    struct RemovedManifests {
        script: Script,
    }

    #[derive(Debug)]
    struct Removing {
        inner: Arc<dyn ObjectStore>,
        script: Script,
    }

    impl WrappingObjectStore for RemovedManifests {
        fn wrap(&self, _prefix: &str, original: Arc<dyn ObjectStore>) -> Arc<dyn ObjectStore> {
            Arc::new(Removing {
                inner: original,
                script: self.script.clone(),
            })
        }

        fn wrap_paginated(
            &self,
            _prefix: &str,
            _original: Arc<dyn PaginatedListStore>,
        ) -> Option<Arc<dyn PaginatedListStore>> {
            None
        }
    }

    impl std::fmt::Display for Removing {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "Removing({})", self.inner)
        }
    }

    #[async_trait]
    impl ObjectStore for Removing {
        async fn put_opts(
            &self,
            location: &Path,
            payload: PutPayload,
            opts: PutOptions,
        ) -> lance_object_store::Result<PutResult> {
            self.inner.put_opts(location, payload, opts).await
        }

        async fn put_multipart_opts(
            &self,
            location: &Path,
            opts: PutMultipartOptions,
        ) -> lance_object_store::Result<Box<dyn MultipartUpload>> {
            self.inner.put_multipart_opts(location, opts).await
        }

        async fn get_opts(
            &self,
            location: &Path,
            options: GetOptions,
        ) -> lance_object_store::Result<GetResult> {
            let manifest = location.as_ref().ends_with(".manifest") && !options.head;
            let found = !manifest || self.script.lock().unwrap().pop_front().unwrap_or(true);
            if !found {
                return Err(lance_object_store::Error::NotFound {
                    path: location.to_string(),
                    source: "removed by table maintenance".into(),
                });
            }
            self.inner.get_opts(location, options).await
        }

        fn delete_stream(
            &self,
            locations: BoxStream<'static, lance_object_store::Result<Path>>,
        ) -> BoxStream<'static, lance_object_store::Result<Path>> {
            self.inner.delete_stream(locations)
        }

        fn list(
            &self,
            prefix: Option<&Path>,
        ) -> BoxStream<'static, lance_object_store::Result<ObjectMeta>> {
            self.inner.list(prefix)
        }

        async fn list_with_delimiter(
            &self,
            prefix: Option<&Path>,
        ) -> lance_object_store::Result<ListResult> {
            self.inner.list_with_delimiter(prefix).await
        }

        async fn copy_opts(
            &self,
            from: &Path,
            to: &Path,
            options: CopyOptions,
        ) -> lance_object_store::Result<()> {
            self.inner.copy_opts(from, to, options).await
        }
    }

    async fn two_versions(dir: &std::path::Path) -> String {
        let uri = dir.join("t.lance").to_str().unwrap().to_string();
        let schema = Arc::new(Schema::new(vec![Field::new("id", DataType::Int32, false)]));
        let batch = |id| {
            RecordBatch::try_new(schema.clone(), vec![Arc::new(Int32Array::from(vec![id]))])
                .unwrap()
        };
        let mut dataset = Dataset::write(
            RecordBatchIterator::new(vec![Ok(batch(1))], schema.clone()),
            &uri,
            None,
        )
        .await
        .unwrap();
        dataset
            .append(
                RecordBatchIterator::new(vec![Ok(batch(2))], schema.clone()),
                None,
            )
            .await
            .unwrap();
        uri
    }

    /// Store parameters that read manifests as `script` says, with it.
    fn scripted(script: impl IntoIterator<Item = bool>) -> (Script, ObjectStoreParams) {
        let script: Script = Arc::new(Mutex::new(script.into_iter().collect()));
        let params = ObjectStoreParams {
            object_store_wrapper: Some(Arc::new(RemovedManifests {
                script: script.clone(),
            })),
            ..Default::default()
        };
        (script, params)
    }

    /// Lance reads a small file up to four times before it says it is gone.
    const LANCE_READS: usize = 4;

    fn gone(reads: usize) -> impl Iterator<Item = bool> {
        std::iter::repeat_n(false, reads)
    }

    #[tokio::test]
    async fn opening_looks_again_when_the_latest_manifest_was_removed() {
        let dir = tempfile::tempdir().unwrap();
        let uri = two_versions(dir.path()).await;
        let (script, params) = scripted(gone(2 * LANCE_READS));
        let dataset = open_dataset_with(&uri, Some(params)).await.unwrap();
        assert!(script.lock().unwrap().is_empty(), "every miss was read");
        assert_eq!(dataset.version().version, 2);
        assert_eq!(dataset.count_rows(None).await.unwrap(), 2);
    }

    #[tokio::test]
    async fn opening_gives_up_when_the_manifest_stays_gone() {
        let dir = tempfile::tempdir().unwrap();
        let uri = two_versions(dir.path()).await;
        let (_, params) = scripted(gone(OPEN_ATTEMPTS * LANCE_READS));
        let error = open_dataset_with(&uri, Some(params)).await.unwrap_err();
        assert!(error.to_string().contains(".manifest"), "{error}");
    }

    #[tokio::test]
    async fn a_removed_version_has_no_transaction() {
        let dir = tempfile::tempdir().unwrap();
        let uri = two_versions(dir.path()).await;
        let (script, params) = scripted([]);
        let dataset = open_dataset_with(&uri, Some(params)).await.unwrap();
        assert!(transaction_of(&dataset, 1).await.unwrap().is_some());
        // Removed before its manifest is read (read once), or between the
        // manifest and the transaction it holds (read as a small file).
        for (found, missed) in [(0, 1), (1, LANCE_READS)] {
            let mut reads: VecDeque<bool> = std::iter::repeat_n(true, found).collect();
            reads.extend(gone(missed));
            *script.lock().unwrap() = reads;
            let read = transaction_of(&dataset, 1).await;
            assert!(matches!(read, Ok(None)), "{found} reads found it: {read:?}");
            assert!(script.lock().unwrap().is_empty(), "every miss was read");
        }
    }

    #[tokio::test]
    async fn listing_versions_looks_again_when_one_was_removed() {
        let dir = tempfile::tempdir().unwrap();
        let uri = two_versions(dir.path()).await;
        let (script, params) = scripted([]);
        let dataset = open_dataset_with(&uri, Some(params)).await.unwrap();
        script.lock().unwrap().extend(gone(1));
        let listed = versions(&dataset).await.unwrap();
        assert!(script.lock().unwrap().is_empty(), "every miss was read");
        assert_eq!(listed.iter().map(|v| v.version).collect::<Vec<_>>(), [1, 2]);
    }
}
