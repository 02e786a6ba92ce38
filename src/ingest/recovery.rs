//! Bringing a job's store up to date with the batches committed that it
//! does not know of (a crash between a commit and the store update, or a
//! commit of another process), by the process that holds the job's lease:
//! when its loop starts, when it takes the job over, and after its own
//! commit was refused for another's (the rule is in
//! [`crate::job::offset`]).

use crate::engine::Engine;
use crate::error::Result;
use crate::job::offset::{apply, commits_after};
use crate::job::Job;

/// Applies the job's commits the store missed; returns the job as it is
/// now. Refused ([`crate::error::Error::LeaseLost`]) when another process
/// took the job since `job` was read.
pub async fn recover(engine: &Engine, job: Job) -> Result<Job> {
    let catalog = engine.catalog();
    let Ok(def) = catalog.table(&job.database, &job.table) else {
        // The task that finds the table gone says so.
        return Ok(job);
    };
    let dataset = catalog.open_dataset(&def).await?;
    let commits = commits_after(&job, &dataset).await?;
    if commits.is_empty() {
        return Ok(job);
    }
    tracing::info!(job = %job.name, batches = commits.len(), "recording batches committed that the job store missed");
    // The ledger first: once the store knows a commit, it is not recovered
    // again. A commit's records are true whoever writes them.
    for batch in commits.iter().filter_map(|c| c.batch()) {
        engine.jobs().record_batch(job.id, batch).await?;
    }
    engine
        .jobs()
        .modify_held(&job, |j| {
            for commit in commits.iter().cloned() {
                apply(j, commit);
            }
            Ok(())
        })
        .await
}
