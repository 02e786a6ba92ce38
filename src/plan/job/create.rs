//! `CREATE JOB`: a streaming job (`ON STREAMING`) or a job on a schedule
//! (`ON SCHEDULE EVERY ... | AT ...`), checked before it is stored. The
//! scheduler picks it up from the job store.

use super::body::{plan_body, plan_streaming_body, validate_body, Body};
use super::table_version;
use crate::catalog::names::{check_name, NameKind};
use crate::catalog::now;
use crate::catalog::users::Privilege;
use crate::error::{Error, Result};
use crate::job::schedule::{now_seconds, parse_time, show_time, Every, IntervalUnit};
use crate::job::{Job, JobProperties, JobStatus, LoadStatistic, Schedule};
use crate::parse::{JobTrigger, When};
use crate::plan::query::parse_sql;
use crate::plan::users::require_on_table;
use crate::session::{Session, StatementResult};

pub(in crate::plan) async fn create_job(
    session: &Session,
    name: String,
    trigger: &JobTrigger,
    properties: &[(String, String)],
    comment: Option<String>,
    body: String,
) -> Result<StatementResult> {
    check_name(NameKind::Job, &name)?;
    let (properties, offset) = JobProperties::default().apply(properties)?;
    let (job, warnings) = match schedule_of(trigger)? {
        None => streaming_job(session, name, properties, offset, comment, &body).await?,
        Some(schedule) => {
            scheduled_job(session, name, schedule, properties, comment, &body).await?
        }
    };
    let job = session.engine().jobs().create(job).await?;
    tracing::info!(job = %job.name, id = job.id, kind = job.execute_type(), "created job");
    Ok(StatementResult::affected(0).with_warnings(warnings))
}

/// The `INSERT` statement `sql` into `(database, table)` as a job that is
/// never stored nor run: how a statement's files are loaded across
/// workers, which load a job's files.
pub(crate) fn statement_job(session: &Session, target: (String, String), sql: &str) -> Result<Job> {
    let name = "INSERT".to_string();
    new_job(session, name, target, sql, JobProperties::default(), None)
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
        source_uri: None,
        offset_prefix: String::new(),
        current_offset: None,
        end_offset: None,
        given_offset: None,
        retry_files: Vec::new(),
        caught_up_at_ms: None,
        backlog: None,
        last_visible_ms: None,
        quarantined_files: 0,
        skipped_late_files: 0,
        committed_version: 0,
        lease_epoch: 0,
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
    let checked = validate_body(session, body)?;
    require_on_table(session, Privilege::Load, &checked.database, &checked.table)?;
    let warnings = plan_streaming_body(session, &checked).await?;
    let Body {
        database,
        table,
        source,
        sql: body,
    } = checked;
    let mut job = new_job(session, name, (database, table), &body, properties, comment)?;
    if source.local {
        job.offset_prefix = "/".into();
    }
    job.source_uri = Some(source.uri);
    // Commits to the table before the job existed are none of its own.
    job.committed_version = table_version(session, &job).await?;
    // Start strictly after the file the offset names.
    job.current_offset = offset.map(|o| job.offset_key(&o));
    job.given_offset = job.current_offset.clone();
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
            "property \"{key}\" applies to streaming jobs only; a job ON SCHEDULE takes session.query_timeout and session.insert_timeout"
        )));
    }
    properties.check_for_schedule()?;
    let statement = parse_sql(session, body)?;
    let target = crate::plan::query::insert_target(session, &statement)?.ok_or_else(|| {
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
