//! The `job(type=insert)` and `tasks(type='insert')` tables, with Doris's
//! columns in Doris's order, showing a user only the jobs they may load,
//! and the rewrite that lets Doris's unquoted column names reach them.

use std::ops::ControlFlow;
use std::sync::Arc;

use datafusion::catalog::TableProvider;
use datafusion::datasource::MemTable;
use datafusion::sql::parser::Statement as DFStatement;
use datafusion::sql::sqlparser::ast::{
    Expr as SqlExpr, Ident, Query, SetExpr, TableFactor, Value, VisitMut, VisitorMut,
};

use super::files::{FILE_COLUMNS, REJECTED_COLUMNS};
use super::leases::LEASE_COLUMNS;
use super::visible;
use crate::error::{Error, Result};
use crate::job::{Job, Schedule};
use crate::read::{S3_FUNCTION, TABLE_FUNCTIONS};
use crate::session::{Session, StatementResult};

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

/// Doris writes `job()` columns unquoted in any case (`WHERE ExecuteType =
/// "streaming"`), while DataFusion folds unquoted names to lower case. In a
/// query that reads `job()`, `tasks()` or another job table function,
/// unquoted names of their columns become exact quoted names, and string
/// literals compared with `ExecuteType` or `Status` are matched in upper
/// case, as Doris does. Only that query's own expressions change: a
/// subquery over another table (or the outer query around one) keeps its
/// names, so `id` of a user's table is never taken for `job()`'s `Id`.
pub(in crate::plan) fn canonicalize_job_columns(statement: &mut DFStatement) {
    if let DFStatement::Statement(inner) = statement {
        let _ = inner.visit(&mut Canonicalizer::default());
    }
}

/// Rewrites the names of job columns in the queries that read a job table
/// function: one flag per query being walked, innermost last.
#[derive(Default)]
struct Canonicalizer {
    reads_job_table: Vec<bool>,
}

/// The column a name stands for, when it names a job table's column.
fn canonical(ident: &Ident) -> Option<&'static str> {
    if ident.quote_style.is_some() {
        return None;
    }
    JOB_COLUMNS
        .iter()
        .chain(TASK_COLUMNS.iter())
        .chain(FILE_COLUMNS.iter())
        .chain(REJECTED_COLUMNS.iter())
        .chain(LEASE_COLUMNS.iter())
        .find(|c| c.eq_ignore_ascii_case(&ident.value))
        .copied()
}

/// Whether `body` reads a job table function in its own FROM clauses.
fn reads_job_table(body: &SetExpr) -> bool {
    match body {
        SetExpr::Select(select) => select.from.iter().any(|from| {
            std::iter::once(&from.relation)
                .chain(from.joins.iter().map(|j| &j.relation))
                .any(is_job_table)
        }),
        SetExpr::Query(query) => reads_job_table(&query.body),
        SetExpr::SetOperation { left, right, .. } => {
            reads_job_table(left) || reads_job_table(right)
        }
        _ => false,
    }
}

/// Whether `factor` is a call of a job table function.
fn is_job_table(factor: &TableFactor) -> bool {
    let TableFactor::Table {
        name,
        args: Some(_),
        ..
    } = factor
    else {
        return false;
    };
    let function = name
        .0
        .last()
        .and_then(|p| p.as_ident())
        .map(|i| i.value.to_lowercase());
    function.is_some_and(|f| f != S3_FUNCTION && TABLE_FUNCTIONS.contains(&f.as_str()))
}

impl VisitorMut for Canonicalizer {
    type Break = ();

    fn pre_visit_query(&mut self, query: &mut Query) -> ControlFlow<()> {
        self.reads_job_table.push(reads_job_table(&query.body));
        ControlFlow::Continue(())
    }

    fn post_visit_query(&mut self, _: &mut Query) -> ControlFlow<()> {
        self.reads_job_table.pop();
        ControlFlow::Continue(())
    }

    fn pre_visit_expr(&mut self, expr: &mut SqlExpr) -> ControlFlow<()> {
        if self.reads_job_table.last() != Some(&true) {
            return ControlFlow::Continue(());
        }
        match expr {
            SqlExpr::Identifier(ident) => {
                if let Some(name) = canonical(ident) {
                    *ident = Ident::with_quote('`', name);
                }
            }
            SqlExpr::BinaryOp { left, right, .. } => {
                let upper_case_column = matches!(left.as_ref(),
                    SqlExpr::Identifier(i) if ["executetype", "status"].contains(&i.value.to_lowercase().as_str()));
                if let (true, SqlExpr::Value(v)) = (upper_case_column, right.as_mut()) {
                    if let Value::SingleQuotedString(s) | Value::DoubleQuotedString(s) =
                        &mut v.value
                    {
                        *s = s.to_uppercase();
                    }
                }
            }
            _ => {}
        }
        ControlFlow::Continue(())
    }
}

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
                Some(job.create_time.clone()),
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
                Some(task.create_time.clone()),
                Some(task.start_time.clone()),
                task.finish_time.clone(),
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
    Ok(Arc::new(MemTable::try_new(
        result.schema,
        vec![result.batches],
    )?))
}
