//! `DELETE FROM` and `TRUNCATE TABLE` on Lance tables: one Lance commit
//! each (deletion files; a truncated table keeps its schema), needing
//! `LOAD_PRIV` on the table as Doris asks. A job loading the table meanwhile
//! goes on: its commits carry its offset, which recovery and the commit
//! fence look for past any other commit ([`crate::job::offset`]).

use datafusion::common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
use datafusion::common::Column;
use datafusion::logical_expr::{Expr, LogicalPlan};
use datafusion::sql::sqlparser::ast;
use datafusion::sql::unparser::dialect::CustomDialectBuilder;
use datafusion::sql::unparser::Unparser;

use super::table_def;
use super::users::require_on_table;
use crate::catalog::users::Privilege;
use crate::catalog::TableDef;
use crate::error::{Error, Result};
use crate::parse::TableName;
use crate::session::{Session, StatementResult};

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
    tracing::info!(table = %format!("{}.{}", def.database, def.name), rows = deleted.num_deleted_rows, "deleted rows");
    Ok(StatementResult::affected(deleted.num_deleted_rows))
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
    let state = session.context().state();
    // Analysed: the condition's types are coerced to the columns' (a
    // decimal column against `1.5`, a DATETIME against a string).
    let plan = state.create_logical_plan(&sql).await?;
    let plan = state
        .analyzer()
        .execute_and_check(plan, state.config_options(), |_, _| {})?;
    let mut predicate = None;
    plan.apply(|node| {
        if let LogicalPlan::Filter(filter) = node {
            predicate = Some(filter.predicate.clone());
            return Ok(TreeNodeRecursion::Stop);
        }
        Ok(TreeNodeRecursion::Continue)
    })?;
    let predicate = predicate.ok_or_else(|| {
        Error::Syntax(format!(
            "expected a condition after WHERE, found '{condition}'"
        ))
    })?;
    let unqualified = predicate
        .transform(|expr| {
            Ok(match expr {
                Expr::Column(column) => {
                    Transformed::yes(Expr::Column(Column::new_unqualified(column.name)))
                }
                other => Transformed::no(other),
            })
        })?
        .data;
    // Lance's filters quote names with backticks and know BIGINT and
    // STRING, not MySQL's SIGNED.
    let dialect = CustomDialectBuilder::new()
        .with_identifier_quote_style('`')
        .with_utf8_cast_dtype(ast::DataType::String(None))
        .build();
    let unparser = Unparser::new(&dialect);
    let predicate = unparser.expr_to_sql(&unqualified)?.to_string();
    tracing::debug!(%predicate, "delete predicate");
    Ok(predicate)
}
