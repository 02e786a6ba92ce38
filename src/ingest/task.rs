//! One task of a streaming job, phase by phase: list the files after the
//! job's offset and cut the next [`Batch`] ([`next_batch`]); then
//! ([`load`]) read exactly those files through the job's INSERT
//! ([`read`](super::read)), convert and count the rows
//! ([`convert`](super::convert), [`tally`](super::tally)), write them and
//! commit them with the new offset ([`commit`](super::commit)).

use std::sync::{Arc, Mutex};

use futures::StreamExt;
use object_store::path::Path;
use tokio_util::sync::CancellationToken;

use super::batch::{cut_from_listing, Batch, Cut};
use super::body::JobBody;
use super::commit::{finished, write_and_commit, Target};
use super::convert::{converted_stream, RowOrigins};
use super::read::plan_batch;
use super::tally::Tally;
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::job::offset::{resume_offset, CommittedBatch};
use crate::job::{Job, Task};
use crate::read::listing::files_after;

use crate::session::Session;
use crate::write::Conversion;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;

/// A batch cut for a job, ready to load.
pub struct PendingLoad {
    pub batch: Batch,
    /// The greatest file name the listing read.
    pub end_offset: String,
    session: Session,
    body: Arc<JobBody>,
    target: Target,
    conversion: Conversion,
}

/// A batch that was loaded and committed.
#[derive(Debug)]
pub struct Loaded {
    pub batch: Batch,
    /// The finished task (statistics, first row left out) and the greatest
    /// file name the listing saw.
    pub done: CommittedBatch,
    /// The table version that holds the batch (the job's last one when the
    /// batch had no rows to add).
    pub version: u64,
}

/// Lists the files after `job`'s offset and cuts the next batch of at most
/// `max_files` files; `None` when there is no new file.
pub async fn next_batch(
    engine: &Engine,
    job: &Job,
    body: &Arc<JobBody>,
    max_files: u64,
) -> Result<Option<PendingLoad>> {
    let mut session = engine.session_as(&job.definer);
    session.set_database(Some(job.database.clone()));

    let catalog = engine.catalog();
    let def = catalog
        .table(&job.database, &job.table)
        .map_err(|_| Error::InvalidJob(format!(
            "the job's target table {}.{} does not exist any more; create it again and RESUME JOB WHERE jobName = '{}', or DROP JOB",
            job.database, job.table, job.name
        )))?;
    let dataset = Arc::new(catalog.open_dataset(&def).await?);
    let offset = resume_offset(job, &dataset).await?;
    let offset = offset.map(Path::from);
    let listing = files_after(&body.location, offset.as_ref());
    let Some(Cut { batch, end_offset }) =
        cut_from_listing(listing, max_files, job.properties.max_batch_bytes).await?
    else {
        return Ok(None);
    };
    Ok(Some(PendingLoad {
        batch,
        end_offset,
        session,
        body: body.clone(),
        conversion: Conversion::new(
            def.arrow_schema(),
            def.columns.iter().map(|c| c.sql_type.to_string()).collect(),
        ),
        target: Target {
            name: format!("{}.{}", def.database, def.name),
            schema: def.arrow_schema(),
            dataset,
        },
    }))
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
    let PendingLoad {
        batch,
        end_offset,
        session,
        body,
        target,
        conversion,
    } = pending;
    tracing::info!(job = %job.name, files = batch.files.len(), bytes = batch.bytes, end = batch.end_offset(), "loading batch");
    let tally = Arc::new(Mutex::new(Tally::default()));
    let Some(read) = plan_batch(&session, &body, &batch).await? else {
        // Only empty files: no rows, and the offset moves on.
        return Ok(Loaded {
            done: finished(job, task, &Tally::default(), &batch, &end_offset),
            batch,
            version: job.committed_version,
        });
    };
    let origins = RowOrigins::new(job, &batch, &body.options, read.filters);
    let typed = read.typed(&body, &batch, conversion.schema())?;
    tracing::debug!(job = %job.name, typed = typed.is_some(), "reading the batch's CSV columns straight to the table's types");
    let rows = converted_stream(
        &read.plan,
        &read.task_ctx,
        typed,
        &batch,
        origins,
        conversion,
        &tally,
    )
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
    })
}
