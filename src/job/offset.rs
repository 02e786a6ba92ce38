//! The offset travels in the table's own commit: what a streaming task
//! commits besides its rows, how a job finds where to resume, and how its
//! store is brought up to date with what was committed.
//!
//! A task's Lance commit carries, in its transaction properties, the job's
//! new offset ([`offset_key`]: the last file of the batch) and the finished
//! task with its statistics and its files' ledger records ([`batch_key`]).
//! The job store is updated only after that commit, and remembers in
//! `committed_version` the table version of the last commit it knows of.
//!
//! The committed versions are the truth; the store's counters, its task
//! rows and the file ledger are views of them. The recovery rule: every
//! commit of the job after the store's `committed_version` happened, but
//! the store missed it (a crash between the commit and the store update,
//! or a commit of another process). The process that holds the job's
//! lease applies those commits to the store, oldest first, as if their
//! tasks had just finished: offset, counters, task row ([`apply`]). It
//! does so when its loop starts, when it takes the job over from another
//! process, and after its own commit was refused for another's. Applying
//! is idempotent: a commit at or before `committed_version` changes
//! nothing, so however many processes race to record one, it is counted
//! once. A task resumes from the newest such offset, else the store's
//! ([`resume_offset`]). A new job starts at the table's version when it
//! is created, and `ALTER JOB ... "offset"` moves `committed_version` to
//! the table's version, so an explicit offset wins over what was
//! committed before it.

use std::collections::HashMap;

use lance::Dataset;
use serde::{Deserialize, Serialize};

use super::ledger::{FileRecord, RejectedRow};
use super::{Job, Task};
use crate::error::Result;
use crate::write::commits_with_property;

/// The commit property that carries job `id`'s offset.
pub fn offset_key(job_id: u64) -> String {
    format!("tributary.job.{job_id}.offset")
}

/// The commit property that carries the task that committed.
pub fn batch_key(job_id: u64) -> String {
    format!("tributary.job.{job_id}.task")
}

/// The task a commit finished, and the greatest file name its listing saw.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CommittedBatch {
    pub task: Task,
    pub end_offset: String,
    /// The ledger records of the batch's files ([`super::ledger`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<FileRecord>,
    /// The rows the batch left out, as read (up to a cap).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rejected: Vec<RejectedRow>,
}

impl CommittedBatch {
    /// The commit properties of a batch whose offset is `offset`.
    pub fn properties(&self, job_id: u64, offset: &str) -> HashMap<String, String> {
        HashMap::from([
            (offset_key(job_id), offset.to_string()),
            (
                batch_key(job_id),
                serde_json::to_string(self).unwrap_or_default(),
            ),
        ])
    }
}

/// A finished batch of the job, to record in its store.
#[derive(Debug, Clone)]
pub struct Commit {
    /// The table version that holds it; `None` for a batch of empty files,
    /// which added no rows and made no commit.
    version: Option<u64>,
    offset: String,
    batch: Option<CommittedBatch>,
}

impl Commit {
    /// The table version that holds it (`None` for a batch that made no
    /// commit).
    pub fn version(&self) -> Option<u64> {
        self.version
    }

    /// The finished batch, when the commit recorded a task.
    pub fn batch(&self) -> Option<&CommittedBatch> {
        self.batch.as_ref()
    }

    /// The store keys of the files the batch loaded, as `job` names them.
    pub fn files<'a>(&'a self, job: &'a Job) -> impl Iterator<Item = String> + 'a {
        self.batch
            .iter()
            .flat_map(|b| b.files.iter())
            .map(|f| job.offset_key(&f.file))
    }

    /// Table version `version` holding the batch up to file `offset`,
    /// finished as `batch` (`None` for a commit that recorded no task).
    pub fn new(version: Option<u64>, offset: String, batch: Option<CommittedBatch>) -> Self {
        Self {
            version,
            offset,
            batch,
        }
    }
}

/// The job's commits after the store's `committed_version`, oldest first.
pub async fn commits_after(job: &Job, dataset: &Dataset) -> Result<Vec<Commit>> {
    let key = offset_key(job.id);
    let commits = commits_with_property(dataset, &key, job.committed_version).await?;
    Ok(commits
        .into_iter()
        .map(|(version, properties)| Commit {
            version: Some(version),
            offset: properties[&key].clone(),
            batch: properties
                .get(&batch_key(job.id))
                .and_then(|b| serde_json::from_str(b).ok()),
        })
        .collect())
}

/// Records a finished batch in the store: a task's own outcome, or a
/// commit the store missed, as if its task had just finished. A commit the
/// store already knows (at or before its `committed_version`) changes
/// nothing.
pub fn apply(job: &mut Job, commit: Commit) {
    if let Some(version) = commit.version {
        if version <= job.committed_version {
            return;
        }
        job.committed_version = version;
    }
    job.current_offset = Some(commit.offset);
    let Some(CommittedBatch {
        task,
        end_offset,
        files,
        ..
    }) = commit.batch
    else {
        return;
    };
    // Files queued for retry are loaded now.
    let loaded: Vec<String> = files.iter().map(|f| job.offset_key(&f.file)).collect();
    job.retry_files.retain(|f| !loaded.contains(f));
    job.succeed_task_count += 1;
    job.load_statistic.add(&task.statistic);
    job.end_offset = Some(end_offset);
    job.next_task_id = job.next_task_id.max(task.id + 1);
    job.push_task(task);
}

/// Where the job resumes, given its `commits` after the version the store
/// knows ([`commits_after`]): the newest offset committed, else the
/// store's offset.
pub fn resume_offset(job: &Job, commits: &[Commit]) -> Option<String> {
    commits
        .last()
        .map(|c| c.offset.clone())
        .or_else(|| job.current_offset.clone())
}

/// The table version and the task of the job's commit that loaded `file`
/// (a store key), if one did: the whole commit history is read, whatever
/// the ledger says.
pub async fn loaded_by(job: &Job, dataset: &Dataset, file: &str) -> Result<Option<(u64, u64)>> {
    let everything = Job {
        committed_version: 0,
        ..job.clone()
    };
    let commits = commits_after(&everything, dataset).await?;
    Ok(commits.iter().find_map(|c| {
        let task = c.batch.as_ref()?.task.id;
        c.files(job)
            .any(|f| f == file)
            .then_some((c.version.unwrap_or_default(), task))
    }))
}
