//! What a streaming job does with a file it cannot load when
//! `s3.on_file_error` = `skip`: instead of pausing, it isolates the file
//! and sets it aside, and the feed goes on.
//!
//! A batch that fails on its files' content (a file that cannot be read or
//! decoded, or too many rows that do not convert) has committed nothing.
//! The job then loads the next files again one per task, as many as the
//! failed batch had ([`Isolation`]): good files load on their own, and a
//! file that fails alone is quarantined: the ledger records it
//! `QUARANTINED` with the reason, the job's offset moves past it without
//! a commit (no rows of it exist; a late or retried file below the offset
//! leaves it where it is), and the failed task is counted. A crash before
//! the offset moved tries the file again, with the same outcome.

use object_store::ObjectMeta;

use super::failpoint::{crash_point, CrashPoint};
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::job::ledger::{records_of, FileStatus};
use crate::job::{Job, Task};

/// Files loaded one per task, as many tasks as a failed batch had files.
#[derive(Debug, Default)]
pub struct Isolation {
    remaining: u64,
}

impl Isolation {
    /// The most files the job's next batch may have.
    pub fn max_files(&mut self, job: &Job) -> u64 {
        if self.remaining == 0 {
            return job.properties.max_batch_files;
        }
        self.remaining -= 1;
        1
    }

    /// Whether a task that failed with `error` over `files` is handled by
    /// skipping: the job skips bad files, the error is about the files'
    /// content, and the task had files.
    pub fn applies(job: &Job, files: &[ObjectMeta], error: &Error) -> bool {
        job.properties.skip_bad_files && !files.is_empty() && error.is_file_error()
    }

    /// Handles a failed batch of several files: isolate them.
    pub fn isolate(&mut self, files: &[ObjectMeta]) {
        self.remaining = files.len() as u64;
    }
}

/// Sets aside `file`, which failed alone in `task` with `error`: records
/// it in the ledger, then moves the job's offset past it (unless it is
/// below), takes it off the retry queue and counts the failed task,
/// leaving the job running.
pub async fn quarantine(
    engine: &Engine,
    job: &Job,
    task: Task,
    file: &ObjectMeta,
    error: &Error,
) -> Result<()> {
    let message = error.to_string();
    let name = job.shown_offset(file.location.as_ref());
    tracing::warn!(job = %job.name, file = %name, error = %message, "quarantining a file that cannot be loaded");
    let files = std::slice::from_ref(file);
    let record = records_of(job, task.id, files, FileStatus::Quarantined, |_| {
        message.clone()
    });
    let jobs = engine.jobs();
    jobs.check_held(job).await?;
    jobs.record_files(job.id, task.id, &record).await?;
    crash_point(CrashPoint::AfterQuarantine);
    let key = file.location.to_string();
    jobs.modify_held(job, |j| {
        if j.current_offset.as_ref().is_none_or(|o| *o < key) {
            j.current_offset = Some(key.clone());
        }
        if j.end_offset.as_ref().is_none_or(|o| *o < key) {
            j.end_offset = Some(key.clone());
        }
        j.retry_files.retain(|f| *f != key);
        j.quarantined_files += 1;
        j.record_failed_task(task.clone(), &message);
        j.runtime_msg = Some(format!(
            "quarantined {name} (s3.on_file_error = skip): {message}; SELECT * FROM job_files(job = '{}') WHERE Status = 'QUARANTINED' lists such files",
            j.name
        ));
        Ok(())
    })
    .await?;
    Ok(())
}
