//! The names of tributary's own tables' columns in queries. Those tables
//! (`job()`, `tasks()` and the other job tables, `information_schema`)
//! resolve their columns in lower case like any table
//! ([`crate::catalog::display_names`]); here a query's result columns that are still
//! named as such a column get its shown name back (`Status`,
//! `TABLE_NAME`), and strings compared with a job's state or type match
//! in any case, as Doris's `WHERE ExecuteType = "streaming"` does. Only
//! columns of those tables are touched, never a user table's.

use datafusion::common::tree_node::Transformed;
use datafusion::common::{Column, DFSchema, ScalarValue};
use datafusion::logical_expr::{BinaryExpr, Expr, LogicalPlan, LogicalPlanBuilder, Operator};

use crate::catalog::display_names::{display_name, has_upper_case_values};
use crate::error::Result;

/// `plan` with its result columns named as shown, when any of them is a
/// column of tributary's own tables.
pub(super) fn show_display_names(plan: LogicalPlan) -> Result<LogicalPlan> {
    let renamed = plan
        .schema()
        .fields()
        .iter()
        .any(|f| display_name(f).is_some());
    if !renamed {
        return Ok(plan);
    }
    let columns: Vec<Expr> = plan
        .schema()
        .iter()
        .map(|(qualifier, field)| {
            let column = Expr::Column(Column::from((qualifier, field)));
            match display_name(field) {
                Some(shown) => column.alias(shown),
                None => column,
            }
        })
        .collect();
    Ok(LogicalPlanBuilder::from(plan).project(columns)?.build()?)
}

/// `expr` (over rows of `schema`) with the strings compared (`=`, `<>`,
/// `IN`) with a column of upper-case values in upper case.
pub(super) fn upper_case_strings(
    expr: Expr,
    schema: &DFSchema,
) -> datafusion::common::Result<Transformed<Expr>> {
    let upper_case = |e: &Expr| match e {
        Expr::Column(column) => schema
            .qualified_field_from_column(column)
            .is_ok_and(|(_, f)| has_upper_case_values(f)),
        _ => false,
    };
    Ok(match expr {
        Expr::BinaryExpr(BinaryExpr { left, op, right })
            if matches!(op, Operator::Eq | Operator::NotEq)
                && (upper_case(&left) || upper_case(&right)) =>
        {
            Transformed::yes(Expr::BinaryExpr(BinaryExpr::new(
                Box::new(upper_cased(*left)),
                op,
                Box::new(upper_cased(*right)),
            )))
        }
        Expr::InList(mut list) if upper_case(&list.expr) => {
            list.list = list.list.into_iter().map(upper_cased).collect();
            Transformed::yes(Expr::InList(list))
        }
        other => Transformed::no(other),
    })
}

/// A string literal in upper case; any other expression as it is.
fn upper_cased(expr: Expr) -> Expr {
    match expr {
        Expr::Literal(ScalarValue::Utf8(Some(s)), metadata) => {
            Expr::Literal(ScalarValue::Utf8(Some(s.to_uppercase())), metadata)
        }
        Expr::Literal(ScalarValue::Utf8View(Some(s)), metadata) => {
            Expr::Literal(ScalarValue::Utf8View(Some(s.to_uppercase())), metadata)
        }
        other => other,
    }
}
