//! `job_files(job = 'name')`: a streaming job's file ledger
//! ([`crate::job::ledger`]), one row per file the job has taken into a
//! task, with what became of it. Shown to users who may load the job's
//! target table, as `job()` is.

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, StringArray, UInt64Array};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::catalog::TableProvider;
use datafusion::datasource::MemTable;

use super::require_job_load;
use crate::error::{Error, Result};
use crate::job::ledger::FileRecord;
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

/// The ledger of the job named by the `job` argument.
pub(in crate::plan) async fn job_files_table(
    session: &Session,
    pairs: &[(String, String)],
) -> Result<Arc<dyn TableProvider>> {
    let name = job_argument(pairs)?;
    let jobs = session.engine().jobs();
    let job = jobs.job(&name)?;
    require_job_load(session, &job)?;
    let files = jobs.files(job.id).await?;
    Ok(Arc::new(MemTable::try_new(
        schema(),
        vec![vec![batch(&job.name, &files)?]],
    )?))
}

/// `job = 'name'`, the one argument.
fn job_argument(pairs: &[(String, String)]) -> Result<String> {
    match pairs {
        [(key, name)] if key.eq_ignore_ascii_case("job") => Ok(name.clone()),
        _ => Err(Error::InvalidOption {
            key: pairs.first().map(|(k, _)| k.clone()).unwrap_or_default(),
            message: "job_files() takes the job's name: job_files(job = 'my_job')".into(),
        }),
    }
}

fn schema() -> Arc<Schema> {
    let numbers = ["FileSize", "TaskId", "LoadedRows", "RejectedRows"];
    Arc::new(Schema::new(
        FILE_COLUMNS
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

fn batch(job: &str, files: &[FileRecord]) -> Result<RecordBatch> {
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
    Ok(RecordBatch::try_new(schema(), columns)?)
}
