//! Reading Parquet files with the parquet crate's async reader.

use std::sync::Arc;

use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::error::{DataFusionError, Result as DFResult};
use datafusion::parquet::arrow::async_reader::{
    ParquetObjectReader, ParquetRecordBatchStreamBuilder,
};
use datafusion::parquet::errors::ParquetError;
use futures::StreamExt;
use object_store::{ObjectMeta, ObjectStore};
use tokio::sync::mpsc::Sender;

use super::csv::send;
use super::fault::source_failure;
use super::listing::decode_error;
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

/// Reads one file as `schema`, sending batches of at most `batch_size` rows.
pub async fn read(
    store: &Arc<dyn ObjectStore>,
    file: &ObjectMeta,
    display: &str,
    schema: &SchemaRef,
    batch_size: usize,
    tx: &Sender<DFResult<RecordBatch>>,
) -> DFResult<()> {
    let fail = |e: ParquetError| parquet_error(display, e);
    let mut stream = ParquetRecordBatchStreamBuilder::new(reader(store, file))
        .await
        .map_err(fail)?
        .with_batch_size(batch_size)
        .build()
        .map_err(fail)?;
    while let Some(batch) = stream.next().await {
        let batch = batch.map_err(fail)?;
        let batch =
            RecordBatch::try_new(schema.clone(), batch.columns().to_vec()).map_err(|e| {
                decode_error(
                    display,
                    format!("its schema differs from the first file's, which S3() reads all files as: {e}"),
                )
            })?;
        send(tx, batch).await?;
    }
    Ok(())
}

/// A Parquet read failure: the store's fault when it is one (a lost
/// connection is retried by a job), else a file that is not valid Parquet.
fn parquet_failure(display: &str, error: ParquetError) -> Error {
    source_failure(display.to_string(), &error, || {
        format!("not a readable Parquet file: {error}")
    })
}

fn parquet_error(display: &str, error: ParquetError) -> DataFusionError {
    DataFusionError::External(Box::new(parquet_failure(display, error)))
}
