//! The scheduler: it follows the job store ([`supervise`]) and keeps one
//! loop per job whose state says it runs, cancelling the loop of a job
//! that is paused or dropped; nobody else starts or stops loops. A
//! streaming job runs the [`streaming`](super::streaming) loop, a job
//! `ON SCHEDULE` the [`timer`](super::timer) loop; both take a task slot
//! (at most `job_streaming_task_exec_thread_num` tasks across all jobs)
//! for each task.

use futures::FutureExt;
use tokio::sync::OwnedSemaphorePermit;

use super::streaming::job_loop;
use super::timer::timer_loop;
use crate::engine::{Engine, WeakEngine};
use crate::error::{Error, Result};
use crate::job::control::JobControl;
use crate::job::{Job, JobStatus};

/// How often the scheduler reads the catalog and the job store again for
/// other processes' changes (a job's own loop also reads the store at each
/// turn).
const STORE_REFRESH: std::time::Duration = std::time::Duration::from_secs(2);

/// Follows the job store for as long as the engine lives: after every
/// change, starts a loop for each job that should run and has none, and
/// cancels the loops of jobs that should not run (their task stops before
/// its commit).
pub(crate) fn supervise(engine: &Engine) {
    let weak = engine.downgrade();
    let mut changes = engine.jobs().watch();
    tokio::spawn(async move {
        // A ticker, not a sleep restarted after each change: a running job
        // changes the store at every turn, and must not keep the other
        // processes' tables and jobs from being read.
        let mut refresh =
            tokio::time::interval_at(tokio::time::Instant::now() + STORE_REFRESH, STORE_REFRESH);
        refresh.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            match weak.upgrade() {
                Some(engine) => reconcile(&engine),
                None => return,
            }
            tokio::select! {
                changed = changes.changed() => if changed.is_err() {
                    return;
                },
                // Tables and jobs other processes created or changed:
                // reading the store again announces them when there are
                // some.
                _ = refresh.tick() => {
                    let Some(engine) = weak.upgrade() else { return };
                    let refreshed = engine.catalog().refresh().await;
                    if let Err(error) = refreshed.and(engine.jobs().refresh().await) {
                        tracing::warn!(error = %error, "cannot read the catalog or the job store again");
                    }
                }
            }
        }
    });
}

/// Makes the running loops match the jobs' states.
fn reconcile(engine: &Engine) {
    let jobs = engine.jobs().jobs();
    for job in jobs.iter().filter(|j| j.status.runs()) {
        start_job(engine, &job.name);
    }
    for name in engine.controls().names() {
        if !jobs.iter().any(|j| j.name == name && j.status.runs()) {
            engine.controls().cancel(&name);
        }
    }
}

/// Starts the loop of job `name` unless one is running.
fn start_job(engine: &Engine, name: &str) {
    let Some(control) = engine.controls().claim(name) else {
        return;
    };
    let scheduled = engine.jobs().job(name).is_ok_and(|j| j.schedule.is_some());
    let weak = engine.downgrade();
    let name = name.to_string();
    tokio::spawn(async move {
        let ran = std::panic::AssertUnwindSafe(async {
            if scheduled {
                timer_loop(&weak, &name, &control).await;
            } else {
                job_loop(&weak, &name, &control).await;
            }
        })
        .catch_unwind()
        .await;
        let Some(engine) = weak.upgrade() else { return };
        if let Err(panic) = ran {
            record_loop_died(&engine, &name, panic_reason(panic.as_ref())).await;
        }
        // Another process may run the job at once (a dropped job's lease
        // just expires).
        if let Ok(job) = engine.jobs().job(&name) {
            engine.leases().release(job.id).await;
        }
        engine.controls().release(&name, &control);
        // A RESUME that came in while this cancelled loop was ending found
        // it still registered: start the job's next loop now.
        let resumed = engine.jobs().job(&name).is_ok_and(|j| j.status.runs());
        if control.is_cancelled() && resumed {
            start_job(&engine, &name);
        }
    });
}

/// A job's loop ended in a panic (a defect): the job is paused with the
/// reason, instead of showing RUNNING with nothing running it.
async fn record_loop_died(engine: &Engine, name: &str, reason: String) {
    tracing::error!(job = %name, reason = %reason, "the job's loop stopped unexpectedly");
    let recorded = engine
        .jobs()
        .modify(name, |j| {
            j.status = j.status.fail();
            j.error_msg = Some(format!(
                "the job stopped unexpectedly ({reason}); this is a defect of tributary: RESUME JOB WHERE jobName = '{name}' to start it again"
            ));
            Ok(())
        })
        .await;
    if let Err(error) = recorded {
        tracing::warn!(job = %name, error = %error, "cannot record that the job's loop stopped");
    }
}

/// What a panic said.
fn panic_reason(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "unknown cause".to_string())
}

/// A loop's turn at a job whose lease this process holds.
pub(super) struct Turn {
    pub engine: Engine,
    /// The job as stored, under this process's lease epoch.
    pub job: Job,
    /// Whether the job was run under another epoch before this turn (by
    /// another process, or by this one before it gave the lease up): what
    /// the loop knows of the job may be stale.
    pub taken_over: bool,
}

/// The engine and the job for the loop's next turn; `None` when the loop
/// is to end (cancelled, engine closed, job paused or dropped). While
/// another process holds the job's lease, this waits (see
/// [`crate::job::lease`]).
pub(super) async fn next_turn(weak: &WeakEngine, name: &str, control: &JobControl) -> Option<Turn> {
    loop {
        if control.is_cancelled() {
            return None;
        }
        let engine = weak.upgrade()?;
        // What other processes changed (a PAUSE, an ALTER) applies now.
        if let Err(error) = engine.jobs().refresh().await {
            tracing::warn!(job = %name, error = %error, "cannot read the job store again");
        }
        let job = engine.jobs().job(name).ok()?;
        let wait = engine.leases().ttl() / 2;
        match engine.leases().acquire(job.id).await {
            Ok(Some(lease)) => {
                control.set_elsewhere(None);
                match activate(&engine, name, lease.epoch).await {
                    Ok(Some((job, taken_over))) => {
                        return Some(Turn {
                            engine,
                            job,
                            taken_over,
                        })
                    }
                    Ok(None) => return None,
                    // A newer epoch was written meanwhile: wait for it.
                    Err(error) => {
                        tracing::warn!(job = %name, error = %error, "the job's lease passed on");
                    }
                }
            }
            Ok(None) => {
                let holder = engine.leases().current(job.id).await.ok().flatten();
                control.set_elsewhere(Some(holder.map_or_else(String::new, |l| l.holder)));
            }
            Err(error) => {
                tracing::warn!(job = %name, error = %error, "cannot take the job's lease; trying again");
            }
        }
        drop(engine);
        control.sleep(wait).await;
    }
}

/// Sleeps `duration` between tasks of job `job_id` (less when woken),
/// renewing its lease meanwhile so that it stays with this process.
pub(super) async fn sleep_keeping_lease(
    weak: &WeakEngine,
    job_id: u64,
    control: &JobControl,
    duration: std::time::Duration,
) {
    let deadline = tokio::time::Instant::now() + duration;
    loop {
        let Some(every) = weak.upgrade().map(|e| e.leases().ttl() / 3) else {
            return;
        };
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        if left.is_zero() || !control.sleep(left.min(every)).await {
            return;
        }
        let Some(engine) = weak.upgrade() else {
            return;
        };
        // Losing it here is noticed by the next turn.
        let _ = engine.leases().acquire(job_id).await;
    }
}

/// Runs `work` (a task of `job`), renewing the job's lease meanwhile; if
/// another process took the lease, the loop is cancelled, and with it the
/// task before its commit.
pub(super) async fn keeping_lease<F: std::future::Future>(
    engine: &Engine,
    job: &Job,
    control: &JobControl,
    work: F,
) -> F::Output {
    tokio::pin!(work);
    let every = engine.leases().ttl() / 3;
    loop {
        tokio::select! {
            out = &mut work => return out,
            _ = tokio::time::sleep(every) => {
                if !matches!(engine.leases().acquire(job.id).await, Ok(Some(_))) {
                    tracing::warn!(job = %job.name, "the job's lease was lost; stopping its task");
                    control.cancel();
                }
            }
        }
    }
}

/// One of the engine's task slots (`job_streaming_task_exec_thread_num`),
/// held while a task runs; `None` when the loop is cancelled meanwhile.
pub(super) async fn task_slot(
    engine: &Engine,
    control: &JobControl,
) -> Option<OwnedSemaphorePermit> {
    let slots = engine.task_slots().clone();
    tokio::select! {
        permit = slots.acquire_owned() => permit.ok(),
        _ = control.cancelled() => None,
    }
}

/// Moves a PENDING job to RUNNING under lease epoch `epoch` and returns
/// it, with whether the job ran under another epoch before; `None` when
/// the job is no longer meant to run (paused or dropped meanwhile: PAUSE
/// wins). Refused when the store already holds a newer epoch.
async fn activate(engine: &Engine, name: &str, epoch: u64) -> Result<Option<(Job, bool)>> {
    let mut taken_over = false;
    let changed = engine
        .jobs()
        .modify(name, |j| {
            if j.lease_epoch > epoch {
                return Err(Error::LeaseLost {
                    job: j.name.clone(),
                    epoch: j.lease_epoch,
                });
            }
            taken_over = j.lease_epoch != epoch;
            j.lease_epoch = epoch;
            if let Some(running) = j.status.activate() {
                j.status = running;
            }
            Ok(())
        })
        .await;
    let job = match changed {
        Ok(job) => job,
        Err(error @ Error::LeaseLost { .. }) => return Err(error),
        Err(_) => return Ok(None),
    };
    Ok((job.status == JobStatus::Running).then_some((job, taken_over)))
}
