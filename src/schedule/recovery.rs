//! What a task commits to the table besides its rows, and how a job is
//! brought up to date from it after a crash.
//!
//! A task's Lance commit carries, in its transaction properties, the job's
//! new offset ([`offset_key`]) and the finished task with its statistics
//! ([`batch_key`]). The job store is updated only after that commit, so a
//! crash in between leaves the table ahead of the store. The rule: when a
//! job's loop starts, every commit of the job after the store's
//! `committed_version` is applied to the store as if the task had
//! finished (offset, counters, task row), oldest first. Commits before
//! that version are never looked at again, and `ALTER JOB ... "offset"`
//! moves `committed_version` to the table's version so that an explicit
//! offset wins over what was committed before it.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::engine::Engine;
use crate::error::Result;
use crate::job::{Job, Task};
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

/// A commit of the job that the job store does not know of.
struct Commit {
    version: u64,
    offset: String,
    batch: Option<CommittedBatch>,
}

/// Applies to the job store the job's commits after the store's
/// `committed_version` (see the module doc); returns the job as it is now.
pub async fn recover(engine: &Engine, job: Job) -> Result<Job> {
    let catalog = engine.catalog();
    let Ok(def) = catalog.table(&job.database, &job.table) else {
        // The task that finds the table gone says so.
        return Ok(job);
    };
    let dataset = catalog.open_dataset(&def).await?;
    let key = offset_key(job.id);
    let commits: Vec<Commit> = commits_with_property(&dataset, &key, job.committed_version)
        .await?
        .into_iter()
        .map(|(version, properties)| Commit {
            version,
            offset: properties[&key].clone(),
            batch: properties
                .get(&batch_key(job.id))
                .and_then(|b| serde_json::from_str(b).ok()),
        })
        .collect();
    if commits.is_empty() {
        return Ok(job);
    }
    tracing::info!(job = %job.name, batches = commits.len(), "recovering batches committed before a crash");
    engine
        .jobs()
        .modify(&job.name, |j| {
            for commit in commits {
                apply(j, commit);
            }
            Ok(())
        })
        .await
}

fn apply(job: &mut Job, commit: Commit) {
    job.current_offset = Some(commit.offset);
    job.committed_version = commit.version;
    let Some(CommittedBatch { task, end_offset }) = commit.batch else {
        return;
    };
    job.succeed_task_count += 1;
    job.load_statistic.add(&task.statistic);
    job.end_offset = Some(end_offset);
    job.next_task_id = job.next_task_id.max(task.id + 1);
    job.push_task(task);
}
