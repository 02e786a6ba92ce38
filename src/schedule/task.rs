//! One task of a streaming job: list the files after the job's offset, cut
//! the next [`Batch`] ([`next_batch`]), and load it into the job's table
//! with the new offset in the same commit ([`load`]).
//!
//! Rows are converted to the table's types by a [`Conversion`]: those that
//! do not convert are left out and counted, and the session variables
//! `insert_max_filter_ratio` / `enable_insert_strict` decide whether the
//! task still commits. Each file is read by its own partition, so a left-out
//! row is reported with its file and line.

use std::sync::{Arc, Mutex};

use datafusion::arrow::record_batch::RecordBatch;
use datafusion::common::tree_node::TreeNode;
use datafusion::error::{DataFusionError, Result as DFResult};
use datafusion::execution::TaskContext;
use datafusion::logical_expr::{Expr, LogicalPlan, Projection};
use datafusion::physical_plan::common::spawn_buffered;
use datafusion::physical_plan::repartition::RepartitionExec;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{execute_stream, ExecutionPlan, SendableRecordBatchStream};
use futures::stream::BoxStream;
use futures::{stream, StreamExt};
use lance::Dataset;
use object_store::path::Path;
use tokio_util::sync::CancellationToken;

use super::batch::{cut_batch, Batch};
use super::failpoint::crash_point;
use super::recovery::{offset_key, CommittedBatch};
use crate::catalog::{now, Catalog, TableDef};
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::job::{Job, LoadStatistic, Task, TaskStatus};
use crate::read::listing::list_files;
use crate::read::options::Format;
use crate::read::{rewrite_calls, Location, S3Options, S3_FUNCTION};
use crate::session::Session;
use crate::write::{latest_commit_property, Conversion, LanceSink};

/// A batch cut for a job, ready to load.
pub struct PendingLoad {
    pub batch: Batch,
    /// The greatest file name the listing saw.
    pub end_offset: String,
    session: Session,
    sql: String,
    options: S3Options,
    catalog: Arc<Catalog>,
    def: TableDef,
    dataset: Arc<Dataset>,
}

/// A batch that was loaded and committed.
#[derive(Debug)]
pub struct Loaded {
    pub batch: Batch,
    pub end_offset: String,
    pub statistic: LoadStatistic,
    /// The first row left out, when some were.
    pub first_error: Option<String>,
    /// The table version that holds the batch (the job's last one when the
    /// batch had no rows to add).
    pub version: u64,
}

impl Loaded {
    /// A batch of files without rows.
    fn empty(job: &Job, batch: Batch, end_offset: String) -> Self {
        Self {
            statistic: Tally::default().statistic(batch.files.len() as u64, batch.bytes),
            first_error: None,
            batch,
            end_offset,
            version: job.committed_version,
        }
    }
}

/// Where the job resumes: an offset committed with rows after the version
/// the job store knows (a crash between the data commit and the store
/// update), else the store's offset.
async fn resume_offset(job: &Job, dataset: &Dataset) -> Result<Option<String>> {
    Ok(committed_offset(job, dataset)
        .await?
        .or_else(|| job.current_offset.clone()))
}

/// The offset the table's commits hold for `job` beyond what the job store
/// knows, if any.
pub async fn committed_offset(job: &Job, dataset: &Dataset) -> Result<Option<String>> {
    let committed =
        latest_commit_property(dataset, &offset_key(job.id), job.committed_version).await?;
    Ok(committed.map(|(_, file)| file))
}

/// Lists the files after `job`'s offset and cuts the next batch; `None`
/// when there is no new file.
pub async fn next_batch(engine: &Engine, job: &Job) -> Result<Option<PendingLoad>> {
    let sql = engine.jobs().execute_sql(job)?;
    let mut session = engine.session_as(&job.definer);
    session.set_database(Some(job.database.clone()));
    let state = session.context().state();
    let dialect = state.config().options().sql_parser.dialect;
    let mut statement = state.sql_to_statement(&sql, &dialect)?;
    let calls = rewrite_calls(&mut statement, &[S3_FUNCTION])?;
    let call = calls
        .first()
        .ok_or_else(|| Error::InvalidJob(format!("job '{}' has no S3() call", job.name)))?;
    let options = S3Options::parse(&call.pairs)?;
    let location = Location::parse(&options.uri, &options.connection)?;

    let catalog = engine.catalog();
    let def = catalog
        .table(&job.database, &job.table)
        .map_err(|_| Error::InvalidJob(format!(
            "the job's target table {}.{} does not exist any more; create it again and RESUME JOB WHERE jobName = '{}', or DROP JOB",
            job.database, job.table, job.name
        )))?;
    let dataset = Arc::new(catalog.open_dataset(&def).await?);
    let offset = resume_offset(job, &dataset).await?;
    let files = list_files(&location, offset.as_deref().map(Path::from).as_ref()).await?;
    let Some(end_offset) = files.last().map(|f| f.location.to_string()) else {
        return Ok(None);
    };
    let Some(batch) = cut_batch(
        files,
        job.properties.max_batch_files,
        job.properties.max_batch_bytes,
    ) else {
        return Ok(None);
    };
    Ok(Some(PendingLoad {
        batch,
        end_offset,
        session,
        sql,
        options,
        catalog: catalog.clone(),
        def,
        dataset,
    }))
}

/// Loads a batch: reads exactly its files through the job's INSERT,
/// converts the rows, and appends them with the new offset in one commit.
///
/// When `cancel` fires before the commit, the task stops and nothing of it
/// is committed ([`Error::Cancelled`]); once the rows are all written, the
/// commit is not interrupted.
pub async fn load(
    job: &Job,
    task: &Task,
    pending: PendingLoad,
    cancel: CancellationToken,
) -> Result<Loaded> {
    let PendingLoad {
        batch,
        end_offset,
        mut session,
        sql,
        options,
        catalog,
        def,
        dataset,
    } = pending;
    tracing::info!(job = %job.name, files = batch.files.len(), bytes = batch.bytes, end = batch.end_offset(), "loading batch");
    session.set_s3_files(Some(batch.files.clone()));
    {
        // Keep one partition per file up to the sink.
        let state = session.context().state_ref();
        let mut state = state.write();
        state
            .config_mut()
            .options_mut()
            .optimizer
            .enable_round_robin_repartition = false;
    }
    let planned = match crate::plan::query::plan(&session, &sql).await {
        // Only empty files: the batch loads no rows, and the offset moves on.
        Err(Error::EmptySource { .. }) => return Ok(Loaded::empty(job, batch, end_offset)),
        planned => planned?,
    };
    let LogicalPlan::Dml(dml) = planned else {
        return Err(Error::InvalidJob(format!(
            "job '{}' is not an INSERT",
            job.name
        )));
    };
    let filters = dml
        .input
        .exists(|p| Ok(matches!(p, LogicalPlan::Filter(_))))?;
    let input = without_casts(dml.input.as_ref().clone())?;
    let ctx = session.context();
    let physical = ctx.state().create_physical_plan(&input).await?;
    let task_ctx = ctx.task_ctx();

    let tally = Arc::new(Mutex::new(Tally::default()));
    let conversion = Conversion::new(
        def.arrow_schema(),
        def.columns.iter().map(|c| c.sql_type.to_string()).collect(),
    );
    let origins = RowOrigins::new(&batch, &options, filters);
    let limits = FilterLimits::of(job);
    let rows = converted_stream(&physical, &task_ctx, &batch, origins, conversion, &tally)
        .take_until(cancel.clone().cancelled_owned());
    let checked = rows.chain(
        stream::once({
            let tally = tally.clone();
            let cancel = cancel.clone();
            let limits = limits.clone();
            async move {
                if cancel.is_cancelled() {
                    return Err(DataFusionError::External(Box::new(Error::Cancelled)));
                }
                tally.lock().expect("lock").check(&limits)
            }
        })
        .filter_map(|r| async move { r.err().map(Err) }),
    );
    let stream: SendableRecordBatchStream =
        Box::pin(RecordBatchStreamAdapter::new(def.arrow_schema(), checked));

    let commit_properties = {
        let (job_id, offset) = (job.id, batch.end_offset().to_string());
        let (task, tally, end_offset) = (task.clone(), tally.clone(), end_offset.clone());
        let (files, bytes) = (batch.files.len() as u64, batch.bytes);
        move || {
            let tally = tally.lock().expect("lock").clone();
            let batch = CommittedBatch {
                task: Task {
                    status: TaskStatus::Success,
                    finish_time: Some(now()),
                    statistic: tally.statistic(files, bytes),
                    first_error_msg: tally.first_error(),
                    ..task.clone()
                },
                end_offset: end_offset.clone(),
            };
            batch.properties(job_id, &offset)
        }
    };
    let sink = LanceSink::new(
        format!("{}.{}", def.database, def.name),
        def.arrow_schema(),
        dataset.clone(),
    )
    .with_commit_properties(commit_properties);
    let written = datafusion::datasource::sink::DataSink::write_all(&sink, stream, &task_ctx).await;
    let tally = tally.lock().expect("lock").clone();
    if written.is_err() && cancel.is_cancelled() {
        return Err(Error::Cancelled);
    }
    if let Some(error) = tally.over_limit(&limits) {
        return Err(error);
    }
    let rows = written?;
    crash_point("after-commit");
    let version = if rows > 0 {
        catalog.open_dataset(&def).await?.version().version
    } else {
        job.committed_version
    };
    Ok(Loaded {
        statistic: tally.statistic(batch.files.len() as u64, batch.bytes),
        first_error: tally.first_error(),
        batch,
        end_offset,
        version,
    })
}

/// The INSERT's input with the casts to the table's types taken off its
/// top projection: the [`Conversion`] applies them, leaving out the rows
/// that do not convert instead of failing.
fn without_casts(plan: LogicalPlan) -> Result<LogicalPlan> {
    let LogicalPlan::Projection(projection) = plan else {
        return Ok(plan);
    };
    let exprs = projection
        .expr
        .iter()
        .map(|expr| match expr {
            Expr::Alias(alias) => match alias.expr.as_ref() {
                Expr::Cast(cast) => cast.expr.as_ref().clone().alias(alias.name.clone()),
                Expr::TryCast(cast) => cast.expr.as_ref().clone().alias(alias.name.clone()),
                _ => expr.clone(),
            },
            _ => expr.clone(),
        })
        .collect();
    Ok(LogicalPlan::Projection(Projection::try_new(
        exprs,
        projection.input.clone(),
    )?))
}

/// Whether partition `i` of `plan` holds exactly the rows of file `i`.
fn partition_per_file(plan: &Arc<dyn ExecutionPlan>, files: usize) -> bool {
    fn has_repartition(plan: &Arc<dyn ExecutionPlan>) -> bool {
        plan.name() == RepartitionExec::static_name()
            || plan.children().into_iter().any(has_repartition)
    }
    plan.properties().output_partitioning().partition_count() == files && !has_repartition(plan)
}

/// The rows of the batch, converted, from up to `target_partitions` files
/// at a time. A file's partition starts only when its turn comes (so memory
/// does not grow with the files in the batch), and converts in a task of
/// its own, in parallel with the write.
fn converted_stream(
    physical: &Arc<dyn ExecutionPlan>,
    task_ctx: &Arc<TaskContext>,
    batch: &Batch,
    origins: RowOrigins,
    conversion: Conversion,
    tally: &Arc<Mutex<Tally>>,
) -> BoxStream<'static, DFResult<RecordBatch>> {
    let parallel = task_ctx.session_config().target_partitions().max(1);
    let files: Vec<Option<usize>> = if partition_per_file(physical, batch.files.len()) {
        (0..batch.files.len()).map(Some).collect()
    } else {
        vec![None]
    };
    let part = FilePart {
        physical: physical.clone(),
        task_ctx: task_ctx.clone(),
        origins: Arc::new(origins),
        conversion: Arc::new(conversion),
        tally: tally.clone(),
    };
    stream::iter(files)
        .map(move |file| match part.execute(file) {
            Ok(rows) => rows.boxed(),
            Err(e) => stream::once(async move { Err(e) }).boxed(),
        })
        .flatten_unordered(parallel)
        .boxed()
}

/// Converted batches a file's task may hold before the writer takes them:
/// enough that reading goes on while the writer encodes what it took (a few
/// MiB per file being read).
const CONVERTED_BATCHES_AHEAD: usize = 16;

/// What it takes to read and convert one file's partition of a batch.
struct FilePart {
    physical: Arc<dyn ExecutionPlan>,
    task_ctx: Arc<TaskContext>,
    origins: Arc<RowOrigins>,
    conversion: Arc<Conversion>,
    tally: Arc<Mutex<Tally>>,
}

impl FilePart {
    /// Starts reading file `file` (all files as one stream when `None`),
    /// converting in a spawned task.
    fn execute(&self, file: Option<usize>) -> DFResult<SendableRecordBatchStream> {
        let rows = match file {
            Some(i) => self.physical.execute(i, self.task_ctx.clone())?,
            None => execute_stream(self.physical.clone(), self.task_ctx.clone())?,
        };
        let (origins, conversion, tally) = (
            self.origins.clone(),
            self.conversion.clone(),
            self.tally.clone(),
        );
        let mut seen = 0usize;
        let mut first_batch = true;
        let converted = rows.map(move |batch| {
            let batch = batch?;
            if std::mem::take(&mut first_batch) {
                crash_point("during-read");
            }
            let converted = conversion.convert(&batch).map_err(Error::into_datafusion)?;
            let mut tally = tally.lock().expect("lock");
            tally.scanned += batch.num_rows() as u64;
            tally.filtered += converted.filtered as u64;
            if let Some(first) = &converted.first {
                // The earliest bad row of the batch, whichever file was
                // read first.
                let at = (file.unwrap_or(0), seen + first.row);
                if tally
                    .first
                    .as_ref()
                    .is_none_or(|(earliest, _)| at < *earliest)
                {
                    let message = origins.describe(file, at.1, &first.reason);
                    tally.first = Some((at, message));
                }
            }
            seen += batch.num_rows();
            Ok(converted.batch)
        });
        let schema = self.conversion.schema().clone();
        Ok(spawn_buffered(
            Box::pin(RecordBatchStreamAdapter::new(schema, converted)),
            CONVERTED_BATCHES_AHEAD,
        ))
    }
}

/// What conversion counted so far.
#[derive(Debug, Clone, Default)]
struct Tally {
    scanned: u64,
    filtered: u64,
    /// The first bad row: (file number, row in file), and its description.
    first: Option<((usize, usize), String)>,
}

impl Tally {
    fn first_error(&self) -> Option<String> {
        self.first.as_ref().map(|(_, message)| message.clone())
    }

    /// The statistics of a batch of `files` files and `bytes` bytes.
    fn statistic(&self, files: u64, bytes: u64) -> LoadStatistic {
        LoadStatistic {
            scanned_rows: self.scanned,
            load_bytes: bytes,
            file_number: files,
            file_size: bytes,
            filtered_rows: self.filtered,
        }
    }
}

/// When left-out rows fail a task.
#[derive(Debug, Clone)]
struct FilterLimits {
    /// `session.insert_max_filter_ratio`: the share of rows that may be left out.
    max_ratio: f64,
    /// `session.enable_insert_strict`: no row may be left out.
    strict: bool,
}

impl FilterLimits {
    fn of(job: &Job) -> Self {
        let session = &job.properties.session;
        Self {
            max_ratio: session
                .get("insert_max_filter_ratio")
                .and_then(|r| r.parse().ok())
                .unwrap_or(0.0),
            strict: session
                .get("enable_insert_strict")
                .is_some_and(|s| s.eq_ignore_ascii_case("true")),
        }
    }
}

impl Tally {
    /// The error that fails the task when too many rows were left out.
    fn over_limit(&self, limits: &FilterLimits) -> Option<Error> {
        if self.filtered == 0 {
            return None;
        }
        let ratio = self.filtered as f64 / self.scanned.max(1) as f64;
        let rule = if limits.strict {
            "session.enable_insert_strict is true".to_string()
        } else if ratio > limits.max_ratio {
            format!(
                "more than session.insert_max_filter_ratio = {} allows",
                limits.max_ratio
            )
        } else {
            return None;
        };
        Some(Error::TooManyFilteredRows {
            filtered: self.filtered,
            scanned: self.scanned,
            rule,
            first: self.first_error().unwrap_or_default(),
        })
    }

    /// Fails the stream (so nothing is committed) when too many rows were
    /// left out.
    fn check(&self, limits: &FilterLimits) -> datafusion::error::Result<()> {
        crash_point("before-commit");
        match self.over_limit(limits) {
            Some(error) => Err(DataFusionError::External(Box::new(error))),
            None => Ok(()),
        }
    }
}

/// Names the file and line a row came from.
#[derive(Debug)]
struct RowOrigins {
    files: Vec<String>,
    /// Lines before the first record of every file (headers, skip_lines).
    lines_before: usize,
    format: Format,
    /// The job's SELECT filters rows, so positions count the kept ones.
    filtered: bool,
}

impl RowOrigins {
    fn new(batch: &Batch, options: &S3Options, filtered: bool) -> Self {
        let lines_before = match options.format {
            Format::CsvWithNames => 1,
            Format::CsvWithNamesAndTypes => 2,
            Format::Csv => options.csv.skip_lines,
            _ => 0,
        };
        Self {
            files: batch.files.iter().map(|f| f.location.to_string()).collect(),
            lines_before,
            format: options.format,
            filtered,
        }
    }

    /// `file`, `line N: reason`, for the row at `index` (0-based) of file
    /// number `file` (or of the whole batch when unknown).
    fn describe(&self, file: Option<usize>, index: usize, reason: &str) -> String {
        let Some(name) = file.and_then(|i| self.files.get(i)) else {
            let first = self.files.first().map(String::as_str).unwrap_or_default();
            let last = self.files.last().map(String::as_str).unwrap_or_default();
            return format!("row {} of the batch {first} .. {last}: {reason}", index + 1);
        };
        let position = if self.filtered {
            format!("row {} of those the job's SELECT kept", index + 1)
        } else {
            match self.format {
                Format::Parquet => format!("row {}", index + 1),
                Format::Json => format!("record {}", index + 1),
                _ => format!("line {}", self.lines_before + index + 1),
            }
        };
        format!("{name}, {position}: {reason}")
    }
}
