//! [`LoadFilesExec`]: a job's batch loaded across workers, as a plan that
//! datafusion-distributed shares out like a table read. Its partitions are
//! groups of the batch's files; the planner gives each worker a task of
//! some of them ([`split_across_tasks`]); on the worker, each partition
//! writes its files as fragments nobody sees yet
//! ([`write_share`](crate::ingest::share::write_share)) and returns one
//! row: its files, what it counted, and the Lance transaction of its
//! fragments. [`load_across`] plans and runs it from the process that
//! holds the job's lease, which commits the rows' fragments itself.
//!
//! What crosses the network is the job as stored (its credentials sealed
//! with the warehouse's secret key, which the worker holds), the table
//! version and the files' names, sizes and tags.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::array::{Array, AsArray, BinaryArray, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::catalog::Session as CatalogSession;
use datafusion::common::{internal_err, DataFusionError, Result as DFResult};
use datafusion::datasource::{provider_as_source, TableProvider, TableType};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::logical_expr::{Expr, LogicalPlanBuilder};
use datafusion::physical_expr::{EquivalenceProperties, Partitioning};
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{
    collect, DisplayAs, DisplayFormatType, ExecutionPlan, PlanProperties,
};
use datafusion_distributed::{
    DesiredTaskCountEvent, DesiredTaskCountEventResponse, DistributedExec, ScaleUpLeafNodeEvent,
    ScaleUpLeafNodeEventResponse,
};
use lance::dataset::transaction::Transaction;
use lance_table::format::pb;
use object_store::path::Path;
use object_store::ObjectMeta;
use prost::Message;
use serde::{Deserialize, Serialize};

use super::workers::Workers;
use super::{balance, split_leaf};
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::ingest::share::{write_share, ShareWritten};
use crate::ingest::Tally;
use crate::job::Job;
use crate::session::Session;
use crate::write::Written;

/// The rows of `files` of a batch of `job`, written as of table `version`
/// by `workers`, one share per row; `None` when the batch could not be
/// planned across them (then nothing was written).
pub(crate) async fn load_across(
    workers: &Workers,
    session: &Session,
    job: &Job,
    version: u64,
    files: &[ObjectMeta],
) -> Result<Option<Vec<ShareWritten>>> {
    let state = workers.state_for(&session.context().state());
    // Two partitions at least: the planner shares out what is merged.
    let partitions = state
        .config()
        .target_partitions()
        .clamp(2, files.len().max(2));
    // The job's past tasks are of no use to the workers.
    let job = Job {
        tasks: Vec::new(),
        ..job.clone()
    };
    let load = Load {
        job: Arc::new(job),
        version,
        partitions: balance(files, |f| f.size, partitions),
    };
    let batch = Arc::new(LoadTable(Arc::new(LoadFilesExec::new(load, None))));
    let plan = LogicalPlanBuilder::scan("batch", provider_as_source(batch), None)?.build()?;
    let plan = state.create_physical_plan(&plan).await?;
    if !plan.is::<DistributedExec>() {
        return Ok(None);
    }
    let rows = collect(plan, state.task_ctx())
        .await
        .map_err(|e| match workers.lost_one(&e) {
            true => Error::Workers("a worker stopped answering while it loaded its share".into()),
            false => Error::from(e),
        })?;
    let shares = rows.iter().map(shares_of).collect::<DFResult<Vec<_>>>()?;
    Ok(Some(shares.into_iter().flatten().collect()))
}

/// What a [`LoadFilesExec`] loads; all of it crosses the network.
#[derive(Debug, Clone)]
struct Load {
    job: Arc<Job>,
    version: u64,
    /// The files each partition loads.
    partitions: Vec<Vec<ObjectMeta>>,
}

impl Load {
    fn files(&self) -> impl Iterator<Item = &ObjectMeta> {
        self.partitions.iter().flatten()
    }
}

/// Loads groups of a batch's files on a worker, a share per partition.
#[derive(Debug)]
pub(crate) struct LoadFilesExec {
    load: Load,
    /// The worker's engine, which loads; `None` where the plan is made.
    engine: Option<Engine>,
    properties: Arc<PlanProperties>,
}

impl LoadFilesExec {
    fn new(load: Load, engine: Option<Engine>) -> Self {
        let properties = Arc::new(PlanProperties::new(
            EquivalenceProperties::new(share_schema()),
            Partitioning::UnknownPartitioning(load.partitions.len()),
            EmissionType::Incremental,
            Boundedness::Bounded,
        ));
        Self {
            load,
            engine,
            properties,
        }
    }

    /// The same load of only `files`, in as many partitions as this one.
    fn of(&self, files: &[ObjectMeta]) -> Self {
        let load = Load {
            partitions: balance(files, |f| f.size, self.load.partitions.len()),
            ..self.load.clone()
        };
        Self::new(load, self.engine.clone())
    }
}

/// Each share as a row: the share's files, rows and tally (JSON) and the
/// Lance transaction of its fragments (none when it had no rows).
fn share_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("share", DataType::Utf8, false),
        Field::new("transaction", DataType::Binary, true),
    ]))
}

/// The part of a share's row that is JSON.
#[derive(Serialize, Deserialize)]
struct ShareRecord {
    files: Vec<String>,
    rows: u64,
    tally: Tally,
}

fn share_row(share: ShareWritten) -> DFResult<RecordBatch> {
    let transaction = (share.written.as_ref())
        .map(|w| encode_transaction(&w.transaction))
        .transpose()?;
    let record = ShareRecord {
        files: share.files,
        rows: share.written.map_or(0, |w| w.rows),
        tally: share.tally,
    };
    let record = serde_json::to_string(&record)
        .map_err(|e| DataFusionError::Internal(format!("cannot encode a share: {e}")))?;
    Ok(RecordBatch::try_new(
        share_schema(),
        vec![
            Arc::new(StringArray::from(vec![record])),
            Arc::new(BinaryArray::from(vec![transaction.as_deref()])),
        ],
    )?)
}

fn shares_of(rows: &RecordBatch) -> DFResult<Vec<ShareWritten>> {
    let records = rows.column(0).as_string::<i32>();
    let transactions = rows.column(1).as_binary::<i32>();
    (0..rows.num_rows())
        .map(|i| {
            let record: ShareRecord = serde_json::from_str(records.value(i))
                .map_err(|e| DataFusionError::Internal(format!("cannot decode a share: {e}")))?;
            let written = match transactions.is_null(i) {
                true => None,
                false => Some(Written {
                    transaction: decode_transaction(transactions.value(i))?,
                    rows: record.rows,
                }),
            };
            Ok(ShareWritten {
                files: record.files,
                written,
                tally: record.tally,
            })
        })
        .collect()
}

fn encode_transaction(transaction: &Transaction) -> DFResult<Vec<u8>> {
    let message = pb::Transaction::try_from(transaction)
        .map_err(|e| DataFusionError::External(Box::new(e)))?;
    Ok(message.encode_to_vec())
}

fn decode_transaction(bytes: &[u8]) -> DFResult<Transaction> {
    let message = pb::Transaction::decode(bytes)
        .map_err(|e| DataFusionError::Internal(format!("cannot decode a transaction: {e}")))?;
    Transaction::try_from(message).map_err(|e| DataFusionError::External(Box::new(e)))
}

impl DisplayAs for LoadFilesExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        write!(
            f,
            "LoadFilesExec: job={} version={} files={}",
            self.load.job.name,
            self.load.version,
            self.load.files().count()
        )
    }
}

impl ExecutionPlan for LoadFilesExec {
    fn name(&self) -> &str {
        "LoadFilesExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![]
    }

    fn with_new_children(
        self: Arc<Self>,
        _children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> DFResult<Arc<dyn ExecutionPlan>> {
        Ok(self)
    }

    fn execute(
        &self,
        partition: usize,
        _context: Arc<TaskContext>,
    ) -> DFResult<SendableRecordBatchStream> {
        let Some(files) = self.load.partitions.get(partition).cloned() else {
            return internal_err!(
                "LoadFilesExec has {} partitions, not {partition}",
                self.load.partitions.len()
            );
        };
        if files.is_empty() {
            let empty = futures::stream::empty();
            return Ok(Box::pin(RecordBatchStreamAdapter::new(
                self.schema(),
                empty,
            )));
        }
        let Some(engine) = self.engine.clone() else {
            return internal_err!("LoadFilesExec runs only on a worker");
        };
        let (job, version) = (self.load.job.clone(), self.load.version);
        let row = futures::stream::once(async move {
            tracing::info!(job = %job.name, files = files.len(), "loading a share of a batch");
            let share = write_share(&engine, &job, version, files)
                .await
                .map_err(Error::into_datafusion)?;
            share_row(share)
        });
        Ok(Box::pin(RecordBatchStreamAdapter::new(self.schema(), row)))
    }
}

/// How many tasks a [`LoadFilesExec`] wants: one per file (the planner
/// gives it at most one per worker).
pub(crate) fn desired_tasks(
    event: DesiredTaskCountEvent<'_>,
) -> Option<DFResult<DesiredTaskCountEventResponse>> {
    let load = event.plan.downcast_ref::<LoadFilesExec>()?;
    let tasks = load.load.files().count();
    Some(Ok(DesiredTaskCountEventResponse::desired(tasks)))
}

/// Splits a [`LoadFilesExec`] into one load per task, each of about the
/// same bytes.
pub(crate) fn split_across_tasks(
    event: ScaleUpLeafNodeEvent<'_>,
) -> Option<DFResult<ScaleUpLeafNodeEventResponse>> {
    let load = event.plan.downcast_ref::<LoadFilesExec>()?;
    let files: Vec<ObjectMeta> = load.load.files().cloned().collect();
    Some(split_leaf(&event, &files, |f| f.size, |f| load.of(f)))
}

/// The batch as a table, for the planner: it plans a scan of it.
#[derive(Debug)]
struct LoadTable(Arc<LoadFilesExec>);

#[async_trait]
impl TableProvider for LoadTable {
    fn schema(&self) -> SchemaRef {
        share_schema()
    }

    fn table_type(&self) -> TableType {
        TableType::Temporary
    }

    async fn scan(
        &self,
        _state: &dyn CatalogSession,
        _projection: Option<&Vec<usize>>,
        _filters: &[Expr],
        _limit: Option<usize>,
    ) -> DFResult<Arc<dyn ExecutionPlan>> {
        Ok(self.0.clone())
    }
}

/// A file as it crosses the network.
#[derive(Clone, PartialEq, prost::Message)]
pub(super) struct FileProto {
    #[prost(string, tag = "1")]
    location: String,
    #[prost(uint64, tag = "2")]
    size: u64,
    #[prost(int64, tag = "3")]
    last_modified_ms: i64,
    #[prost(string, optional, tag = "4")]
    e_tag: Option<String>,
    #[prost(string, optional, tag = "5")]
    version: Option<String>,
}

/// The message a [`LoadFilesExec`] crosses the network as.
#[derive(Clone, PartialEq, prost::Message)]
pub(super) struct LoadProto {
    /// The job as stored: JSON, its credentials sealed.
    #[prost(string, tag = "1")]
    job: String,
    #[prost(uint64, tag = "2")]
    version: u64,
    #[prost(message, repeated, tag = "3")]
    files: Vec<FileProto>,
    /// How many of `files`, in order, each partition loads.
    #[prost(uint64, repeated, tag = "4")]
    partition_sizes: Vec<u64>,
}

impl LoadFilesExec {
    pub(super) fn to_proto(&self) -> DFResult<LoadProto> {
        let job = serde_json::to_string(self.load.job.as_ref())
            .map_err(|e| DataFusionError::Internal(format!("cannot encode a job: {e}")))?;
        let files = (self.load.files())
            .map(|f| FileProto {
                location: f.location.to_string(),
                size: f.size,
                last_modified_ms: f.last_modified.timestamp_millis(),
                e_tag: f.e_tag.clone(),
                version: f.version.clone(),
            })
            .collect();
        Ok(LoadProto {
            job,
            version: self.load.version,
            files,
            partition_sizes: (self.load.partitions.iter())
                .map(|p| p.len() as u64)
                .collect(),
        })
    }

    /// The load `proto` describes, run by `engine` (the worker's).
    pub(super) fn from_proto(proto: LoadProto, engine: Option<Engine>) -> DFResult<Self> {
        let job: Job = serde_json::from_str(&proto.job)
            .map_err(|e| DataFusionError::Internal(format!("cannot decode a job: {e}")))?;
        let files = (proto.files.into_iter())
            .map(|f| {
                let location = Path::parse(&f.location).map_err(|e| {
                    DataFusionError::Internal(format!("cannot decode a file name: {e}"))
                })?;
                Ok(ObjectMeta {
                    location,
                    size: f.size,
                    last_modified: chrono::DateTime::from_timestamp_millis(f.last_modified_ms)
                        .unwrap_or_default(),
                    e_tag: f.e_tag,
                    version: f.version,
                })
            })
            .collect::<DFResult<Vec<_>>>()?;
        let mut files = files.into_iter();
        let partitions = (proto.partition_sizes.iter())
            .map(|&size| files.by_ref().take(size as usize).collect())
            .collect();
        let load = Load {
            job: Arc::new(job),
            version: proto.version,
            partitions,
        };
        Ok(Self::new(load, engine))
    }
}
