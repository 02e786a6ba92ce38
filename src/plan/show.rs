//! SHOW DATABASES, SHOW TABLES, SHOW COLUMNS, DESC and SHOW CREATE TABLE,
//! with the columns MySQL and Doris print.

use crate::catalog::information_schema::INFORMATION_SCHEMA;
use crate::catalog::{sql_type_name, TableDef};
use crate::error::{Error, Result};
use crate::parse::{ShowFilter, TableName};
use crate::session::{Session, StatementResult};

use super::ddl::ignored_clauses_warning;
use super::{database_or_current, table_def};

/// `information_schema`, then the databases the session user holds a
/// privilege on (or on one of their tables), as Doris lists them.
pub(super) fn databases(session: &Session) -> Result<StatementResult> {
    let catalog = session.engine().catalog();
    let visible = catalog
        .database_names()
        .into_iter()
        .filter(|name| catalog.can_see_database(session.user(), name));
    let rows = std::iter::once(INFORMATION_SCHEMA.to_string())
        .chain(visible)
        .map(|name| vec![Some(name)])
        .collect();
    Ok(StatementResult::strings(&["Database"], rows))
}

/// `SHOW [FULL] TABLES`: a query of `information_schema.TABLES`, as
/// MySQL defines it.
pub(super) async fn tables(
    session: &Session,
    database: Option<String>,
    full: bool,
    filter: Option<ShowFilter>,
) -> Result<StatementResult> {
    let database = database_or_current(session, database)?;
    if database != INFORMATION_SCHEMA && !session.engine().catalog().database_exists(&database) {
        return Err(Error::UnknownDatabase(database));
    }
    let mut columns = vec![("TABLE_NAME".to_string(), format!("Tables_in_{database}"))];
    if full {
        columns.push(("TABLE_TYPE".into(), "Table_type".into()));
    }
    let condition = format!("TABLE_SCHEMA = {}", quoted(&database));
    let order = ("TABLE_NAME", "TABLE_NAME");
    shown(session, "TABLES", &columns, &condition, order, filter).await
}

/// `SHOW [FULL] COLUMNS`: a query of `information_schema.COLUMNS`.
pub(super) async fn columns(
    session: &Session,
    table: &TableName,
    full: bool,
    filter: Option<ShowFilter>,
) -> Result<StatementResult> {
    let def = super::table_def(session, table)?;
    let mut names = vec![("COLUMN_NAME", "Field"), ("COLUMN_TYPE", "Type")];
    if full {
        names.push(("COLLATION_NAME", "Collation"));
    }
    names.extend([
        ("IS_NULLABLE", "Null"),
        ("COLUMN_KEY", "Key"),
        ("COLUMN_DEFAULT", "Default"),
        ("EXTRA", "Extra"),
    ]);
    if full {
        names.extend([("PRIVILEGES", "Privileges"), ("COLUMN_COMMENT", "Comment")]);
    }
    let columns: Vec<(String, String)> = names
        .into_iter()
        .map(|(from, shown)| (from.to_string(), shown.to_string()))
        .collect();
    let condition = format!(
        "TABLE_SCHEMA = {} AND TABLE_NAME = {}",
        quoted(&def.database),
        quoted(&def.name)
    );
    let order = ("COLUMN_NAME", "ORDINAL_POSITION");
    shown(session, "COLUMNS", &columns, &condition, order, filter).await
}

/// Runs the query a SHOW stands for: `columns` (read, shown as) of
/// `information_schema.<table>` where `condition` holds, with the filter
/// (LIKE on the name column, in any case; WHERE over the shown names, in
/// any case), ordered by the order column: `(name, order)`.
async fn shown(
    session: &Session,
    table: &str,
    columns: &[(String, String)],
    condition: &str,
    (name, order): (&str, &str),
    filter: Option<ShowFilter>,
) -> Result<StatementResult> {
    let inner: Vec<String> = columns
        .iter()
        .map(|(from, shown)| format!("{from} AS `{}`", shown.to_lowercase()))
        .collect();
    let outer: Vec<String> = columns
        .iter()
        .map(|(_, shown)| format!("`{}` AS `{shown}`", shown.to_lowercase()))
        .collect();
    let mut sql = format!(
        "SELECT {} FROM (SELECT {}, {order} AS show_order FROM information_schema.{table} WHERE {condition}",
        outer.join(", "),
        inner.join(", ")
    );
    if let Some(ShowFilter::Like(pattern)) = &filter {
        sql.push_str(&format!(" AND {name} ILIKE {}", quoted(pattern)));
    }
    sql.push_str(") AS shown");
    if let Some(ShowFilter::Where(expression)) = &filter {
        sql.push_str(&format!(" WHERE {expression}"));
    }
    sql.push_str(" ORDER BY show_order");
    super::query::run(session, &sql).await
}

/// `value` as an SQL string literal.
fn quoted(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
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
                c.default_shown(),
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
            let mut line = format!("  `{}` {}", c.name, c.sql_type.mysql_column_type());
            if !c.nullable {
                line.push_str(" NOT NULL");
            }
            if let Some(default) = &c.default {
                line.push_str(&format!(" DEFAULT {default}"));
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
