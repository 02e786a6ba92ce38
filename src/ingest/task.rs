//! One task of a streaming job, phase by phase: list the files after the
//! job's offset (looking back for late files, [`late`](super::late)) and
//! cut the next [`Batch`], files queued for retry first ([`next_batch`]); then
//! ([`load`]) read exactly those files through the job's INSERT
//! ([`read`](super::read)), convert and count the rows
//! ([`convert`](super::convert), [`tally`](super::tally)), write them and
//! commit them with the new offset ([`commit`](super::commit)).

use std::collections::BTreeMap;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use datafusion::arrow::record_batch::RecordBatch;
use datafusion::error::Result as DFResult;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use futures::stream::{BoxStream, Peekable};
use futures::StreamExt;
use object_store::path::Path;
use object_store::ObjectMeta;
use tokio_util::sync::CancellationToken;

use super::batch::{cut_from_listing, Batch, Cut, Cutter, Listing};
use super::body::JobBody;
use super::commit::{commit_written, finished, write_and_commit, Target};
use super::convert::{converted_stream, BatchSource, RowOrigins};
use super::late::Lookback;
use super::read::plan_batch;
use super::share::{workers_for, write_across};
use super::tally::{FilterLimits, Tally};
use crate::distributed::Workers;
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::job::offset::{commits_after, resume_offset, CommittedBatch};
use crate::job::{Backlog, Job, LateFiles, Task};
use crate::read::listing::{files_after_in_pages, files_named};
use crate::session::Session;
use crate::write::Conversion;

/// A batch cut for a job, ready to load.
pub struct PendingLoad {
    pub batch: Batch,
    /// The greatest file name the listing read.
    pub end_offset: String,
    /// The files the listing had after the batch.
    pub backlog: Backlog,
    /// The next batch's files as the listing shows them now, read ahead
    /// once this batch's files are read.
    next: Vec<ObjectMeta>,
    session: Session,
    body: Arc<JobBody>,
    pub(super) target: Target,
    conversion: Conversion,
}

/// A batch that was loaded and committed.
#[derive(Debug)]
pub struct Loaded {
    pub batch: Batch,
    /// The finished task (statistics, first row left out) and the greatest
    /// file name the listing saw.
    pub done: CommittedBatch,
    /// The table version that holds the batch (`None` when the batch had
    /// no rows to add and made no commit).
    pub version: Option<u64>,
    /// The files the listing had after the batch.
    pub backlog: Backlog,
}

impl PendingLoad {
    /// The same load of `file` alone, for `engine`'s `job` (as a job that
    /// isolates bad files loads each file of a failed batch).
    pub fn only(&self, engine: &Engine, job: &Job, file: &ObjectMeta) -> PendingLoad {
        let name = file.location.to_string();
        PendingLoad {
            batch: Batch {
                files: vec![file.clone()],
                bytes: file.size,
                full: false,
                offset: name.clone(),
            },
            end_offset: name,
            backlog: self.backlog.clone(),
            next: Vec::new(),
            session: job_session(engine, job),
            body: self.body.clone(),
            target: self.target.clone(),
            conversion: self.conversion.clone(),
        }
    }
}

impl PendingLoad {
    /// `files`, a worker's share of a batch of `job`, loaded by `engine`
    /// (the worker's) into the target table as of `version`: the version
    /// the process that commits the batch read.
    pub(super) async fn share(
        engine: &Engine,
        job: &Job,
        version: u64,
        files: Vec<ObjectMeta>,
    ) -> Result<PendingLoad> {
        // The table may have been made, or its columns changed, since the
        // worker read the catalog.
        engine.catalog().refresh().await?;
        let def = target_table(engine, job).await?;
        let latest = engine.catalog().open_dataset(&def).await?;
        let dataset =
            (latest.checkout_version(version).await).map_err(|e| Error::lance(&def.location, e))?;
        let pin = engine.catalog().pins().pin(def.id, version);
        let (target, conversion) = target_of(&def, Arc::new(dataset), pin);
        let offset = files.last().map(|f| f.location.to_string());
        Ok(PendingLoad {
            batch: Batch {
                bytes: files.iter().map(|f| f.size).sum(),
                files,
                full: false,
                offset: offset.clone().unwrap_or_default(),
            },
            end_offset: offset.unwrap_or_default(),
            backlog: Backlog::default(),
            next: Vec::new(),
            session: job_session(engine, job),
            body: Arc::new(JobBody::load(engine, job)?),
            target,
            conversion,
        })
    }

    /// The workers this batch is loaded across, if it is (see
    /// [`workers_for`]).
    fn workers(&self, job: &Job) -> Option<Workers> {
        let local = self.body.location.is_local();
        let min_bytes = job.properties.distribute_min_bytes;
        workers_for(&self.session, &self.batch, local, min_bytes)
    }
}

/// What a poll of a job found.
pub struct Poll {
    /// Late files the job does not load (`s3.late_files` = `skip`).
    pub skipped_late: Vec<ObjectMeta>,
    /// Files queued for retry that do not exist any more.
    pub gone: Vec<String>,
    /// The next batch; `None` when there is nothing to load.
    pub load: Option<PendingLoad>,
    /// How many commits of the job the store does not know: a task does
    /// not load after them until they are recorded (else its own record
    /// would pass over them).
    pub unrecorded: usize,
}

/// Lists the files after `job`'s offset (from further back when it looks
/// for late files) and cuts the next batch of at most `max_files` files:
/// files queued for retry and late files it loads first, then new files.
/// Files committed by the job that `lookback` did not know of (another
/// process's) are remembered first: a late file is one no commit loaded.
pub async fn next_batch(
    engine: &Engine,
    job: &Job,
    body: &Arc<JobBody>,
    lookback: &mut Lookback,
    max_files: u64,
) -> Result<Poll> {
    let session = job_session(engine, job);
    let def = target_table(engine, job).await?;
    let dataset = Arc::new(engine.catalog().open_dataset(&def).await?);
    // Pinned at once, so that maintenance keeps the version from here on;
    // one it removed before is a commit refused and retried.
    let pin = engine
        .catalog()
        .pins()
        .pin(def.id, dataset.version().version);
    let commits = commits_after(job, &dataset).await?;
    for commit in &commits {
        lookback.remember(commit.files(job));
    }
    let offset = resume_offset(job, &commits);
    let start = lookback
        .start_after(job, offset.as_deref())
        .or_else(|| offset.clone())
        .map(Path::from);
    let (listing, pages) = files_after_in_pages(&body.location, start.as_ref());
    let mut listing = listing.peekable();
    let late = late_files(&mut listing, lookback, offset.as_deref()).await?;
    let (retried, gone) = files_named(&body.location, &job.retry_files).await?;
    let (earlier, skipped_late) = below_offset(job, offset.as_deref(), retried, late);
    let mut cutter = Cutter::new(max_files, job.properties.max_batch_bytes, offset.as_deref());
    for file in earlier {
        if !cutter.offer(file) {
            break;
        }
    }
    let cut = cut_from_listing(listing.boxed(), &pages, cutter).await?;
    let Some(Cut {
        batch,
        end_offset,
        backlog,
        next,
    }) = cut
    else {
        return Ok(Poll {
            skipped_late,
            gone,
            load: None,
            unrecorded: commits.len(),
        });
    };
    let (target, conversion) = target_of(&def, dataset, pin);
    let load = Some(PendingLoad {
        batch,
        end_offset,
        backlog,
        next,
        session,
        body: body.clone(),
        conversion,
        target,
    });
    Ok(Poll {
        skipped_late,
        gone,
        load,
        unrecorded: commits.len(),
    })
}

/// Where the rows of a batch of `def` go, `dataset` being the version the
/// task read (kept by `pin`), and how they are converted to its types.
fn target_of(
    def: &crate::catalog::TableDef,
    dataset: Arc<lance::Dataset>,
    pin: crate::catalog::pins::Pin,
) -> (Target, Conversion) {
    let target = Target {
        name: def.qualified_name(),
        schema: def.arrow_schema(),
        _pin: pin,
        dataset,
    };
    let types = def.columns.iter().map(|c| c.sql_type.clone()).collect();
    (target, Conversion::new(def.arrow_schema(), types))
}

/// A session as `job`'s definer, in its database: its INSERT is planned
/// there.
fn job_session(engine: &Engine, job: &Job) -> Session {
    let mut session = engine.session_as(&job.definer);
    session.set_database(Some(job.database.clone()));
    session
}

/// The definition of `job`'s target table. A table this process does not
/// know may have been made by another one: the catalog is read again
/// before the table is taken for gone.
async fn target_table(engine: &Engine, job: &Job) -> Result<crate::catalog::TableDef> {
    let catalog = engine.catalog();
    if let Ok(def) = catalog.table(&job.database, &job.table) {
        return Ok(def);
    }
    catalog.refresh().await?;
    catalog.table(&job.database, &job.table).map_err(|_| {
        Error::InvalidJob(format!(
            "the job's target table {}.{} does not exist any more; create it again and RESUME JOB WHERE jobName = '{}', or DROP JOB",
            job.database, job.table, job.name
        ))
    })
}

/// The files at or below `offset` that the next batch loads first, each
/// once and in order (those queued for retry, and late files when the job
/// loads them), and the late files the job skips.
fn below_offset(
    job: &Job,
    offset: Option<&str>,
    retried: Vec<ObjectMeta>,
    late: Vec<ObjectMeta>,
) -> (Vec<ObjectMeta>, Vec<ObjectMeta>) {
    // A queued file after the offset is loaded by the listing anyway.
    let below = |f: &ObjectMeta| offset.is_some_and(|o| f.location.as_ref() <= o);
    let mut earlier: BTreeMap<Path, ObjectMeta> = retried
        .into_iter()
        .filter(below)
        .map(|f| (f.location.clone(), f))
        .collect();
    let skipped = match job.properties.late_files {
        LateFiles::Skip => late,
        LateFiles::Load => {
            earlier.extend(late.into_iter().map(|f| (f.location.clone(), f)));
            Vec::new()
        }
    };
    (earlier.into_values().collect(), skipped)
}

/// Reads the listing's files at or below `offset` (those the look-back
/// lists) and returns the late ones; the listing then holds the new files.
async fn late_files(
    listing: &mut Peekable<Listing<'_>>,
    lookback: &Lookback,
    offset: Option<&str>,
) -> Result<Vec<ObjectMeta>> {
    let mut late = Vec::new();
    let Some(offset) = offset else {
        return Ok(late);
    };
    loop {
        let below = match Pin::new(&mut *listing).peek().await {
            Some(Ok(meta)) => meta.location.as_ref() <= offset,
            _ => false,
        };
        if !below {
            return Ok(late);
        }
        if let Some(meta) = listing.next().await.transpose()? {
            if lookback.is_late(&meta) {
                late.push(meta);
            }
        }
    }
}

/// Loads a batch: reads exactly its files through the job's INSERT,
/// converts the rows, and appends them with the new offset in one commit.
///
/// When `cancel` fires before the commit, the task stops and nothing of it
/// is committed ([`Error::Cancelled`]).
pub async fn load(
    job: &Job,
    task: &Task,
    pending: PendingLoad,
    cancel: CancellationToken,
) -> Result<Loaded> {
    tracing::info!(job = %job.name, files = pending.batch.files.len(), bytes = pending.batch.bytes, end = pending.batch.end_offset(), "loading batch");
    if let Some(workers) = pending.workers(job) {
        if let Some(loaded) = load_across(job, task, &pending, &workers, &cancel).await? {
            return Ok(loaded);
        }
    }
    let tally = Arc::new(Mutex::new(Tally::default()));
    let Some(rows) = converted_rows(job, &pending, &tally).await? else {
        // Only empty files: no rows, and the offset moves on.
        return Ok(Loaded {
            done: finished(
                job,
                task,
                &Tally::default(),
                &pending.batch,
                &pending.end_offset,
            ),
            batch: pending.batch,
            version: None,
            backlog: pending.backlog,
        });
    };
    let PendingLoad {
        batch,
        end_offset,
        backlog,
        target,
        next,
        body,
        ..
    } = pending;
    // The next batch's files are read while this one is written and
    // committed: from now when this batch's files were all read ahead
    // (its reads wait for no request of its own), else once they are read.
    let read_ahead_now = body
        .read_ahead()
        .is_some_and(|read_ahead| read_ahead.covers(&batch.files));
    let next = if read_ahead_now {
        body.read_ahead_of(next);
        None
    } else {
        Some(next)
    };
    let reads_done = futures::stream::once(async move {
        if let Some(next) = next {
            body.read_ahead_of(next);
        }
        None
    })
    .filter_map(futures::future::ready);
    let rows = rows
        .chain(reads_done)
        .take_until(cancel.clone().cancelled_owned());
    let rows = Box::pin(RecordBatchStreamAdapter::new(target.schema.clone(), rows));
    let committed = write_and_commit(
        job,
        task,
        &batch,
        &end_offset,
        &target,
        rows,
        &tally,
        &cancel,
    )
    .await?;
    Ok(Loaded {
        batch,
        done: committed.done,
        version: committed.version,
        backlog,
    })
}

/// [`load`] with the batch's files read, converted and written by
/// `workers` ([`share`](super::share)), committed here as one; `None` when
/// the workers did not load it (they could not be planned across, or one
/// failed: then this process loads it, and nothing they wrote is ever
/// committed).
async fn load_across(
    job: &Job,
    task: &Task,
    pending: &PendingLoad,
    workers: &Workers,
    cancel: &CancellationToken,
) -> Result<Option<Loaded>> {
    let PendingLoad { batch, target, .. } = pending;
    let version = target.dataset.version().version;
    let written = tokio::select! {
        _ = cancel.cancelled() => return Err(Error::Cancelled),
        written = write_across(workers, &pending.session, job, batch, version) => written,
    };
    let Some((written, tally)) = written else {
        return Ok(None);
    };
    let end_offset = &pending.end_offset;
    let committed = commit_written(job, task, batch, end_offset, target, written, &tally).await?;
    Ok(Some(Loaded {
        batch: batch.clone(),
        done: committed.done,
        version: committed.version,
        backlog: pending.backlog.clone(),
    }))
}

/// Reads and converts a batch as [`load`] does, but commits nothing:
/// what `task` would record (its files, the rows it would leave out), or
/// the error that would fail it.
pub async fn dry_run(job: &Job, task: &Task, pending: &PendingLoad) -> Result<CommittedBatch> {
    let tally = Arc::new(Mutex::new(Tally::default()));
    if let Some(mut rows) = converted_rows(job, pending, &tally).await? {
        while let Some(rows) = rows.next().await {
            rows?;
        }
    }
    let tally = tally.lock().expect("lock").clone();
    if let Some(error) = tally.over_limit(&FilterLimits::of(job)) {
        return Err(error);
    }
    Ok(finished(
        job,
        task,
        &tally,
        &pending.batch,
        &pending.end_offset,
    ))
}

/// A batch whose columns do not fit the job's INSERT once the table's
/// columns changed: the INSERT is what no longer fits, not the files, so
/// the job pauses (no file is set aside) saying how to fix it.
fn after_schema_change(session: &Session, job: &Job, error: Error) -> Error {
    let Error::Source { message, .. } = &error else {
        return error;
    };
    let Some(reason) = message.strip_prefix("its columns do not fit the job's INSERT: ") else {
        return error;
    };
    let catalog = session.engine().catalog();
    let Some(change) = catalog
        .table(&job.database, &job.table)
        .ok()
        .and_then(|def| def.last_schema_change)
    else {
        return error;
    };
    Error::InvalidJob(format!(
        "table {db}.{table} changed ({change}) and the INSERT of job '{name}' no longer fits it ({reason}): give the job an INSERT that fits the new columns, e.g. naming the columns it loads, with ALTER JOB {name} INSERT INTO {db}.{table} (<columns>) SELECT ... FROM S3(...), then RESUME JOB WHERE jobName = '{name}'",
        db = job.database,
        table = job.table,
        name = job.name,
    ))
}

/// The batch's rows, read through the job's INSERT and converted to the
/// table's types, counted in `tally`; `None` when its files are all empty.
pub(super) async fn converted_rows(
    job: &Job,
    pending: &PendingLoad,
    tally: &Arc<Mutex<Tally>>,
) -> Result<Option<BoxStream<'static, DFResult<RecordBatch>>>> {
    let PendingLoad {
        batch,
        session,
        body,
        conversion,
        ..
    } = pending;
    let read = plan_batch(session, body, batch)
        .await
        .map_err(|e| after_schema_change(session, job, e))?;
    let Some(read) = read else {
        return Ok(None);
    };
    let origins = RowOrigins::new(job, batch, &body.options, read.filters);
    let source = match read.typed(body, batch, conversion.schema())? {
        Some(typed) => BatchSource::Typed(typed),
        None => BatchSource::Plan(read.plan.clone()),
    };
    tracing::debug!(job = %job.name, typed = matches!(source, BatchSource::Typed(_)), "reading the batch's CSV columns straight to the table's types");
    Ok(Some(converted_stream(
        source,
        &read.task_ctx,
        batch,
        origins,
        conversion.clone(),
        tally,
    )))
}
