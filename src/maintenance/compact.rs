//! Compaction: when a table has enough small fragments, Lance's compaction
//! rewrites them into a few large ones in one Rewrite commit.

use lance::dataset::optimize::{compact_files, CompactionMetrics, CompactionOptions};
use lance::Dataset;

use super::settings::Settings;
use crate::error::{Error, Result};

/// The share of deleted rows that makes a fragment worth rewriting.
const DELETED_SHARE: f32 = 0.1;

/// What a table's fragments look like.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Fragments {
    pub fragments: usize,
    pub small: usize,
    pub rows: u64,
    pub deleted_rows: u64,
    /// Fragments with more than [`DELETED_SHARE`] of their rows deleted.
    pub mostly_deleted: usize,
}

/// The fragments of `dataset`'s version; those with fewer than
/// `small_rows` rows are small.
pub(crate) fn fragments(dataset: &Dataset, small_rows: usize) -> Fragments {
    let mut seen = Fragments::default();
    for fragment in dataset.manifest().fragments.iter() {
        let rows = fragment.physical_rows.unwrap_or(0);
        let deleted = fragment
            .deletion_file
            .as_ref()
            .and_then(|d| d.num_deleted_rows)
            .unwrap_or(0);
        seen.fragments += 1;
        seen.small += usize::from(rows < small_rows);
        seen.rows += rows as u64;
        seen.deleted_rows += deleted as u64;
        seen.mostly_deleted +=
            usize::from(rows > 0 && deleted as f32 / rows as f32 > DELETED_SHARE);
    }
    seen
}

/// Whether the table has enough small fragments, or one mostly deleted,
/// to compact.
pub(crate) fn needed(dataset: &Dataset, settings: &Settings) -> bool {
    let seen = fragments(dataset, settings.small_fragment_rows());
    seen.small >= settings.min_small_fragments || seen.mostly_deleted > 0
}

/// Compacts the small fragments of `dataset` (and those with many deleted
/// rows) into fragments of the target size, on one thread; fragments
/// that are not small stay as they are, so that no row is rewritten more
/// than a few times.
pub(crate) async fn compact(
    dataset: &mut Dataset,
    settings: &Settings,
) -> Result<CompactionMetrics> {
    let small_rows = settings.small_fragment_rows();
    let settled = dataset
        .manifest()
        .fragments
        .iter()
        .filter(|f| f.physical_rows.unwrap_or(0) >= small_rows && f.deletion_file.is_none())
        .map(|f| f.id as u32)
        .collect();
    let options = CompactionOptions {
        num_threads: Some(1),
        target_rows_per_fragment: settings.target_fragment_rows,
        materialize_deletions_threshold: DELETED_SHARE,
        excluded_fragment_ids: settled,
        ..Default::default()
    };
    let uri = dataset.uri().to_string();
    compact_files(dataset, options, None)
        .await
        .map_err(|e| Error::lance(&uri, e))
}
