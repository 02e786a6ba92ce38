//! `job_files(job = 'name')`: a streaming job's file ledger
//! ([`crate::job::ledger`]), one row per file the job has taken into a
//! task, with what became of it; and `rejected_rows(job = 'name')`: the
//! rows its tasks left out, as read. Shown to users who may load the job's
//! target table, as `job()` is. A file queued by `ALTER JOB ... RETRY
//! FILE` shows `PENDING` until a task loads it.

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, StringArray, UInt64Array};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::catalog::TableProvider;
use datafusion::datasource::MemTable;

use super::require_job_load;
use crate::catalog::{display_names, shown_time};
use crate::error::{Error, Result};
use crate::job::ledger::FileStatus;
use crate::job::Job;
use crate::session::Session;

/// The `job_files()` columns.
const FILE_COLUMNS: [&str; 11] = [
    "JobName",
    "FileName",
    "FileSize",
    "ETag",
    "LastModified",
    "Status",
    "TaskId",
    "LoadedRows",
    "RejectedRows",
    "FirstError",
    "UpdateTime",
];

/// The columns of `VALIDATE JOB`'s result.
pub(super) const VALIDATE_COLUMNS: [&str; 7] = [
    "JobName",
    "FileName",
    "FileSize",
    "Outcome",
    "LoadedRows",
    "RejectedRows",
    "FirstError",
];

/// The `rejected_rows()` columns.
const REJECTED_COLUMNS: [&str; 6] = [
    "JobName",
    "TaskId",
    "FileName",
    "Position",
    "RowValues",
    "Reason",
];

/// The ledger of the job named by the `job` argument.
pub(in crate::plan) async fn job_files_table(
    session: &Session,
    pairs: &[(String, String)],
) -> Result<Arc<dyn TableProvider>> {
    let job = argument_job(session, "job_files", pairs)?;
    let mut files = session.engine().jobs().files(job.id).await?;
    for record in &mut files {
        if job.retry_files.contains(&job.offset_key(&record.file)) {
            record.status = FileStatus::Pending;
        }
    }
    let f = files.as_slice();
    table(
        &FILE_COLUMNS,
        vec![
            text(f, |_| Some(job.name.clone())),
            text(f, |f| Some(f.file.clone())),
            number(f, |f| Some(f.size)),
            text(f, |f| f.etag.clone()),
            text(f, |f| Some(shown_time(&f.last_modified))),
            text(f, |f| Some(f.status.as_str().to_string())),
            number(f, |f| Some(f.task_id)),
            number(f, |f| f.loaded_rows),
            number(f, |f| f.rejected_rows),
            text(f, |f| f.error.clone()),
            text(f, |f| Some(shown_time(&f.time))),
        ],
    )
}

/// The rows left out by the tasks of the job named by the `job` argument.
pub(in crate::plan) async fn rejected_rows_table(
    session: &Session,
    pairs: &[(String, String)],
) -> Result<Arc<dyn TableProvider>> {
    let job = argument_job(session, "rejected_rows", pairs)?;
    let rows = session.engine().jobs().rejected_rows(job.id).await?;
    let r = rows.as_slice();
    table(
        &REJECTED_COLUMNS,
        vec![
            text(r, |_| Some(job.name.clone())),
            number(r, |(task, _)| Some(*task)),
            text(r, |(_, r)| Some(r.file.clone())),
            text(r, |(_, r)| Some(r.position.clone())),
            text(r, |(_, r)| Some(r.values.clone())),
            text(r, |(_, r)| Some(r.reason.clone())),
        ],
    )
}

/// A table of `columns` (see [`schema`]) holding `arrays`.
pub(super) fn table(columns: &[&str], arrays: Vec<ArrayRef>) -> Result<Arc<dyn TableProvider>> {
    resolvable_table(vec![batch(columns, arrays)?])
}

/// A table of `batches` (of one schema) whose columns queries name in any
/// case ([`display_names`]); job states and types compare in any case.
pub(super) fn resolvable_table(batches: Vec<RecordBatch>) -> Result<Arc<dyn TableProvider>> {
    let shown = batches
        .first()
        .map(RecordBatch::schema)
        .unwrap_or_else(|| Arc::new(Schema::empty()));
    let schema = Arc::new(display_names::resolvable(
        &shown,
        &["Status", "ExecuteType"],
    ));
    let batches = batches
        .into_iter()
        .map(|b| RecordBatch::try_new(schema.clone(), b.columns().to_vec()))
        .collect::<std::result::Result<Vec<_>, _>>()?;
    Ok(Arc::new(MemTable::try_new(schema, vec![batches])?))
}

/// A batch of `columns` (see [`schema`]) holding `arrays`.
pub(super) fn batch(columns: &[&str], arrays: Vec<ArrayRef>) -> Result<RecordBatch> {
    Ok(RecordBatch::try_new(schema(columns), arrays)?)
}

/// A text column of `value` for each of `rows`.
pub(super) fn text<T>(rows: &[T], value: impl Fn(&T) -> Option<String>) -> ArrayRef {
    Arc::new(rows.iter().map(value).collect::<StringArray>())
}

/// A number column of `value` for each of `rows`.
pub(super) fn number<T>(rows: &[T], value: impl Fn(&T) -> Option<u64>) -> ArrayRef {
    Arc::new(rows.iter().map(value).collect::<UInt64Array>())
}

/// The job `function(job = 'name')` names, which the user may see.
pub(super) fn argument_job(
    session: &Session,
    function: &str,
    pairs: &[(String, String)],
) -> Result<Job> {
    let name = match pairs {
        [(key, name)] if key.eq_ignore_ascii_case("job") => name,
        _ => {
            return Err(Error::InvalidOption {
                key: pairs.first().map(|(k, _)| k.clone()).unwrap_or_default(),
                message: format!("{function}() takes the job's name: {function}(job = 'my_job')"),
            })
        }
    };
    let job = session.engine().jobs().job(name)?;
    require_job_load(session, &job)?;
    Ok(job)
}

/// The columns named: counts as UInt64, rates and ages as Float64, the
/// rest as text.
fn schema(columns: &[&str]) -> Arc<Schema> {
    let numbers = [
        "FileSize",
        "TaskId",
        "LoadedRows",
        "RejectedRows",
        "Epoch",
        "BacklogFiles",
        "BacklogBytes",
    ];
    let fractions = [
        "OldestUnloadedAgeSeconds",
        "RowsPerSecond",
        "BytesPerSecond",
    ];
    Arc::new(Schema::new(
        columns
            .iter()
            .map(|name| {
                let data_type = if numbers.contains(name) {
                    DataType::UInt64
                } else if fractions.contains(name) {
                    DataType::Float64
                } else {
                    DataType::Utf8
                };
                Field::new(*name, data_type, true)
            })
            .collect::<Vec<_>>(),
    ))
}
