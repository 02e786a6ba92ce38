//! The JOB statements: CREATE, ALTER, PAUSE, RESUME, DROP and WAIT of
//! streaming and scheduled jobs, and the `job()` / `tasks()` tables that
//! show them.

use std::sync::Arc;

use datafusion::catalog::TableProvider;
use datafusion::datasource::MemTable;
use datafusion::sql::parser::Statement as DFStatement;
use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{Expr as SqlExpr, Ident, Value, VisitMut, VisitorMut};

use super::users::require_on_table;
use crate::catalog::now;
use crate::catalog::users::Privilege;
use crate::error::{Error, Result};
use crate::job::schedule::{now_seconds, parse_time, show_time, Every, IntervalUnit};
use crate::job::{Job, JobProperties, JobStatus, LoadStatistic, Schedule};
use crate::parse::{JobTrigger, When};
use crate::read::{rewrite_calls, Location, S3Options, S3_FUNCTION};
use crate::schedule::scheduler::start_job;
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
/// statement that reads `job()` or `tasks()`, unquoted names of their
/// columns become exact quoted names, and string literals compared with
/// `ExecuteType` or `Status` are matched in upper case, as Doris does.
pub(super) fn canonicalize_job_columns(statement: &mut DFStatement) {
    struct Canonicalizer;
    fn canonical(ident: &Ident) -> Option<&'static str> {
        if ident.quote_style.is_some() {
            return None;
        }
        JOB_COLUMNS
            .iter()
            .chain(TASK_COLUMNS.iter())
            .find(|c| c.eq_ignore_ascii_case(&ident.value))
            .copied()
    }
    impl VisitorMut for Canonicalizer {
        type Break = ();
        fn pre_visit_expr(&mut self, expr: &mut SqlExpr) -> ControlFlow<()> {
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
    if let DFStatement::Statement(inner) = statement {
        let _ = inner.visit(&mut Canonicalizer);
    }
}

fn only_insert_from_s3() -> Error {
    Error::InvalidJob(
        "only INSERT INTO <table> SELECT ... FROM S3(...) is supported as a job body".into(),
    )
}

/// A checked job body: its target table, its source, and its SQL with a
/// local path `uri` made absolute, so that the job reads the same files
/// whatever the directory the engine runs in later.
struct Body {
    database: String,
    table: String,
    source: Source,
    sql: String,
}

/// The files a job body reads.
struct Source {
    /// The `uri` as written.
    written: String,
    /// The `uri` resolved: a local path becomes the absolute `file://` URI.
    uri: String,
    /// Whether the files are local (offsets are shown as absolute paths).
    local: bool,
}

/// The one `S3()` call of a job body.
fn source_of(statement: &mut DFStatement) -> Result<Source> {
    let calls = rewrite_calls(statement, &[S3_FUNCTION])?;
    let [call] = calls.as_slice() else {
        return Err(only_insert_from_s3());
    };
    let options = S3Options::parse(&call.pairs)?;
    let location = Location::parse(&options.uri, &options.connection)?;
    Ok(Source {
        local: location.is_local(),
        uri: location.uri,
        written: options.uri,
    })
}

fn parse_sql(session: &Session, sql: &str) -> Result<DFStatement> {
    let state = session.context().state();
    let dialect = state.config().options().sql_parser.dialect;
    Ok(state.sql_to_statement(sql, &dialect)?)
}

/// The resolved source `uri` of a stored job.
fn stored_source_uri(session: &Session, job: &Job) -> Result<String> {
    Ok(source_of(&mut parse_sql(session, &job.sql)?)?.uri)
}

/// Checks a job body.
fn validate_body(session: &Session, body: &str) -> Result<Body> {
    let mut statement = parse_sql(session, body)?;
    let (database, table) =
        super::query::insert_target(session, &statement)?.ok_or_else(only_insert_from_s3)?;
    session.engine().catalog().table(&database, &table)?;
    let source = source_of(&mut statement)?;
    let sql = ["'", "\""].iter().fold(body.to_string(), |sql, q| {
        sql.replace(
            &format!("{q}{}{q}", source.written),
            &format!("{q}{}{q}", source.uri),
        )
    });
    Ok(Body {
        database,
        table,
        source,
        sql,
    })
}

/// Plans the job's INSERT against the target table when files already
/// match its pattern (column count and types must fit); with no file yet
/// there is no schema to check, which a warning says.
async fn plan_body(session: &Session, body: &str) -> Result<Vec<String>> {
    match super::query::plan(session, body).await {
        Ok(_) => Ok(vec![]),
        Err(Error::NoFilesMatch { uri }) => Ok(vec![format!(
            "no file matches '{uri}' yet: the SELECT is checked against the table when the first file arrives"
        )]),
        Err(Error::EmptySource { uri }) => Ok(vec![format!(
            "every file matching '{uri}' is empty so far: the SELECT is checked against the table when a file with rows arrives"
        )]),
        Err(Error::DataFusion(e)) => Err(Error::InvalidJob(format!(
            "the job's INSERT does not plan against its target table: {e}"
        ))),
        Err(e) => Err(e),
    }
}

pub(super) async fn create_job(
    session: &Session,
    name: String,
    trigger: &JobTrigger,
    properties: &[(String, String)],
    comment: Option<String>,
    body: String,
) -> Result<StatementResult> {
    let (properties, offset) = JobProperties::default().apply(properties)?;
    let (job, warnings) = match schedule_of(trigger)? {
        None => streaming_job(session, name, properties, offset, comment, &body).await?,
        Some(schedule) => {
            scheduled_job(session, name, schedule, properties, comment, &body).await?
        }
    };
    let job = session.engine().jobs().create(job).await?;
    tracing::info!(job = %job.name, id = job.id, kind = job.execute_type(), "created job");
    start_job(session.engine(), &job.name);
    Ok(StatementResult::affected(0).with_warnings(warnings))
}

/// A new job with its definition and no history.
fn new_job(
    session: &Session,
    name: String,
    (database, table): (String, String),
    body: &str,
    properties: JobProperties,
    comment: Option<String>,
) -> Result<Job> {
    let (sql, sealed_sql) = session.engine().jobs().seal_sql(body)?;
    Ok(Job {
        id: 0,
        name,
        definer: session.user().to_string(),
        status: JobStatus::Pending,
        sql,
        sealed_sql,
        database,
        table,
        create_time: now(),
        comment,
        schedule: None,
        properties,
        succeed_task_count: 0,
        failed_task_count: 0,
        canceled_task_count: 0,
        offset_prefix: String::new(),
        current_offset: None,
        end_offset: None,
        committed_version: 0,
        load_statistic: LoadStatistic::default(),
        error_msg: None,
        runtime_msg: None,
        tasks: vec![],
        next_task_id: 1,
    })
}

/// `CREATE JOB ... ON STREAMING`: checked, starting after `offset` if given.
async fn streaming_job(
    session: &Session,
    name: String,
    properties: JobProperties,
    offset: Option<String>,
    comment: Option<String>,
    body: &str,
) -> Result<(Job, Vec<String>)> {
    let Body {
        database,
        table,
        source,
        sql: body,
    } = validate_body(session, body)?;
    require_on_table(session, Privilege::Load, &database, &table)?;
    let warnings = plan_body(session, &body).await?;
    let mut job = new_job(session, name, (database, table), &body, properties, comment)?;
    if source.local {
        job.offset_prefix = "/".into();
    }
    // Commits to the table before the job existed are none of its own.
    job.committed_version = table_version(session, &job).await?;
    // Start strictly after the file the offset names.
    job.current_offset = offset.map(|o| job.offset_key(&o));
    Ok((job, warnings))
}

/// `CREATE JOB ... ON SCHEDULE`: any INSERT the engine can run, checked
/// against its tables now; only `session.*` properties apply.
async fn scheduled_job(
    session: &Session,
    name: String,
    schedule: Schedule,
    properties: JobProperties,
    comment: Option<String>,
    body: &str,
) -> Result<(Job, Vec<String>)> {
    if let Some(key) = properties.given.keys().find(|k| !k.starts_with("session.")) {
        return Err(Error::InvalidJob(format!(
            "property \"{key}\" applies to streaming jobs only; a job ON SCHEDULE takes session.* properties"
        )));
    }
    let statement = parse_sql(session, body)?;
    let target = super::query::insert_target(session, &statement)?.ok_or_else(|| {
        Error::InvalidJob("a scheduled job runs an INSERT: DO INSERT INTO <table> ...".into())
    })?;
    session.engine().catalog().table(&target.0, &target.1)?;
    require_on_table(session, Privilege::Load, &target.0, &target.1)?;
    let warnings = plan_body(session, body).await?;
    let mut job = new_job(session, name, target, body, properties, comment)?;
    job.schedule = Some(schedule);
    job.status = JobStatus::Running;
    Ok((job, warnings))
}

/// The schedule an `ON SCHEDULE` clause describes, checked against now;
/// `None` for `ON STREAMING`.
fn schedule_of(trigger: &JobTrigger) -> Result<Option<Schedule>> {
    let clock = now_seconds();
    let time = |when: &When, what: &str| match when {
        When::Now => Ok(clock),
        When::Time(text) => parse_time(text, what),
    };
    match trigger {
        JobTrigger::Streaming => Ok(None),
        JobTrigger::At(when) => {
            let at = time(when, "AT")?;
            if at < clock {
                return Err(Error::InvalidJob(format!(
                    "AT {} is in the past: give a later time, or CURRENT_TIMESTAMP to run the job now",
                    show_time(at)
                )));
            }
            Ok(Some(Schedule::at(at)))
        }
        JobTrigger::Every {
            count,
            unit,
            starts,
            ends,
        } => {
            let every = Every {
                count: *count,
                unit: IntervalUnit::parse(unit)?,
            };
            let starts = starts.as_ref().map(|w| time(w, "STARTS")).transpose()?;
            let ends = ends.as_ref().map(|e| parse_time(e, "ENDS")).transpose()?;
            Schedule::every(every, starts, ends, clock).map(Some)
        }
    }
}

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
    if job.status != JobStatus::Paused {
        return Err(Error::InvalidJob(format!(
            "job '{name}' is {}: pause it first with PAUSE JOB WHERE jobName = '{name}'",
            job.status
        )));
    }
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
        job.properties = properties;
        if let Some((sql, sealed_sql)) = sealed {
            job.sql = sql;
            job.sealed_sql = sealed_sql;
        }
        if let Some((offset, version)) = moved_offset {
            job.current_offset = Some(offset);
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
async fn table_version(session: &Session, job: &Job) -> Result<u64> {
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

/// Whether the session user sees `job` in `job()` and `tasks()`: they hold
/// LOAD_PRIV on its target table (ADMIN_PRIV implies it).
fn visible(session: &Session, job: &Job) -> bool {
    require_job_load(session, job).is_ok()
}

/// Moves job `name` to `to` if its state is one of `from`; otherwise fails
/// with `refusal(status)`.
async fn transition(
    session: &Session,
    name: &str,
    from: &[JobStatus],
    to: JobStatus,
    refusal: impl FnOnce(JobStatus) -> String,
) -> Result<StatementResult> {
    require_job_control(session, name)?;
    session
        .engine()
        .jobs()
        .modify(name, |job| {
            if !from.contains(&job.status) {
                return Err(Error::InvalidJob(refusal(job.status)));
            }
            job.status = to;
            Ok(())
        })
        .await?;
    Ok(StatementResult::affected(0))
}

pub(super) async fn pause_job(session: &Session, name: &str) -> Result<StatementResult> {
    let from = [JobStatus::Pending, JobStatus::Running];
    let result = transition(session, name, &from, JobStatus::Paused, |status| {
        format!("job '{name}' is {status} and cannot be paused")
    })
    .await?;
    // A task in flight stops before its commit.
    session.engine().controls().cancel(name);
    Ok(result)
}

pub(super) async fn resume_job(session: &Session, name: &str) -> Result<StatementResult> {
    let result = transition(
        session,
        name,
        &[JobStatus::Paused],
        JobStatus::Pending,
        |status| format!("job '{name}' is {status}; only a PAUSED job can be resumed"),
    )
    .await?;
    start_job(session.engine(), name);
    Ok(result)
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
    let job = session.engine().jobs().remove(name).await?;
    session.engine().controls().cancel(name);
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
    loop {
        let job = engine.jobs().job(name)?;
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
        let Some(control) = engine.controls().get(name) else {
            // Its loop is about to start (or restart after a RESUME).
            if tokio::time::Instant::now() >= deadline {
                return Err(timed_out(&job));
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            continue;
        };
        let mut progress = control.watch();
        let since = progress.borrow().polls;
        control.wake();
        let waited = tokio::time::timeout_at(
            deadline,
            progress.wait_for(|p| p.caught_up_at > since || p.ended),
        )
        .await;
        match waited {
            Err(_) => return Err(timed_out(&engine.jobs().job(name)?)),
            Ok(Ok(p)) if !p.ended => break,
            // The loop ended: look at the job again.
            Ok(_) => continue,
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
pub(super) fn job_table(
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
pub(super) fn tasks_table(
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
