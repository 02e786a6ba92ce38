//! `VALIDATE JOB`: a dry run of a streaming job's next task. It lists and
//! cuts the batch the job would load next (files queued for retry and late
//! files included, as the job's properties say), reads and converts every
//! row through the job's INSERT, and commits nothing: no rows, no offset,
//! no ledger record. A job that skips bad files (`s3.on_file_error` =
//! `skip`) is predicted as its tasks would go: a batch that fails on its
//! files' content is tried again file by file, and a file that fails alone
//! would be quarantined ([`quarantine`](super::quarantine)).

use std::sync::Arc;

use object_store::ObjectMeta;

use super::body::JobBody;
use super::late::{skipped_late, Lookback};
use super::quarantine::Isolation;
use super::task::{dry_run, next_batch, Poll};
use async_trait::async_trait;

use crate::engine::{DryRun, Engine};
use crate::error::{Error, Result};
use crate::job::ledger::{records_of, FileRecord, FileStatus, Outcome};
use crate::job::{Job, Task};

/// The dry run the engine is given when it is opened.
#[derive(Debug)]
pub struct NextTask;

#[async_trait]
impl DryRun for NextTask {
    async fn next_task(&self, engine: &Engine, job: &Job) -> Result<Vec<Outcome>> {
        validate(engine, job).await
    }
}

/// What `job`'s next task would load and leave out, file by file (none
/// when there is nothing new).
async fn validate(engine: &Engine, job: &Job) -> Result<Vec<Outcome>> {
    let body = Arc::new(JobBody::load(engine, job)?);
    let mut lookback = Lookback::load(engine, job).await?;
    let task_id = job.next_task_id;
    let Poll {
        skipped_late: late,
        load,
        ..
    } = next_batch(
        engine,
        job,
        &body,
        &mut lookback,
        job.properties.max_batch_files,
    )
    .await?;
    let mut outcomes: Vec<Outcome> = skipped_late(job, task_id, &late)
        .into_iter()
        .map(|file| Outcome {
            outcome: "WOULD_SKIP_LATE",
            file,
        })
        .collect();
    let Some(pending) = load else {
        return Ok(outcomes);
    };
    let files = pending.batch.files.clone();
    match dry_run(job, &Task::running(task_id), &pending).await {
        Ok(done) => outcomes.extend(done.files.into_iter().map(loaded)),
        Err(error) if Isolation::applies(job, &files, &error) => {
            // The failed batch's task, then one task per file, as the job
            // isolates them.
            for (n, file) in (task_id + 1..).zip(&files) {
                let alone = pending.only(engine, job, file);
                outcomes.extend(match dry_run(job, &Task::running(n), &alone).await {
                    Ok(done) => done.files.into_iter().map(loaded).collect(),
                    Err(error) if error.is_file_error() => {
                        not_loaded(job, n, file, &error, "WOULD_QUARANTINE")
                    }
                    Err(error) => not_loaded(job, n, file, &error, "WOULD_FAIL"),
                });
            }
        }
        Err(error) => {
            for file in &files {
                outcomes.extend(not_loaded(job, task_id, file, &error, "WOULD_FAIL"));
            }
        }
    }
    Ok(outcomes)
}

/// The outcome of a file the dry run loaded.
fn loaded(file: FileRecord) -> Outcome {
    Outcome {
        outcome: match file.status {
            FileStatus::LoadedWithRejects => "WOULD_LOAD_WITH_REJECTS",
            _ => "WOULD_LOAD",
        },
        file,
    }
}

/// The outcome of a file task `task_id` would not load, for `error`.
fn not_loaded(
    job: &Job,
    task_id: u64,
    file: &ObjectMeta,
    error: &Error,
    outcome: &'static str,
) -> Vec<Outcome> {
    let message = error.to_string();
    let files = std::slice::from_ref(file);
    records_of(job, task_id, files, FileStatus::Failed, |_| message.clone())
        .into_iter()
        .map(|file| Outcome { outcome, file })
        .collect()
}
