//! Writing: creating Lance datasets and appending record batches to them.

mod convert;
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
pub use sink::{
    commit, commit_fenced, write_fragments, write_fragments_in_parallel, LanceSink, Written,
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
        Err(
            lance::Error::NotFound { .. }
            | lance::Error::VersionNotFound { .. }
            | lance::Error::DatasetNotFound { .. },
        ) => Ok(None),
        read => read,
    }
}

/// How many times [`open_dataset`] looks for the latest version again
/// when the one it found was removed before it was read.
const OPEN_ATTEMPTS: usize = 5;

/// Opens the latest version of the dataset at `uri`. Lance finds the
/// latest version by listing, then reads its manifest; in between, a
/// commit can supersede it and table maintenance (this process's or
/// another's) remove it, so a manifest not found is looked for again.
pub async fn open_dataset(uri: &str, storage_options: &HashMap<String, String>) -> Result<Dataset> {
    let mut attempt = 1;
    loop {
        let opened = DatasetBuilder::from_uri(uri)
            .with_storage_options(storage_options.clone())
            .load()
            .await;
        match opened {
            Err(lance::Error::NotFound { .. }) if attempt < OPEN_ATTEMPTS => attempt += 1,
            opened => return opened.map_err(|e| Error::lance(uri, e)),
        }
    }
}
