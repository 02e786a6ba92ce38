//! The file ledger of a streaming job: one record per file the job has
//! taken into a task, with what became of it (`job_files()` shows them).
//!
//! A task's records travel in its Lance commit with its rows and offset
//! (inside the finished task, [`CommittedBatch`](super::offset::CommittedBatch)),
//! so they are as durable as the rows. After the commit (and after a
//! crash, when the job's loop applies the commits its store missed) they
//! are written to the warehouse as one document per task:
//! `_tributary/ledger/<job id>/<task id>.json`. A task that fails commits
//! nothing; its files are recorded as `FAILED` with the task's error, and a
//! later task that loads them records them again. The ledger of a job is
//! the newest record of each file.
//!
//! The rows a task left out ([`RejectedRow`], up to a cap per task) go the
//! same way, to `_tributary/rejected/<job id>/<task id>.json`.
//!
//! Late files a job does not load are recorded `SKIPPED_LATE` when a
//! listing notices them (and files queued for retry that are gone,
//! `FAILED`), in a document of their own named after the task that was
//! next and the time (`<task id>-<ms>.json`): nothing is committed for
//! them, so noticing one again just records it again.

use std::collections::BTreeMap;

use bytes::Bytes;
use futures::{StreamExt, TryStreamExt};
use object_store::ObjectMeta;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::Job;
use crate::catalog::now;
use crate::error::{Error, Result};
use crate::warehouse::Warehouse;

/// What became of a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum FileStatus {
    /// Every row loaded.
    Loaded,
    /// Loaded, with rows left out that did not convert to the table's types.
    LoadedWithRejects,
    /// Its task failed: nothing of it was committed.
    Failed,
    /// It could not be loaded on its own and was set aside
    /// (`s3.on_file_error` = `skip`): nothing of it was committed, and the
    /// job went on with the next files.
    Quarantined,
    /// It appeared with a name at or below the job's offset after the job
    /// had passed it, and was not loaded (`s3.late_files` = `skip`).
    SkippedLate,
    /// Queued by `ALTER JOB ... RETRY FILE`: the next task loads it. Only
    /// shown, never stored: the queue is in the job's state.
    Pending,
}

impl FileStatus {
    /// Whether the file's rows were committed.
    pub fn is_loaded(&self) -> bool {
        matches!(self, FileStatus::Loaded | FileStatus::LoadedWithRejects)
    }

    pub fn as_str(&self) -> &'static str {
        match self {
            FileStatus::Loaded => "LOADED",
            FileStatus::LoadedWithRejects => "LOADED_WITH_REJECTS",
            FileStatus::Failed => "FAILED",
            FileStatus::Quarantined => "QUARANTINED",
            FileStatus::SkippedLate => "SKIPPED_LATE",
            FileStatus::Pending => "PENDING",
        }
    }
}

/// What a job's next task would do with one file (`VALIDATE JOB`).
#[derive(Debug)]
pub struct Outcome {
    /// `WOULD_LOAD`, `WOULD_LOAD_WITH_REJECTS`, `WOULD_FAIL`,
    /// `WOULD_QUARANTINE` or `WOULD_SKIP_LATE`.
    pub outcome: &'static str,
    /// The file as the ledger would record it (rows counted when known).
    pub file: FileRecord,
}

/// One file's record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FileRecord {
    /// The file as offsets name it (key on S3, absolute path locally).
    pub file: String,
    pub size: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    pub last_modified: String,
    pub status: FileStatus,
    pub task_id: u64,
    /// Rows loaded, and rows left out; unknown (`None`) when the task's
    /// SELECT reads its files as one stream.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loaded_rows: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rejected_rows: Option<u64>,
    /// The first row left out (file, line, reason), or why the task failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// When the record was made.
    pub time: String,
}

impl FileRecord {
    /// The record of `meta` (named `file`, as offsets name it), made now
    /// by task `task_id`, with no rows counted.
    pub fn new(file: String, meta: &ObjectMeta, status: FileStatus, task_id: u64) -> Self {
        Self {
            file,
            size: meta.size,
            etag: meta.e_tag.clone(),
            last_modified: crate::catalog::utc_time(meta.last_modified),
            status,
            task_id,
            loaded_rows: None,
            rejected_rows: None,
            error: None,
            time: now(),
        }
    }
}

/// The records of `files` (named as `job` shows offsets) with `status` and
/// the reason `error` gives for each, made now by task `task_id`.
pub fn records_of(
    job: &Job,
    task_id: u64,
    files: &[ObjectMeta],
    status: FileStatus,
    error: impl Fn(&ObjectMeta) -> String,
) -> Vec<FileRecord> {
    files
        .iter()
        .map(|meta| FileRecord {
            error: Some(error(meta)),
            ..FileRecord::new(
                job.shown_offset(meta.location.as_ref()),
                meta,
                status,
                task_id,
            )
        })
        .collect()
}

/// A row a task left out because it did not convert to the table's
/// types, kept with the values it had as read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RejectedRow {
    /// The file, as offsets name it (empty when unknown).
    pub file: String,
    /// `line N` (CSV), `record N` (JSON), `row N` (Parquet).
    pub position: String,
    /// The row's values as read, comma-separated, `\N` for NULL.
    pub values: String,
    pub reason: String,
}

/// Ledger documents read at once.
const READ_AT_ONCE: usize = 16;

/// What a ledger document of a task holds.
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    /// The task's files ([`FileRecord`]).
    Files,
    /// The rows the task left out ([`RejectedRow`]).
    Rejected,
}

/// Where the documents of `kind` of job `job_id` are kept.
fn directory(kind: Kind, job_id: u64) -> String {
    match kind {
        Kind::Files => format!("_tributary/ledger/{job_id}"),
        Kind::Rejected => format!("_tributary/rejected/{job_id}"),
    }
}

/// Writes the `kind` document of task `task_id` of job `job_id` (again,
/// when a crash left it unwritten: the same document).
pub async fn record<T: Serialize>(
    warehouse: &Warehouse,
    kind: Kind,
    job_id: u64,
    task_id: u64,
    records: &[T],
) -> Result<()> {
    write(warehouse, kind, job_id, &format!("{task_id:012}"), records).await
}

/// Writes the records of files noticed outside a task when task `task_id`
/// was next: late files skipped, files queued for retry that are gone (a
/// document of their own: that task's is written when it commits).
pub async fn record_noticed(
    warehouse: &Warehouse,
    job_id: u64,
    task_id: u64,
    records: &[FileRecord],
) -> Result<()> {
    let millis = chrono::Utc::now().timestamp_millis();
    let name = format!("{task_id:012}-{millis}");
    write(warehouse, Kind::Files, job_id, &name, records).await
}

/// Writes document `name` of `kind` of job `job_id`.
async fn write<T: Serialize>(
    warehouse: &Warehouse,
    kind: Kind,
    job_id: u64,
    name: &str,
    records: &[T],
) -> Result<()> {
    if records.is_empty() {
        return Ok(());
    }
    let path = format!("{}/{name}.json", directory(kind, job_id));
    let document = serde_json::to_vec(records).map_err(|e| not_valid(warehouse, &path, e))?;
    warehouse
        .write(&path, Bytes::from(document))
        .await
        .map_err(|e| Error::Document {
            what: "job file ledger",
            action: "write",
            uri: warehouse.uri(&path),
            source: Box::new(e),
        })
}

/// Every `kind` record of job `job_id`, with its task id, in task order.
pub async fn records<T: DeserializeOwned>(
    warehouse: &Warehouse,
    kind: Kind,
    job_id: u64,
) -> Result<Vec<(u64, T)>> {
    let directory = directory(kind, job_id);
    let mut documents = warehouse.list(&directory).await?;
    documents.sort();
    // Several documents (one per task) at once, kept in task order.
    let mut read = futures::stream::iter(documents)
        .map(|name| {
            let path = format!("{directory}/{name}");
            let digits = name.split(|c: char| !c.is_ascii_digit()).next();
            let task_id = digits.and_then(|d| d.parse::<u64>().ok()).unwrap_or(0);
            async move {
                let bytes = warehouse.read(&path).await?;
                Ok::<_, Error>((path, task_id, bytes))
            }
        })
        .buffered(READ_AT_ONCE);
    let mut all = Vec::new();
    while let Some((path, task_id, bytes)) = read.try_next().await? {
        let Some(bytes) = bytes else {
            continue;
        };
        let records: Vec<T> =
            serde_json::from_slice(&bytes).map_err(|e| not_valid(warehouse, &path, e))?;
        all.extend(records.into_iter().map(|r| (task_id, r)));
    }
    Ok(all)
}

/// The newest record of every file of job `job_id`, by file name; a
/// file's rows, once committed, stay in the table, so a record of its load
/// is never replaced by a later record that it was not loaded.
pub async fn files(warehouse: &Warehouse, job_id: u64) -> Result<Vec<FileRecord>> {
    let mut newest: BTreeMap<String, FileRecord> = BTreeMap::new();
    for (_, record) in records::<FileRecord>(warehouse, Kind::Files, job_id).await? {
        let loaded = |r: &FileRecord| r.status.is_loaded();
        match newest.get(&record.file) {
            Some(known) if loaded(known) && !loaded(&record) => {}
            _ => {
                newest.insert(record.file.clone(), record);
            }
        }
    }
    Ok(newest.into_values().collect())
}

/// Forgets the ledger of a dropped job.
pub async fn forget(warehouse: &Warehouse, job_id: u64) -> Result<()> {
    warehouse
        .delete_prefix(&directory(Kind::Files, job_id))
        .await?;
    warehouse
        .delete_prefix(&directory(Kind::Rejected, job_id))
        .await
}

fn not_valid(warehouse: &Warehouse, path: &str, error: serde_json::Error) -> Error {
    Error::Catalog(format!(
        "{} is not a valid job file ledger document: {error}",
        warehouse.uri(path)
    ))
}
