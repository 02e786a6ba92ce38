//! Rewriting every expression of a plan (subqueries included) with the
//! schema of the rows it reads at hand, for rewrites that depend on a
//! column's type or metadata.

use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::DFSchema;
use datafusion::logical_expr::{Expr, LogicalPlan};

use crate::error::Result;

/// `plan` with `rewrite` applied bottom-up to each expression of each
/// node, given the schema the node's expressions read (its input's, or
/// its own for a join and the like).
pub(super) fn rewrite_expressions(
    plan: LogicalPlan,
    rewrite: impl Fn(Expr, &DFSchema) -> datafusion::common::Result<Transformed<Expr>>,
) -> Result<LogicalPlan> {
    let plan = plan.transform_up_with_subqueries(|node| {
        let schema = match node.inputs().as_slice() {
            [input] => input.schema().clone(),
            _ => node.schema().clone(),
        };
        node.map_expressions(|expr| expr.transform_up(|e| rewrite(e, &schema)))
    })?;
    Ok(plan.data)
}
