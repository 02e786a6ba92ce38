//! [`LanceTable`]: a catalog table as a DataFusion table provider.
//!
//! Scans read the dataset version that was latest when the query was
//! planned; `INSERT` appends through [`crate::write::LanceSink`].

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::datatypes::{DataType, SchemaRef};
use datafusion::catalog::Session;
use datafusion::datasource::sink::DataSinkExec;
use datafusion::datasource::{TableProvider, TableType};
use datafusion::error::Result as DFResult;
use datafusion::logical_expr::dml::InsertOp;
use datafusion::logical_expr::{Expr, TableProviderFilterPushDown};
use datafusion::physical_expr::expressions::{cast, Column as PhysicalColumn};
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_plan::projection::{ProjectionExec, ProjectionExpr};
use datafusion::physical_plan::ExecutionPlan;
use lance::datafusion::LanceTableProvider;
use lance::Dataset;

use super::pins::Pin;
use super::{Catalog, TableDef};
use crate::distributed::{fragment_bytes, AcrossWorkers, FragmentScanExec};
use crate::error::Result;
use crate::warehouse::Warehouse;
use crate::write::{dictionary, LanceSink};

/// A table of the catalog backed by its Lance dataset.
#[derive(Debug)]
pub struct LanceTable {
    def: TableDef,
    dataset: Arc<Dataset>,
    /// Lance's own provider over the same dataset, used for scans.
    reader: LanceTableProvider,
    /// The dataset's columns as SQL sees them: text columns stored as
    /// dictionaries are text.
    schema: SchemaRef,
    /// The columns' DEFAULT values, for an INSERT that leaves them out.
    defaults: HashMap<String, Expr>,
    /// Keeps the version read from maintenance while the statement runs.
    _pin: Pin,
    warehouse: Arc<Warehouse>,
}

impl LanceTable {
    /// Opens the latest version of the table's dataset.
    pub async fn open(def: TableDef, catalog: &Catalog) -> Result<Self> {
        let dataset = Arc::new(catalog.open_dataset(&def).await?);
        let reader = LanceTableProvider::new(dataset.clone(), false, false);
        let schema = dictionary::logical_schema(&reader.schema());
        let _pin = catalog.pins().pin(def.id, dataset.version().version);
        let defaults = (def.columns.iter())
            .filter_map(|c| Some((c.name.clone(), c.default_expr()?)))
            .collect();
        Ok(Self {
            def,
            dataset,
            reader,
            schema,
            defaults,
            _pin,
            warehouse: catalog.warehouse().clone(),
        })
    }

    /// The table's definition.
    pub fn def(&self) -> &TableDef {
        &self.def
    }

    /// The dataset version this provider reads.
    pub fn dataset(&self) -> &Arc<Dataset> {
        &self.dataset
    }

    /// The bytes of the data files of the version this provider reads.
    pub(crate) fn data_bytes(&self) -> u64 {
        (self.dataset.manifest().fragments.iter())
            .map(fragment_bytes)
            .sum()
    }
}

/// `scan` with the columns it reads as dictionaries turned back into
/// text, which a `GROUP BY` on one may undo
/// ([`crate::plan::dictionary_group_by`]).
pub fn as_text(scan: Arc<dyn ExecutionPlan>) -> DFResult<Arc<dyn ExecutionPlan>> {
    let stored = scan.schema();
    if !dictionary::has_dictionaries(&stored) {
        return Ok(scan);
    }
    let exprs = (stored.fields().iter().enumerate())
        .map(|(i, field)| {
            let column = Arc::new(PhysicalColumn::new(field.name(), i)) as Arc<dyn PhysicalExpr>;
            let expr = match field.data_type() {
                DataType::Dictionary(_, value) => cast(column, &stored, *value.clone())?,
                _ => column,
            };
            Ok(ProjectionExpr {
                expr,
                alias: field.name().clone(),
            })
        })
        .collect::<DFResult<Vec<_>>>()?;
    Ok(Arc::new(ProjectionExec::try_new(exprs, scan)?))
}

#[async_trait]
impl TableProvider for LanceTable {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> DFResult<Arc<dyn ExecutionPlan>> {
        if state.config().get_extension::<AcrossWorkers>().is_none() {
            let scan = self.reader.scan(state, projection, filters, limit).await?;
            return as_text(scan);
        }
        let schema = match projection {
            Some(columns) => Arc::new(self.schema().project(columns)?),
            None => self.schema(),
        };
        Ok(Arc::new(FragmentScanExec::new(
            self.def.qualified_name(),
            self.def.location.clone(),
            &self.dataset,
            schema,
            filters,
            limit,
            state.config().target_partitions(),
            self.warehouse.clone(),
        )))
    }

    fn get_column_default(&self, column: &str) -> Option<&Expr> {
        self.defaults.get(column)
    }

    fn supports_filters_pushdown(
        &self,
        filters: &[&Expr],
    ) -> DFResult<Vec<TableProviderFilterPushDown>> {
        // Lance compares a dictionary column with the dictionary's keys'
        // type, not text: filters on one are applied to the scan's strings.
        let stored = dictionary::stored_columns(&self.dataset);
        let on_text: Vec<(usize, &Expr)> = (filters.iter().copied().enumerate())
            .filter(|(_, f)| !f.column_refs().iter().any(|c| stored.contains(&c.name)))
            .collect();
        let texts: Vec<&Expr> = on_text.iter().map(|(_, f)| *f).collect();
        let mut answers = vec![TableProviderFilterPushDown::Unsupported; filters.len()];
        for ((i, _), answer) in on_text
            .iter()
            .zip(self.reader.supports_filters_pushdown(&texts)?)
        {
            answers[*i] = answer;
        }
        Ok(answers)
    }

    async fn insert_into(
        &self,
        _state: &dyn Session,
        input: Arc<dyn ExecutionPlan>,
        insert_op: InsertOp,
    ) -> DFResult<Arc<dyn ExecutionPlan>> {
        let sink = LanceSink::new(
            self.def.qualified_name(),
            self.def.arrow_schema(),
            self.dataset.clone(),
        )
        .with_json_columns(self.def.json_columns());
        let sink = match insert_op {
            InsertOp::Append => sink,
            InsertOp::Overwrite => sink.overwriting(),
            InsertOp::Replace => {
                return datafusion::common::not_impl_err!(
                    "REPLACE INTO is not supported: tributary tables take INSERT INTO and INSERT OVERWRITE"
                )
            }
        };
        Ok(Arc::new(DataSinkExec::new(input, Arc::new(sink), None)))
    }
}
