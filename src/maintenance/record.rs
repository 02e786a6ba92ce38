//! What maintenance last did to a table: when a compaction last rewrote
//! fragments and when old versions were last removed, for `SHOW TABLE
//! STATUS`. One small document in the table's directory
//! (`_tributary/maintenance.json`, outside what Lance manages, removed
//! with the table), written by the process that maintained it.

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use super::Maintained;
use crate::catalog::TableDef;
use crate::error::Result;
use crate::warehouse::Warehouse;

/// Unix milliseconds of the last compaction and the last cleanup that
/// changed the table.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Record {
    pub last_compaction_ms: Option<i64>,
    pub last_cleanup_ms: Option<i64>,
}

fn path(def: &TableDef) -> String {
    format!("{}/_tributary/maintenance.json", def.location)
}

/// The table's record; empty if it was never maintained (or the record
/// cannot be read as one).
pub(crate) async fn read(warehouse: &Warehouse, def: &TableDef) -> Result<Record> {
    Ok(warehouse
        .read(&path(def))
        .await?
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .unwrap_or_default())
}

/// Notes what a round of maintenance did at `now_ms`; nothing is written
/// when it did nothing.
pub(crate) async fn note(
    warehouse: &Warehouse,
    def: &TableDef,
    done: &Maintained,
    now_ms: i64,
) -> Result<()> {
    let compacted = done.fragments_removed > 0;
    let cleaned = done.versions_removed > 0;
    if !compacted && !cleaned {
        return Ok(());
    }
    let mut record = read(warehouse, def).await?;
    if compacted {
        record.last_compaction_ms = Some(now_ms);
    }
    if cleaned {
        record.last_cleanup_ms = Some(now_ms);
    }
    let json = serde_json::to_vec(&record).expect("a record serializes");
    warehouse.write(&path(def), Bytes::from(json)).await
}
