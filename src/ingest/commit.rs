//! The end of a task, in plain steps: write the converted rows as
//! fragments without committing them; check cancellation and the filter
//! limits; commit rows, offset and the finished task together.

use std::sync::{Arc, Mutex};

use datafusion::arrow::datatypes::SchemaRef;
use datafusion::physical_plan::SendableRecordBatchStream;
use lance::Dataset;
use object_store::ObjectMeta;
use tokio_util::sync::CancellationToken;

use super::batch::Batch;
use super::failpoint::{crash_point, CrashPoint};
use super::tally::{FileTally, FilterLimits, Tally};
use crate::error::{Error, Result};
use crate::job::ledger::{FileRecord, FileStatus};
use crate::job::offset::offset_key;
use crate::job::offset::CommittedBatch;
use crate::job::{Job, Task, TaskStatus};
use crate::write::{commit_fenced, write_fragments_in_parallel, Fence, Written};

/// Bytes of files per Lance writer: a batch this large or larger is written
/// by several writers at once, a smaller one by one writer, in fewer and
/// larger fragments.
const BYTES_PER_WRITER: u64 = 128 << 20;

/// How many Lance writers write `batch`'s rows: one per
/// [`BYTES_PER_WRITER`], at most two per core. A writer waits for its
/// pages to be encoded before it takes more rows, so with one writer per
/// core a core idles while a writer waits on its slowest column (the
/// benchmark's 1 GiB CSV job: about 8% less time with two per core, for
/// about 40% more memory).
pub(super) fn writers(batch: &Batch) -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    usize::try_from(batch.bytes / BYTES_PER_WRITER)
        .unwrap_or(usize::MAX)
        .clamp(1, 2 * cores)
}

/// Where a batch goes.
#[derive(Clone)]
pub struct Target {
    /// `database.table`, for messages.
    pub name: String,
    pub schema: SchemaRef,
    pub dataset: Arc<Dataset>,
    /// Keeps the version the task read (and commits on) from maintenance.
    pub _pin: crate::catalog::pins::Pin,
}

/// What a task committed.
pub struct Committed {
    /// The finished task, as the commit records it.
    pub done: CommittedBatch,
    /// The table version that holds the batch (`None` when the batch had
    /// no rows to add and made no commit).
    pub version: Option<u64>,
}

/// `task` of `job` finished well, with what `tally` counted for `batch`
/// (in all and file by file, for the ledger), and the greatest file name
/// its listing saw.
pub fn finished(
    job: &Job,
    task: &Task,
    tally: &Tally,
    batch: &Batch,
    end_offset: &str,
) -> CommittedBatch {
    let files = batch
        .files
        .iter()
        .enumerate()
        .map(|(i, meta)| loaded_file(job, task.id, meta, tally, tally.file(i)))
        .collect();
    CommittedBatch {
        task: Task {
            statistic: tally.statistic(batch.files.len() as u64, batch.bytes),
            first_error_msg: tally.first_error(),
            ..task.clone().finished(TaskStatus::Success, None)
        },
        end_offset: end_offset.to_string(),
        files,
        rejected: tally.kept.clone(),
    }
}

/// The ledger record of a file a task loaded; `counted` is `None` when its
/// rows were not known apart from the batch's other files' (the batch's
/// first left-out row stands for all of them).
fn loaded_file(
    job: &Job,
    task_id: u64,
    meta: &ObjectMeta,
    batch: &Tally,
    counted: Option<FileTally>,
) -> FileRecord {
    let (rejected, error) = match &counted {
        Some(file) => (
            file.filtered > 0,
            file.first.as_ref().map(|(_, m)| m.clone()),
        ),
        None => (batch.filtered > 0, batch.first_error()),
    };
    let status = if rejected {
        FileStatus::LoadedWithRejects
    } else {
        FileStatus::Loaded
    };
    FileRecord {
        loaded_rows: counted.as_ref().map(|f| f.scanned - f.filtered),
        rejected_rows: counted.as_ref().map(|f| f.filtered),
        error,
        ..FileRecord::new(
            job.shown_offset(meta.location.as_ref()),
            meta,
            status,
            task_id,
        )
    }
}

/// Writes `rows` (the batch's, converted, counted in `tally`) to `target`,
/// then commits them with the batch's offset and the finished `task`.
///
/// Nothing is committed when `cancel` fired first ([`Error::Cancelled`]) or
/// too many rows were left out; once the checks pass, the commit is not
/// interrupted.
#[allow(clippy::too_many_arguments)]
pub async fn write_and_commit(
    job: &Job,
    task: &Task,
    batch: &Batch,
    end_offset: &str,
    target: &Target,
    rows: SendableRecordBatchStream,
    tally: &Mutex<Tally>,
    cancel: &CancellationToken,
) -> Result<Committed> {
    let started = std::time::Instant::now();
    let written = write_fragments_in_parallel(
        target.dataset.clone(),
        target.schema.clone(),
        &target.name,
        rows,
        writers(batch),
    )
    .await;
    if cancel.is_cancelled() {
        return Err(Error::Cancelled);
    }
    let tally = tally.lock().expect("lock").clone();
    let read_and_written = started.elapsed();
    let committed = commit_written(job, task, batch, end_offset, target, written?, &tally).await;
    tracing::debug!(job = %job.name, task = task.id, read_and_written_ms = read_and_written.as_millis() as u64, commit_ms = (started.elapsed() - read_and_written).as_millis() as u64, "batch committed");
    committed
}

/// Commits `written` (`batch`'s rows, as fragments; `None` for no rows)
/// to `target` with the batch's offset and the finished `task`, unless
/// `tally` counted more rows left out than the job allows.
pub async fn commit_written(
    job: &Job,
    task: &Task,
    batch: &Batch,
    end_offset: &str,
    target: &Target,
    written: Option<Written>,
    tally: &Tally,
) -> Result<Committed> {
    crash_point(CrashPoint::BeforeCommit);
    if let Some(error) = tally.over_limit(&FilterLimits::of(job)) {
        return Err(error);
    }
    let done = finished(job, task, tally, batch, end_offset);
    let Some(written) = written else {
        return Ok(Committed {
            done,
            version: None,
        });
    };
    let properties = done.properties(job.id, batch.end_offset());
    let fence = Fence::new(target.dataset.clone(), offset_key(job.id));
    let committed =
        match commit_fenced(target.dataset.clone(), written, properties, fence.clone()).await {
            Ok(committed) => committed,
            Err(error) => return Err(refused(job, target, &fence, error).await),
        };
    crash_point(CrashPoint::AfterCommit);
    Ok(Committed {
        done,
        version: Some(committed.version().version),
    })
}

/// Why a task's commit was refused: another commit of its job
/// ([`Error::Fenced`]), the version it read or one it checks against
/// removed by maintenance (retried), or Lance's error.
async fn refused(
    job: &Job,
    target: &Target,
    fence: &Fence,
    error: datafusion::error::DataFusionError,
) -> Error {
    if let Some(version) = fence.tripped() {
        return Error::Fenced {
            job: job.name.clone(),
            version,
        };
    }
    let read = target.dataset.version().version;
    let removed = match &error {
        datafusion::error::DataFusionError::External(source) => source
            .downcast_ref::<lance::Error>()
            .is_some_and(crate::write::is_removed),
        _ => false,
    };
    if removed || target.dataset.checkout_version(read).await.is_err() {
        return Error::VersionRemoved {
            table: target.name.clone(),
            version: read,
        };
    }
    Error::from(error)
}
