//! `VALIDATE JOB`: a dry run of a streaming job's next task. It lists and
//! cuts the batch the job would load next (files queued for retry and late
//! files included, as the job's properties say), reads and converts every
//! row through the job's INSERT, and commits nothing: no rows, no offset,
//! no ledger record.

use std::sync::Arc;

use super::body::JobBody;
use super::late::{skipped_late, Lookback};
use super::task::{dry_run, next_batch, Poll};
use crate::engine::Engine;
use crate::error::Result;
use crate::job::ledger::{records_of, FileRecord, FileStatus};
use crate::job::{Job, Task};

/// What the job's next task would do with one file.
#[derive(Debug)]
pub struct Outcome {
    /// `WOULD_LOAD`, `WOULD_LOAD_WITH_REJECTS`, `WOULD_FAIL` or
    /// `WOULD_SKIP_LATE`.
    pub outcome: &'static str,
    /// The file as the ledger would record it (rows counted when known).
    pub file: FileRecord,
}

/// What `job`'s next task would load and leave out, file by file (none
/// when there is nothing new).
pub async fn validate(engine: &Engine, job: &Job) -> Result<Vec<Outcome>> {
    let body = Arc::new(JobBody::load(engine, job)?);
    let lookback = Lookback::load(engine, job).await?;
    let task_id = job.next_task_id;
    let Poll {
        skipped_late: late,
        load,
        ..
    } = next_batch(
        engine,
        job,
        &body,
        &lookback,
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
    let task = Task::running(task_id);
    match dry_run(job, &task, pending).await {
        Ok(done) => outcomes.extend(done.files.into_iter().map(|file| Outcome {
            outcome: match file.status {
                FileStatus::LoadedWithRejects => "WOULD_LOAD_WITH_REJECTS",
                _ => "WOULD_LOAD",
            },
            file,
        })),
        Err(error) => {
            let message = error.to_string();
            let failed = records_of(job, task_id, &files, FileStatus::Failed, |_| {
                message.clone()
            });
            outcomes.extend(failed.into_iter().map(|file| Outcome {
                outcome: "WOULD_FAIL",
                file,
            }));
        }
    }
    Ok(outcomes)
}
