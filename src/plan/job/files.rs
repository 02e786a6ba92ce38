//! `job_files(job = 'name')`: a streaming job's file ledger
//! ([`crate::job::ledger`]), one row per file the job has taken into a
//! task, with what became of it; and `rejected_rows(job = 'name')`: the
//! rows its tasks left out, as read. Shown to users who may load the job's
//! target table, as `job()` is.

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, StringArray, UInt64Array};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::catalog::TableProvider;
use datafusion::datasource::MemTable;

use super::require_job_load;
use crate::error::{Error, Result};
use crate::job::ledger::{FileRecord, RejectedRow};
use crate::job::Job;
use crate::session::Session;

/// The `job_files()` columns.
pub(super) const FILE_COLUMNS: [&str; 11] = [
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

/// The `rejected_rows()` columns.
pub(super) const REJECTED_COLUMNS: [&str; 6] = [
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
    let files = session.engine().jobs().files(job.id).await?;
    let schema = schema(&FILE_COLUMNS);
    let batch = files_batch(&schema, &job.name, &files)?;
    Ok(Arc::new(MemTable::try_new(schema, vec![vec![batch]])?))
}

/// The rows left out by the tasks of the job named by the `job` argument.
pub(in crate::plan) async fn rejected_rows_table(
    session: &Session,
    pairs: &[(String, String)],
) -> Result<Arc<dyn TableProvider>> {
    let job = argument_job(session, "rejected_rows", pairs)?;
    let rows = session.engine().jobs().rejected_rows(job.id).await?;
    let schema = schema(&REJECTED_COLUMNS);
    let text = |value: &dyn Fn(&(u64, RejectedRow)) -> String| -> ArrayRef {
        Arc::new(rows.iter().map(|r| Some(value(r))).collect::<StringArray>())
    };
    let columns = vec![
        text(&|_| job.name.clone()),
        Arc::new(
            rows.iter()
                .map(|(task, _)| Some(*task))
                .collect::<UInt64Array>(),
        ) as ArrayRef,
        text(&|(_, r)| r.file.clone()),
        text(&|(_, r)| r.position.clone()),
        text(&|(_, r)| r.values.clone()),
        text(&|(_, r)| r.reason.clone()),
    ];
    let batch = RecordBatch::try_new(schema.clone(), columns)?;
    Ok(Arc::new(MemTable::try_new(schema, vec![vec![batch]])?))
}

/// The job `function(job = 'name')` names, which the user may see.
fn argument_job(session: &Session, function: &str, pairs: &[(String, String)]) -> Result<Job> {
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

/// The columns named, numbers as UInt64 and the rest as text.
fn schema(columns: &[&str]) -> Arc<Schema> {
    let numbers = ["FileSize", "TaskId", "LoadedRows", "RejectedRows"];
    Arc::new(Schema::new(
        columns
            .iter()
            .map(|name| {
                let data_type = if numbers.contains(name) {
                    DataType::UInt64
                } else {
                    DataType::Utf8
                };
                Field::new(*name, data_type, true)
            })
            .collect::<Vec<_>>(),
    ))
}

fn files_batch(schema: &Arc<Schema>, job: &str, files: &[FileRecord]) -> Result<RecordBatch> {
    let text = |value: &dyn Fn(&FileRecord) -> Option<String>| -> ArrayRef {
        Arc::new(files.iter().map(value).collect::<StringArray>())
    };
    let number = |value: &dyn Fn(&FileRecord) -> Option<u64>| -> ArrayRef {
        Arc::new(files.iter().map(value).collect::<UInt64Array>())
    };
    let columns = vec![
        text(&|_| Some(job.to_string())),
        text(&|f| Some(f.file.clone())),
        number(&|f| Some(f.size)),
        text(&|f| f.etag.clone()),
        text(&|f| Some(f.last_modified.clone())),
        text(&|f| Some(f.status.as_str().to_string())),
        number(&|f| Some(f.task_id)),
        number(&|f| f.loaded_rows),
        number(&|f| f.rejected_rows),
        text(&|f| f.error.clone()),
        text(&|f| Some(f.time.clone())),
    ];
    Ok(RecordBatch::try_new(schema.clone(), columns)?)
}
