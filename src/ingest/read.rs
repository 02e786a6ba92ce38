//! Reading a batch: the job's INSERT planned over exactly the batch's files
//! (given as an argument, one partition per file), its input taken apart
//! from the INSERT so that the task converts and writes the rows itself.

use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, Schema};
use datafusion::common::tree_node::TreeNode;
use datafusion::error::DataFusionError;
use datafusion::execution::TaskContext;
use datafusion::logical_expr::{Expr, LogicalPlan, Projection, TableScan};
use datafusion::physical_plan::ExecutionPlan;

use super::batch::Batch;
use super::body::JobBody;
use crate::error::{Error, Result};
use crate::read::options::Format;
use crate::read::{FileSource, FixedFiles, TypedColumns};
use crate::session::Session;

/// The physical plan of a batch's rows, before conversion to the table's
/// types.
pub struct BatchRead {
    pub plan: Arc<dyn ExecutionPlan>,
    pub task_ctx: Arc<TaskContext>,
    /// The job's SELECT filters rows, so row positions count kept rows.
    pub filters: bool,
    /// The INSERT maps file columns to table columns as they are.
    pub mapping: Option<ColumnMapping>,
}

/// An INSERT's input that only picks file columns: for each table column,
/// the file column it takes.
pub struct ColumnMapping {
    /// The file's columns, as the `S3()` table has them.
    pub file_schema: Schema,
    pub columns: Vec<usize>,
}

/// How a batch's CSV files are read when the INSERT maps file columns to
/// table columns as they are: each file straight to the table's types.
pub struct TypedRead {
    pub source: Arc<FileSource>,
    pub columns: Arc<TypedColumns>,
}

impl BatchRead {
    /// The typed reading of the batch's files into `table`'s columns, when
    /// the INSERT maps columns as they are and the files are CSV read as
    /// text; `None` otherwise (rows go through the plan).
    pub fn typed(
        &self,
        body: &JobBody,
        batch: &Batch,
        table: &Schema,
    ) -> Result<Option<TypedRead>> {
        let Some(mapping) = &self.mapping else {
            return Ok(None);
        };
        if !matches!(
            body.options.format,
            Format::Csv | Format::CsvWithNames | Format::CsvWithNamesAndTypes
        ) {
            return Ok(None);
        }
        let source = FileSource::csv(
            body.location.clone(),
            body.options.clone(),
            batch.files.clone(),
            mapping.file_schema.clone(),
        )?
        .with_read_ahead(body.read_ahead());
        if !source.reads_csv_text() {
            return Ok(None);
        }
        let types: Vec<DataType> = table
            .fields()
            .iter()
            .map(|f| f.data_type().clone())
            .collect();
        Ok(
            TypedColumns::new(&mapping.file_schema, mapping.columns.clone(), &types).map(
                |columns| TypedRead {
                    source: Arc::new(source),
                    columns: Arc::new(columns),
                },
            ),
        )
    }
}

/// Plans the job's INSERT over the batch's files in `session` (the task's
/// own, as the job's definer); `None` when the files are all empty.
/// The job's INSERT planned when the job was created, so when it does not
/// plan over a batch, the columns the batch's files were read with do not
/// fit it: those of its first file with content (a CSV file's first line
/// decides). That file is the bad one.
fn columns_do_not_fit(body: &JobBody, batch: &Batch, error: &DataFusionError) -> Error {
    let file = batch
        .files
        .iter()
        .find(|f| f.size > 0)
        .or(batch.files.first());
    let reason = match error {
        DataFusionError::Plan(message) => message.trim_end_matches('!').to_string(),
        other => other.to_string(),
    };
    let mut reason = reason.chars();
    let reason: String = reason
        .next()
        .map(|c| c.to_lowercase().chain(reason).collect())
        .unwrap_or_default();
    Error::Source {
        uri: file.map_or_else(
            || body.options.uri.clone(),
            |f| body.location.display(&f.location),
        ),
        message: format!("its columns do not fit the job's INSERT: {reason}"),
    }
}

pub async fn plan_batch(
    session: &Session,
    body: &JobBody,
    batch: &Batch,
) -> Result<Option<BatchRead>> {
    {
        // Keep one partition per file up to the sink.
        let state = session.context().state_ref();
        let mut state = state.write();
        let optimizer = &mut state.config_mut().options_mut().optimizer;
        optimizer.enable_round_robin_repartition = false;
        optimizer.repartition_file_scans = false;
    }
    let files = FixedFiles {
        uri: &body.options.uri,
        files: &batch.files,
        read_ahead: body.read_ahead(),
    };
    let statement = body.statement.clone();
    let planned = crate::plan::query::plan_reading(session, statement, Some(files)).await;
    let LogicalPlan::Dml(dml) = (match planned {
        // Only empty files: nothing to read.
        Err(Error::EmptySource { .. }) => return Ok(None),
        Err(Error::DataFusion(e)) if matches!(e.find_root(), DataFusionError::Plan(_)) => {
            return Err(columns_do_not_fit(body, batch, e.find_root()))
        }
        planned => planned?,
    }) else {
        return Err(Error::InvalidJob("a streaming job runs an INSERT".into()));
    };
    let filters = dml
        .input
        .exists(|p| Ok(matches!(p, LogicalPlan::Filter(_))))?;
    let input = without_casts(dml.input.as_ref().clone())?;
    let ctx = session.context();
    let state = ctx.state();
    // Optimized once: for the column mapping and the physical plan (what
    // `SessionState::create_physical_plan` would do again).
    let optimized = state.optimize(&input)?;
    Ok(Some(BatchRead {
        plan: state
            .query_planner()
            .create_physical_plan(&optimized, &state)
            .await?,
        task_ctx: ctx.task_ctx(),
        filters,
        mapping: column_mapping(&optimized).map(|(mapping, _)| mapping),
    }))
}

/// The file column each output column of `input` takes, when `input` (an
/// optimized plan) only picks columns of its one table scan, and that
/// scan.
pub(super) fn column_mapping(input: &LogicalPlan) -> Option<(ColumnMapping, &TableScan)> {
    let LogicalPlan::Projection(projection) = input else {
        return None;
    };
    let LogicalPlan::TableScan(scan) = projection.input.as_ref() else {
        return None;
    };
    if !scan.filters.is_empty() || scan.fetch.is_some() {
        return None;
    }
    let file_schema = scan.source.schema();
    let columns = projection
        .expr
        .iter()
        .map(|expr| match expr.clone().unalias() {
            Expr::Column(column) => file_schema.index_of(&column.name).ok(),
            _ => None,
        })
        .collect::<Option<Vec<usize>>>()?;
    let mapping = ColumnMapping {
        file_schema: file_schema.as_ref().clone(),
        columns,
    };
    Some((mapping, scan))
}

/// The INSERT's input with the casts to the table's types taken off its
/// top projection: the [`Conversion`](crate::write::Conversion) applies
/// them, leaving out the rows that do not convert instead of failing.
pub(super) fn without_casts(plan: LogicalPlan) -> Result<LogicalPlan> {
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
