//! The scheduler: one loop per RUNNING job, each running the job's tasks
//! one at a time, sleeping `max_interval` when there is nothing new.

use std::time::Duration;

use super::task::{run_task, TaskOutcome};
use crate::engine::{Engine, WeakEngine};
use crate::error::Error;
use crate::job::{Job, JobStatus};

/// Starts the loop of job `name` unless one is running.
pub(crate) fn start_job(engine: &Engine, name: &str) {
    if !engine.claim_job_loop(name) {
        return;
    }
    let weak = engine.downgrade();
    let name = name.to_string();
    tokio::spawn(async move {
        job_loop(&weak, &name).await;
        if let Some(engine) = weak.upgrade() {
            engine.release_job_loop(&name);
        }
    });
}

/// Whether an error is worth retrying: the source is unreachable or slow.
fn is_transient(error: &Error) -> bool {
    matches!(error, Error::Source { .. } | Error::ObjectStore(_))
}

async fn job_loop(weak: &WeakEngine, name: &str) {
    loop {
        let Some(engine) = weak.upgrade() else { return };
        let jobs = engine.jobs().clone();
        let Ok(job) = jobs.job(name) else { return };
        if !matches!(job.status, JobStatus::Pending | JobStatus::Running) {
            return;
        }
        // Only a job still PENDING becomes RUNNING: a PAUSE that came in
        // meanwhile wins.
        let Ok(job) = jobs
            .modify(name, |j| {
                if j.status == JobStatus::Pending {
                    j.status = JobStatus::Running;
                }
                Ok(())
            })
            .await
        else {
            return;
        };
        if job.status != JobStatus::Running {
            return;
        }
        let interval = Duration::from_secs(job.properties.max_interval_secs);
        let outcome = run_task(&engine, &job).await;
        let next = record(&engine, &job, outcome).await;
        drop(engine);
        match next {
            Next::Continue => {}
            Next::Wait => tokio::time::sleep(interval).await,
            Next::Stop => return,
        }
    }
}

enum Next {
    Continue,
    Wait,
    Stop,
}

/// Records a task's outcome in the job store and says what to do next.
async fn record(engine: &Engine, job: &Job, outcome: crate::error::Result<TaskOutcome>) -> Next {
    let jobs = engine.jobs();
    let (next, result) = match outcome {
        Ok(TaskOutcome::Idle) => (
            Next::Wait,
            jobs.modify(&job.name, |j| {
                j.runtime_msg = None;
                Ok(())
            })
            .await,
        ),
        Ok(TaskOutcome::Loaded {
            batch,
            rows,
            end_offset,
            version,
        }) => (
            if batch.full {
                Next::Continue
            } else {
                Next::Wait
            },
            jobs.modify(&job.name, |j| {
                j.current_offset = Some(batch.end_offset().to_string());
                j.end_offset = Some(end_offset);
                j.committed_version = version;
                j.succeed_task_count += 1;
                j.load_statistic.scanned_rows += rows;
                j.load_statistic.load_bytes += batch.bytes;
                j.load_statistic.file_number += batch.files.len() as u64;
                j.load_statistic.file_size += batch.bytes;
                j.error_msg = None;
                j.runtime_msg = None;
                Ok(())
            })
            .await,
        ),
        Err(e) if is_transient(&e) => {
            tracing::warn!(job = %job.name, error = %e, "transient failure; retrying");
            (
                Next::Wait,
                jobs.modify(&job.name, |j| {
                    j.runtime_msg = Some(format!("retrying: {e}"));
                    Ok(())
                })
                .await,
            )
        }
        Err(e) => {
            tracing::warn!(job = %job.name, error = %e, "task failed; pausing the job");
            (
                Next::Stop,
                jobs.modify(&job.name, |j| {
                    j.failed_task_count += 1;
                    j.status = JobStatus::Paused;
                    j.error_msg = Some(format!(
                        "{e}. The job is paused: fix the data or the job (ALTER JOB), or move its offset past the file, then RESUME JOB WHERE jobName = '{}'",
                        j.name
                    ));
                    Ok(())
                })
                .await,
            )
        }
    };
    match result {
        Ok(_) => next,
        // Dropped meanwhile, or the store cannot be written: stop.
        Err(_) => Next::Stop,
    }
}
