//! The JOB statements: CREATE ([`create`]), ALTER, PAUSE, RESUME, DROP and
//! WAIT of streaming and scheduled jobs, and the `job()` / `tasks()`
//! tables that show them ([`tables`]). Statements only change the job
//! store; the scheduler follows it.

mod body;
mod create;
mod files;
mod leases;
mod replay;
mod status;
mod tables;

use super::users::require_on_table;
use crate::catalog::users::Privilege;
use crate::error::{Error, Result};
use crate::job::control::JobControl;
use crate::job::lease::Lease;
use crate::job::{Job, JobStatus};
use crate::session::{Session, StatementResult};
use body::{plan_body, stored_source_uri, validate_body, Body};

pub(super) use create::create_job;
pub(crate) use create::statement_job;
pub(super) use files::{job_files_table, rejected_rows_table};
pub(super) use leases::job_leases_table;
pub(super) use replay::{retry_file, validate_job};
pub(super) use status::job_status_table;
pub(super) use tables::{job_table, tasks_table};

pub(super) async fn alter_job(
    session: &Session,
    name: &str,
    properties: &[(String, String)],
    body: Option<String>,
) -> Result<StatementResult> {
    let jobs = session.engine().jobs();
    let job = jobs.job(name)?;
    require_job_load(session, &job)?;
    if job.schedule.is_some() {
        return Err(Error::InvalidJob(format!(
            "ALTER JOB changes streaming jobs only; job '{name}' is {}: DROP it and create it again",
            job.execute_type()
        )));
    }
    job.status.check_alter(name)?;
    let (properties, offset) = job.properties.apply(properties)?;
    let sealed = match &body {
        Some(body) => {
            let body = validate_body(session, body)?;
            check_same_target(&job, &body)?;
            check_same_source(session, &job, &body)?;
            plan_body(session, &body.sql).await?;
            // Without the secret key the stored SQL cannot be read: giving
            // the credentials again is then the change.
            let changed = jobs.execute_sql(&job).map_or(true, |sql| sql != body.sql);
            changed.then(|| jobs.seal_sql(&body.sql)).transpose()?
        }
        None => None,
    };
    if offset.is_none() && sealed.is_none() && properties == job.properties {
        return Err(Error::InvalidJob(format!(
            "ALTER JOB {name} changes nothing: give PROPERTIES (...) with new values, or a new INSERT INTO ... SELECT ... FROM S3(...)"
        )));
    }
    // An explicit offset replaces whatever the table's commits say so far.
    let moved_offset = match offset {
        Some(offset) => Some((job.offset_key(&offset), table_version(session, &job).await?)),
        None => None,
    };
    jobs.modify(name, |job| {
        job.properties = properties.clone();
        if let Some((sql, sealed_sql)) = sealed.clone() {
            job.sql = sql;
            job.sealed_sql = sealed_sql;
        }
        if let Some((offset, version)) = moved_offset.clone() {
            job.current_offset = Some(offset.clone());
            job.given_offset = Some(offset);
            // Offsets committed with rows before now no longer apply.
            job.committed_version = version;
        }
        Ok(())
    })
    .await?;
    Ok(StatementResult::affected(0))
}

/// An offset means nothing for another table: ALTER keeps the target.
fn check_same_target(job: &Job, body: &Body) -> Result<()> {
    if (&body.database, &body.table) == (&job.database, &job.table) {
        return Ok(());
    }
    Err(Error::InvalidJob(format!(
        "ALTER JOB cannot change the target table of job '{}' from {}.{} to {}.{}; create a new job for the other table",
        job.name, job.database, job.table, body.database, body.table
    )))
}

/// An offset means nothing under another prefix: ALTER keeps the `uri`.
fn check_same_source(session: &Session, job: &Job, body: &Body) -> Result<()> {
    let stored = stored_source_uri(session, job)?;
    if stored == body.source.uri {
        return Ok(());
    }
    Err(Error::InvalidJob(format!(
        "ALTER JOB cannot change the source uri of job '{}' from '{stored}' to '{}': its offset means nothing for other files; create a new job for them",
        job.name, body.source.uri
    )))
}

/// The current version of the job's target table.
pub(super) async fn table_version(session: &Session, job: &Job) -> Result<u64> {
    let catalog = session.engine().catalog();
    let def = catalog.table(&job.database, &job.table)?;
    Ok(catalog.open_dataset(&def).await?.version().version)
}

/// Fails unless the session user may control job `name`.
fn require_job_control(session: &Session, name: &str) -> Result<()> {
    require_job_load(session, &session.engine().jobs().job(name)?)
}

/// LOAD_PRIV on the job's target table (or its database, or globally).
fn require_job_load(session: &Session, job: &Job) -> Result<()> {
    require_on_table(session, Privilege::Load, &job.database, &job.table)
}

/// The jobs `session`'s user may see ([`visible`]), each with the lease
/// of the process that runs it (`None`: no process does now).
pub(crate) async fn visible_jobs_with_leases(
    session: &Session,
) -> Result<Vec<(Job, Option<Lease>)>> {
    let engine = session.engine();
    let mut jobs = Vec::new();
    for job in engine.jobs().jobs() {
        if visible(session, &job) {
            let lease = engine.leases().current(job.id).await?;
            jobs.push((job, lease));
        }
    }
    Ok(jobs)
}

/// Whether the session user sees `job` in `job()` and `tasks()`: they hold
/// LOAD_PRIV on its target table (ADMIN_PRIV implies it).
pub(crate) fn visible(session: &Session, job: &Job) -> bool {
    require_job_load(session, job).is_ok()
}

/// Moves job `name` to the state `step` gives (or refuses) for its
/// current one. The scheduler follows the change: it cancels the task of a
/// paused job before its commit, and starts the loop of a resumed one.
async fn transition(
    session: &Session,
    name: &str,
    step: impl Fn(JobStatus) -> Result<JobStatus>,
) -> Result<StatementResult> {
    require_job_control(session, name)?;
    let job = session
        .engine()
        .jobs()
        .modify(name, |job| {
            job.status = step(job.status)?;
            Ok(())
        })
        .await?;
    tracing::info!(job = %name, status = %job.status, user = %session.user(), "job state changed");
    Ok(StatementResult::affected(0))
}

/// How long PAUSE waits for the job's running task to stop.
const PAUSE_WAIT: std::time::Duration = std::time::Duration::from_secs(60);

/// PAUSE returns once the job's loop has stopped: its running task was
/// cancelled before its commit, or committed and was recorded, so what a
/// statement after PAUSE reads (rows, counters, tasks) agrees.
pub(super) async fn pause_job(session: &Session, name: &str) -> Result<StatementResult> {
    let paused = transition(session, name, |status| status.pause(name)).await?;
    let deadline = tokio::time::Instant::now() + PAUSE_WAIT;
    while session.engine().controls().get(name).is_some() && tokio::time::Instant::now() < deadline
    {
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    Ok(paused)
}

pub(super) async fn resume_job(session: &Session, name: &str) -> Result<StatementResult> {
    transition(session, name, |status| status.resume(name)).await
}

pub(super) async fn drop_job(
    session: &Session,
    name: &str,
    if_exists: bool,
) -> Result<StatementResult> {
    if if_exists && session.engine().jobs().job(name).is_err() {
        return Ok(StatementResult::affected(0));
    }
    require_job_control(session, name)?;
    // The scheduler cancels its running task, before its commit.
    let job = session.engine().jobs().remove(name).await?;
    if let Err(error) = session.engine().jobs().forget_files(job.id).await {
        tracing::warn!(job = %job.name, error = %error, "cannot delete the dropped job's file ledger");
    }
    tracing::info!(job = %job.name, id = job.id, "dropped streaming job");
    Ok(StatementResult::affected(0))
}

/// How long `WAIT JOB` waits unless told (`TIMEOUT n`).
const DEFAULT_WAIT_SECS: u64 = 300;

/// `WAIT JOB`: wakes the job and blocks until one of its polls that started
/// after the statement finds nothing new, i.e. every file that existed when
/// the statement began is loaded. Fails when the job pauses, is dropped, or
/// the timeout passes.
pub(super) async fn wait_job(
    session: &Session,
    name: &str,
    timeout_secs: Option<u64>,
) -> Result<StatementResult> {
    require_job_control(session, name)?;
    let engine = session.engine();
    let timeout = timeout_secs.unwrap_or(DEFAULT_WAIT_SECS);
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(timeout);
    let timed_out = |job: &Job| {
        Error::InvalidJob(format!(
            "job '{name}' has not caught up within {timeout}s (status {}, CurrentOffset {}); add TIMEOUT <seconds> to wait longer",
            job.status,
            job.current_offset
                .as_deref()
                .map_or("none".to_string(), |o| job.shown_offset(o))
        ))
    };
    let started_ms = chrono::Utc::now().timestamp_millis();
    // The loop of this process that runs the job, and its poll count when
    // first seen: a poll after that one counts.
    let mut seen: Option<(std::sync::Arc<JobControl>, u64)> = None;
    let before = engine.jobs().job(name)?.load_statistic;
    loop {
        let job = engine.jobs().job(name)?;
        let loaded = &job.load_statistic;
        session.progress().set_loaded(
            loaded.file_number.saturating_sub(before.file_number),
            loaded.load_bytes.saturating_sub(before.load_bytes),
            loaded.scanned_rows.saturating_sub(before.scanned_rows),
        );
        if job.status == JobStatus::Finished {
            break;
        }
        if job.status == JobStatus::Paused {
            return Err(Error::InvalidJob(match &job.error_msg {
                Some(error) => format!("job '{name}' is PAUSED: {error}"),
                None => format!(
                    "job '{name}' is PAUSED; RESUME JOB WHERE jobName = '{name}' before waiting for it"
                ),
            }));
        }
        // A poll that began after the statement found every file loaded
        // (in this process or the one that runs the job).
        if job.caught_up_at_ms.is_some_and(|at| at >= started_ms) {
            break;
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(timed_out(&job));
        }
        let local = engine
            .controls()
            .get(name)
            .filter(|c| c.elsewhere().is_none());
        let Some(control) = local else {
            // Its loop is about to start, or another process runs the job:
            // look at the store again.
            tokio::time::sleep(std::time::Duration::from_millis(250)).await;
            engine.jobs().refresh().await?;
            continue;
        };
        let since = match &seen {
            Some((c, polls)) if std::sync::Arc::ptr_eq(c, &control) => *polls,
            _ => {
                let polls = control.watch().borrow().polls;
                seen = Some((control.clone(), polls));
                control.wake();
                polls
            }
        };
        let mut progress = control.watch();
        // In slices, to notice another process taking the job over.
        let slice =
            (tokio::time::Instant::now() + std::time::Duration::from_millis(500)).min(deadline);
        let waited = tokio::time::timeout_at(
            slice,
            progress.wait_for(|p| p.caught_up_at > since || p.ended),
        )
        .await;
        if let Ok(Ok(p)) = waited {
            if !p.ended {
                break;
            }
        }
    }
    let job = engine.jobs().job(name)?;
    Ok(StatementResult::strings(
        &["Name", "Status", "FileNumber", "ScannedRows"],
        vec![vec![
            Some(job.name.clone()),
            Some(job.status.to_string()),
            Some(job.load_statistic.file_number.to_string()),
            Some(job.load_statistic.scanned_rows.to_string()),
        ]],
    ))
}
