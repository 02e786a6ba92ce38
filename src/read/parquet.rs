//! Reading Parquet files: their schema from the first file's footer, their
//! rows through DataFusion's Parquet scan, which reads only the columns a
//! query takes and skips the row groups its filters rule out.

use std::collections::HashMap;
use std::ops::Range;
use std::sync::Arc;

use bytes::Bytes;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::datasource::listing::PartitionedFile;
use datafusion::datasource::physical_plan::parquet::DefaultParquetFileReaderFactory;
use datafusion::datasource::physical_plan::{
    FileGroup, FileScanConfigBuilder, ParquetFileReaderFactory, ParquetSource,
};
use datafusion::datasource::source::DataSourceExec;
use datafusion::error::Result as DFResult;
use datafusion::execution::object_store::ObjectStoreUrl;
use datafusion::execution::runtime_env::RuntimeEnv;
use datafusion::parquet::arrow::arrow_reader::ArrowReaderOptions;
use datafusion::parquet::arrow::async_reader::{
    AsyncFileReader, ParquetObjectReader, ParquetRecordBatchStreamBuilder,
};
use datafusion::parquet::errors::{ParquetError, Result as ParquetResult};
use datafusion::parquet::file::metadata::ParquetMetaData;
use datafusion::physical_plan::metrics::ExecutionPlanMetricsSet;
use datafusion::physical_plan::ExecutionPlan;
use futures::future::BoxFuture;
use object_store::memory::InMemory;
use object_store::path::Path;
use object_store::{ObjectMeta, ObjectStore};

use super::fault::source_failure;
use crate::error::{Error, Result};

fn reader(store: &Arc<dyn ObjectStore>, file: &ObjectMeta) -> ParquetObjectReader {
    ParquetObjectReader::new(store.clone(), file.location.clone()).with_file_size(file.size)
}

/// The Arrow schema stored in a Parquet file's footer.
pub async fn schema(
    store: &Arc<dyn ObjectStore>,
    file: &ObjectMeta,
    display: &str,
) -> Result<SchemaRef> {
    let builder = ParquetRecordBatchStreamBuilder::new(reader(store, file))
        .await
        .map_err(|e| parquet_failure(display, e))?;
    Ok(builder.schema().clone())
}

/// The URL DataFusion's file scans of `S3()` Parquet files name their
/// store by. Every such scan reads through its own call's store
/// ([`NamedReaders`]); the store registered under this URL is an empty one,
/// so that the URL resolves and nothing else is ever read through it.
pub const STORE_URL: &str = "s3-call://files";

/// Registers the store behind [`STORE_URL`] in `runtime`.
pub fn register_placeholder(runtime: &RuntimeEnv) {
    let url = url::Url::parse(STORE_URL).expect("a valid URL");
    runtime.register_object_store(&url, Arc::new(InMemory::new()));
}

/// DataFusion's scan of `files` (in `groups` partitions of consecutive
/// files) with the columns of `projection`, its rows stopped at `limit`.
/// DataFusion's physical optimizer pushes a query's filters into it, to
/// skip the row groups they rule out.
pub fn scan(
    files: Vec<(ObjectMeta, String)>,
    store: &Arc<dyn ObjectStore>,
    schema: &SchemaRef,
    groups: usize,
    projection: Option<&Vec<usize>>,
    limit: Option<usize>,
) -> DFResult<Arc<dyn ExecutionPlan>> {
    let names = files
        .iter()
        .map(|(meta, name)| (meta.location.clone(), name.clone()))
        .collect();
    let source = ParquetSource::new(schema.clone()).with_parquet_file_reader_factory(Arc::new(
        NamedReaders {
            inner: DefaultParquetFileReaderFactory::new(store.clone()),
            names: Arc::new(names),
        },
    ));
    let per_group = files.len().div_ceil(groups.max(1)).max(1);
    let files: Vec<PartitionedFile> = files.into_iter().map(|(meta, _)| meta.into()).collect();
    let groups = files
        .chunks(per_group)
        .map(|chunk| FileGroup::new(chunk.to_vec()))
        .collect();
    let config = FileScanConfigBuilder::new(ObjectStoreUrl::parse(STORE_URL)?, Arc::new(source))
        .with_file_groups(groups)
        .with_projection_indices(projection.cloned())?
        .with_limit(limit)
        .build();
    Ok(DataSourceExec::from_data_source(config))
}

/// Readers of one call's files, through its store, whose failures name
/// the file (as [`Error::Source`] or, for a passing fault of the store,
/// [`Error::Unavailable`]).
#[derive(Debug)]
struct NamedReaders {
    inner: DefaultParquetFileReaderFactory,
    /// Each file's name in messages.
    names: Arc<HashMap<Path, String>>,
}

impl ParquetFileReaderFactory for NamedReaders {
    fn create_reader(
        &self,
        partition_index: usize,
        file: PartitionedFile,
        metadata_size_hint: Option<usize>,
        metrics: &ExecutionPlanMetricsSet,
    ) -> DFResult<Box<dyn AsyncFileReader + Send>> {
        let display = self
            .names
            .get(&file.object_meta.location)
            .cloned()
            .unwrap_or_else(|| file.object_meta.location.to_string());
        let inner = self
            .inner
            .create_reader(partition_index, file, metadata_size_hint, metrics)?;
        Ok(Box::new(NamedReader { inner, display }))
    }
}

struct NamedReader {
    inner: Box<dyn AsyncFileReader + Send>,
    display: String,
}

impl NamedReader {
    fn named(&self, error: ParquetError) -> ParquetError {
        ParquetError::External(Box::new(parquet_failure(&self.display, error)))
    }
}

impl AsyncFileReader for NamedReader {
    fn get_bytes(&mut self, range: Range<u64>) -> BoxFuture<'_, ParquetResult<Bytes>> {
        Box::pin(async move {
            let read = self.inner.get_bytes(range).await;
            read.map_err(|e| self.named(e))
        })
    }

    fn get_byte_ranges(
        &mut self,
        ranges: Vec<Range<u64>>,
    ) -> BoxFuture<'_, ParquetResult<Vec<Bytes>>> {
        Box::pin(async move {
            let read = self.inner.get_byte_ranges(ranges).await;
            read.map_err(|e| self.named(e))
        })
    }

    fn get_metadata<'a>(
        &'a mut self,
        options: Option<&'a ArrowReaderOptions>,
    ) -> BoxFuture<'a, ParquetResult<Arc<ParquetMetaData>>> {
        Box::pin(async move {
            let read = self.inner.get_metadata(options).await;
            read.map_err(|e| self.named(e))
        })
    }
}

/// A Parquet read failure: the store's fault when it is one (a lost
/// connection is retried by a job), else a file that is not valid Parquet.
fn parquet_failure(display: &str, error: ParquetError) -> Error {
    source_failure(display.to_string(), &error, || {
        format!("not a readable Parquet file: {error}")
    })
}
