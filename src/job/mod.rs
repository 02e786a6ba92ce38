//! Jobs, streaming and scheduled: their definitions and state, persisted
//! in the warehouse.
//!
//! The job store is one JSON document (`_tributary/jobs.json`) replaced
//! atomically on every change, like the catalog; every change is announced
//! on a watch channel ([`JobStore::watch`]) that the scheduler in
//! [`ingest`](crate::ingest) follows to start and stop job loops. Here too:
//! job states and their transitions ([`state`]), the live controls of
//! running loops ([`control`]), what a task commits with its rows and the
//! recovery rule ([`offset`]), schedules, properties and sealed
//! credentials.

pub mod control;
pub mod lease;
pub mod ledger;
pub mod offset;
mod properties;
pub mod schedule;
mod secrets;
mod state;
pub mod status;

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::warehouse::{Document, Warehouse};

pub use properties::{JobProperties, LateFiles};
pub use schedule::Schedule;
pub use secrets::{default_key_path, SecretKey};
pub use state::JobStatus;
pub use status::Backlog;

/// Relative path of the job store inside the warehouse.
const JOBS_FILE: &str = "_tributary/jobs.json";

/// `max_streaming_job_num`: how many streaming jobs may exist.
pub const MAX_STREAMING_JOB_NUM: usize = 1024;
/// `job_streaming_task_exec_thread_num`: how many tasks the scheduler runs
/// at once, across all jobs.
pub const JOB_STREAMING_TASK_EXEC_THREAD_NUM: usize = 10;
/// The longest duration a statement may give (`max_interval`, `EVERY`,
/// `WAIT JOB ... TIMEOUT`): one year. Longer ones would pass the clock's
/// range when added to now.
pub const MAX_DURATION_SECS: u64 = 365 * 24 * 3600;

/// `max_streaming_task_show_count`: tasks kept per job for `tasks()`.
pub const MAX_STREAMING_TASK_SHOW_COUNT: usize = 100;

/// Cumulative load statistics, as `LoadStatistic` shows them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LoadStatistic {
    pub scanned_rows: u64,
    pub load_bytes: u64,
    pub file_number: u64,
    pub file_size: u64,
    /// Rows that could not be converted to the table's types and were left
    /// out (shown only when there are some).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub filtered_rows: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl LoadStatistic {
    /// Adds `other` to `self`.
    pub fn add(&mut self, other: &LoadStatistic) {
        self.scanned_rows += other.scanned_rows;
        self.load_bytes += other.load_bytes;
        self.file_number += other.file_number;
        self.file_size += other.file_size;
        self.filtered_rows += other.filtered_rows;
    }
}

/// A job: streaming (`ON STREAMING`) or scheduled (`ON SCHEDULE`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Job {
    pub id: u64,
    pub name: String,
    pub definer: String,
    pub status: JobStatus,
    /// The INSERT the job runs (`INSERT ... SELECT ... FROM S3(...)` for a
    /// streaming job), with its secrets blanked (as `job()` shows it).
    pub sql: String,
    /// The full SQL, sealed with the secret key, when it carries secrets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sealed_sql: Option<String>,
    /// Target `database` and `table`.
    pub database: String,
    pub table: String,
    pub create_time: String,
    pub comment: Option<String>,
    /// When the job fires, for a job `ON SCHEDULE`; `None` for a streaming
    /// job, which runs as files arrive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule: Option<Schedule>,
    pub properties: JobProperties,
    pub succeed_task_count: u64,
    pub failed_task_count: u64,
    pub canceled_task_count: u64,
    /// The `uri` of the job's `S3()` call resolved when the job was created
    /// or altered (a local path made absolute then): the files it reads
    /// whatever directory the engine runs in later. The stored SQL keeps the
    /// `uri` as written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_uri: Option<String>,
    /// What an offset's key is shown and written with: `/` for local files
    /// (their absolute path), nothing for S3 keys.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub offset_prefix: String,
    /// The last loaded file name.
    pub current_offset: Option<String>,
    /// The greatest file name seen.
    pub end_offset: Option<String>,
    /// The offset the user last gave (CREATE or ALTER `"offset"`): files at
    /// or below it were passed over on purpose and are never late.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub given_offset: Option<String>,
    /// When (unix ms) the last poll that found every file loaded began:
    /// `WAIT JOB` in a process that does not run the job waits for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caught_up_at_ms: Option<i64>,
    /// What the last listing found after its batch ([`status`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backlog: Option<Backlog>,
    /// When (unix ms) the last commit of rows became visible.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_visible_ms: Option<i64>,
    /// Files set aside (`QUARANTINED`) and late files skipped
    /// (`SKIPPED_LATE`), as the ledger records them, for `/metrics`.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub quarantined_files: u64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub skipped_late_files: u64,
    /// Files (store keys) queued by `ALTER JOB ... RETRY FILE`: the next
    /// task loads them with its batch; `job_files()` shows them `PENDING`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub retry_files: Vec<String>,
    /// The table version of the last commit the store knows the job made.
    #[serde(default)]
    pub committed_version: u64,
    /// The epoch of the lease ([`lease`]) under which the job's loop last
    /// ran: the store refuses the records of a loop under an older one
    /// ([`JobStore::modify_held`]), so a process that lost the job writes
    /// nothing more about it.
    #[serde(default)]
    pub lease_epoch: u64,
    pub load_statistic: LoadStatistic,
    pub error_msg: Option<String>,
    pub runtime_msg: Option<String>,
    /// The most recent tasks, oldest first (at most
    /// [`MAX_STREAMING_TASK_SHOW_COUNT`]).
    #[serde(default)]
    pub tasks: Vec<Task>,
    /// The id the next task gets.
    #[serde(default)]
    pub next_task_id: u64,
}

/// The state of a task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum TaskStatus {
    Running,
    Success,
    Failed,
    Canceled,
}

impl fmt::Display for TaskStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TaskStatus::Running => "RUNNING",
            TaskStatus::Success => "SUCCESS",
            TaskStatus::Failed => "FAILED",
            TaskStatus::Canceled => "CANCELED",
        })
    }
}

/// One task of a job: one batch of files.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Task {
    pub id: u64,
    pub status: TaskStatus,
    pub create_time: String,
    pub start_time: String,
    pub finish_time: Option<String>,
    pub start_file: String,
    pub end_file: String,
    pub statistic: LoadStatistic,
    pub error_msg: Option<String>,
    /// The first row left out: file, line, column and reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_error_msg: Option<String>,
}

impl Task {
    /// Task `id`, RUNNING since now, with no files yet.
    pub fn running(id: u64) -> Task {
        Task {
            id,
            status: TaskStatus::Running,
            create_time: crate::catalog::now(),
            start_time: crate::catalog::now(),
            finish_time: None,
            start_file: String::new(),
            end_file: String::new(),
            statistic: LoadStatistic::default(),
            error_msg: None,
            first_error_msg: None,
        }
    }

    /// The task finished now with `status` and, when it failed, `error`.
    pub fn finished(self, status: TaskStatus, error: Option<String>) -> Task {
        Task {
            status,
            finish_time: Some(crate::catalog::now()),
            error_msg: error,
            ..self
        }
    }

    /// Logs the end of this task of `job`, which took `duration`: one
    /// event (target `tributary::task`) with what a log shipper counts.
    pub fn log_finished(&self, job: &Job, duration: std::time::Duration) {
        let table = job.qualified_table();
        let stats = &self.statistic;
        tracing::info!(
            target: "tributary::task",
            job = %job.name,
            table = %table,
            task = self.id,
            outcome = %self.status,
            files = stats.file_number,
            rows = stats.scanned_rows,
            filtered_rows = stats.filtered_rows,
            bytes = stats.file_size,
            duration_ms = duration.as_millis() as u64,
            error = self.error_msg.as_deref().unwrap_or(""),
            "task finished"
        );
    }
}

impl Job {
    /// The job's target table as `database.table`.
    pub fn qualified_table(&self) -> String {
        format!("{}.{}", self.database, self.table)
    }

    /// Records `task` as failed with `message` (its row in `tasks()`,
    /// `FailedTaskCount`); the next task gets the next id.
    pub fn record_failed_task(&mut self, task: Task, message: &str) {
        self.next_task_id = task.id + 1;
        self.failed_task_count += 1;
        self.push_task(task.finished(TaskStatus::Failed, Some(message.to_string())));
    }

    /// Ends a running job whose schedule will fire no more (FINISHED).
    pub fn finish_if_schedule_over(&mut self) {
        let over = self
            .schedule
            .as_ref()
            .is_some_and(|s| s.is_over(schedule::now_seconds()));
        if over {
            self.status = self.status.finish();
        }
    }

    /// Doris's `ExecuteType`: `STREAMING`, `RECURRING` or `ONE_TIME`.
    pub fn execute_type(&self) -> &'static str {
        self.schedule
            .as_ref()
            .map_or("STREAMING", Schedule::execute_type)
    }

    /// An offset (a store key) as the user sees it: a local file's
    /// absolute path, an S3 key.
    pub fn shown_offset(&self, key: &str) -> String {
        format!("{}{key}", self.offset_prefix)
    }

    /// The store key of an offset the user wrote (as [`Job::shown_offset`]
    /// shows it, or as a key).
    pub fn offset_key(&self, written: &str) -> String {
        let written = written.strip_prefix("file://").unwrap_or(written);
        written
            .strip_prefix(self.offset_prefix.as_str())
            .unwrap_or(written)
            .to_string()
    }

    /// Records a finished task, keeping the most recent ones.
    pub fn push_task(&mut self, task: Task) {
        self.tasks.push(task);
        let excess = self
            .tasks
            .len()
            .saturating_sub(MAX_STREAMING_TASK_SHOW_COUNT);
        self.tasks.drain(..excess);
    }
}

/// Refuses `current` (the job as stored) to a loop that read it as `held`
/// when another process has taken the job since.
fn check_held(current: &Job, held: &Job) -> Result<()> {
    if current.id != held.id {
        return Err(Error::UnknownJob(held.name.clone()));
    }
    if current.lease_epoch != held.lease_epoch {
        return Err(Error::LeaseLost {
            job: held.name.clone(),
            epoch: current.lease_epoch,
        });
    }
    Ok(())
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct JobState {
    next_job_id: u64,
    jobs: BTreeMap<String, Job>,
}

/// All jobs of one warehouse.
#[derive(Debug)]
pub struct JobStore {
    document: Document<JobState>,
    key_path: std::path::PathBuf,
    /// Counts changes, for those that follow them ([`JobStore::watch`]).
    changes: tokio::sync::watch::Sender<u64>,
}

impl JobStore {
    /// Loads the job store of `warehouse`, or starts an empty one.
    pub async fn load(warehouse: Arc<Warehouse>) -> Result<Self> {
        let document = Document::load(warehouse, JOBS_FILE, "job store", || JobState {
            next_job_id: 1,
            jobs: BTreeMap::new(),
        })
        .await?;
        Ok(Self {
            document,
            key_path: default_key_path(),
            changes: tokio::sync::watch::Sender::new(0),
        })
    }

    /// Splits a job's SQL into what is stored in the clear (secrets blanked)
    /// and, when it carries secrets, the full SQL sealed.
    pub fn seal_sql(&self, sql: &str) -> Result<(String, Option<String>)> {
        let redacted = crate::parse::redact_secrets(sql);
        if redacted == sql {
            return Ok((redacted, None));
        }
        let sealed = SecretKey::load_or_create(&self.key_path)?.seal(sql)?;
        Ok((redacted, Some(sealed)))
    }

    /// The SQL a job runs, credentials included.
    pub fn execute_sql(&self, job: &Job) -> Result<String> {
        match &job.sealed_sql {
            None => Ok(job.sql.clone()),
            Some(sealed) => SecretKey::load(&self.key_path)?.open(sealed),
        }
    }

    /// Every job, by name.
    pub fn jobs(&self) -> Vec<Job> {
        self.document.snapshot().jobs.values().cloned().collect()
    }

    /// The job named `name`.
    pub fn job(&self, name: &str) -> Result<Job> {
        self.document
            .snapshot()
            .jobs
            .get(name)
            .cloned()
            .ok_or_else(|| Error::UnknownJob(name.to_string()))
    }

    /// Reads the store again from the warehouse, for the changes other
    /// processes made; tells the followers when there are some.
    pub async fn refresh(&self) -> Result<()> {
        if self.document.refresh().await? {
            self.changes.send_modify(|n| *n += 1);
        }
        Ok(())
    }

    /// Applies `change` to a copy, persists it, publishes it, and tells
    /// the followers.
    async fn update<T>(&self, change: impl FnMut(&mut JobState) -> Result<T>) -> Result<T> {
        let out = self.document.update(change).await?;
        self.changes.send_modify(|n| *n += 1);
        Ok(out)
    }

    /// Writes the ledger records of task `task_id` of job `job_id`.
    pub async fn record_files(
        &self,
        job_id: u64,
        task_id: u64,
        records: &[ledger::FileRecord],
    ) -> Result<()> {
        let warehouse = self.document.warehouse();
        ledger::record(warehouse, ledger::Kind::Files, job_id, task_id, records).await
    }

    /// Records files noticed outside a task when task `task_id` was next
    /// (late files skipped, files queued for retry that are gone).
    pub async fn record_noticed(
        &self,
        job_id: u64,
        task_id: u64,
        records: &[ledger::FileRecord],
    ) -> Result<()> {
        ledger::record_noticed(self.document.warehouse(), job_id, task_id, records).await
    }

    /// Writes what a committed batch holds for the ledger: the rows it left
    /// out, then its files.
    pub async fn record_batch(&self, job_id: u64, batch: &offset::CommittedBatch) -> Result<()> {
        let warehouse = self.document.warehouse();
        let task_id = batch.task.id;
        ledger::record(
            warehouse,
            ledger::Kind::Rejected,
            job_id,
            task_id,
            &batch.rejected,
        )
        .await?;
        ledger::record(
            warehouse,
            ledger::Kind::Files,
            job_id,
            task_id,
            &batch.files,
        )
        .await
    }

    /// The rows job `job_id`'s tasks left out, with their task ids.
    pub async fn rejected_rows(&self, job_id: u64) -> Result<Vec<(u64, ledger::RejectedRow)>> {
        ledger::records(self.document.warehouse(), ledger::Kind::Rejected, job_id).await
    }

    /// The ledger of job `job_id`: the newest record of each file.
    pub async fn files(&self, job_id: u64) -> Result<Vec<ledger::FileRecord>> {
        ledger::files(self.document.warehouse(), job_id).await
    }

    /// Forgets the ledger of a dropped job.
    pub async fn forget_files(&self, job_id: u64) -> Result<()> {
        ledger::forget(self.document.warehouse(), job_id).await
    }

    /// The warehouse the store lives in.
    pub fn warehouse(&self) -> &Arc<Warehouse> {
        self.document.warehouse()
    }

    /// Follows the store: the receiver sees a change after every update.
    pub fn watch(&self) -> tokio::sync::watch::Receiver<u64> {
        self.changes.subscribe()
    }

    /// Adds a job (its id is assigned here) after checking the name and the
    /// job limit.
    pub async fn create(&self, mut job: Job) -> Result<Job> {
        self.update(|state| {
            if let Some(existing) = state.jobs.get(&job.name) {
                return Err(Error::JobExists {
                    name: job.name.clone(),
                    id: existing.id,
                });
            }
            if state.jobs.len() >= MAX_STREAMING_JOB_NUM {
                return Err(Error::TooManyJobs(MAX_STREAMING_JOB_NUM));
            }
            job.id = state.next_job_id;
            state.next_job_id += 1;
            state.jobs.insert(job.name.clone(), job.clone());
            Ok(job.clone())
        })
        .await
    }

    /// Changes a job with `change`, which may refuse.
    pub async fn modify(
        &self,
        name: &str,
        mut change: impl FnMut(&mut Job) -> Result<()>,
    ) -> Result<Job> {
        self.update(|state| {
            let job = state
                .jobs
                .get_mut(name)
                .ok_or_else(|| Error::UnknownJob(name.to_string()))?;
            change(job)?;
            Ok(job.clone())
        })
        .await
    }

    /// Changes `job` with `change` for the loop that runs it, under the
    /// lease epoch the loop read it with; refused ([`Error::LeaseLost`])
    /// when another process has taken the job since (or it was dropped
    /// and made again).
    pub async fn modify_held(
        &self,
        job: &Job,
        mut change: impl FnMut(&mut Job) -> Result<()>,
    ) -> Result<Job> {
        self.modify(&job.name, |j| {
            check_held(j, job)?;
            change(j)
        })
        .await
    }

    /// Whether the loop that read `job` still runs it, as the warehouse
    /// says now: checked before the loop writes records outside the store
    /// (the ledger), where [`JobStore::modify_held`] cannot refuse them.
    pub async fn check_held(&self, job: &Job) -> Result<()> {
        self.refresh().await?;
        let current = self.job(&job.name)?;
        check_held(&current, job)
    }

    /// Removes a job.
    pub async fn remove(&self, name: &str) -> Result<Job> {
        self.update(|state| {
            state
                .jobs
                .remove(name)
                .ok_or_else(|| Error::UnknownJob(name.to_string()))
        })
        .await
    }
}
