//! `INSERT INTO t SELECT ... FROM S3(...)` loaded the way a job loads a
//! batch: when the INSERT only picks CSV columns into the table's columns,
//! its files are read file by file straight to the table's types
//! ([`read`](super::read)), converted ([`convert`](super::convert)) and
//! written by several Lance writers at once, in one commit. Unlike a job,
//! the statement keeps every row or none: the first row that does not
//! convert fails it, naming its file and line, and nothing is committed.
//!
//! Any other INSERT runs as DataFusion plans it, through
//! [`LanceSink`](crate::write::LanceSink).

use std::any::Any;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use datafusion::common::tree_node::TreeNode;
use datafusion::datasource::{source_as_provider, TableProvider};
use datafusion::logical_expr::dml::InsertOp;
use datafusion::logical_expr::{DmlStatement, LogicalPlan, WriteOp};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use futures::StreamExt;

use super::batch::Batch;
use super::commit::writers;
use super::convert::{converted_stream, BatchSource, RowOrigins};
use super::read::{column_mapping, without_casts, TypedRead};
use super::share::{workers_for, write_across};
use super::tally::Tally;
use crate::catalog::LanceTable;
use crate::error::{Error, Result};
use crate::read::{S3Table, TypedColumns};
use crate::session::Session;
use crate::write::{commit, write_fragments_in_parallel, Conversion};

/// An INSERT ready to load as a batch.
pub struct OneShot {
    table: String,
    /// The table's database and name.
    target: (String, String),
    typed: TypedRead,
    origins: RowOrigins,
    conversion: Conversion,
    dataset: Arc<lance::Dataset>,
}

impl OneShot {
    /// The load of `plan` as a batch; `None` when it is not an append
    /// whose input only picks the CSV columns of one `S3()` call.
    pub fn plan(session: &Session, plan: &LogicalPlan) -> Result<Option<OneShot>> {
        let LogicalPlan::Dml(DmlStatement {
            target,
            op: WriteOp::Insert(InsertOp::Append),
            input,
            ..
        }) = plan
        else {
            return Ok(None);
        };
        let Ok(target) = source_as_provider(target) else {
            return Ok(None);
        };
        let Some(table) = provider_as::<LanceTable>(&target) else {
            return Ok(None);
        };
        if !reads_s3(input)? {
            return Ok(None);
        }
        let state = session.context().state();
        let input = state.optimize(&without_casts(input.as_ref().clone())?)?;
        let Some((mapping, scan)) = column_mapping(&input) else {
            return Ok(None);
        };
        let Ok(scanned) = source_as_provider(&scan.source) else {
            return Ok(None);
        };
        let Some(s3) = provider_as::<S3Table>(&scanned) else {
            return Ok(None);
        };
        let source = s3.source().clone();
        if !source.reads_csv_text() {
            return Ok(None);
        }
        let def = table.def();
        let schema = def.arrow_schema();
        let types: Vec<_> = schema
            .fields()
            .iter()
            .map(|f| f.data_type().clone())
            .collect();
        let columns = TypedColumns::reading(&mapping.file_schema, mapping.columns, &types);
        let names = source.files().iter().map(|f| source.display(f)).collect();
        Ok(Some(OneShot {
            table: def.qualified_name(),
            target: (def.database.clone(), def.name.clone()),
            origins: RowOrigins::named(names, source.options(), false),
            typed: TypedRead {
                source,
                columns: Arc::new(columns),
            },
            conversion: Conversion::new(
                schema,
                def.columns.iter().map(|c| c.sql_type.clone()).collect(),
            ),
            dataset: table.dataset().clone(),
        }))
    }

    /// Loads the files of INSERT `sql` in one commit; returns the rows
    /// added.
    pub async fn load(self, session: &Session, sql: &str) -> Result<u64> {
        let files = self.typed.source.files();
        let batch = Batch {
            bytes: files.iter().map(|f| f.size).sum(),
            offset: String::new(),
            full: false,
            files: files.to_vec(),
        };
        if let Some(rows) = self.load_across(session, sql, &batch).await? {
            return Ok(rows);
        }
        let tally = Arc::new(Mutex::new(Tally::default()));
        let rows = converted_stream(
            BatchSource::Typed(self.typed),
            &session.context().task_ctx(),
            &batch,
            self.origins,
            self.conversion.clone(),
            &tally,
        );
        let table = self.table.clone();
        let counted = tally.clone();
        let progress = session.progress().clone();
        // The first row left out ends the load: the statement keeps every
        // row or none.
        let rows = rows.map(move |rows| {
            let rows = rows?;
            progress.add_rows(rows.num_rows() as u64);
            match rejected(&table, &counted) {
                Some(error) => Err(error.into_datafusion()),
                None => Ok(rows),
            }
        });
        let schema = self.conversion.schema().clone();
        let rows = Box::pin(RecordBatchStreamAdapter::new(schema.clone(), rows));
        let written = write_fragments_in_parallel(
            self.dataset.clone(),
            schema,
            &self.table,
            rows,
            writers(&batch),
        )
        .await?;
        if let Some(error) = rejected(&self.table, &tally) {
            return Err(error);
        }
        let Some(written) = written else {
            return Ok(0);
        };
        let rows = written.rows;
        commit(self.dataset, written, HashMap::new()).await?;
        Ok(rows)
    }

    /// [`OneShot::load`] of `batch` by the process's workers, when the
    /// files are many and large enough (see [`workers_for`]); `None` when
    /// they did not load it, or left a row out: then this process loads
    /// it, and names the first bad row as it always does.
    async fn load_across(
        &self,
        session: &Session,
        sql: &str,
        batch: &Batch,
    ) -> Result<Option<u64>> {
        let local = self.typed.source.is_local();
        let Some(workers) = workers_for(session, batch, local, None) else {
            return Ok(None);
        };
        let job = crate::plan::job::statement_job(session, self.target.clone(), sql)?;
        let version = self.dataset.version().version;
        let written = write_across(&workers, session, &job, batch, version).await;
        let Some((written, _)) = written.filter(|(_, tally)| tally.filtered == 0) else {
            return Ok(None);
        };
        let Some(written) = written else {
            return Ok(Some(0));
        };
        let rows = written.rows;
        commit(self.dataset.clone(), written, HashMap::new()).await?;
        session.progress().add_rows(rows);
        Ok(Some(rows))
    }
}

/// Whether `input` scans an `S3()` call.
fn reads_s3(input: &LogicalPlan) -> Result<bool> {
    Ok(input.exists(|node| {
        Ok(match node {
            LogicalPlan::TableScan(scan) => {
                source_as_provider(&scan.source).is_ok_and(|p| provider_as::<S3Table>(&p).is_some())
            }
            _ => false,
        })
    })?)
}

/// `provider` as the table provider type `T`, when it is one.
fn provider_as<T: 'static>(provider: &Arc<dyn TableProvider>) -> Option<&T> {
    (provider.as_ref() as &dyn Any).downcast_ref::<T>()
}

/// The error that fails the INSERT once a row was left out.
fn rejected(table: &str, tally: &Mutex<Tally>) -> Option<Error> {
    let first = tally.lock().expect("lock").first_error()?;
    Some(Error::InsertRejected {
        table: table.to_string(),
        first,
    })
}
