//! `ALTER TABLE ... ADD/DROP/RENAME/MODIFY COLUMN` and `RENAME`, with
//! `ALTER_PRIV` on the table as Doris asks (tributary's ADMIN_PRIV). A
//! column change is one Lance schema commit, then the catalog: a statement
//! cut short between them is finished by running it again, as the Lance
//! step is skipped when the dataset already has the change. A table a job
//! loads may change its columns; the job's next task plans its INSERT
//! against the new columns (one that names its columns fills an added
//! column with NULL), and an INSERT that no longer fits pauses the job
//! with a message naming the change ([`last_schema_change`]).
//!
//! [`last_schema_change`]: crate::catalog::TableDef::last_schema_change

use std::sync::Arc;

use datafusion::arrow::datatypes::{Field, Schema};
use lance::dataset::{ColumnAlteration, NewColumnTransform};

use super::dml::{lance_value, refused_value};
use super::table_to_change;
use crate::catalog::names::{check_name, NameKind};
use crate::catalog::{Column, TableDef};
use crate::error::{Error, Result};
use crate::parse::{TableChange, TableName};
use crate::session::{Session, StatementResult};
use crate::write::dictionary;
use crate::write::encoding::Compression;

pub(super) async fn alter_table(
    session: &Session,
    table: &TableName,
    change: &TableChange,
) -> Result<StatementResult> {
    let def = table_to_change(session, table)?;
    match change {
        TableChange::AddColumn(column) => add_column(session, &def, column).await?,
        TableChange::DropColumn(name) => drop_column(session, &def, name).await?,
        TableChange::RenameColumn { from, to } => rename_column(session, &def, from, to).await?,
        TableChange::ModifyColumn(column) => modify_column(session, &def, column).await?,
        TableChange::Rename(to) => rename(session, &def, to).await?,
    }
    tracing::info!(table = %def.qualified_name(), ?change, "altered table");
    Ok(StatementResult::affected(0))
}

async fn add_column(session: &Session, def: &TableDef, column: &Column) -> Result<()> {
    let default = column.default.as_deref();
    check_name(NameKind::Column, &column.name)?;
    if find(def, &column.name).is_some() {
        return Err(invalid(
            def,
            format!("it already has a column '{}'", column.name),
        ));
    }
    column
        .check_default()
        .map_err(|reason| invalid(def, reason))?;
    if !column.nullable && default.is_none() {
        return Err(invalid(
            def,
            format!(
                "a NOT NULL column needs a DEFAULT for the rows it has: ADD COLUMN {} {} NOT NULL DEFAULT <value>",
                column.name, column.sql_type
            ),
        ));
    }
    let mut dataset = session.engine().catalog().open_dataset(def).await?;
    if dataset.schema().field(&column.name).is_none() {
        let transform = match default {
            Some(value) => NewColumnTransform::SqlExpressions(vec![(
                column.name.clone(),
                lance_value(session, "ALTER TABLE", def, column, value).await?,
            )]),
            None => NewColumnTransform::AllNulls(Arc::new(Schema::new(vec![Field::new(
                &column.name,
                column.sql_type.arrow_type(),
                true,
            )]))),
        };
        dataset
            .add_columns(transform, None, None)
            .await
            .map_err(|e| refused_value("ALTER TABLE", def, &[&column.name], e))?;
        // The files written for the column from now on are encoded as the
        // table's "compression" says.
        Compression::from_properties(&def.properties)?
            .apply(&mut dataset)
            .await?;
    }
    let mut shown = format!("ADD COLUMN {} {}", column.name, column.sql_type);
    if let Some(value) = default {
        shown.push_str(&format!(" DEFAULT {value}"));
    }
    change_columns(session, def, shown, |table| {
        table.columns.push(column.clone())
    })
    .await
}

async fn drop_column(session: &Session, def: &TableDef, name: &str) -> Result<()> {
    let column = known(def, name)?;
    if def.columns.len() == 1 {
        return Err(invalid(
            def,
            format!("'{}' is its only column: DROP TABLE instead", column.name),
        ));
    }
    let mut dataset = session.engine().catalog().open_dataset(def).await?;
    if dataset.schema().field(&column.name).is_some() {
        let uri = dataset.uri().to_string();
        dataset
            .drop_columns(&[column.name.as_str()])
            .await
            .map_err(|e| Error::lance(uri, e))?;
    }
    let shown = format!("DROP COLUMN {}", column.name);
    change_columns(session, def, shown, |table| {
        table.columns.retain(|c| c.name != column.name);
        dictionary::rename_column(&mut table.properties, &column.name, None);
    })
    .await
}

async fn rename_column(session: &Session, def: &TableDef, from: &str, to: &str) -> Result<()> {
    let column = known(def, from)?;
    let to = to.to_lowercase();
    check_name(NameKind::Column, &to)?;
    if find(def, &to).is_some() {
        return Err(invalid(def, format!("it already has a column '{to}'")));
    }
    let mut dataset = session.engine().catalog().open_dataset(def).await?;
    if dataset.schema().field(&column.name).is_some() {
        let uri = dataset.uri().to_string();
        dataset
            .alter_columns(&[ColumnAlteration::new(column.name.clone()).rename(to.clone())])
            .await
            .map_err(|e| Error::lance(uri, e))?;
    }
    let shown = format!("RENAME COLUMN {} {to}", column.name);
    change_columns(session, def, shown, |table| {
        for c in table.columns.iter_mut().filter(|c| c.name == column.name) {
            c.name = to.clone();
        }
        dictionary::rename_column(&mut table.properties, &column.name, Some(&to));
    })
    .await
}

async fn modify_column(session: &Session, def: &TableDef, to: &Column) -> Result<()> {
    let from = known(def, &to.name)?;
    if !from.sql_type.widens_to(&to.sql_type) {
        return Err(invalid(
            def,
            format!(
                "column {} is {} and cannot become {}: MODIFY COLUMN widens a type (a larger integer, FLOAT to DOUBLE, a longer VARCHAR, more DECIMAL digits); for another change add a column and fill it with UPDATE",
                from.name, from.sql_type, to.sql_type
            ),
        ));
    }
    if from.nullable && !to.nullable {
        return Err(invalid(
            def,
            format!(
                "column {} may hold NULLs and cannot become NOT NULL",
                from.name
            ),
        ));
    }
    let arrow_type = to.sql_type.arrow_type();
    if arrow_type != from.sql_type.arrow_type() {
        let mut dataset = session.engine().catalog().open_dataset(def).await?;
        let stored = dataset.schema().field(&from.name).map(|f| f.data_type());
        if stored.as_ref() != Some(&arrow_type) {
            let uri = dataset.uri().to_string();
            dataset
                .alter_columns(&[ColumnAlteration::new(from.name.clone()).cast_to(arrow_type)])
                .await
                .map_err(|e| {
                    indexed(def, &from.name, e).unwrap_or_else(|e| Error::lance(uri, e))
                })?;
        }
    }
    let shown = format!("MODIFY COLUMN {} {}", from.name, to.sql_type);
    change_columns(session, def, shown, |table| {
        for c in table.columns.iter_mut().filter(|c| c.name == from.name) {
            c.sql_type = to.sql_type.clone();
            c.nullable = to.nullable;
            if to.comment.is_some() {
                c.comment = to.comment.clone();
            }
        }
    })
    .await
}

/// Renames the table, unless a job loads it: a job's INSERT names its
/// table, and `ALTER JOB` keeps the table a job loads.
async fn rename(session: &Session, def: &TableDef, to: &str) -> Result<()> {
    let to = to.to_lowercase();
    check_name(NameKind::Table, &to)?;
    let jobs = session.engine().jobs().jobs();
    if let Some(job) = jobs
        .iter()
        .find(|j| j.database == def.database && j.table == def.name)
    {
        return Err(invalid(
            def,
            format!(
                "job '{}' loads it, and a job's INSERT names its table: DROP JOB WHERE jobName = '{}', rename the table, then create the job again on the new name",
                job.name, job.name
            ),
        ));
    }
    session
        .engine()
        .catalog()
        .rename_table(&def.database, &def.name, &to)
        .await
}

/// Records the new columns and the change that made them.
async fn change_columns(
    session: &Session,
    def: &TableDef,
    shown: String,
    mut change: impl FnMut(&mut TableDef),
) -> Result<()> {
    session
        .engine()
        .catalog()
        .change_table(&def.database, &def.name, |table| {
            change(table);
            table.last_schema_change = Some(shown.clone());
            Ok(())
        })
        .await
}

/// Lance's refusal to cast an indexed column, as what to do about it.
fn indexed(
    def: &TableDef,
    column: &str,
    error: lance::Error,
) -> std::result::Result<Error, lance::Error> {
    let message = error.to_string();
    let Some(names) = message
        .split_once("index(es) attached: [")
        .and_then(|(_, rest)| rest.split_once(']'))
        .map(|(names, _)| names.to_string())
    else {
        return Err(error);
    };
    Ok(invalid(
        def,
        format!(
            "column {column} has index {names}, which a new type would invalidate: DROP INDEX {names} ON {}.{}, MODIFY the column, then CREATE INDEX again",
            def.database, def.name
        ),
    ))
}

fn find<'a>(def: &'a TableDef, name: &str) -> Option<&'a Column> {
    def.columns
        .iter()
        .find(|c| c.name.eq_ignore_ascii_case(name))
}

fn known<'a>(def: &'a TableDef, name: &str) -> Result<&'a Column> {
    find(def, name).ok_or_else(|| {
        invalid(
            def,
            format!(
                "it has no column '{name}' (DESC {}.{} lists its columns)",
                def.database, def.name
            ),
        )
    })
}

fn invalid(def: &TableDef, reason: String) -> Error {
    Error::CannotAlter {
        table: def.qualified_name(),
        reason,
    }
}
