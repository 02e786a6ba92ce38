//! The loop of a job `ON SCHEDULE`: it sleeps until the job's
//! [`Schedule`](crate::job::Schedule) has a point due, then runs the job's
//! INSERT once as a task (one task per firing, in a task slot like a
//! streaming task), records it, and ends the job FINISHED when the
//! schedule is over. A failed firing is recorded and the schedule goes on.
//! A firing that started runs to its end: PAUSE and DROP take effect after
//! it (cut short, it could be cut after its commit, and the point would
//! fire again on RESUME).

use std::sync::Arc;
use std::time::Duration;

use super::scheduler::{keeping_lease, next_turn, sleep_keeping_lease, task_slot, Turn};
use crate::engine::{Engine, WeakEngine};
use crate::error::{Error, Result};
use crate::job::control::JobControl;
use crate::job::schedule::now_seconds;
use crate::job::{Job, LoadStatistic, Task, TaskStatus};
use crate::session::{ResultKind, Timeouts};

pub(super) async fn timer_loop(weak: &WeakEngine, name: &str, control: &Arc<JobControl>) {
    loop {
        let Some(Turn { engine, job, .. }) = next_turn(weak, name, control).await else {
            return;
        };
        let Some(schedule) = job.schedule.clone() else {
            return;
        };
        let clock = now_seconds();
        if let Some(point) = schedule.due(clock) {
            let Some(_permit) = task_slot(&engine, control).await else {
                return;
            };
            let poll = control.poll_started();
            let fired = keeping_lease(&engine, &job, control, fire(&engine, &job, point, control));
            if fired.await.is_err() {
                // Dropped meanwhile, or the store cannot be written.
                return;
            }
            control.caught_up(poll);
            continue;
        }
        let Some(next) = schedule.next(clock) else {
            let _ = finish_if_over(&engine, name).await;
            return;
        };
        drop(engine);
        let delay = Duration::from_secs((next - clock).max(1) as u64);
        sleep_keeping_lease(weak, job.id, control, delay).await;
    }
}

/// Runs the job's INSERT for the schedule point `point` and records the
/// task; the job is FINISHED when that was its last point.
async fn fire(engine: &Engine, job: &Job, point: i64, control: &JobControl) -> Result<()> {
    let task = Task::running(job.next_task_id);
    tracing::info!(job = %job.name, task = task.id, "firing scheduled job");
    control.set_running_task(Some(task.clone()));
    let started = std::time::Instant::now();
    let outcome = run_insert(engine, job).await;
    control.set_running_task(None);
    let finished = match &outcome {
        Ok(rows) => Task {
            statistic: LoadStatistic {
                scanned_rows: *rows,
                ..Default::default()
            },
            ..task.finished(TaskStatus::Success, None)
        },
        Err(error) => {
            tracing::warn!(job = %job.name, error = %error, "scheduled firing failed");
            task.finished(TaskStatus::Failed, Some(error.to_string()))
        }
    };
    engine
        .metrics()
        .task_finished(job, &finished, started.elapsed());
    engine
        .jobs()
        .modify(&job.name, |j| {
            j.next_task_id = finished.id + 1;
            match &outcome {
                Ok(rows) => {
                    j.succeed_task_count += 1;
                    j.load_statistic.scanned_rows += *rows;
                }
                Err(_) => j.failed_task_count += 1,
            }
            j.push_task(finished.clone());
            if let Some(schedule) = j.schedule.as_mut() {
                schedule.fired_until = Some(point);
            }
            j.finish_if_schedule_over();
            Ok(())
        })
        .await?;
    Ok(())
}

/// The job's INSERT, run as its definer in its database; the rows it
/// inserted.
async fn run_insert(engine: &Engine, job: &Job) -> Result<u64> {
    let sql = engine.jobs().execute_sql(job)?;
    let mut session = engine.session_as(&job.definer);
    session.set_database(Some(job.database.clone()));
    let (property, seconds) = job.properties.insert_time_limit();
    session.set_timeouts(Timeouts {
        query_secs: seconds,
        insert_secs: seconds,
    });
    let results = session.execute(&sql).await.map_err(|e| match e {
        Error::TimedOut { .. } => Error::JobTimedOut {
            property,
            seconds,
            fix: format!(
                "DROP JOB WHERE jobName = '{}' and create it again with a higher {property}",
                job.name
            ),
        },
        other => other,
    })?;
    match results.last().map(|r| &r.kind) {
        Some(ResultKind::Affected(rows)) => Ok(*rows),
        _ => Err(Error::InvalidJob(format!(
            "job '{}' ran a statement that is not an INSERT",
            job.name
        ))),
    }
}

/// Marks a RUNNING job whose schedule is over FINISHED.
async fn finish_if_over(engine: &Engine, name: &str) -> Result<Job> {
    engine
        .jobs()
        .modify(name, |j| {
            j.finish_if_schedule_over();
            Ok(())
        })
        .await
}
