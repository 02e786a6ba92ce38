//! The loop of a streaming job: it runs the job's tasks one at a time,
//! records each outcome in the job store, goes on at once after a full
//! batch, sleeps `max_interval` when there is nothing new, backs off
//! exponentially while the source is unavailable, sets bad files aside
//! when the job says so ([`quarantine`](super::quarantine)), records the
//! late files it skips ([`late`](super::late)), and stops when a task
//! fails in a way that needs the user (the job pauses).

use std::sync::Arc;
use std::time::Duration;

use object_store::ObjectMeta;

use super::body::JobBody;
use super::late::{skipped_late, Lookback};
use super::quarantine::{quarantine, Isolation};
use super::recovery::recover;
use super::scheduler::{keeping_lease, next_turn, sleep_keeping_lease, task_slot, Turn};
use super::task::{load, next_batch, Loaded, PendingLoad, Poll};
use crate::catalog::now;
use crate::engine::{Engine, WeakEngine};
use crate::error::{Error, Result};
use crate::job::control::JobControl;
use crate::job::ledger::{records_of, FileStatus};
use crate::job::offset::{apply, Commit};
use crate::job::{Backlog, Job, LoadStatistic, Task, TaskStatus};

/// The longest wait between retries of an unavailable source.
const MAX_BACKOFF: Duration = Duration::from_secs(60);

/// What the loop does after a task.
enum Next {
    /// Start the next task at once (the batch was full).
    Continue,
    /// Sleep this long, then poll again.
    Sleep(Duration),
    /// End the loop (paused, dropped, failed).
    Stop,
}

pub(super) async fn job_loop(weak: &WeakEngine, name: &str, control: &Arc<JobControl>) {
    let mut failures = 0u32;
    // Read by the first task, kept for the loop's life.
    let mut body: Option<Arc<JobBody>> = None;
    // What the loop learns of the job's files as it runs.
    let mut lookback: Option<Lookback> = None;
    let mut isolation = Isolation::default();
    // Whether the store may miss commits of the job: when the loop starts,
    // after another process's commit refused this one's, and when a poll
    // found such commits; recorded before the next task.
    let mut stale = true;
    loop {
        let Some(Turn {
            engine,
            job,
            taken_over,
        }) = next_turn(weak, name, control).await
        else {
            return;
        };
        let interval = Duration::from_secs(job.properties.max_interval_secs);
        let job_id = job.id;
        let job = if stale || taken_over {
            match recover(&engine, job).await {
                Ok(job) => {
                    stale = false;
                    // Another process ran the job meanwhile: what this
                    // loop knew of its files is read again.
                    if taken_over {
                        lookback = None;
                        isolation = Isolation::default();
                    }
                    job
                }
                Err(error) => {
                    tracing::warn!(job = %name, error = %error, "cannot record the batches committed that the job store missed; trying again");
                    drop(engine);
                    sleep_keeping_lease(weak, job_id, control, interval).await;
                    continue;
                }
            }
        } else {
            job
        };
        let Some(_permit) = task_slot(&engine, control).await else {
            return;
        };
        let max_files = isolation.max_files(&job);
        let started_ms = chrono::Utc::now().timestamp_millis();
        let task = run_task(
            &engine,
            &job,
            (&mut body, &mut lookback),
            control,
            max_files,
        );
        let step = keeping_lease(&engine, &job, control, task).await;
        let next = match step {
            // Another process loaded these files: record its commit, and go
            // on after it.
            Step::Failed {
                error: ref error @ Error::Fenced { .. },
                ..
            } => {
                tracing::warn!(job = %job.name, error = %error, "commit refused");
                stale = true;
                Next::Continue
            }
            Step::Behind => {
                stale = true;
                Next::Continue
            }
            Step::Failed {
                error: ref error @ Error::LeaseLost { .. },
                ..
            } => after_write_failed(&job, error),
            Step::Failed { ref error, .. } if error.is_transient() => {
                failures += 1;
                let delay = backoff(failures, interval);
                record_retry(&engine, &job, step, failures, delay).await
            }
            Step::Failed {
                task: Some(task),
                files,
                error,
                ..
            } if Isolation::applies(&job, &files, &error) => {
                failures = 0;
                let next =
                    skip_bad_files(&engine, &job, &mut isolation, task, &files, &error).await;
                if let ([file], Some(lookback)) = (files.as_slice(), lookback.as_mut()) {
                    lookback.remember([file.location.to_string()]);
                }
                next
            }
            step => {
                failures = 0;
                let loaded = matches!(step, Step::Loaded(_));
                let recording = std::time::Instant::now();
                let next = record(&engine, &job, step, interval, started_ms).await;
                tracing::debug!(job = %job.name, record_ms = recording.elapsed().as_millis() as u64, "recorded the task");
                // A batch that did not fill read its listing to the end:
                // every file there when the poll began is loaded now.
                if loaded && matches!(next, Next::Sleep(_)) {
                    control.caught_up_with_last_poll();
                }
                next
            }
        };
        drop(engine);
        match next {
            Next::Continue => {}
            Next::Sleep(delay) => sleep_keeping_lease(weak, job.id, control, delay).await,
            Next::Stop => return,
        }
    }
}

/// What the loop does after writing about its job failed: another process
/// took the job (go on: the next turn waits for the lease), or it was
/// dropped or the store cannot be written (stop).
fn after_write_failed(job: &Job, error: &Error) -> Next {
    match error {
        Error::LeaseLost { .. } => {
            tracing::info!(job = %job.name, error = %error, "another process runs the job now");
            Next::Continue
        }
        _ => {
            tracing::warn!(job = %job.name, error = %error, "cannot record the job's task");
            Next::Stop
        }
    }
}

/// A batch failed on its files' content and the job skips bad files: a
/// lone file is quarantined, several are loaded again one by one.
async fn skip_bad_files(
    engine: &Engine,
    job: &Job,
    isolation: &mut Isolation,
    task: Task,
    files: &[ObjectMeta],
    error: &Error,
) -> Next {
    let [file] = files else {
        tracing::info!(job = %job.name, files = files.len(), error = %error, "a batch failed; loading its files one by one");
        isolation.isolate(files);
        let message = error.to_string();
        let recorded = engine
            .jobs()
            .modify_held(job, |j| {
                j.record_failed_task(task.clone(), &message);
                j.runtime_msg = Some(format!(
                    "a batch of {} files failed (s3.on_file_error = skip): loading them one by one to set aside the bad ones; {message}",
                    files.len()
                ));
                Ok(())
            })
            .await;
        return match recorded {
            Ok(_) => Next::Continue,
            Err(error) => after_write_failed(job, &error),
        };
    };
    match quarantine(engine, job, task, file, error).await {
        Ok(()) => Next::Continue,
        Err(error) => after_write_failed(job, &error),
    }
}

/// `max_interval` doubled for each failure in a row beyond the first,
/// starting at one second and capped at [`MAX_BACKOFF`] (or `max_interval`
/// if longer).
fn backoff(failures: u32, interval: Duration) -> Duration {
    let exponential = Duration::from_secs(1u64 << failures.saturating_sub(1).min(16));
    exponential.min(MAX_BACKOFF.max(interval))
}

/// How a task ended.
enum Step {
    /// No new file.
    Idle,
    /// Cancelled before it had a batch: nothing to record.
    Stopped,
    /// The job has commits its store does not know: nothing loaded, they
    /// are recorded first.
    Behind,
    Loaded(Box<Loaded>),
    /// Stopped by PAUSE or DROP before its commit.
    Canceled(Task),
    /// Failed; `task` is `None` when it failed before cutting a batch,
    /// `end_offset` when it failed before listing; `files` are its batch's,
    /// `backlog` what its listing had after them.
    Failed {
        task: Option<Task>,
        end_offset: Option<String>,
        files: Vec<ObjectMeta>,
        backlog: Option<Backlog>,
        error: Error,
    },
}

/// What a job's loop reads once, at its first task: the parsed INSERT
/// and the look-back window for late files.
type LoopState<'a> = (&'a mut Option<Arc<JobBody>>, &'a mut Option<Lookback>);

/// Runs one task: the next batch, loaded. Shows it as RUNNING in `tasks()`
/// while it loads.
async fn run_task(
    engine: &Engine,
    job: &Job,
    (body, lookback): LoopState<'_>,
    control: &JobControl,
    max_files: u64,
) -> Step {
    let poll = control.poll_started();
    let created = now();
    let failed = |error| Step::Failed {
        task: None,
        end_offset: None,
        files: Vec::new(),
        backlog: None,
        error,
    };
    let parsed = match body {
        Some(parsed) => Ok(parsed.clone()),
        None => JobBody::load(engine, job).map(Arc::new),
    };
    let parsed = match parsed {
        Ok(parsed) => body.insert(parsed).clone(),
        Err(error) => return failed(error),
    };
    let lookback = match lookback {
        Some(lookback) => lookback,
        None => match Lookback::load(engine, job).await {
            Ok(loaded) => lookback.insert(loaded),
            Err(error) => return failed(error),
        },
    };
    let listing = std::time::Instant::now();
    let polled = tokio::select! {
        biased;
        _ = control.cancelled() => return Step::Stopped,
        polled = next_batch(engine, job, &parsed, lookback, max_files) => polled,
    };
    tracing::debug!(job = %job.name, listing_ms = listing.elapsed().as_millis() as u64, "listed the next batch");
    let pending = match polled {
        // Another process committed for the job since its store was read:
        // record that first.
        Ok(polled) if polled.unrecorded > 0 => return Step::Behind,
        Ok(polled) => match note_skipped(engine, job, lookback, polled).await {
            Ok(Some(pending)) => pending,
            Ok(None) => {
                control.caught_up(poll);
                return Step::Idle;
            }
            Err(error) => return failed(error),
        },
        Err(error) => return failed(error),
    };
    let files = &pending.batch.files;
    let name = |f: Option<&object_store::ObjectMeta>| {
        f.map(|f| f.location.to_string()).unwrap_or_default()
    };
    let task = Task {
        create_time: created,
        start_file: name(files.first()),
        end_file: name(files.last()),
        statistic: LoadStatistic {
            file_number: files.len() as u64,
            file_size: pending.batch.bytes,
            load_bytes: pending.batch.bytes,
            ..Default::default()
        },
        ..Task::running(job.next_task_id)
    };
    control.set_running_task(Some(task.clone()));
    let end_offset = pending.end_offset.clone();
    let batch_files = pending.batch.files.clone();
    let backlog = pending.backlog.clone();
    let loaded = load_in_time(job, &task, pending, control).await;
    control.set_running_task(None);
    match loaded {
        Ok(loaded) => {
            let keys = loaded.batch.files.iter().map(|f| f.location.to_string());
            lookback.remember(keys);
            Step::Loaded(Box::new(loaded))
        }
        Err(Error::Cancelled) => Step::Canceled(task),
        Err(error) => Step::Failed {
            task: Some(task),
            end_offset: Some(end_offset),
            files: batch_files,
            backlog: Some(backlog),
            error,
        },
    }
}

/// [`load`], cancelled before its commit when it runs past the job's
/// time limit ([`crate::job::JobProperties::insert_time_limit`]).
async fn load_in_time(
    job: &Job,
    task: &Task,
    pending: PendingLoad,
    control: &JobControl,
) -> Result<Loaded> {
    let (property, seconds) = job.properties.insert_time_limit();
    let cancel = control.token().child_token();
    let timer = tokio::spawn({
        let cancel = cancel.clone();
        async move {
            tokio::time::sleep(Duration::from_secs(seconds)).await;
            cancel.cancel();
        }
    });
    let loaded = load(job, task, pending, cancel).await;
    timer.abort();
    match loaded {
        Err(Error::Cancelled) if !control.token().is_cancelled() => Err(Error::JobTimedOut {
            property,
            seconds,
            fix: format!(
                "give it more time with ALTER JOB {} PROPERTIES (\"{property}\" = \"<seconds>\"), or fewer files a task with \"s3.max_batch_files\", then RESUME JOB WHERE jobName = '{}'",
                job.name, job.name
            ),
        }),
        other => other,
    }
}

/// Records what a poll found besides its batch: late files the job skips
/// (`SKIPPED_LATE`, remembered so they are noticed once) and files queued
/// for retry that are gone (`FAILED`, taken off the queue). Returns the
/// batch to load.
async fn note_skipped(
    engine: &Engine,
    job: &Job,
    lookback: &mut Lookback,
    polled: Poll,
) -> crate::error::Result<Option<super::task::PendingLoad>> {
    let Poll {
        skipped_late: late,
        gone,
        load,
        ..
    } = polled;
    let mut records = skipped_late(job, job.next_task_id, &late);
    if !late.is_empty() {
        tracing::warn!(job = %job.name, files = late.len(), first = %late[0].location, "late files skipped (s3.late_files = skip)");
    }
    if !gone.is_empty() {
        tracing::warn!(job = %job.name, files = gone.len(), "files queued for retry do not exist any more");
    }
    let missing: Vec<ObjectMeta> = gone.iter().map(|key| missing(key)).collect();
    records.extend(records_of(
        job,
        job.next_task_id,
        &missing,
        FileStatus::Failed,
        |_| "the file queued by ALTER JOB ... RETRY FILE does not exist any more".into(),
    ));
    let jobs = engine.jobs();
    if !records.is_empty() {
        // Only the job's holder notices files: a process that lost the
        // job would judge them against what it knew before.
        jobs.check_held(job).await?;
        jobs.record_noticed(job.id, job.next_task_id, &records)
            .await?;
    }
    lookback.remember(late.iter().map(|f| f.location.to_string()));
    if !gone.is_empty() || !late.is_empty() {
        jobs.modify_held(job, |j| {
            j.retry_files.retain(|f| !gone.contains(f));
            j.skipped_late_files += late.len() as u64;
            Ok(())
        })
        .await?;
    }
    Ok(load)
}

/// The metadata of a file that does not exist (no size, no time).
fn missing(key: &str) -> ObjectMeta {
    ObjectMeta {
        location: object_store::path::Path::from(key),
        last_modified: chrono::DateTime::UNIX_EPOCH,
        size: 0,
        e_tag: None,
        version: None,
    }
}

/// Records a task's outcome in the job store and says what to do next.
/// `started_ms` is when the task's poll began: a poll that found nothing
/// new, or loaded a batch that did not fill, caught up with the files there
/// then.
async fn record(
    engine: &Engine,
    job: &Job,
    step: Step,
    interval: Duration,
    started_ms: i64,
) -> Next {
    let jobs = engine.jobs();
    let (next, result) = match step {
        Step::Stopped => return Next::Stop,
        Step::Behind => return Next::Continue,
        Step::Idle => (
            Next::Sleep(interval),
            jobs.modify_held(job, |j| {
                j.runtime_msg = None;
                j.caught_up_at_ms = Some(started_ms);
                j.backlog = Some(Backlog::none());
                Ok(())
            })
            .await,
        ),
        Step::Loaded(loaded) => {
            let full = loaded.batch.full;
            let next = if full {
                Next::Continue
            } else {
                Next::Sleep(interval)
            };
            let Loaded {
                batch,
                done,
                version,
                backlog,
            } = *loaded;
            engine
                .metrics()
                .task_finished(job, &done.task, since(started_ms));
            // The same record a recovery makes of a commit the store missed:
            // the ledger first, as a commit the store knows is not
            // recovered again.
            if let Err(error) = jobs.record_batch(job.id, &done).await {
                tracing::warn!(job = %job.name, error = %error, "cannot write the file ledger");
                return Next::Stop;
            }
            let commit = Commit::new(version, batch.end_offset().to_string(), Some(done));
            let result = jobs
                .modify_held(job, |j| {
                    apply(j, commit.clone());
                    j.error_msg = None;
                    j.runtime_msg = None;
                    if !full {
                        j.caught_up_at_ms = Some(started_ms);
                    }
                    if version.is_some() {
                        j.last_visible_ms = Some(chrono::Utc::now().timestamp_millis());
                    }
                    j.backlog = Some(backlog.clone());
                    Ok(())
                })
                .await;
            (next, result)
        }
        Step::Canceled(task) => {
            let task = task.finished(TaskStatus::Canceled, None);
            engine
                .metrics()
                .task_finished(job, &task, since(started_ms));
            (
                Next::Stop,
                jobs.modify_held(job, |j| {
                    j.canceled_task_count += 1;
                    j.next_task_id = task.id + 1;
                    j.push_task(task.clone());
                    Ok(())
                })
                .await,
            )
        }
        Step::Failed {
            task,
            end_offset,
            files,
            backlog,
            error,
        } => {
            tracing::warn!(job = %job.name, error = %error, "task failed; pausing the job");
            let message = error.to_string();
            if let Err(error) = jobs.check_held(job).await {
                return after_write_failed(job, &error);
            }
            if let Some(task) = &task {
                let failed = records_of(job, task.id, &files, FileStatus::Failed, |_| {
                    message.clone()
                });
                if let Err(error) = jobs.record_files(job.id, task.id, &failed).await {
                    tracing::warn!(job = %job.name, error = %error, "cannot write the file ledger");
                }
            }
            let first = match &error {
                Error::TooManyFilteredRows { first, .. } => Some(first.clone()),
                _ => None,
            };
            let task = task.map(|task| Task {
                first_error_msg: first,
                ..task.finished(TaskStatus::Failed, Some(message.clone()))
            });
            if let Some(task) = &task {
                engine.metrics().task_finished(job, task, since(started_ms));
            }
            let result = jobs
                .modify_held(job, |j| {
                    if let Some(task) = task.clone() {
                        j.next_task_id = task.id + 1;
                        j.push_task(task);
                    }
                    j.failed_task_count += 1;
                    if end_offset.is_some() {
                        j.end_offset = end_offset.clone();
                    }
                    if let Some(backlog) = &backlog {
                        j.backlog = Some(backlog.clone().with_batch(&files));
                    }
                    j.status = j.status.fail();
                    j.error_msg = Some(format!("{message}. {}", advice(&error, &j.name)));
                    Ok(())
                })
                .await;
            (Next::Stop, result)
        }
    };
    match result {
        Ok(_) => next,
        Err(error) => after_write_failed(job, &error),
    }
}

/// The time since `started_ms` (Unix milliseconds).
fn since(started_ms: i64) -> Duration {
    let now_ms = chrono::Utc::now().timestamp_millis();
    Duration::from_millis(now_ms.saturating_sub(started_ms).max(0) as u64)
}

/// What to do about a failure that paused a job.
fn advice(error: &Error, name: &str) -> String {
    let resume = format!("then RESUME JOB WHERE jobName = '{name}'");
    match error {
        Error::TooManyFilteredRows { .. } => format!(
            "The job is paused: fix the file, allow some bad rows with ALTER JOB {name} PROPERTIES (\"session.insert_max_filter_ratio\" = \"0.1\"), or skip the file with ALTER JOB {name} PROPERTIES (\"offset\" = '{{\"fileName\":\"<file>\"}}'), {resume}"
        ),
        _ => format!(
            "The job is paused: fix the cause (the data, the table, or the job with ALTER JOB), or move its offset past the file, {resume}"
        ),
    }
}

/// Records a transient failure: the job keeps running and its offset, and
/// says in JobRuntimeMsg when it tries again (after `delay`).
async fn record_retry(
    engine: &Engine,
    job: &Job,
    step: Step,
    failures: u32,
    delay: Duration,
) -> Next {
    let Step::Failed {
        task,
        end_offset,
        files,
        backlog,
        error,
    } = step
    else {
        return Next::Sleep(delay);
    };
    tracing::warn!(job = %job.name, error = %error, attempt = failures, "source unavailable; retrying");
    let message = error.to_string();
    let recorded = engine
        .jobs()
        .modify_held(job, |j| {
            if end_offset.is_some() {
                j.end_offset = end_offset.clone();
            }
            if let Some(task) = task.clone() {
                j.record_failed_task(task, &message);
            }
            if let Some(backlog) = &backlog {
                j.backlog = Some(backlog.clone().with_batch(&files));
            }
            j.runtime_msg = Some(format!(
                "source unavailable ({failures} failed attempt(s) in a row; next in {}s): {message}",
                delay.as_secs()
            ));
            Ok(())
        })
        .await;
    match recorded {
        Err(error @ Error::LeaseLost { .. }) => after_write_failed(job, &error),
        // The store may be as unavailable as the source: try again then.
        _ => Next::Sleep(delay),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_one_second_up_to_a_cap() {
        let ten = Duration::from_secs(10);
        let secs: Vec<u64> = (1..=9).map(|n| backoff(n, ten).as_secs()).collect();
        assert_eq!(secs, [1, 2, 4, 8, 16, 32, 60, 60, 60]);
        assert_eq!(backoff(20, Duration::from_secs(300)).as_secs(), 300);
    }
}
