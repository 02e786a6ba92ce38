//! Table maintenance: keeps a continuously loaded table about as small
//! and as fast as if its rows had been loaded at once.
//!
//! Every task of a job commits a few small fragments and a new version.
//! In the background, the process that holds a table's maintenance lease
//! ([`crate::job::lease::LeaseOf::TableMaintenance`], one per table across
//! processes) looks at the table every [`period`] and
//! - **compacts** it ([`compact`]) with Lance's own compaction when it has
//!   enough small fragments (or fragments with many deleted rows): one
//!   Rewrite commit replaces them with a few large ones. Rewrite commits
//!   carry no job's offset, so recovery, the commit fence and
//!   `resume_offset` pass over them; an append that races one is rebased
//!   by Lance, and every row stays once. It runs on one thread and takes
//!   one of the task slots jobs use, so the load keeps the others;
//! - **builds zone maps** ([`zone_maps`]) once the table is large enough
//!   for them to pay, and **folds new fragments into the table's indexes**
//!   and zone maps ([`indexes`]);
//! - **removes old versions** ([`cleanup`]) past the table's retention,
//!   and the data files only they reference, never a version that holds a
//!   job's commit its store has not recorded (recovery reads those), nor
//!   the newest one. Files no version ever referenced (a killed writer's)
//!   are removed once Lance considers them abandoned (7 days).
//!
//! `ADMIN COMPACT TABLE db.tbl` runs the same at once, whatever the table's
//! state; `SHOW TABLE STATUS` shows what it looks at.

pub(crate) mod cleanup;
pub(crate) mod compact;
pub(crate) mod indexes;
pub(crate) mod record;
pub mod settings;
mod supervise;
pub(crate) mod zone_maps;

use std::time::Duration;

pub(crate) use supervise::supervise;

use crate::catalog::TableDef;
use crate::engine::Engine;
use crate::error::Result;

/// How often a table's state is looked at (`TRIBUTARY_MAINTENANCE_SECS`,
/// default a minute).
pub(crate) fn period() -> Duration {
    crate::parse::options::seconds_from_env("TRIBUTARY_MAINTENANCE_SECS", Duration::from_secs(60))
}

/// What one round of maintenance did to a table.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Maintained {
    pub fragments_removed: usize,
    pub fragments_added: usize,
    /// Zone maps built on columns that had none.
    pub zone_maps_built: usize,
    /// Indexes that had fragments to fold in.
    pub indexes_caught_up: usize,
    pub versions_removed: u64,
    pub bytes_removed: u64,
}

/// Maintains `def`'s table once: compacts it when it needs it and its
/// `compaction` property is `auto` (always when `now`, as `ADMIN COMPACT
/// TABLE` asks), then removes the versions and files it no longer needs
/// (past its `version_retention`; all it may when `now`).
pub(crate) async fn maintain(engine: &Engine, def: &TableDef, now: bool) -> Result<Maintained> {
    let settings = settings::Settings::of(&def.properties);
    let mut dataset = engine.catalog().open_dataset(def).await?;
    let mut maintained = Maintained::default();
    if now || (settings.auto && compact::needed(&dataset, &settings)) {
        let _slot = engine.task_slots().clone().acquire_owned().await;
        let metrics = compact::compact(&mut dataset, &settings).await?;
        maintained.fragments_removed = metrics.fragments_removed;
        maintained.fragments_added = metrics.fragments_added;
    }
    maintained.zone_maps_built = zone_maps::build(&mut dataset, def).await?.len();
    maintained.indexes_caught_up = indexes::catch_up(&mut dataset).await?.len();
    let retention = if now {
        Duration::ZERO
    } else {
        settings.retention
    };
    let removed = cleanup::remove_old_versions(engine, def, &dataset, retention).await?;
    maintained.versions_removed = removed.old_versions;
    maintained.bytes_removed = removed.bytes_removed;
    if maintained != Maintained::default() {
        let table = def.qualified_name();
        tracing::info!(table = %table, ?maintained, "table maintained");
        let now_ms = chrono::Utc::now().timestamp_millis();
        let warehouse = engine.catalog().warehouse();
        if let Err(error) = record::note(warehouse, def, &maintained, now_ms).await {
            tracing::warn!(table = %table, error = %error, "cannot note the table's maintenance; SHOW TABLE STATUS shows the one before");
        }
    }
    Ok(maintained)
}

/// Whether `def`'s table has anything for [`maintain`] to do: enough
/// small fragments to compact (when that is automatic), a zone map to
/// build, fragments an index does not cover, or a version past its
/// retention. It only reads, so
/// that a process looks before it writes the table's lease.
pub(crate) async fn due(engine: &Engine, def: &TableDef) -> Result<bool> {
    let settings = settings::Settings::of(&def.properties);
    let dataset = engine.catalog().open_dataset(def).await?;
    if settings.auto && compact::needed(&dataset, &settings) {
        return Ok(true);
    }
    if !zone_maps::missing(&dataset, def).await?.is_empty()
        || !indexes::behind(&dataset).await?.is_empty()
    {
        return Ok(true);
    }
    cleanup::due(&dataset, settings.retention).await
}
