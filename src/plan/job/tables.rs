//! The `job(type=insert)` and `tasks(type='insert')` tables, with Doris's
//! columns in Doris's order, showing a user only the jobs they may load.

use std::sync::Arc;

use super::visible;
use crate::catalog::shown_time;
use crate::error::{Error, Result};
use crate::job::{Job, Schedule};
use crate::session::{Session, StatementResult};
use datafusion::catalog::TableProvider;

/// The `job()` columns, in Doris's order.
const JOB_COLUMNS: [&str; 18] = [
    "Id",
    "Name",
    "Definer",
    "ExecuteType",
    "RecurringStrategy",
    "Status",
    "ExecuteSql",
    "CreateTime",
    "SucceedTaskCount",
    "FailedTaskCount",
    "CanceledTaskCount",
    "Comment",
    "Properties",
    "CurrentOffset",
    "EndOffset",
    "LoadStatistic",
    "ErrorMsg",
    "JobRuntimeMsg",
];

/// The `tasks()` columns, in Doris's order.
const TASK_COLUMNS: [&str; 14] = [
    "TaskId",
    "JobId",
    "JobName",
    "Label",
    "Status",
    "ErrorMsg",
    "CreateTime",
    "StartTime",
    "FinishTime",
    "TrackingUrl",
    "LoadStatistic",
    "User",
    "FirstErrorMsg",
    "RunningOffset",
];

/// Checks `type=insert`, the only job type tributary has.
fn check_type(function: &str, pairs: &[(String, String)]) -> Result<()> {
    for (key, value) in pairs {
        if !key.eq_ignore_ascii_case("type") {
            return Err(Error::UnknownOption {
                key: key.clone(),
                known: "type".into(),
            });
        }
        if !value.eq_ignore_ascii_case("insert") {
            return Err(Error::InvalidOption {
                key: "type".into(),
                message: format!("'{value}' is not supported by {function}(): use type=insert"),
            });
        }
    }
    Ok(())
}

fn offset_json(job: &Job, file: &Option<String>) -> Option<String> {
    file.as_ref()
        .map(|f| serde_json::json!({ "fileName": job.shown_offset(f) }).to_string())
}

/// The `job(type=insert)` table: one row per job, secrets hidden.
pub(in crate::plan) fn job_table(
    session: &Session,
    pairs: &[(String, String)],
) -> Result<Arc<dyn TableProvider>> {
    check_type("job", pairs)?;
    let rows = session
        .engine()
        .jobs()
        .jobs()
        .into_iter()
        .filter(|job| visible(session, job))
        .map(|job| {
            vec![
                Some(job.id.to_string()),
                Some(job.name.clone()),
                Some(job.definer.clone()),
                Some(job.execute_type().to_string()),
                job.schedule.as_ref().map(Schedule::strategy),
                Some(job.status.to_string()),
                Some(job.sql.clone()),
                Some(shown_time(&job.create_time)),
                Some(job.succeed_task_count.to_string()),
                Some(job.failed_task_count.to_string()),
                Some(job.canceled_task_count.to_string()),
                job.comment.clone(),
                (!job.properties.given.is_empty())
                    .then(|| serde_json::to_string(&job.properties.given).unwrap_or_default()),
                offset_json(&job, &job.current_offset),
                offset_json(&job, &job.end_offset),
                // The streaming columns stay empty for scheduled jobs.
                job.schedule
                    .is_none()
                    .then(|| serde_json::to_string(&job.load_statistic).ok())
                    .flatten(),
                job.error_msg.clone(),
                job.runtime_msg.clone(),
            ]
        })
        .collect();
    string_table(&JOB_COLUMNS, rows)
}

/// The `tasks(type='insert')` table. Tasks are created by the scheduler;
/// until it has run a job, there are none.
pub(in crate::plan) fn tasks_table(
    session: &Session,
    pairs: &[(String, String)],
) -> Result<Arc<dyn TableProvider>> {
    check_type("tasks", pairs)?;
    let mut rows = Vec::new();
    let controls = session.engine().controls();
    for job in session.engine().jobs().jobs() {
        if !visible(session, &job) {
            continue;
        }
        let running = controls.get(&job.name).and_then(|c| c.running_task());
        // Newest first, as Doris shows them.
        for task in running.iter().chain(job.tasks.iter().rev()) {
            rows.push(vec![
                Some(task.id.to_string()),
                Some(job.id.to_string()),
                Some(job.name.clone()),
                Some(format!("{}_{}", job.id, task.id)),
                Some(task.status.to_string()),
                task.error_msg.clone(),
                Some(shown_time(&task.create_time)),
                Some(shown_time(&task.start_time)),
                task.finish_time.as_deref().map(shown_time),
                None,
                serde_json::to_string(&task.statistic).ok(),
                Some(job.definer.clone()),
                task.first_error_msg.clone(),
                job.schedule.is_none().then(|| {
                    running_offset(
                        &job.shown_offset(&task.start_file),
                        &job.shown_offset(&task.end_file),
                    )
                }),
            ]);
        }
    }
    string_table(&TASK_COLUMNS, rows)
}

/// `{"startFileName":"...","endFileName":"..."}`, in Doris's key order.
fn running_offset(start: &str, end: &str) -> String {
    let quote = |s: &str| serde_json::to_string(s).unwrap_or_default();
    format!(
        r#"{{"startFileName":{},"endFileName":{}}}"#,
        quote(start),
        quote(end)
    )
}

fn string_table(
    columns: &[&str],
    rows: Vec<Vec<Option<String>>>,
) -> Result<Arc<dyn TableProvider>> {
    let result = StatementResult::strings(columns, rows);
    super::files::resolvable_table(result.batches)
}
