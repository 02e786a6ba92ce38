//! `CREATE INDEX`, `DROP INDEX` and `SHOW INDEX` on Lance scalar indexes.
//! A query whose filter an index answers reads only the rows it names in
//! the fragments the index covers; table maintenance folds the fragments
//! loaded since into the index ([`crate::maintenance::indexes`]).

use lance::index::{DatasetIndexExt, DatasetIndexInternalExt};
use lance::Dataset;
use lance_index::scalar::{BuiltinIndexType, InvertedIndexParams, ScalarIndexParams};
use lance_index::{IndexParams, IndexType};

use crate::catalog::names::{check_name, NameKind};
use crate::catalog::TableDef;
use crate::error::{Error, Result};
use crate::maintenance::zone_maps::{self, is_zone_map};
use crate::parse::{IndexKind, TableName};
use crate::session::{Session, StatementResult};
use crate::write::dictionary::{self, DICTIONARY_COLUMNS};

use super::{table_def, table_to_change};

/// The table's dataset, and whether it has an index `name`.
async fn with_index(session: &Session, def: &TableDef, name: &str) -> Result<(Dataset, bool)> {
    let dataset = session.engine().catalog().open_dataset(def).await?;
    let existing = dataset
        .load_indices_by_name(name)
        .await
        .map_err(|e| Error::lance(dataset.uri(), e))?;
    Ok((dataset, !existing.is_empty()))
}

/// Builds index `name` of `kind` on `column` of the table.
pub(super) async fn create_index(
    session: &Session,
    name: &str,
    table: &TableName,
    column: &str,
    kind: IndexKind,
    if_not_exists: bool,
) -> Result<StatementResult> {
    check_name(NameKind::Index, name)?;
    let def = table_to_change(session, table)?;
    let Some(col) = def.columns.iter().find(|c| c.name == column) else {
        return Err(Error::InvalidTable(format!(
            "table {}.{} has no column '{column}' to index",
            def.database, def.name
        )));
    };
    if kind == IndexKind::Inverted && !col.sql_type.arrow_type().is_string() {
        return Err(Error::InvalidTable(format!(
            "an INVERTED index is for text: column '{column}' is {}; use USING BTREE or BITMAP",
            col.sql_type
        )));
    }
    let (mut dataset, exists) = with_index(session, &def, name).await?;
    let uri = dataset.uri().to_string();
    if dictionary::stored_columns(&dataset)
        .iter()
        .any(|c| c == column)
    {
        return Err(Error::InvalidTable(format!(
            "column '{column}' of {} is stored as a dictionary (\"{DICTIONARY_COLUMNS}\"), which Lance does not index: a filter on it scans the column, quick to read as a dictionary",
            def.qualified_name()
        )));
    }
    if exists {
        return match if_not_exists {
            true => Ok(StatementResult::affected(0)),
            false => Err(Error::InvalidTable(format!(
                "table {}.{} already has an index '{name}': DROP INDEX {name} ON {} first, or give another name",
                def.database, def.name, def.name
            ))),
        };
    }
    // Lance plans a text query on an INVERTED index built without rows
    // but cannot run it (an internal error) until the index covers a
    // fragment.
    if kind == IndexKind::Inverted && dataset.manifest().fragments.is_empty() {
        return Err(Error::InvalidTable(format!(
            "table {}.{} has no rows yet, and an INVERTED index is built from them: load the table first, then CREATE INDEX (table maintenance keeps it current after)",
            def.database, def.name
        )));
    }
    let (index_type, params) = lance_params(kind);
    dataset
        .create_index(
            &[column],
            index_type,
            Some(name.to_string()),
            params.as_ref(),
            false,
        )
        .await
        .map_err(|e| Error::lance(&uri, e))?;
    zone_maps::give_way(&mut dataset, column).await?;
    tracing::info!(table = %def.qualified_name(), index = name, kind = kind.name(), "created index");
    Ok(StatementResult::affected(0))
}

/// The warning for Doris's index PROPERTIES (its parsers and their
/// options), which Lance's indexes do not take.
pub(super) fn ignored_properties(properties: &[(String, String)]) -> Vec<String> {
    if properties.is_empty() {
        return Vec::new();
    }
    let keys: Vec<&str> = properties.iter().map(|(k, _)| k.as_str()).collect();
    vec![format!(
        "index PROPERTIES ignored ({}): an INVERTED index splits text on spaces and punctuation, in lower case",
        keys.join(", ")
    )]
}

fn lance_params(kind: IndexKind) -> (IndexType, Box<dyn IndexParams>) {
    match kind {
        // Doris's english parser: words split on spaces and punctuation,
        // lower case, not stemmed, stop words kept, accents kept; what
        // `plan::text_search` compares, so that Lance answers its
        // `contains_tokens` from the index.
        IndexKind::Inverted => (
            IndexType::Inverted,
            Box::new(
                InvertedIndexParams::default()
                    .stem(false)
                    .remove_stop_words(false)
                    .ascii_folding(false)
                    .max_token_length(None),
            ),
        ),
        IndexKind::Bitmap => (
            IndexType::Bitmap,
            Box::new(ScalarIndexParams::for_builtin(BuiltinIndexType::Bitmap)),
        ),
        IndexKind::BTree => (
            IndexType::BTree,
            Box::new(ScalarIndexParams::for_builtin(BuiltinIndexType::BTree)),
        ),
    }
}

/// Drops index `name` of the table.
pub(super) async fn drop_index(
    session: &Session,
    name: &str,
    table: &TableName,
    if_exists: bool,
) -> Result<StatementResult> {
    let def = table_to_change(session, table)?;
    let (mut dataset, exists) = with_index(session, &def, name).await?;
    let uri = dataset.uri().to_string();
    if !exists {
        return match if_exists {
            true => Ok(StatementResult::affected(0)),
            false => Err(Error::InvalidTable(format!(
                "table {}.{} has no index '{name}' (SHOW INDEX FROM {} lists them)",
                def.database, def.name, def.name
            ))),
        };
    }
    dataset
        .drop_index(name)
        .await
        .map_err(|e| Error::lance(&uri, e))?;
    Ok(StatementResult::affected(0))
}

/// Doris's `SHOW INDEX` columns, then how many of the table's fragments
/// the index does not cover yet.
const COLUMNS: [&str; 14] = [
    "Table",
    "Non_unique",
    "Key_name",
    "Seq_in_index",
    "Column_name",
    "Collation",
    "Cardinality",
    "Sub_part",
    "Packed",
    "Null",
    "Index_type",
    "Comment",
    "Properties",
    "Unindexed_fragments",
];

/// One row per index of the table.
pub(super) async fn show_indexes(session: &Session, table: &TableName) -> Result<StatementResult> {
    let def = table_def(session, table)?;
    let dataset = session.engine().catalog().open_dataset(&def).await?;
    let uri = dataset.uri().to_string();
    let lance = |e| Error::lance(&uri, e);
    let mut rows = Vec::new();
    let described = dataset.describe_indices(None).await.map_err(lance)?;
    for index in described.iter().filter(|i| !is_zone_map(i.name())) {
        let column = index
            .field_ids()
            .first()
            .and_then(|id| dataset.schema().field_by_id(*id as i32))
            .map(|f| f.name.clone());
        let nullable = column
            .as_ref()
            .and_then(|c| def.columns.iter().find(|d| &d.name == c))
            .is_some_and(|c| c.nullable);
        let unindexed = dataset
            .unindexed_fragments(index.name())
            .await
            .map_err(lance)?
            .len();
        rows.push(vec![
            Some(def.name.clone()),
            Some("1".to_string()),
            Some(index.name().to_string()),
            Some("1".to_string()),
            column,
            None,
            None,
            None,
            None,
            Some(if nullable { "YES" } else { "" }.to_string()),
            Some(kind_name(index.index_type()).to_string()),
            Some(String::new()),
            Some(String::new()),
            Some(unindexed.to_string()),
        ]);
    }
    Ok(StatementResult::strings(&COLUMNS, rows))
}

/// Doris's name for the kind of a Lance index.
fn kind_name(lance_type: &str) -> &str {
    match lance_type.to_ascii_lowercase().as_str() {
        "inverted" => "INVERTED",
        "bitmap" => "BITMAP",
        "btree" => "BTREE",
        _ => lance_type,
    }
}
