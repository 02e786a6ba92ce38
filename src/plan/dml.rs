//! `DELETE FROM`, `UPDATE` and `TRUNCATE TABLE` on Lance tables: one Lance
//! commit each (deletion files; updated rows rewritten as new fragments; a
//! truncated table keeps its schema), needing `LOAD_PRIV` on the table as
//! Doris asks. `INSERT OVERWRITE` is an INSERT ([`crate::write`]). A job loading the table meanwhile
//! goes on: its commits carry its offset, which recovery and the commit
//! fence look for past any other commit ([`crate::job::offset`]).

use datafusion::common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
use std::sync::Arc;

use datafusion::common::{Column, ScalarValue};
use datafusion::logical_expr::{Expr, LogicalPlan};
use datafusion::sql::sqlparser::ast;
use datafusion::sql::unparser::dialect::CustomDialectBuilder;
use datafusion::sql::unparser::Unparser;
use lance::dataset::UpdateBuilder;

use super::table_def;
use super::users::require_on_table;
use crate::catalog::users::Privilege;
use crate::catalog::{Column as TableColumn, SqlType, TableDef};
use crate::error::{Error, Result};
use crate::parse::TableName;
use crate::session::{Session, StatementResult};
use crate::write::json;

/// Deletes the rows of the table where `condition` holds (all without
/// one); the number deleted.
pub(super) async fn delete(
    session: &Session,
    table: &TableName,
    condition: Option<&str>,
) -> Result<StatementResult> {
    let def = table_to_load(session, table)?;
    let predicate = match condition {
        Some(condition) => lance_predicate(session, &def, condition).await?,
        None => "true".to_string(),
    };
    let mut dataset = session.engine().catalog().open_dataset(&def).await?;
    let deleted = dataset
        .delete(&predicate)
        .await
        .map_err(|e| Error::lance(dataset.uri(), e))?;
    tracing::info!(table = %def.qualified_name(), rows = deleted.num_deleted_rows, "deleted rows");
    Ok(StatementResult::affected(deleted.num_deleted_rows))
}

/// Sets `assignments` (column, value) in the rows of the table where
/// `condition` holds (all without one); the number updated.
pub(super) async fn update(
    session: &Session,
    table: &TableName,
    assignments: &[(String, String)],
    condition: Option<&str>,
) -> Result<StatementResult> {
    let def = table_to_load(session, table)?;
    let dataset = session.engine().catalog().open_dataset(&def).await?;
    let uri = dataset.uri().to_string();
    let lance = |e| Error::lance(&uri, e);
    let columns: Vec<&str> = assignments.iter().map(|(c, _)| c.as_str()).collect();
    let refused = |e| refused_value("UPDATE", &def, &columns, e);
    let mut builder = UpdateBuilder::new(Arc::new(dataset));
    if let Some(condition) = condition {
        builder = builder
            .update_where(&lance_predicate(session, &def, condition).await?)
            .map_err(lance)?;
    }
    for (column, value) in assignments {
        let column = def
            .columns
            .iter()
            .find(|c| c.name.eq_ignore_ascii_case(column))
            .ok_or_else(|| {
                Error::Syntax(format!(
                    "unknown column '{column}' in table {}.{} (DESC {0}.{1} lists its columns)",
                    def.database, def.name
                ))
            })?;
        let value = lance_value(session, "UPDATE", &def, column, value).await?;
        builder = builder.set(&column.name, &value).map_err(refused)?;
    }
    let updated = builder
        .build()
        .map_err(lance)?
        .execute()
        .await
        .map_err(refused)?;
    tracing::info!(table = %def.qualified_name(), rows = updated.rows_updated, "updated rows");
    Ok(StatementResult::affected(updated.rows_updated))
}

/// Lance's refusal of an UPDATE's values (a cast that fails, a number
/// too large, a NULL in a NOT NULL column) in one sentence; anything else
/// as Lance's error.
pub(super) fn refused_value(
    statement: &'static str,
    def: &TableDef,
    columns: &[&str],
    error: lance::Error,
) -> Error {
    let message = crate::error::without_code_location(&error.to_string());
    let table = def.qualified_name();
    if message.contains("non-nullable but contains null values") {
        let not_null: Vec<&str> = def
            .columns
            .iter()
            .filter(|c| !c.nullable && columns.iter().any(|n| c.name.eq_ignore_ascii_case(n)))
            .map(|c| c.name.as_str())
            .collect();
        return Error::NotNullViolation {
            table,
            columns: not_null.join(", "),
        };
    }
    let Some(at) = message.rfind("LanceError(Arrow): ") else {
        return Error::lance(&table, error);
    };
    let reason = message[at + "LanceError(Arrow): ".len()..]
        .trim_end_matches(|c: char| c.is_whitespace() || c == ',');
    Error::InvalidValue {
        statement,
        table,
        columns: columns.join(", "),
        reason: crate::error::arrow_error_printed(reason),
    }
}

/// Deletes every row of the table.
pub(super) async fn truncate(session: &Session, table: &TableName) -> Result<StatementResult> {
    delete(session, table, None)
        .await
        .map(|_| StatementResult::affected(0))
}

/// The table, when the session user may change its rows.
fn table_to_load(session: &Session, table: &TableName) -> Result<TableDef> {
    let def = table_def(session, table)?;
    require_on_table(session, Privilege::Load, &def.database, &def.name)?;
    Ok(def)
}

/// `condition` as Lance's filter: planned by DataFusion against the
/// table (so that a wrong name or type gets DataFusion's error), then
/// written back as SQL over the table's own column names.
async fn lance_predicate(session: &Session, def: &TableDef, condition: &str) -> Result<String> {
    let sql = format!(
        "SELECT * FROM `{}`.`{}` WHERE {condition}",
        def.database, def.name
    );
    let predicate = planned(session, &sql, |node| match node {
        LogicalPlan::Filter(filter) => Some(filter.predicate.clone()),
        _ => None,
    })
    .await?
    .ok_or_else(|| {
        Error::Syntax(format!(
            "expected a condition after WHERE, found '{condition}'"
        ))
    })?;
    lance_sql(predicate)
}

/// `value` for `column` as Lance's SQL: planned by DataFusion over the
/// table's row and cast to the column's type, so that a value of the
/// wrong type or a wrong name fails here, before anything is written.
/// A JSON column takes a constant that is JSON text (or NULL); an ARRAY,
/// MAP or STRUCT column is refused (Lance's SQL has no such values).
pub(super) async fn lance_value(
    session: &Session,
    statement: &'static str,
    def: &TableDef,
    column: &TableColumn,
    value: &str,
) -> Result<String> {
    let refused = |reason: String| Error::InvalidValue {
        statement,
        table: def.qualified_name(),
        columns: column.name.clone(),
        reason,
    };
    let Some(cast_target) = column.sql_type.cast_target() else {
        return Err(refused(format!(
            "a {} column takes its values from INSERT only; rewrite the rows with INSERT OVERWRITE ... SELECT",
            column.sql_type
        )));
    };
    let sql = format!(
        "SELECT CAST(({value}) AS {cast_target}) FROM `{}`.`{}`",
        def.database, def.name
    );
    let value = planned(session, &sql, |node| match node {
        LogicalPlan::Projection(projection) => projection.expr.first().cloned(),
        _ => None,
    })
    .await?
    .ok_or_else(|| {
        Error::Syntax(format!(
            "expected a value for {}, found '{value}'",
            column.name
        ))
    })?;
    let value = value.unalias();
    if column.sql_type == SqlType::Json {
        match constant_text(&value) {
            Some(None) => {}
            Some(Some(text)) if json::is_json(&text) => {}
            Some(Some(text)) => return Err(refused(format!("'{text}' is not a JSON value"))),
            None => {
                return Err(refused(
                    "a JSON column is set to a constant JSON text (or NULL)".into(),
                ))
            }
        }
    }
    lance_sql(value)
}

/// The text of a constant string (`Some(None)` for NULL); `None` when
/// `expr` is not a constant.
fn constant_text(expr: &Expr) -> Option<Option<String>> {
    match expr {
        Expr::Cast(cast) => constant_text(&cast.expr),
        Expr::TryCast(cast) => constant_text(&cast.expr),
        Expr::Literal(value, _) if value.is_null() => Some(None),
        Expr::Literal(
            ScalarValue::Utf8(Some(text))
            | ScalarValue::LargeUtf8(Some(text))
            | ScalarValue::Utf8View(Some(text)),
            _,
        ) => Some(Some(text.clone())),
        _ => None,
    }
}

/// The first expression `pick` finds in the analysed plan of `sql` (its
/// types coerced to the columns': a decimal column against `1.5`, a
/// DATETIME against a string).
async fn planned(
    session: &Session,
    sql: &str,
    pick: impl Fn(&LogicalPlan) -> Option<Expr>,
) -> Result<Option<Expr>> {
    let plan = super::query::plan(session, sql).await?;
    let state = session.context().state();
    let plan = state
        .analyzer()
        .execute_and_check(plan, state.config_options(), |_, _| {})?;
    let mut found = None;
    plan.apply(|node| {
        found = pick(node);
        Ok(match found {
            Some(_) => TreeNodeRecursion::Stop,
            None => TreeNodeRecursion::Continue,
        })
    })?;
    Ok(found)
}

/// `expr` as SQL Lance's filters and update values read: unqualified
/// column names in backticks, and BIGINT and STRING, not MySQL's SIGNED.
fn lance_sql(expr: Expr) -> Result<String> {
    let subquery = expr.exists(|e| {
        Ok(matches!(
            e,
            Expr::InSubquery(_) | Expr::Exists(_) | Expr::ScalarSubquery(_)
        ))
    })?;
    if subquery {
        return Err(Error::Syntax(
            "UPDATE and DELETE take conditions and values over the table's own row; a subquery (IN (SELECT ...), EXISTS, (SELECT ...)) is not supported: list the values, or rewrite the table with INSERT OVERWRITE ... SELECT".into(),
        ));
    }
    let unqualified = expr
        .transform(super::checked_arithmetic::unchecked)?
        .data
        .transform(|expr| {
            Ok(match expr {
                Expr::Column(column) => {
                    Transformed::yes(Expr::Column(Column::new_unqualified(column.name)))
                }
                other => Transformed::no(other),
            })
        })?
        .data;
    let dialect = CustomDialectBuilder::new()
        .with_identifier_quote_style('`')
        .with_utf8_cast_dtype(ast::DataType::String(None))
        .build();
    let unparser = Unparser::new(&dialect);
    let sql = unparser.expr_to_sql(&unqualified)?.to_string();
    tracing::debug!(%sql, "expression for Lance");
    Ok(sql)
}
