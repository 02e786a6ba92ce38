//! The table functions SQL can call, and how each call's table is prepared.

use std::sync::Arc;

use datafusion::catalog::TableProvider;

use crate::error::Result;
use crate::read::{
    prepare_s3, FixedFiles, FunctionCall, JOB_FILES_FUNCTION, JOB_LEASES_FUNCTION,
    REJECTED_ROWS_FUNCTION, S3_FUNCTION,
};
use crate::session::Session;

/// Prepares the table a call returns; `S3()` reads `files` when given.
pub(super) async fn prepare(
    session: &Session,
    call: &FunctionCall,
    partitions: usize,
    files: Option<FixedFiles<'_>>,
) -> Result<Arc<dyn TableProvider>> {
    if call.name != S3_FUNCTION {
        read_jobs_again(session).await;
    }
    match call.name.as_str() {
        S3_FUNCTION => prepare_s3(&call.pairs, files, partitions).await,
        "job" | "jobs" => super::job::job_table(session, &call.pairs),
        "tasks" => super::job::tasks_table(session, &call.pairs),
        JOB_FILES_FUNCTION => super::job::job_files_table(session, &call.pairs).await,
        REJECTED_ROWS_FUNCTION => super::job::rejected_rows_table(session, &call.pairs).await,
        JOB_LEASES_FUNCTION => super::job::job_leases_table(session, &call.pairs).await,
        other => unreachable!("{other} is not in TABLE_FUNCTIONS"),
    }
}

/// Reads the job store again before a job's state is shown: the process
/// that runs a job may be another one, and what this process last read of
/// it may be up to a scheduler refresh old. Shown as last read when the
/// store cannot be read.
async fn read_jobs_again(session: &Session) {
    if let Err(error) = session.engine().jobs().refresh().await {
        tracing::warn!(error = %error, "cannot read the job store again; showing it as last read");
    }
}
