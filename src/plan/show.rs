//! SHOW DATABASES, SHOW TABLES, DESC and SHOW CREATE TABLE, with the columns
//! Doris prints.

use crate::catalog::{sql_type_name, TableDef};
use crate::error::{Error, Result};
use crate::parse::TableName;
use crate::session::{Session, StatementResult};

use super::ddl::ignored_clauses_warning;
use super::{database_or_current, table_def};

/// The databases the session user holds a privilege on (or on one of
/// their tables), as Doris lists them.
pub(super) fn databases(session: &Session) -> Result<StatementResult> {
    let catalog = session.engine().catalog();
    let rows = catalog
        .database_names()
        .into_iter()
        .filter(|name| catalog.can_see_database(session.user(), name))
        .map(|name| vec![Some(name)])
        .collect();
    Ok(StatementResult::strings(&["Database"], rows))
}

pub(super) fn tables(session: &Session, database: Option<String>) -> Result<StatementResult> {
    let database = database_or_current(session, database)?;
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

/// `DESC FUNCTION S3(...)`: the columns the call returns, as `DESC` prints
/// a table's.
pub(super) async fn describe_function(session: &Session, call: &str) -> Result<StatementResult> {
    if call.is_empty() {
        return Err(Error::Syntax(
            "DESC FUNCTION needs a call, e.g. DESC FUNCTION S3(...)".into(),
        ));
    }
    let result = super::query::run(session, &format!("SELECT * FROM {call} LIMIT 0")).await?;
    let rows = result
        .schema
        .fields()
        .iter()
        .map(|f| {
            vec![
                Some(f.name().clone()),
                Some(sql_type_name(f.data_type())),
                Some(if f.is_nullable() { "Yes" } else { "No" }.to_string()),
                Some("false".to_string()),
                None,
                Some(String::new()),
            ]
        })
        .collect();
    Ok(StatementResult::strings(
        &["Field", "Type", "Null", "Key", "Default", "Extra"],
        rows,
    ))
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
    if !def.properties.is_empty() {
        let pairs: Vec<String> = def
            .properties
            .iter()
            .map(|(k, v)| format!("\"{k}\" = \"{}\"", v.replace('"', "\\\"")))
            .collect();
        sql.push_str(&format!(" PROPERTIES ({})", pairs.join(", ")));
    }
    sql
}

fn escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('\'', "\\'")
}
