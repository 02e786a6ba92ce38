//! Replay controls of a streaming job: `ALTER JOB name RETRY FILE 'file'`
//! queues a file the job set aside (quarantined, failed, skipped late) to
//! be loaded again by its next task; `VALIDATE JOB WHERE jobName = 'name'`
//! shows what the next task would load and leave out, committing nothing.

use super::files::{batch, number, text, VALIDATE_COLUMNS};
use super::require_job_load;
use crate::error::{Error, Result};
use crate::job::ledger::FileStatus;
use crate::job::offset::loaded_by;
use crate::job::Job;
use crate::session::{Session, StatementResult};

/// `ALTER JOB name RETRY FILE 'file'`.
pub(in crate::plan) async fn retry_file(
    session: &Session,
    name: &str,
    file: &str,
) -> Result<StatementResult> {
    let jobs = session.engine().jobs();
    let job = streaming_job(session, name)?;
    let key = job.offset_key(file);
    let shown = job.shown_offset(&key);
    let records = jobs.files(job.id).await?;
    let Some(record) = records.iter().find(|r| r.file == shown) else {
        return Err(Error::InvalidJob(format!(
            "job '{name}' has no record of file '{file}': SELECT FileName, Status FROM job_files(job = '{name}') lists the files it has seen (files before an offset you gave are loaded by moving the offset back with ALTER JOB {name} PROPERTIES (\"offset\" = ...))"
        )));
    };
    match record.status {
        FileStatus::Quarantined | FileStatus::Failed | FileStatus::SkippedLate => {}
        FileStatus::Loaded | FileStatus::LoadedWithRejects => {
            return Err(Error::InvalidJob(format!(
                "file '{shown}' was loaded by task {} of job '{name}'; loading it again would load its rows twice",
                record.task_id
            )))
        }
        FileStatus::Pending => {}
    }
    // The commit history is the truth; the ledger is a view of it.
    if let Some((version, task)) = committed_load(session, &job, &key).await? {
        return Err(Error::InvalidJob(format!(
            "file '{shown}' was loaded by task {task} of job '{name}' (table version {version}); loading it again would load its rows twice"
        )));
    }
    if job.retry_files.contains(&key) {
        return Err(Error::InvalidJob(format!(
            "file '{shown}' is already queued for job '{name}': its next task loads it"
        )));
    }
    if job.current_offset.as_ref().is_none_or(|o| key > *o) {
        return Err(Error::InvalidJob(format!(
            "file '{shown}' is after the offset of job '{name}': the job loads it when it runs (RESUME JOB WHERE jobName = '{name}' if it is paused)"
        )));
    }
    jobs.modify(name, |j| {
        j.retry_files.push(key.clone());
        Ok(())
    })
    .await?;
    tracing::info!(job = %name, file = %shown, "file queued for retry");
    Ok(StatementResult::affected(0))
}

/// The table version and task of `job`'s commit that loaded `key`, if any.
async fn committed_load(session: &Session, job: &Job, key: &str) -> Result<Option<(u64, u64)>> {
    let catalog = session.engine().catalog();
    let Ok(def) = catalog.table(&job.database, &job.table) else {
        return Ok(None);
    };
    let dataset = catalog.open_dataset(&def).await?;
    loaded_by(job, &dataset, key).await
}

/// `VALIDATE JOB WHERE jobName = 'name'`: one row per file of the next
/// batch, with what loading it would do.
pub(in crate::plan) async fn validate_job(
    session: &Session,
    name: &str,
) -> Result<StatementResult> {
    let job = streaming_job(session, name)?;
    let outcomes = session.engine().dry_run_next_task(&job).await?;
    let o = outcomes.as_slice();
    let batch = batch(
        &VALIDATE_COLUMNS,
        vec![
            text(o, |_| Some(job.name.clone())),
            text(o, |o| Some(o.file.file.clone())),
            number(o, |o| Some(o.file.size)),
            text(o, |o| Some(o.outcome.to_string())),
            number(o, |o| o.file.loaded_rows),
            number(o, |o| o.file.rejected_rows),
            text(o, |o| o.file.error.clone()),
        ],
    )?;
    Ok(StatementResult::rows(batch.schema(), vec![batch]))
}

/// Streaming job `name`, which the session user may control.
fn streaming_job(session: &Session, name: &str) -> Result<Job> {
    let job = session.engine().jobs().job(name)?;
    require_job_load(session, &job)?;
    if job.schedule.is_some() {
        return Err(Error::InvalidJob(format!(
            "job '{name}' is {}: only streaming jobs read files one by one",
            job.execute_type()
        )));
    }
    Ok(job)
}
