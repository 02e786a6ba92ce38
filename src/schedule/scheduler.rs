//! The scheduler: one loop per RUNNING job, each running the job's tasks
//! one at a time, sleeping `max_interval` when there is nothing new.

use std::time::Duration;

use super::batch::Batch;
use super::task::{run_task, TaskOutcome};
use crate::catalog::now;
use crate::engine::{Engine, WeakEngine};
use crate::error::Error;
use crate::job::{Job, JobStatus, LoadStatistic, Task, TaskStatus};

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
        let started = now();
        let outcome = run_task(&engine, &job).await;
        let next = record(&engine, &job, &started, outcome).await;
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
async fn record(
    engine: &Engine,
    job: &Job,
    started: &str,
    outcome: crate::error::Result<TaskOutcome>,
) -> Next {
    let task = |j: &mut Job,
                status: TaskStatus,
                batch: Option<&Batch>,
                rows: u64,
                error: Option<String>| {
        let id = j.next_task_id;
        j.next_task_id += 1;
        let files = batch.map(|b| b.files.as_slice()).unwrap_or_default();
        let name = |f: Option<&object_store::ObjectMeta>| {
            f.map(|f| f.location.to_string()).unwrap_or_default()
        };
        j.push_task(Task {
            id,
            status,
            create_time: started.to_string(),
            start_time: started.to_string(),
            finish_time: Some(now()),
            start_file: name(files.first()),
            end_file: name(files.last()),
            statistic: LoadStatistic {
                scanned_rows: rows,
                load_bytes: batch.map_or(0, |b| b.bytes),
                file_number: files.len() as u64,
                file_size: batch.map_or(0, |b| b.bytes),
            },
            error_msg: error,
        });
    };
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
                task(j, TaskStatus::Success, Some(&batch), rows, None);
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
                    task(j, TaskStatus::Failed, None, 0, Some(e.to_string()));
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
