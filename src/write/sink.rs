//! Appending to a Lance dataset in two explicit steps, [`write_fragments`]
//! then [`commit`], and [`LanceSink`]: the DataFusion data sink behind
//! `INSERT INTO`, which does both for a statement's rows in one commit. A
//! streaming job's task runs the steps itself, checking its limits and
//! cancellation between them.

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
use lance::dataset::transaction::Transaction;
use lance::dataset::{CommitBuilder, InsertBuilder, WriteMode, WriteParams};
use lance::Dataset;

/// Fragments written for an append, not yet visible.
pub struct Written {
    pub transaction: Transaction,
    pub rows: u64,
}

/// Writes `data` as new fragments of `dataset`, without committing them;
/// `None` when there are no rows. Every batch is re-labelled with `schema`
/// (the table's), which checks NOT NULL columns. A failed input stream
/// fails with its own error, not Lance's retelling of it.
pub async fn write_fragments(
    dataset: Arc<Dataset>,
    schema: SchemaRef,
    table: &str,
    data: SendableRecordBatchStream,
) -> DFResult<Option<Written>> {
    let rows = Arc::new(AtomicU64::new(0));
    let counted = rows.clone();
    let labelled = schema.clone();
    let table = table.to_string();
    // Lance turns a failed input stream into an error of its own that keeps
    // only the message: keep the input's error as it was made (a lost
    // connection stays retryable, a bad row names its file).
    let failure: Arc<Mutex<Option<DataFusionError>>> = Arc::default();
    let kept = failure.clone();
    let mut batches = data
        .map(move |batch| {
            let batch = batch.map_err(|e| keep_first(&kept, e))?;
            let batch =
                RecordBatch::try_new(labelled.clone(), batch.columns().to_vec()).map_err(|e| {
                    DataFusionError::Execution(format!("cannot insert into {table}: {e}"))
                })?;
            counted.fetch_add(batch.num_rows() as u64, Ordering::Relaxed);
            Ok(batch)
        })
        .try_filter(|b| futures::future::ready(b.num_rows() > 0))
        .boxed()
        .peekable();
    // No rows: no fragments.
    if std::pin::Pin::new(&mut batches).peek().await.is_none() {
        return Ok(None);
    }
    let stream: SendableRecordBatchStream =
        Box::pin(RecordBatchStreamAdapter::new(schema, batches));
    let params = WriteParams {
        mode: WriteMode::Append,
        ..Default::default()
    };
    let written = InsertBuilder::new(dataset)
        .with_params(&params)
        .execute_uncommitted_stream(stream)
        .await;
    if let Some(error) = failure.lock().expect("lock").take() {
        return Err(error);
    }
    let transaction = written.map_err(|e| DataFusionError::External(Box::new(e)))?;
    Ok(Some(Written {
        transaction,
        rows: rows.load(Ordering::Relaxed),
    }))
}

/// Commits written fragments as the dataset's next version, with
/// `properties` in the same commit; returns that version.
pub async fn commit(
    dataset: Arc<Dataset>,
    written: Written,
    properties: HashMap<String, String>,
) -> DFResult<Dataset> {
    let mut transaction = written.transaction;
    if !properties.is_empty() {
        transaction.transaction_properties = Some(Arc::new(properties));
    }
    CommitBuilder::new(dataset)
        .execute(transaction)
        .await
        .map_err(|e| DataFusionError::External(Box::new(e)))
}

/// Keeps `error` in `slot` (the first one only) and hands Lance a copy of
/// its message.
fn keep_first(slot: &Mutex<Option<DataFusionError>>, error: DataFusionError) -> DataFusionError {
    let message = error.to_string();
    slot.lock().expect("lock").get_or_insert(error);
    DataFusionError::Execution(message)
}

/// Appends a stream of batches to a Lance dataset as one new version.
pub struct LanceSink {
    /// `database.table`, for messages.
    table: String,
    schema: SchemaRef,
    dataset: Arc<Dataset>,
    /// Properties recorded in the same commit as the rows.
    commit_properties: HashMap<String, String>,
}

impl LanceSink {
    pub fn new(table: String, schema: SchemaRef, dataset: Arc<Dataset>) -> Self {
        Self {
            table,
            schema,
            dataset,
            commit_properties: HashMap::new(),
        }
    }

    /// Records `properties` in the append's commit.
    pub fn with_commit_properties(mut self, properties: HashMap<String, String>) -> Self {
        self.commit_properties = properties;
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
        let written =
            write_fragments(self.dataset.clone(), self.schema.clone(), &self.table, data).await?;
        let Some(written) = written else {
            // No rows: no new dataset version.
            return Ok(0);
        };
        let rows = written.rows;
        commit(
            self.dataset.clone(),
            written,
            self.commit_properties.clone(),
        )
        .await?;
        Ok(rows)
    }
}
