//! Reading a batch: the job's INSERT planned over exactly the batch's files
//! (given as an argument, one partition per file), its input taken apart
//! from the INSERT so that the task converts and writes the rows itself.

use std::sync::Arc;

use datafusion::common::tree_node::TreeNode;
use datafusion::execution::TaskContext;
use datafusion::logical_expr::{Expr, LogicalPlan, Projection};
use datafusion::physical_plan::ExecutionPlan;

use super::batch::Batch;
use super::body::JobBody;
use crate::error::{Error, Result};
use crate::read::FixedFiles;
use crate::session::Session;

/// The physical plan of a batch's rows, before conversion to the table's
/// types.
pub struct BatchRead {
    pub plan: Arc<dyn ExecutionPlan>,
    pub task_ctx: Arc<TaskContext>,
    /// The job's SELECT filters rows, so row positions count kept rows.
    pub filters: bool,
}

/// Plans the job's INSERT over the batch's files in `session` (the task's
/// own, as the job's definer); `None` when the files are all empty.
pub async fn plan_batch(
    session: &Session,
    body: &JobBody,
    batch: &Batch,
) -> Result<Option<BatchRead>> {
    {
        // Keep one partition per file up to the sink.
        let state = session.context().state_ref();
        let mut state = state.write();
        state
            .config_mut()
            .options_mut()
            .optimizer
            .enable_round_robin_repartition = false;
    }
    let files = FixedFiles {
        uri: &body.options.uri,
        files: &batch.files,
    };
    let statement = body.statement.clone();
    let planned = crate::plan::query::plan_reading(session, statement, Some(files)).await;
    let LogicalPlan::Dml(dml) = (match planned {
        // Only empty files: nothing to read.
        Err(Error::EmptySource { .. }) => return Ok(None),
        planned => planned?,
    }) else {
        return Err(Error::InvalidJob("a streaming job runs an INSERT".into()));
    };
    let filters = dml
        .input
        .exists(|p| Ok(matches!(p, LogicalPlan::Filter(_))))?;
    let input = without_casts(dml.input.as_ref().clone())?;
    let ctx = session.context();
    Ok(Some(BatchRead {
        plan: ctx.state().create_physical_plan(&input).await?,
        task_ctx: ctx.task_ctx(),
        filters,
    }))
}

/// The INSERT's input with the casts to the table's types taken off its
/// top projection: the [`Conversion`](crate::write::Conversion) applies
/// them, leaving out the rows that do not convert instead of failing.
fn without_casts(plan: LogicalPlan) -> Result<LogicalPlan> {
    let LogicalPlan::Projection(projection) = plan else {
        return Ok(plan);
    };
    let exprs = projection
        .expr
        .iter()
        .map(|expr| match expr {
            Expr::Alias(alias) => match alias.expr.as_ref() {
                Expr::Cast(cast) => cast.expr.as_ref().clone().alias(alias.name.clone()),
                Expr::TryCast(cast) => cast.expr.as_ref().clone().alias(alias.name.clone()),
                _ => expr.clone(),
            },
            _ => expr.clone(),
        })
        .collect();
    Ok(LogicalPlan::Projection(Projection::try_new(
        exprs,
        projection.input.clone(),
    )?))
}
