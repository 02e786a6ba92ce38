//! Reading Parquet files with the parquet crate's async reader.

use std::sync::Arc;

use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::error::{DataFusionError, Result as DFResult};
use datafusion::parquet::arrow::async_reader::{
    ParquetObjectReader, ParquetRecordBatchStreamBuilder,
};
use futures::StreamExt;
use object_store::{ObjectMeta, ObjectStore};
use tokio::sync::mpsc::Sender;

use super::csv::send;

fn reader(store: &Arc<dyn ObjectStore>, file: &ObjectMeta) -> ParquetObjectReader {
    ParquetObjectReader::new(store.clone(), file.location.clone()).with_file_size(file.size)
}

/// The Arrow schema stored in a Parquet file's footer.
pub async fn schema(store: &Arc<dyn ObjectStore>, file: &ObjectMeta) -> DFResult<SchemaRef> {
    let builder = ParquetRecordBatchStreamBuilder::new(reader(store, file)).await?;
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
    let fail = |e: &dyn std::fmt::Display| DataFusionError::Execution(format!("{display}: {e}"));
    let mut stream = ParquetRecordBatchStreamBuilder::new(reader(store, file))
        .await
        .map_err(|e| fail(&e))?
        .with_batch_size(batch_size)
        .build()
        .map_err(|e| fail(&e))?;
    while let Some(batch) = stream.next().await {
        let batch = batch.map_err(|e| fail(&e))?;
        let batch =
            RecordBatch::try_new(schema.clone(), batch.columns().to_vec()).map_err(|e| {
                fail(&format!(
                    "its schema differs from the first file's, which S3() reads all files as: {e}"
                ))
            })?;
        send(tx, batch).await?;
    }
    Ok(())
}
