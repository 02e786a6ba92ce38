//! A streaming job's body, checked: `INSERT INTO <table> SELECT ... FROM
//! S3(...)` with exactly one `S3()` call, its target table and its source.

use datafusion::logical_expr::LogicalPlan;
use datafusion::sql::parser::Statement as DFStatement;

use crate::error::{Error, Result};
use crate::job::Job;
use crate::plan::functions::source_access;
use crate::plan::query::{parse_sql, plan_reading};
use crate::read::listing::first_files;
use crate::read::{rewrite_calls, FixedFiles, Location, S3Options, S3_FUNCTION};
use crate::session::Session;

fn only_insert_from_s3() -> Error {
    Error::InvalidJob(
        "only INSERT INTO <table> SELECT ... FROM S3(...) is supported as a job body".into(),
    )
}

/// A checked job body: its target table, its source (with a local path
/// `uri` resolved now, so that the job reads the same files whatever the
/// directory the engine runs in later), and its SQL as written.
pub(super) struct Body {
    pub database: String,
    pub table: String,
    pub source: Source,
    pub sql: String,
}

/// The files a job body reads.
pub(super) struct Source {
    /// The `uri` resolved: a local path becomes the absolute `file://` URI.
    pub uri: String,
    /// Whether the files are local (offsets are shown as absolute paths).
    pub local: bool,
    pub location: Location,
}

/// The one `S3()` call of a job body.
fn source_of(session: &Session, statement: &mut DFStatement) -> Result<Source> {
    let calls = rewrite_calls(statement, &[S3_FUNCTION])?;
    let [call] = calls.as_slice() else {
        return Err(only_insert_from_s3());
    };
    let options = S3Options::parse(&call.pairs)?;
    let access = source_access(session, &call.pairs)?;
    let location = Location::parse(&options.uri, &options.connection, &access)?;
    Ok(Source {
        local: location.is_local(),
        uri: location.uri.clone(),
        location,
    })
}

/// The resolved source `uri` of a stored job.
pub(super) fn stored_source_uri(session: &Session, job: &Job) -> Result<String> {
    match &job.source_uri {
        Some(uri) => Ok(uri.clone()),
        None => Ok(source_of(session, &mut parse_sql(session, &job.sql)?)?.uri),
    }
}

/// Checks a job body.
pub(super) fn validate_body(session: &Session, body: &str) -> Result<Body> {
    let mut statement = parse_sql(session, body)?;
    let (database, table) =
        crate::plan::query::insert_target(session, &statement)?.ok_or_else(only_insert_from_s3)?;
    session.engine().catalog().table(&database, &table)?;
    let source = source_of(session, &mut statement)?;
    Ok(Body {
        database,
        table,
        source,
        sql: body.to_string(),
    })
}

/// Files a streaming job's INSERT is planned against at CREATE: the first
/// ones matching, so that creating a job over a long backlog lists one page.
const PLANNED_FILES: usize = 8;

/// Plans a streaming job's INSERT against the target table over the first
/// files matching its pattern (column count and types must fit); with no
/// file yet there is no schema to check, which a warning says.
pub(super) async fn plan_streaming_body(session: &Session, body: &Body) -> Result<Vec<String>> {
    let source = &body.source;
    let files = first_files(&source.location, PLANNED_FILES).await?;
    if files.is_empty() {
        return planned(Err(Error::NoFilesMatch {
            uri: source.uri.clone(),
        }));
    }
    let files = FixedFiles {
        uri: &source.uri,
        files: &files,
        read_ahead: None,
    };
    planned(plan_reading(session, parse_sql(session, &body.sql)?, Some(files)).await)
}

/// Plans a job's INSERT against the target table when files already
/// match its `S3()` pattern (column count and types must fit).
pub(super) async fn plan_body(session: &Session, body: &str) -> Result<Vec<String>> {
    planned(crate::plan::query::plan(session, body).await)
}

/// The warnings of a job body that planned, or why it does not.
fn planned(plan: Result<LogicalPlan>) -> Result<Vec<String>> {
    match plan {
        Ok(_) => Ok(vec![]),
        Err(Error::NoFilesMatch { uri }) => Ok(vec![format!(
            "no file matches '{uri}' yet: the SELECT is checked against the table when the first file arrives"
        )]),
        Err(Error::EmptySource { uri }) => Ok(vec![format!(
            "the first files matching '{uri}' are empty: the SELECT is checked against the table when a file with rows arrives"
        )]),
        Err(e @ Error::DataFusion(_)) => Err(Error::InvalidJob(format!(
            "the job's INSERT does not plan against its target table: {e}"
        ))),
        Err(e) => Err(e),
    }
}
