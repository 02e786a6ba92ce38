//! [`LanceSink`]: the DataFusion data sink behind `INSERT INTO`, appending a
//! statement's rows to a Lance dataset in a single commit.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::datasource::sink::DataSink;
use datafusion::error::{DataFusionError, Result as DFResult};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{DisplayAs, DisplayFormatType};
use futures::{StreamExt, TryStreamExt};
use lance::dataset::{CommitBuilder, InsertBuilder, WriteMode, WriteParams};
use lance::Dataset;

/// Appends a stream of batches to a Lance dataset as one new version.
pub struct LanceSink {
    /// `database.table`, for messages.
    table: String,
    schema: SchemaRef,
    dataset: Arc<Dataset>,
    /// Properties recorded in the same commit as the rows (a streaming
    /// job's offset and task), so that both become visible together or not
    /// at all. Made once the rows are written, so they can count them.
    commit_properties: Arc<CommitProperties>,
}

/// Makes the properties of a commit once its rows are written.
pub type CommitProperties = dyn Fn() -> HashMap<String, String> + Send + Sync;

impl LanceSink {
    pub fn new(table: String, schema: SchemaRef, dataset: Arc<Dataset>) -> Self {
        Self {
            table,
            schema,
            dataset,
            commit_properties: Arc::new(HashMap::new),
        }
    }

    /// Records the properties `make` returns, once the rows are written, in
    /// the append's commit.
    pub fn with_commit_properties(
        mut self,
        make: impl Fn() -> HashMap<String, String> + Send + Sync + 'static,
    ) -> Self {
        self.commit_properties = Arc::new(make);
        self
    }
}

impl fmt::Debug for LanceSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LanceSink")
            .field("table", &self.table)
            .finish()
    }
}

impl DisplayAs for LanceSink {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "LanceSink: table={}", self.table)
    }
}

#[async_trait]
impl DataSink for LanceSink {
    fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    async fn write_all(
        &self,
        data: SendableRecordBatchStream,
        _context: &Arc<TaskContext>,
    ) -> DFResult<u64> {
        let rows = Arc::new(AtomicU64::new(0));
        let counted = rows.clone();
        let schema = self.schema.clone();
        let table = self.table.clone();
        // Lance turns a failed input stream into an error of its own that
        // keeps only the message: keep the input's error as it was made
        // (a lost connection stays retryable, a bad row names its file).
        let failure: Arc<Mutex<Option<DataFusionError>>> = Arc::default();
        let kept = failure.clone();
        // Re-label every batch with the table's schema: this checks NOT NULL
        // columns and gives Lance the exact field nullability it stores.
        let mut batches = data
            .map(move |batch| {
                let batch = batch.map_err(|e| keep_first(&kept, e))?;
                let batch = RecordBatch::try_new(schema.clone(), batch.columns().to_vec())
                    .map_err(|e| {
                        DataFusionError::Execution(format!("cannot insert into {table}: {e}"))
                    })?;
                counted.fetch_add(batch.num_rows() as u64, Ordering::Relaxed);
                Ok(batch)
            })
            .try_filter(|b| futures::future::ready(b.num_rows() > 0))
            .boxed()
            .peekable();
        // No rows: no new dataset version.
        if std::pin::Pin::new(&mut batches).peek().await.is_none() {
            return Ok(0);
        }
        let stream: SendableRecordBatchStream =
            Box::pin(RecordBatchStreamAdapter::new(self.schema.clone(), batches));
        let params = WriteParams {
            mode: WriteMode::Append,
            ..Default::default()
        };
        let written = InsertBuilder::new(self.dataset.clone())
            .with_params(&params)
            .execute_uncommitted_stream(stream)
            .await;
        if let Some(error) = failure.lock().expect("lock").take() {
            return Err(error);
        }
        let mut transaction = written.map_err(|e| DataFusionError::External(Box::new(e)))?;
        let properties = (self.commit_properties)();
        if !properties.is_empty() {
            transaction.transaction_properties = Some(Arc::new(properties));
        }
        CommitBuilder::new(self.dataset.clone())
            .execute(transaction)
            .await
            .map_err(|e| DataFusionError::External(Box::new(e)))?;
        Ok(rows.load(Ordering::Relaxed))
    }
}

/// Keeps `error` in `slot` (the first one only) and hands Lance a copy of
/// its message.
fn keep_first(slot: &Mutex<Option<DataFusionError>>, error: DataFusionError) -> DataFusionError {
    let message = error.to_string();
    slot.lock().expect("lock").get_or_insert(error);
    DataFusionError::Execution(message)
}
