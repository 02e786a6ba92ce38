//! One task of a streaming job: load the next batch of files after the
//! job's offset into its table, with the new offset in the same commit.

use std::collections::HashMap;
use std::sync::Arc;

use datafusion::logical_expr::LogicalPlan;
use datafusion::physical_plan::execute_stream;
use lance::Dataset;
use object_store::path::Path;

use super::batch::{cut_batch, Batch};
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::job::Job;
use crate::read::listing::list_files;
use crate::read::{rewrite_calls, Location, S3Options, S3_FUNCTION};
use crate::write::{latest_commit_property, LanceSink};

/// What a task did.
#[derive(Debug)]
pub enum TaskOutcome {
    /// No new file after the offset.
    Idle,
    /// A batch was loaded and committed.
    Loaded {
        batch: Batch,
        rows: u64,
        /// The greatest file name seen by the listing.
        end_offset: String,
        /// The table version that holds the batch (0 when it had no rows).
        version: u64,
    },
}

/// The commit property that carries job `id`'s offset.
pub fn offset_key(job_id: u64) -> String {
    format!("tributary.job.{job_id}.offset")
}

/// Where the job resumes: an offset committed with rows after the version
/// the job store knows (a crash between the data commit and the store
/// update), else the store's offset.
async fn resume_offset(job: &Job, dataset: &Dataset) -> Result<Option<String>> {
    let committed =
        latest_commit_property(dataset, &offset_key(job.id), job.committed_version).await?;
    Ok(committed
        .map(|(_, file)| file)
        .or_else(|| job.current_offset.clone()))
}

/// Runs one task of `job`.
pub async fn run_task(engine: &Engine, job: &Job) -> Result<TaskOutcome> {
    let sql = engine.jobs().execute_sql(job)?;
    let mut session = engine.session_as(&job.definer);
    session.set_database(Some(job.database.clone()));
    let state = session.context().state();
    let dialect = state.config().options().sql_parser.dialect;
    let mut statement = state.sql_to_statement(&sql, &dialect)?;
    let calls = rewrite_calls(&mut statement, &[S3_FUNCTION])?;
    let call = calls
        .first()
        .ok_or_else(|| Error::InvalidJob(format!("job '{}' has no S3() call", job.name)))?;
    let options = S3Options::parse(&call.pairs)?;
    let location = Location::parse(&options.uri, &options.connection)?;

    let catalog = engine.catalog();
    let def = catalog.table(&job.database, &job.table)?;
    let dataset = Arc::new(catalog.open_dataset(&def).await?);
    let offset = resume_offset(job, &dataset).await?;
    let files = list_files(&location, offset.as_deref().map(Path::from).as_ref()).await?;
    let Some(end_offset) = files.last().map(|f| f.location.to_string()) else {
        return Ok(TaskOutcome::Idle);
    };
    let Some(batch) = cut_batch(
        files,
        job.properties.max_batch_files,
        job.properties.max_batch_bytes,
    ) else {
        return Ok(TaskOutcome::Idle);
    };
    tracing::info!(job = %job.name, files = batch.files.len(), bytes = batch.bytes, end = batch.end_offset(), "loading batch");

    session.set_s3_files(Some(batch.files.clone()));
    let plan = crate::plan::query::plan(&session, &sql).await?;
    let LogicalPlan::Dml(dml) = plan else {
        return Err(Error::InvalidJob(format!(
            "job '{}' is not an INSERT",
            job.name
        )));
    };
    let ctx = session.context();
    let physical = ctx.state().create_physical_plan(&dml.input).await?;
    let task_ctx = ctx.task_ctx();
    let stream = execute_stream(physical, task_ctx.clone())?;

    let properties = HashMap::from([(offset_key(job.id), batch.end_offset().to_string())]);
    let sink = LanceSink::new(
        format!("{}.{}", def.database, def.name),
        def.arrow_schema(),
        dataset,
    )
    .with_commit_properties(properties);
    let rows = datafusion::datasource::sink::DataSink::write_all(&sink, stream, &task_ctx).await?;
    let version = if rows > 0 {
        catalog.open_dataset(&def).await?.version().version
    } else {
        job.committed_version
    };
    Ok(TaskOutcome::Loaded {
        batch,
        rows,
        end_offset,
        version,
    })
}
