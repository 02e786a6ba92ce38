//! Databases and tables: CREATE, DROP, USE.

use std::collections::HashSet;

use std::collections::BTreeMap;

use crate::catalog::names::{check_name, NameKind};
use crate::catalog::{now, TableDef};
use crate::error::{Error, Result};
use crate::maintenance::settings::Settings;
use crate::parse::{CreateTable, TableName};
use crate::session::{Session, StatementResult};
use crate::write;
use crate::write::dictionary;
use crate::write::encoding::Compression;

use super::database_of;
use super::users::require;
use crate::catalog::users::{Privilege, ALL_DATABASES};

pub(super) async fn create_database(
    session: &Session,
    name: &str,
    if_not_exists: bool,
) -> Result<StatementResult> {
    require(session, Privilege::Admin, ALL_DATABASES)?;
    let created = session
        .engine()
        .catalog()
        .create_database(name, if_not_exists)
        .await?;
    Ok(StatementResult::affected(created as u64))
}

pub(super) async fn drop_database(
    session: &mut Session,
    name: &str,
    if_exists: bool,
) -> Result<StatementResult> {
    require(session, Privilege::Admin, ALL_DATABASES)?;
    let catalog = session.engine().catalog().clone();
    let Some(tables) = catalog.drop_database(name, if_exists).await? else {
        return Ok(StatementResult::affected(0));
    };
    for table in &tables {
        delete_dataset(session, table).await;
    }
    if session.database() == Some(name) {
        session.set_database(None);
    }
    Ok(StatementResult::affected(1))
}

pub(super) fn use_database(session: &mut Session, database: String) -> Result<StatementResult> {
    let database = database.to_lowercase();
    let information_schema = database == crate::catalog::information_schema::INFORMATION_SCHEMA;
    if !information_schema && !session.engine().catalog().database_exists(&database) {
        return Err(Error::UnknownDatabase(database));
    }
    session.set_database(Some(database));
    Ok(StatementResult::affected(0))
}

pub(super) async fn create_table(
    session: &Session,
    create: CreateTable,
) -> Result<StatementResult> {
    let catalog = session.engine().catalog();
    let database = database_of(session, &create.name)?;
    require(session, Privilege::Admin, &database)?;
    let name = create.name.table.clone();
    match catalog.table(&database, &name) {
        Ok(_) if create.if_not_exists => return Ok(StatementResult::affected(0)),
        Ok(_) => {
            return Err(Error::TableExists {
                database,
                table: name,
            })
        }
        Err(Error::UnknownTable { .. }) => {}
        Err(e) => return Err(e),
    }
    check_name(NameKind::Table, &name)?;
    validate_columns(&create)?;
    let properties: BTreeMap<String, String> = create.properties.into_iter().collect();
    Settings::from_properties(&properties)?;
    let compression = Compression::from_properties(&properties)?;
    let dictionaries = dictionary::columns_from_properties(&properties, &create.columns)?;
    let (id, location) = catalog.allocate_table().await?;
    let def = TableDef {
        id,
        database,
        name,
        columns: create.columns,
        comment: create.comment,
        ignored_clauses: create.ignored_clauses,
        properties,
        location,
        created_at: now(),
        last_schema_change: None,
    };
    let warehouse = catalog.warehouse();
    warehouse.check_inside(&def.location)?;
    write::create_dataset(
        &warehouse.uri(&def.location),
        dictionary::stored_schema(&def.arrow_schema(), &dictionaries),
        compression,
        warehouse.storage_options(),
    )
    .await?;
    let warnings = ignored_clauses_warning(&def);
    if let Err(e) = catalog.add_table(def.clone()).await {
        delete_dataset(session, &def).await;
        return Err(e);
    }
    tracing::info!(table = %def.qualified_name(), location = %def.location, "created table");
    Ok(StatementResult::affected(0).with_warnings(warnings))
}

/// The warning shown for Doris clauses a table definition carried.
pub(crate) fn ignored_clauses_warning(def: &TableDef) -> Vec<String> {
    if def.ignored_clauses.is_empty() {
        return vec![];
    }
    vec![format!(
        "Doris clauses ignored (Lance tables have no keys, buckets or partitions): {}",
        def.ignored_clauses.join("; ")
    )]
}

fn validate_columns(create: &CreateTable) -> Result<()> {
    if create.columns.is_empty() {
        return Err(Error::InvalidTable(format!(
            "table '{}' needs at least one column",
            create.name.table
        )));
    }
    let mut seen = HashSet::new();
    for column in &create.columns {
        check_name(NameKind::Column, &column.name)?;
        if !seen.insert(column.name.as_str()) {
            return Err(Error::InvalidTable(format!(
                "duplicate column name '{}'",
                column.name
            )));
        }
        column.check_default().map_err(Error::InvalidTable)?;
    }
    Ok(())
}

pub(super) async fn drop_table(
    session: &Session,
    name: &TableName,
    if_exists: bool,
) -> Result<StatementResult> {
    let catalog = session.engine().catalog();
    let database = database_of(session, name)?;
    require(session, Privilege::Admin, &database)?;
    let def = match catalog.remove_table(&database, &name.table).await {
        Ok(def) => def,
        Err(Error::UnknownTable { .. } | Error::UnknownDatabase(_)) if if_exists => {
            return Ok(StatementResult::affected(0))
        }
        Err(e) => return Err(e),
    };
    delete_dataset(session, &def).await;
    Ok(StatementResult::affected(0))
}

/// Deletes a dropped table's files. The table is already gone from the
/// catalog, so a failure only leaves unreferenced files behind: log it.
async fn delete_dataset(session: &Session, def: &TableDef) {
    let warehouse = session.engine().catalog().warehouse();
    if let Err(e) = warehouse.delete_prefix(&def.location).await {
        tracing::warn!(location = %def.location, error = %e, "could not delete the files of a dropped table");
    }
}
