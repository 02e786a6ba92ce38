//! SHOW DATABASES, SHOW TABLES, DESC and SHOW CREATE TABLE, with the columns
//! Doris prints.

use crate::catalog::TableDef;
use crate::error::{Error, Result};
use crate::parse::TableName;
use crate::session::{Session, StatementResult};

use super::database_of;
use super::ddl::ignored_clauses_warning;

pub(super) fn databases(session: &Session) -> Result<StatementResult> {
    let rows = session
        .engine()
        .catalog()
        .database_names()
        .into_iter()
        .map(|name| vec![Some(name)])
        .collect();
    Ok(StatementResult::strings(&["Database"], rows))
}

pub(super) fn tables(session: &Session, database: Option<String>) -> Result<StatementResult> {
    let database = database
        .or_else(|| session.database().map(str::to_string))
        .ok_or(Error::NoDatabaseSelected)?;
    let rows = session
        .engine()
        .catalog()
        .table_names(&database)?
        .into_iter()
        .map(|name| vec![Some(name)])
        .collect();
    Ok(StatementResult::strings(
        &[&format!("Tables_in_{database}")],
        rows,
    ))
}

fn table_def(session: &Session, name: &TableName) -> Result<TableDef> {
    let database = database_of(session, name)?;
    session.engine().catalog().table(&database, &name.table)
}

pub(super) fn describe(session: &Session, name: &TableName) -> Result<StatementResult> {
    let def = table_def(session, name)?;
    let rows = def
        .columns
        .iter()
        .map(|c| {
            vec![
                Some(c.name.clone()),
                Some(c.sql_type.to_string()),
                Some(if c.nullable { "Yes" } else { "No" }.to_string()),
                Some("false".to_string()),
                None,
                Some(c.comment.clone().unwrap_or_default()),
            ]
        })
        .collect();
    Ok(
        StatementResult::strings(&["Field", "Type", "Null", "Key", "Default", "Extra"], rows)
            .with_warnings(ignored_clauses_warning(&def)),
    )
}

pub(super) fn create_table(session: &Session, name: &TableName) -> Result<StatementResult> {
    let def = table_def(session, name)?;
    Ok(StatementResult::strings(
        &["Table", "Create Table"],
        vec![vec![Some(def.name.clone()), Some(create_table_sql(&def))]],
    ))
}

/// The `CREATE TABLE` statement that recreates `def` in tributary.
fn create_table_sql(def: &TableDef) -> String {
    let columns: Vec<String> = def
        .columns
        .iter()
        .map(|c| {
            let mut line = format!("  `{}` {}", c.name, c.sql_type);
            if !c.nullable {
                line.push_str(" NOT NULL");
            }
            if let Some(comment) = &c.comment {
                line.push_str(&format!(" COMMENT '{}'", escape(comment)));
            }
            line
        })
        .collect();
    let mut sql = format!("CREATE TABLE `{}` (\n{}\n)", def.name, columns.join(",\n"));
    if let Some(comment) = &def.comment {
        sql.push_str(&format!(" COMMENT '{}'", escape(comment)));
    }
    sql
}

fn escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('\'', "\\'")
}
