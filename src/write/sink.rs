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
use lance::dataset::transaction::{Operation, Transaction};
use lance::dataset::{CommitBuilder, InsertBuilder, WriteMode, WriteParams};
use lance::Dataset;
use tokio::sync::mpsc::Sender;

use super::json::JsonCheck;
use crate::error::Error;

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
    let stored = super::dictionary::stored_schema_of(&dataset, &schema);
    let schema = stored.clone().unwrap_or(schema);
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
            match &stored {
                Some(stored) => super::dictionary::cast_to(&batch, stored).map_err(|e| {
                    DataFusionError::Execution(format!("cannot insert into {table}: {e}"))
                }),
                None => Ok(batch),
            }
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
        file_writer_options: Some(super::encoding::file_writer_options()),
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

/// [`write_fragments`] with `writers` Lance writers at once, dealt the
/// batches in turn, their fragments gathered into one append: Lance
/// encodes one writer's batches one at a time, so a large load keeps more
/// cores busy this way. Fails with the first writer's failure.
pub async fn write_fragments_in_parallel(
    dataset: Arc<Dataset>,
    schema: SchemaRef,
    table: &str,
    data: SendableRecordBatchStream,
    writers: usize,
) -> DFResult<Option<Written>> {
    if writers <= 1 {
        return write_fragments(dataset, schema, table, data).await;
    }
    let (senders, writes): (Vec<_>, Vec<_>) = (0..writers)
        .map(|_| {
            let (tx, rx) = tokio::sync::mpsc::channel::<DFResult<RecordBatch>>(2);
            let batches = futures::stream::unfold(rx, |mut rx| async move {
                rx.recv().await.map(|batch| (batch, rx))
            });
            let batches = Box::pin(RecordBatchStreamAdapter::new(schema.clone(), batches));
            let write = write_fragments(dataset.clone(), schema.clone(), table, batches);
            (tx, write)
        })
        .unzip();
    let (_, written) = tokio::join!(deal(data, senders), futures::future::try_join_all(writes));
    gathered(written?)
}

/// Sends the batches of `data` to `writers` in turn, until the data ends,
/// fails (the failure goes to the next writer) or a writer stops.
async fn deal(mut data: SendableRecordBatchStream, writers: Vec<Sender<DFResult<RecordBatch>>>) {
    for writer in writers.iter().cycle() {
        let Some(batch) = data.next().await else {
            return;
        };
        let failed = batch.is_err();
        if writer.send(batch).await.is_err() || failed {
            return;
        }
    }
}

/// The appends of several writers as one.
pub fn gathered(parts: Vec<Option<Written>>) -> DFResult<Option<Written>> {
    let mut parts = parts.into_iter().flatten();
    let Some(mut all) = parts.next() else {
        return Ok(None);
    };
    for part in parts {
        let (Operation::Append { fragments: into }, Operation::Append { fragments }) =
            (&mut all.transaction.operation, part.transaction.operation)
        else {
            return Err(DataFusionError::Internal(
                "a Lance append wrote something other than an Append".into(),
            ));
        };
        into.extend(fragments);
        all.rows += part.rows;
    }
    Ok(Some(all))
}

/// Commits written fragments as the dataset's next version, with
/// `properties` in the same commit; returns that version.
pub async fn commit(
    dataset: Arc<Dataset>,
    written: Written,
    properties: HashMap<String, String>,
) -> DFResult<Dataset> {
    commit_with(CommitBuilder::new(dataset), written, properties).await
}

/// [`commit`], refused past `fence` (see [`Fence`](super::Fence)).
pub async fn commit_fenced(
    dataset: Arc<Dataset>,
    written: Written,
    properties: HashMap<String, String>,
    fence: Arc<super::Fence>,
) -> DFResult<Dataset> {
    let handler = super::fence::FencedCommitHandler::new(fence);
    let builder = CommitBuilder::new(dataset).with_commit_handler(handler);
    commit_with(builder, written, properties).await
}

async fn commit_with(
    builder: CommitBuilder<'_>,
    written: Written,
    properties: HashMap<String, String>,
) -> DFResult<Dataset> {
    let mut transaction = written.transaction;
    if !properties.is_empty() {
        transaction.transaction_properties = Some(Arc::new(properties));
    }
    builder
        .execute(transaction)
        .await
        .map_err(|e| DataFusionError::External(Box::new(e)))
}

/// `data`, its rows counted in the statement's progress as they pass.
pub(crate) fn counted(
    data: SendableRecordBatchStream,
    context: &TaskContext,
) -> SendableRecordBatchStream {
    let Some(progress) = crate::progress::Progress::of(context) else {
        return data;
    };
    let schema = data.schema();
    let counted = data.inspect(move |batch| {
        if let Ok(batch) = batch {
            progress.add_rows(batch.num_rows() as u64);
        }
    });
    Box::pin(RecordBatchStreamAdapter::new(schema, counted))
}

/// Keeps `error` in `slot` (the first one only) and hands Lance a copy of
/// its message.
fn keep_first(slot: &Mutex<Option<DataFusionError>>, error: DataFusionError) -> DataFusionError {
    let message = error.to_string();
    slot.lock().expect("lock").get_or_insert(error);
    DataFusionError::Execution(message)
}

/// Appends a stream of batches to a Lance dataset as one new version, or
/// replaces the dataset's rows with them (`INSERT OVERWRITE`).
pub struct LanceSink {
    /// `database.table`, for messages.
    table: String,
    schema: SchemaRef,
    dataset: Arc<Dataset>,
    /// Properties recorded in the same commit as the rows.
    commit_properties: HashMap<String, String>,
    overwrite: bool,
    /// The JSON columns, whose values must be JSON text.
    json_columns: Vec<usize>,
}

impl LanceSink {
    pub fn new(table: String, schema: SchemaRef, dataset: Arc<Dataset>) -> Self {
        Self {
            table,
            schema,
            dataset,
            commit_properties: HashMap::new(),
            overwrite: false,
            json_columns: Vec::new(),
        }
    }

    /// Refuses the write when a value of one of these columns is not JSON.
    pub fn with_json_columns(mut self, columns: Vec<usize>) -> Self {
        self.json_columns = columns;
        self
    }

    /// Replaces the rows the dataset has when the write starts.
    pub fn overwriting(mut self) -> Self {
        self.overwrite = true;
        self
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
        context: &Arc<TaskContext>,
    ) -> DFResult<u64> {
        let data = counted(data, context);
        let data = match self.json_columns.is_empty() {
            true => data,
            false => {
                let check = JsonCheck {
                    statement: if self.overwrite {
                        "INSERT OVERWRITE"
                    } else {
                        "INSERT"
                    },
                    table: self.table.clone(),
                    columns: self
                        .json_columns
                        .iter()
                        .map(|&i| (i, self.schema.field(i).name().clone()))
                        .collect(),
                };
                let schema = data.schema();
                let checked = data.map(move |batch| {
                    let batch = batch?;
                    check.check(&batch).map_err(Error::into_datafusion)?;
                    Ok(batch)
                });
                Box::pin(RecordBatchStreamAdapter::new(schema, checked))
            }
        };
        let written =
            write_fragments(self.dataset.clone(), self.schema.clone(), &self.table, data).await?;
        let written = match self.overwrite {
            true => Some(replacing(&self.dataset, written)?),
            false => written,
        };
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

/// `written` (`None`: no rows) as one commit that also removes every
/// fragment `dataset` has. Lance's own Overwrite would drop the table's
/// indexes; an Update keeps them, and keeps the rows another writer
/// commits meanwhile, which come after the overwrite.
fn replacing(dataset: &Dataset, written: Option<Written>) -> DFResult<Written> {
    let (new_fragments, rows) = match written {
        None => (Vec::new(), 0),
        Some(Written {
            transaction:
                Transaction {
                    operation: Operation::Append { fragments },
                    ..
                },
            rows,
        }) => (fragments, rows),
        Some(_) => {
            return Err(DataFusionError::Internal(
                "a Lance append wrote something other than an Append".into(),
            ))
        }
    };
    let removed_fragment_ids = dataset
        .get_fragments()
        .iter()
        .map(|f| f.id() as u64)
        .collect();
    let operation = Operation::Update {
        removed_fragment_ids,
        updated_fragments: Vec::new(),
        new_fragments,
        fields_modified: Vec::new(),
        compacted_sstables: Vec::new(),
        fields_for_preserving_frag_bitmap: Vec::new(),
        update_mode: None,
        inserted_rows_filter: None,
        updated_fragment_offsets: None,
    };
    Ok(Written {
        transaction: Transaction::new(dataset.version().version, operation, None),
        rows,
    })
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use datafusion::arrow::array::Int64Array;
    use datafusion::arrow::datatypes::{DataType, Field, Schema};

    use super::*;
    use crate::write::create_dataset;

    fn batches(schema: &SchemaRef, count: i64, fail_at: Option<i64>) -> SendableRecordBatchStream {
        let schema_ = schema.clone();
        let batches = futures::stream::iter(0..count).map(move |i| {
            if Some(i) == fail_at {
                return Err(DataFusionError::Execution(format!("batch {i} is bad")));
            }
            let values = Int64Array::from_iter_values(i * 100..(i + 1) * 100);
            Ok(RecordBatch::try_new(
                schema_.clone(),
                vec![Arc::new(values)],
            )?)
        });
        Box::pin(RecordBatchStreamAdapter::new(schema.clone(), batches))
    }

    #[tokio::test]
    async fn parallel_writers_commit_once_with_every_row() {
        let dir = tempfile::tempdir().unwrap();
        let uri = dir.path().join("t").to_str().unwrap().to_string();
        let schema: SchemaRef =
            Arc::new(Schema::new(vec![Field::new("v", DataType::Int64, false)]));
        let dataset = Arc::new(
            create_dataset(&uri, schema.clone(), Default::default(), &HashMap::new())
                .await
                .unwrap(),
        );
        let written = write_fragments_in_parallel(
            dataset.clone(),
            schema.clone(),
            "t",
            batches(&schema, 10, None),
            3,
        )
        .await
        .unwrap()
        .unwrap();
        assert_eq!(written.rows, 1000);
        let Operation::Append { fragments } = &written.transaction.operation else {
            panic!("an append");
        };
        // Each of the three writers wrote its own fragment.
        assert_eq!(fragments.len(), 3);
        let committed = commit(dataset.clone(), written, HashMap::new())
            .await
            .unwrap();
        assert_eq!(committed.version().version, dataset.version().version + 1);
        assert_eq!(committed.count_rows(None).await.unwrap(), 1000);

        // A failed input fails the write with its own error.
        let failed = write_fragments_in_parallel(
            dataset.clone(),
            schema.clone(),
            "t",
            batches(&schema, 10, Some(4)),
            3,
        )
        .await
        .err()
        .unwrap();
        assert!(failed.to_string().contains("batch 4 is bad"), "{failed}");
        // Nothing with no rows.
        let none =
            write_fragments_in_parallel(dataset, schema.clone(), "t", batches(&schema, 0, None), 3)
                .await
                .unwrap();
        assert!(none.is_none());
    }
}
