//! `ADMIN COMPACT TABLE`, `ALTER TABLE ... SET (...)` and `SHOW TABLE
//! STATUS`: table maintenance on demand, its settings, and the state it
//! looks at.

use crate::catalog::TableDef;
use crate::error::{Error, Result};
use crate::maintenance::settings::{self, Settings};
use crate::maintenance::{compact, maintain, record};
use crate::parse::TableName;
use crate::session::{Session, StatementResult};
use crate::write::dictionary::DICTIONARY_COLUMNS;
use crate::write::encoding::Compression;

use super::{database_or_current, table_to_change};

/// Compacts the table and removes its old versions now (ADMIN_PRIV on
/// the table); one row says what was done.
pub(super) async fn admin_compact(session: &Session, name: &TableName) -> Result<StatementResult> {
    let def = table_to_change(session, name)?;
    // Boxed: Lance's compaction future is deep, and every statement's
    // future would otherwise carry its layout.
    let done = Box::pin(maintain(session.engine(), &def, true)).await?;
    Ok(StatementResult::strings(
        &["FragmentsRemoved", "FragmentsAdded", "VersionsRemoved"],
        vec![vec![
            Some(done.fragments_removed.to_string()),
            Some(done.fragments_added.to_string()),
            Some(done.versions_removed.to_string()),
        ]],
    ))
}

/// Sets maintenance properties of the table (ADMIN_PRIV on it); every
/// key must be one tributary reads, with a valid value.
pub(super) async fn alter_table_set(
    session: &Session,
    name: &TableName,
    properties: Vec<(String, String)>,
) -> Result<StatementResult> {
    let catalog = session.engine().catalog();
    let def = table_to_change(session, name)?;
    let properties: Vec<(String, String)> = properties
        .into_iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), v))
        .collect();
    if properties.iter().any(|(k, _)| k == DICTIONARY_COLUMNS) {
        return Err(Error::CannotAlter {
            table: def.qualified_name(),
            reason: format!(
                "\"{DICTIONARY_COLUMNS}\" is chosen when a table is created, as it decides how every file stores the column: create a new table with the columns and PROPERTIES (\"{DICTIONARY_COLUMNS}\" = \"...\") you want, then copy the rows with INSERT INTO <new> SELECT * FROM {}",
                def.qualified_name()
            ),
        });
    }
    if let Some((key, _)) = properties
        .iter()
        .find(|(k, _)| !settings::KEYS.contains(&k.as_str()))
    {
        return Err(Error::UnknownOption {
            key: key.clone(),
            known: settings::KEYS.join(", "),
        });
    }
    let mut merged = def.properties.clone();
    merged.extend(properties.iter().cloned());
    Settings::from_properties(&merged)?;
    let compression = Compression::from_properties(&merged)?;
    if compression != Compression::from_properties(&def.properties)? {
        let mut dataset = catalog.open_dataset(&def).await?;
        compression.apply(&mut dataset).await?;
    }
    catalog
        .set_table_properties(&def.database, &def.name, &properties)
        .await?;
    Ok(StatementResult::affected(0))
}

/// MySQL's `SHOW TABLE STATUS` columns, which tools read by name or
/// position, then the table's maintenance state.
const STATUS_COLUMNS: [&str; 25] = [
    "Name",
    "Engine",
    "Version",
    "Row_format",
    "Rows",
    "Avg_row_length",
    "Data_length",
    "Max_data_length",
    "Index_length",
    "Data_free",
    "Auto_increment",
    "Create_time",
    "Update_time",
    "Check_time",
    "Collation",
    "Checksum",
    "Create_options",
    "Comment",
    "Versions",
    "Fragments",
    "Small_fragments",
    "Deleted_rows",
    "Oldest_version_time",
    "Last_compaction_time",
    "Last_cleanup_time",
];

/// One row per table of the database (the current one by default) whose
/// name matches `like`.
pub(super) async fn table_status(
    session: &Session,
    database: Option<String>,
    like: Option<&str>,
) -> Result<StatementResult> {
    let database = database_or_current(session, database)?;
    let catalog = session.engine().catalog();
    let mut rows = Vec::new();
    for name in catalog.table_names(&database)? {
        if like.is_some_and(|pattern| !crate::parse::like(pattern, &name)) {
            continue;
        }
        let def = catalog.table(&database, &name)?;
        rows.push(status_row(session, &def).await?);
    }
    Ok(StatementResult::strings(&STATUS_COLUMNS, rows))
}

async fn status_row(session: &Session, def: &TableDef) -> Result<Vec<Option<String>>> {
    let dataset = session.engine().catalog().open_dataset(def).await?;
    let small_rows = Settings::of(&def.properties).small_fragment_rows();
    let seen = compact::fragments(&dataset, small_rows);
    let versions = crate::write::versions(&dataset).await?;
    let data_bytes: u64 = dataset
        .manifest()
        .fragments
        .iter()
        .flat_map(|f| f.files.iter())
        .filter_map(|file| file.file_size_bytes.get())
        .map(u64::from)
        .sum();
    let done = record::read(session.engine().catalog().warehouse(), def).await?;
    let time = |t: chrono::DateTime<chrono::Utc>| t.format("%Y-%m-%d %H:%M:%S").to_string();
    let time_ms = |ms: Option<i64>| {
        ms.and_then(chrono::DateTime::from_timestamp_millis)
            .map(time)
    };
    let rows = seen.rows - seen.deleted_rows;
    let text = |s: &str| Some(s.to_string());
    Ok(vec![
        Some(def.name.clone()),
        text("Lance"),
        text("10"),
        text("Dynamic"),
        Some(rows.to_string()),
        Some(data_bytes.checked_div(rows).unwrap_or(0).to_string()),
        Some(data_bytes.to_string()),
        text("0"),
        text("0"),
        text("0"),
        None,
        Some(crate::catalog::shown_time(&def.created_at)),
        versions.last().map(|v| time(v.timestamp)),
        None,
        text("utf8mb4_0900_bin"),
        None,
        text(""),
        Some(def.comment.clone().unwrap_or_default()),
        Some(versions.len().to_string()),
        Some(seen.fragments.to_string()),
        Some(seen.small.to_string()),
        Some(seen.deleted_rows.to_string()),
        versions.first().map(|v| time(v.timestamp)),
        time_ms(done.last_compaction_ms),
        time_ms(done.last_cleanup_ms),
    ])
}
