//! The table functions SQL can call, and how each call's table is prepared.

use std::sync::Arc;

use datafusion::catalog::TableProvider;

use crate::catalog::users::{Privilege, ALL_DATABASES};
use crate::error::{Error, Result};
use crate::read::location::is_local_uri;
use crate::read::SourceAccess;
use crate::read::{
    prepare_s3, FixedFiles, FunctionCall, JOB_FILES_FUNCTION, JOB_LEASES_FUNCTION,
    JOB_STATUS_FUNCTION, REJECTED_ROWS_FUNCTION, S3_FUNCTION,
};
use crate::session::Session;

/// Prepares the table a call returns; `S3()` reads `files` when given.
pub(super) async fn prepare(
    session: &Session,
    call: &FunctionCall,
    partitions: usize,
    files: Option<FixedFiles<'_>>,
) -> Result<Arc<dyn TableProvider>> {
    match call.name.as_str() {
        S3_FUNCTION => {
            let access = source_access(session, &call.pairs)?;
            prepare_s3(&call.pairs, files, partitions, &access).await
        }
        "job" | "jobs" => super::job::job_table(session, &call.pairs),
        "tasks" => super::job::tasks_table(session, &call.pairs),
        JOB_FILES_FUNCTION => super::job::job_files_table(session, &call.pairs).await,
        REJECTED_ROWS_FUNCTION => super::job::rejected_rows_table(session, &call.pairs).await,
        JOB_LEASES_FUNCTION => super::job::job_leases_table(session, &call.pairs).await,
        JOB_STATUS_FUNCTION => super::job::job_status_table(session, &call.pairs).await,
        other => unreachable!("{other} is not in TABLE_FUNCTIONS"),
    }
}

/// Reads the job store again before a job's state is shown: the process
/// that runs a job may be another one, and what this process last read of
/// it may be up to a scheduler refresh old. Shown as last read when the
/// store cannot be read.
pub(crate) async fn read_jobs_again(session: &Session) {
    if let Err(error) = session.engine().jobs().refresh().await {
        tracing::warn!(error = %error, "cannot read the job store again; showing it as last read");
    }
}

/// What an `S3()` call with `pairs` may reach in `session`: its user needs
/// `ADMIN_PRIV` to read local files at all (as Doris's `local()`); which
/// files and endpoints is the engine's setting.
pub(crate) fn source_access(
    session: &Session,
    pairs: &[(String, String)],
) -> Result<Arc<SourceAccess>> {
    let local = pairs
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("uri"))
        .is_some_and(|(_, uri)| is_local_uri(uri));
    if local {
        super::users::require(session, Privilege::Admin, ALL_DATABASES).map_err(|_| {
            let user = session.user();
            Error::LocalFileRefused(format!(
                "access denied for user '{user}': reading local files through S3() needs ADMIN_PRIV, as Doris's local() does (GRANT ADMIN_PRIV ON *.* TO '{user}'); other users read object storage (s3://)"
            ))
        })?;
    }
    Ok(session.engine().source_access())
}
