//! Keeping a table's indexes current under a load: the fragments
//! committed since an index was built (or last caught up) are folded into
//! it with Lance's `optimize_indices`, so that a query uses the index for
//! all but the newest fragments.

use lance::index::{DatasetIndexExt, DatasetIndexInternalExt};
use lance::Dataset;
use lance_index::is_system_index;
use lance_index::optimize::OptimizeOptions;

use crate::error::{Error, Result};

/// Folds the fragments no index covers yet into their indexes; the
/// indexes that were behind.
pub(crate) async fn catch_up(dataset: &mut Dataset) -> Result<Vec<String>> {
    let behind = behind(dataset).await?;
    if !behind.is_empty() {
        let options = OptimizeOptions::new().index_names(behind.clone());
        dataset
            .optimize_indices(&options)
            .await
            .map_err(|e| Error::lance(dataset.uri(), e))?;
    }
    Ok(behind)
}

/// The indexes of the table that do not cover all its fragments.
pub(crate) async fn behind(dataset: &Dataset) -> Result<Vec<String>> {
    let uri = dataset.uri().to_string();
    let lance = |e| Error::lance(&uri, e);
    let mut names: Vec<String> = dataset
        .load_indices()
        .await
        .map_err(lance)?
        .iter()
        .filter(|index| !is_system_index(index))
        .map(|index| index.name.clone())
        .collect();
    names.sort();
    names.dedup();
    let mut behind = Vec::new();
    for name in names {
        if !dataset
            .unindexed_fragments(&name)
            .await
            .map_err(lance)?
            .is_empty()
        {
            behind.push(name);
        }
    }
    Ok(behind)
}
