//! Converting a batch's rows to the table's types, file by file: each
//! file's partition is read and converted in a task of its own, rows that
//! do not convert are left out and counted in the [`Tally`] with the file
//! and line they came from ([`RowOrigins`]).

use std::sync::{Arc, Mutex};

use datafusion::arrow::compute::BatchCoalescer;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::error::{DataFusionError, Result as DFResult};
use datafusion::execution::TaskContext;
use datafusion::physical_plan::common::spawn_buffered;
use datafusion::physical_plan::repartition::RepartitionExec;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{execute_stream, ExecutionPlan, SendableRecordBatchStream};
use futures::stream::BoxStream;
use futures::{stream, StreamExt};

use super::batch::Batch;
use super::failpoint::{crash_point, CrashPoint};
use super::read::TypedRead;
use super::tally::Tally;
use crate::error::Error;
use crate::job::ledger::RejectedRow;
use crate::job::Job;
use crate::read::options::Format;
use crate::read::S3Options;
use crate::write::Conversion;

/// Whether partition `i` of `plan` holds exactly the rows of file `i`.
fn partition_per_file(plan: &Arc<dyn ExecutionPlan>, files: usize) -> bool {
    fn has_repartition(plan: &Arc<dyn ExecutionPlan>) -> bool {
        plan.name() == RepartitionExec::static_name()
            || plan.children().into_iter().any(has_repartition)
    }
    plan.properties().output_partitioning().partition_count() == files && !has_repartition(plan)
}

/// Bytes of small files read at once: reading a small file is mostly
/// waiting on the store, so more of them are read at once than there are
/// cores, up to about this many bytes (and [`MAX_FILES_AT_ONCE`]).
const SMALL_FILE_BYTES_AT_ONCE: u64 = 16 << 20;

/// The most files read at once.
const MAX_FILES_AT_ONCE: usize = 64;

/// How many of the batch's files are read at once: one per core
/// (`target_partitions`) for large files, more for small ones, bounded by
/// [`SMALL_FILE_BYTES_AT_ONCE`] on average.
fn files_at_once(batch: &Batch, cores: usize) -> usize {
    let average = (batch.bytes / batch.files.len().max(1) as u64).max(1);
    let by_bytes = usize::try_from(SMALL_FILE_BYTES_AT_ONCE / average).unwrap_or(usize::MAX);
    by_bytes.clamp(cores.max(1), MAX_FILES_AT_ONCE.max(cores))
}

/// The rows of the batch, converted, from several files at a time
/// ([`files_at_once`]), in batches of about the session's batch size (the
/// rows of small files are gathered). A file's partition starts only when
/// its turn comes (so memory does not grow with the files in the batch),
/// and converts in a task of its own, in parallel with the write.
pub fn converted_stream(
    source: BatchSource,
    task_ctx: &Arc<TaskContext>,
    batch: &Batch,
    origins: RowOrigins,
    conversion: Conversion,
    tally: &Arc<Mutex<Tally>>,
) -> BoxStream<'static, DFResult<RecordBatch>> {
    let config = task_ctx.session_config();
    let parallel = files_at_once(batch, config.target_partitions());
    let batch_size = config.batch_size();
    let per_file = match &source {
        BatchSource::Typed(_) => true,
        BatchSource::Plan(plan) => partition_per_file(plan, batch.files.len()),
    };
    let files: Vec<Option<usize>> = if per_file {
        (0..batch.files.len()).map(Some).collect()
    } else {
        vec![None]
    };
    let part = FilePart {
        source,
        task_ctx: task_ctx.clone(),
        origins: Arc::new(origins),
        conversion: Arc::new(conversion),
        tally: tally.clone(),
    };
    let schema = part.conversion.schema().clone();
    let rows = stream::iter(files)
        .map(move |file| match part.execute(file) {
            Ok(rows) => rows.boxed(),
            Err(e) => stream::once(async move { Err(e) }).boxed(),
        })
        .flatten_unordered(parallel)
        .boxed();
    gathered(rows, schema, batch_size)
}

/// `rows` in batches of about `size` rows: small batches are gathered,
/// large ones (half `size` or more) pass as they are.
fn gathered(
    rows: BoxStream<'static, DFResult<RecordBatch>>,
    schema: SchemaRef,
    size: usize,
) -> BoxStream<'static, DFResult<RecordBatch>> {
    let coalescer = BatchCoalescer::new(schema, size.max(1))
        .with_biggest_coalesce_batch_size(Some((size / 2).max(1)));
    stream::unfold(Some((rows.fuse(), coalescer)), |state| async move {
        let (mut rows, mut coalescer) = state?;
        loop {
            if let Some(batch) = coalescer.next_completed_batch() {
                return Some((Ok(batch), Some((rows, coalescer))));
            }
            let pushed = match rows.next().await {
                Some(Ok(batch)) => coalescer.push_batch(batch),
                Some(Err(e)) => return Some((Err(e), None)),
                None if coalescer.is_empty() => return None,
                None => coalescer.finish_buffered_batch(),
            };
            if let Err(e) = pushed {
                return Some((Err(e.into()), None));
            }
        }
    })
    .boxed()
}

/// Converted batches a file's task may hold before the writer takes them:
/// enough that reading goes on while the writer encodes what it took (a few
/// MiB per file being read).
const CONVERTED_BATCHES_AHEAD: usize = 16;

/// How a batch's rows are read.
pub enum BatchSource {
    /// Each file straight to the table's types.
    Typed(TypedRead),
    /// By the physical plan of the INSERT's input.
    Plan(Arc<dyn ExecutionPlan>),
}

/// What it takes to read and convert one file's partition of a batch.
struct FilePart {
    source: BatchSource,
    task_ctx: Arc<TaskContext>,
    origins: Arc<RowOrigins>,
    conversion: Arc<Conversion>,
    tally: Arc<Mutex<Tally>>,
}

impl FilePart {
    /// Starts reading file `file` (all files as one stream when `None`),
    /// converting in a spawned task.
    fn execute(&self, file: Option<usize>) -> DFResult<SendableRecordBatchStream> {
        let batch_size = self.task_ctx.session_config().batch_size();
        let rows = match (file, &self.source) {
            (Some(i), BatchSource::Typed(typed)) => {
                typed
                    .source
                    .read_typed(i, typed.columns.clone(), batch_size)
            }
            (Some(i), BatchSource::Plan(plan)) => plan.execute(i, self.task_ctx.clone())?,
            (None, BatchSource::Plan(plan)) => execute_stream(plan.clone(), self.task_ctx.clone())?,
            (None, BatchSource::Typed(_)) => {
                return Err(DataFusionError::Internal(
                    "a typed reading reads file by file".into(),
                ))
            }
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
                crash_point(CrashPoint::DuringRead);
            }
            let converted = conversion.convert(&batch).map_err(Error::into_datafusion)?;
            let mut tally = tally.lock().expect("lock");
            tally.count(file, batch.num_rows(), converted.filtered);
            if let Some(first) = &converted.first {
                // The earliest bad row, whichever file was read first.
                let at = (file.unwrap_or(0), seen + first.row);
                tally.left_out(file.is_some(), at, || {
                    origins.describe(file, at.1, &first.reason)
                });
            }
            for (rejected, values) in converted.left_out {
                let (name, position) = origins.locate(file, seen + rejected.row);
                tally.keep(RejectedRow {
                    file: name.unwrap_or_default().to_string(),
                    position,
                    values,
                    reason: rejected.reason,
                });
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

/// Names the file and line a row came from.
#[derive(Debug)]
pub struct RowOrigins {
    files: Vec<String>,
    /// Lines before the first record of every file (headers, skip_lines).
    lines_before: usize,
    format: Format,
    /// The job's SELECT filters rows, so positions count the kept ones.
    filtered: bool,
}

impl RowOrigins {
    /// Files are named as `job` shows offsets (absolute paths for local
    /// files).
    pub fn new(job: &Job, batch: &Batch, options: &S3Options, filtered: bool) -> Self {
        let files = batch
            .files
            .iter()
            .map(|f| job.shown_offset(f.location.as_ref()))
            .collect();
        Self::named(files, options, filtered)
    }

    /// The files as `files` names them, in the batch's order.
    pub fn named(files: Vec<String>, options: &S3Options, filtered: bool) -> Self {
        let lines_before = match options.format {
            Format::CsvWithNames => 1,
            Format::CsvWithNamesAndTypes => 2,
            Format::Csv => options.csv.skip_lines,
            _ => 0,
        };
        Self {
            files,
            lines_before,
            format: options.format,
            filtered,
        }
    }

    /// `file`, `line N: reason`, for the row at `index` (0-based) of file
    /// number `file` (or of the whole batch when unknown).
    fn describe(&self, file: Option<usize>, index: usize, reason: &str) -> String {
        let (name, position) = self.locate(file, index);
        match name {
            Some(name) => format!("{name}, {position}: {reason}"),
            None => format!("{position}: {reason}"),
        }
    }

    /// The file (when known) and the position (`line N`) of the row at
    /// `index` (0-based) of file number `file`.
    fn locate(&self, file: Option<usize>, index: usize) -> (Option<&str>, String) {
        let Some(name) = file.and_then(|i| self.files.get(i)) else {
            let first = self.files.first().map(String::as_str).unwrap_or_default();
            let last = self.files.last().map(String::as_str).unwrap_or_default();
            return (
                None,
                format!("row {} of the batch {first} .. {last}", index + 1),
            );
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
        (Some(name), position)
    }
}
