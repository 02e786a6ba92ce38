//! Removing old versions: versions past the table's retention, and the
//! data files only they reference. The versions that hold a job's commit
//! its store has not recorded stay, with every version after them, so
//! that recovery finds them ([`crate::job::offset`]).

use std::time::Duration;

use lance::dataset::cleanup::{CleanupPolicy, RemovalStats};
use lance::Dataset;

use crate::catalog::TableDef;
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::job::offset::commits_after;

/// The first version that must stay: the oldest commit of a job on the
/// table that its store has not recorded, or the oldest version a
/// statement or task of this process reads, else the newest version.
pub(crate) async fn first_kept(engine: &Engine, def: &TableDef, dataset: &Dataset) -> Result<u64> {
    let mut first = dataset.version().version;
    if let Some(pinned) = engine.catalog().pins().oldest(def.id) {
        first = first.min(pinned);
    }
    let jobs = engine.jobs().jobs();
    for job in jobs
        .iter()
        .filter(|j| j.database == def.database && j.table == def.name)
    {
        let unrecorded = commits_after(job, dataset).await?;
        if let Some(version) = unrecorded.first().and_then(|c| c.version()) {
            first = first.min(version);
        }
    }
    Ok(first)
}

/// Whether `dataset` has a version older than `retention` besides its
/// newest one (that [`first_kept`] may still keep).
pub(crate) async fn due(dataset: &Dataset, retention: Duration) -> Result<bool> {
    let versions = crate::write::versions(dataset).await?;
    let retention = chrono::Duration::from_std(retention).unwrap_or(chrono::Duration::MAX);
    let cutoff = chrono::Utc::now() - retention;
    Ok(versions.len() > 1 && versions.first().is_some_and(|v| v.timestamp < cutoff))
}

/// Removes the versions of `dataset` older than `retention` and before
/// [`first_kept`], and the files only they reference.
pub(crate) async fn remove_old_versions(
    engine: &Engine,
    def: &TableDef,
    dataset: &Dataset,
    retention: Duration,
) -> Result<RemovalStats> {
    let before_version = first_kept(engine, def, dataset).await?;
    let retention = chrono::Duration::from_std(retention).unwrap_or(chrono::Duration::MAX);
    let policy = CleanupPolicy {
        before_timestamp: Some(chrono::Utc::now() - retention),
        before_version: Some(before_version),
        error_if_tagged_old_versions: false,
        ..Default::default()
    };
    dataset
        .cleanup_with_policy(policy)
        .await
        .map_err(|e| Error::lance(dataset.uri(), e))
}
