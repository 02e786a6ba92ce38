//! Zone maps: the minimum, maximum and null count of a column over every
//! 8,192 rows, kept as Lance `ZONEMAP` scalar indexes that table
//! maintenance builds by itself, as Doris keeps them for every column
//! without being asked. A filter on the column (`=`, `IN`, ranges,
//! `IS NULL`) then reads only the zones whose range can hold its rows;
//! on loads that arrive in order (ids, times, names that grow) that is a
//! few zones of the whole table.
//!
//! They are built once a table has [`MIN_ROWS`] rows (a smaller table is
//! read whole faster than its zones are consulted), on each top-level
//! column of an ordered type, and the fragments loaded after are folded
//! in like any index's ([`super::indexes`]). `SHOW INDEX` lists only the
//! indexes users created.
//!
//! A column a user indexed has no zone map: Lance answers a filter on a
//! column from the first of its indexes that takes the column, so a zone
//! map built before an `INVERTED` index would leave every text search to
//! read the whole table, and one built before a `BTREE` would answer its
//! lookups zone by zone. `CREATE INDEX` drops the column's zone map
//! ([`give_way`]); maintenance builds it again once the index is dropped.

use lance::index::DatasetIndexExt;
use lance::Dataset;
use lance_index::scalar::{BuiltinIndexType, ScalarIndexParams};
use lance_index::{is_system_index, IndexType};

use datafusion::arrow::datatypes::DataType;

use crate::catalog::{SqlType, TableDef};
use crate::error::{Error, Result};

/// The rows a table has before its zone maps are built: eight zones.
pub(crate) const MIN_ROWS: usize = 8 * 8192;

/// What every zone map's index name starts with; no user index can have
/// it, as index names are identifiers that start with a letter.
const PREFIX: &str = "__zonemap_";

/// Whether `name` is one of the zone maps maintenance keeps.
pub(crate) fn is_zone_map(name: &str) -> bool {
    name.starts_with(PREFIX)
}

/// The columns of `def`'s table that should have a zone map and have none
/// yet, with the index name each gets (by the column's Lance field id, so
/// that a renamed column keeps its zone map).
pub(crate) async fn missing(dataset: &Dataset, def: &TableDef) -> Result<Vec<(String, String)>> {
    if row_count(dataset) < MIN_ROWS {
        return Ok(Vec::new());
    }
    let indexes = dataset
        .load_indices()
        .await
        .map_err(|e| Error::lance(dataset.uri(), e))?;
    let json: Vec<&str> = (def.columns.iter())
        .filter(|c| c.sql_type == SqlType::Json)
        .map(|c| c.name.as_str())
        .collect();
    let user_indexed: Vec<i32> = (indexes.iter())
        .filter(|index| !is_zone_map(&index.name) && !is_system_index(index))
        .flat_map(|index| index.fields.iter().copied())
        .collect();
    Ok(dataset
        .schema()
        .fields
        .iter()
        .filter(|f| ordered(&f.data_type()) && !json.contains(&f.name.as_str()))
        .filter(|f| !user_indexed.contains(&f.id))
        .map(|f| (f.name.clone(), zone_map_name(f.id)))
        .filter(|(_, name)| !indexes.iter().any(|index| &index.name == name))
        .collect())
}

/// The name of the zone map of the column with Lance field id `field`.
fn zone_map_name(field: i32) -> String {
    format!("{PREFIX}{field}")
}

/// Drops the zone map of `column`, if it has one, so that the index a
/// user just built on it is the one Lance answers its filters from.
pub(crate) async fn give_way(dataset: &mut Dataset, column: &str) -> Result<()> {
    let Some(field) = dataset.schema().field(column) else {
        return Ok(());
    };
    let name = zone_map_name(field.id);
    let uri = dataset.uri().to_string();
    let existing =
        (dataset.load_indices_by_name(&name).await).map_err(|e| Error::lance(&uri, e))?;
    if existing.is_empty() {
        return Ok(());
    }
    dataset
        .drop_index(&name)
        .await
        .map_err(|e| Error::lance(&uri, e))
}

/// Builds the zone maps [`missing`] names, one Lance commit each; the
/// columns it built them on.
pub(crate) async fn build(dataset: &mut Dataset, def: &TableDef) -> Result<Vec<String>> {
    let missing = missing(dataset, def).await?;
    let params = ScalarIndexParams::for_builtin(BuiltinIndexType::ZoneMap);
    for (column, name) in &missing {
        let uri = dataset.uri().to_string();
        dataset
            .create_index(
                &[column],
                IndexType::ZoneMap,
                Some(name.clone()),
                &params,
                false,
            )
            .await
            .map_err(|e| Error::lance(&uri, e))?;
        tracing::debug!(table = %def.qualified_name(), column = %column, "built zone map");
    }
    Ok(missing.into_iter().map(|(column, _)| column).collect())
}

/// The rows of the dataset's version, from its manifest (no file read).
fn row_count(dataset: &Dataset) -> usize {
    dataset
        .manifest()
        .fragments
        .iter()
        .filter_map(|f| f.num_rows())
        .sum()
}

/// Whether a zone's minimum and maximum can rule out a filter on values
/// of `data_type`: numbers, dates, times and text.
fn ordered(data_type: &DataType) -> bool {
    data_type.is_integer()
        || data_type.is_floating()
        || matches!(
            data_type,
            DataType::Decimal128(..)
                | DataType::Decimal256(..)
                | DataType::Date32
                | DataType::Date64
                | DataType::Timestamp(..)
                | DataType::Utf8
                | DataType::LargeUtf8
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zone_maps_cover_ordered_columns() {
        assert!(ordered(&DataType::Int64));
        assert!(ordered(&DataType::Decimal128(12, 2)));
        assert!(ordered(&DataType::Date32));
        assert!(ordered(&DataType::Utf8));
        assert!(!ordered(&DataType::Boolean));
        assert!(!ordered(&DataType::Binary));
        assert!(is_zone_map("__zonemap_3"));
        assert!(!is_zone_map("idx_id"));
    }
}
