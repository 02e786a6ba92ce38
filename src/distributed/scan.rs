//! [`FragmentScanExec`]: a table read that can be split across workers by
//! its Lance fragments, and [`TributaryCodec`], which sends it to them.
//!
//! A query planned across workers reads each table through this node
//! instead of Lance's own: it names the table by its location inside the
//! warehouse, the version the query reads, the columns, the filters and
//! the fragments, so that a worker opens the same version of the same
//! table in its own warehouse and reads only its share.

use std::fmt;
use std::sync::Arc;

use datafusion::arrow::datatypes::{Schema, SchemaRef};
use datafusion::common::{internal_err, DataFusionError, Result as DFResult};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::logical_expr::Expr;
use datafusion::physical_expr::{EquivalenceProperties, Partitioning};
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{DisplayAs, DisplayFormatType, ExecutionPlan, PlanProperties};
use datafusion_distributed::{
    DesiredTaskCountEvent, DesiredTaskCountEventResponse, ScaleUpLeafNodeEvent,
    ScaleUpLeafNodeEventResponse,
};
use datafusion_proto::logical_plan::{from_proto, to_proto, DefaultLogicalExtensionCodec};
use datafusion_proto::protobuf;
use futures::TryStreamExt;
use lance::Dataset;
use lance_table::format::Fragment;
use tokio::sync::OnceCell;

use super::{balance, split_leaf};
use crate::catalog::as_text;
use crate::warehouse::Warehouse;

/// Marks a session whose queries are planned across workers: its tables
/// are read through [`FragmentScanExec`].
#[derive(Debug, Default)]
pub(crate) struct AcrossWorkers;

/// One fragment of a table and the bytes of its data files.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Share {
    fragment: u64,
    bytes: u64,
}

/// The bytes of the data files of `fragment`.
pub(crate) fn fragment_bytes(fragment: &Fragment) -> u64 {
    (fragment.files.iter())
        .filter_map(|file| file.file_size_bytes.get())
        .map(|bytes| bytes.get())
        .sum()
}

/// What a [`FragmentScanExec`] reads; all of it crosses the network.
#[derive(Debug, Clone)]
struct Read {
    /// `database.table`, for plans and errors.
    table: String,
    /// The table's location inside the warehouse.
    location: String,
    version: u64,
    columns: Vec<String>,
    filters: Vec<Expr>,
    limit: Option<usize>,
    /// The fragments each partition reads.
    partitions: Vec<Vec<Share>>,
}

impl Read {
    fn shares(&self) -> impl Iterator<Item = Share> + '_ {
        self.partitions.iter().flatten().copied()
    }
}

/// Reads some fragments of one version of a table, in as many partitions
/// as the session's target partitions (at most one per fragment). Having
/// several partitions as soon as it has several fragments matters: then
/// DataFusion merges them below every operator that needs all the rows in
/// one partition (a window, a global sort), and datafusion-distributed
/// turns those merges into the stage boundaries between the workers'
/// tasks and the one above them.
#[derive(Debug)]
pub(crate) struct FragmentScanExec {
    read: Read,
    warehouse: Arc<Warehouse>,
    /// The table at `read.version`, opened by the first partition that
    /// runs and shared by the others (and by the per-task reads split
    /// from this one); the planning process starts with its own.
    dataset: Arc<OnceCell<Dataset>>,
    properties: Arc<PlanProperties>,
}

impl FragmentScanExec {
    /// A read of all of `dataset`'s fragments (the version it is at) with
    /// `schema` (the projected columns), the filters and the limit of the
    /// scan, in at most `target_partitions` partitions.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        table: String,
        location: String,
        dataset: &Dataset,
        schema: SchemaRef,
        filters: &[Expr],
        limit: Option<usize>,
        target_partitions: usize,
        warehouse: Arc<Warehouse>,
    ) -> Self {
        let shares: Vec<Share> = (dataset.manifest().fragments.iter())
            .map(|f| Share {
                fragment: f.id,
                bytes: fragment_bytes(f),
            })
            .collect();
        let partitions = target_partitions.clamp(1, shares.len().max(1));
        let read = Read {
            table,
            location,
            version: dataset.version().version,
            columns: schema.fields().iter().map(|f| f.name().clone()).collect(),
            filters: filters.to_vec(),
            limit,
            partitions: balance(&shares, |s| s.bytes, partitions),
        };
        let opened = Arc::new(OnceCell::new_with(Some(dataset.clone())));
        Self::with_read(read, schema, warehouse, opened)
    }

    fn with_read(
        read: Read,
        schema: SchemaRef,
        warehouse: Arc<Warehouse>,
        dataset: Arc<OnceCell<Dataset>>,
    ) -> Self {
        let properties = Arc::new(PlanProperties::new(
            EquivalenceProperties::new(schema),
            Partitioning::UnknownPartitioning(read.partitions.len()),
            EmissionType::Incremental,
            Boundedness::Bounded,
        ));
        Self {
            read,
            warehouse,
            dataset,
            properties,
        }
    }

    /// The same read of only `shares`, in as many partitions as this one.
    fn of(&self, shares: &[Share]) -> Self {
        let read = Read {
            partitions: balance(shares, |s| s.bytes, self.read.partitions.len()),
            ..self.read.clone()
        };
        let dataset = self.dataset.clone();
        Self::with_read(read, self.schema(), self.warehouse.clone(), dataset)
    }
}

/// The table `read` names in `warehouse`, at its version: from `opened`,
/// or opened into it by the first partition that asks.
async fn dataset<'a>(
    read: &Read,
    warehouse: &Warehouse,
    opened: &'a OnceCell<Dataset>,
) -> DFResult<&'a Dataset> {
    opened
        .get_or_try_init(|| async {
            warehouse
                .check_inside(&read.location)
                .map_err(|e| DataFusionError::External(Box::new(e)))?;
            let uri = warehouse.uri(&read.location);
            let latest = crate::write::open_dataset(&uri, warehouse.storage_options())
                .await
                .map_err(|e| DataFusionError::External(Box::new(e)))?;
            Ok(latest.checkout_version(read.version).await?)
        })
        .await
}

impl DisplayAs for FragmentScanExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        write!(
            f,
            "FragmentScanExec: table={} version={} fragments={} columns=[{}]",
            self.read.table,
            self.read.version,
            self.read.shares().count(),
            self.read.columns.join(", ")
        )?;
        if !self.read.filters.is_empty() {
            let filters: Vec<String> = self.read.filters.iter().map(|e| e.to_string()).collect();
            write!(f, " filters=[{}]", filters.join(", "))?;
        }
        if let Some(limit) = self.read.limit {
            write!(f, " limit={limit}")?;
        }
        Ok(())
    }
}

impl ExecutionPlan for FragmentScanExec {
    fn name(&self) -> &str {
        "FragmentScanExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![]
    }

    fn with_new_children(
        self: Arc<Self>,
        _children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> DFResult<Arc<dyn ExecutionPlan>> {
        Ok(self)
    }

    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> DFResult<SendableRecordBatchStream> {
        let Some(shares) = self.read.partitions.get(partition) else {
            return internal_err!(
                "FragmentScanExec has {} partitions, not {partition}",
                self.read.partitions.len()
            );
        };
        if shares.is_empty() {
            let empty = RecordBatchStreamAdapter::new(self.schema(), futures::stream::empty());
            return Ok(Box::pin(empty));
        }
        let (read, shares) = (self.read.clone(), shares.clone());
        let (warehouse, opened) = (self.warehouse.clone(), self.dataset.clone());
        let rows = futures::stream::once(async move {
            let dataset = dataset(&read, &warehouse, &opened).await?;
            let plan = as_text(lance_plan(&read, &shares, dataset).await?)?;
            datafusion::physical_plan::execute_stream(plan, context)
        })
        .try_flatten();
        Ok(Box::pin(RecordBatchStreamAdapter::new(self.schema(), rows)))
    }
}

/// Lance's plan of `read` of the fragments of `shares` of `dataset`.
async fn lance_plan(
    read: &Read,
    shares: &[Share],
    dataset: &Dataset,
) -> DFResult<Arc<dyn ExecutionPlan>> {
    let fragments = (shares.iter())
        .map(|share| {
            dataset
                .get_fragment(share.fragment as usize)
                .map(|f| f.metadata().clone())
                .ok_or_else(|| {
                    DataFusionError::Execution(format!(
                        "table {} has no fragment {} at version {}",
                        read.table, share.fragment, read.version
                    ))
                })
        })
        .collect::<DFResult<Vec<_>>>()?;
    let mut scanner = dataset.scan();
    scanner.project(&read.columns)?;
    if let Some(filter) = read.filters.iter().cloned().reduce(Expr::and) {
        scanner.filter_expr(filter);
    }
    scanner.limit(read.limit.map(|l| l as i64), None)?;
    scanner.scan_in_order(false);
    scanner.with_fragments(fragments);
    Ok(scanner.create_plan().await?)
}

/// How many tasks a [`FragmentScanExec`] wants: one per fragment (the
/// planner gives it at most one per worker), but one for a read in one
/// partition, which nothing above merges.
pub(crate) fn desired_tasks(
    event: DesiredTaskCountEvent<'_>,
) -> Option<DFResult<DesiredTaskCountEventResponse>> {
    let scan = event.plan.downcast_ref::<FragmentScanExec>()?;
    let tasks = match scan.read.partitions.len() {
        1 => 1,
        _ => scan.read.shares().count(),
    };
    Some(Ok(DesiredTaskCountEventResponse::desired(tasks)))
}

/// Splits a [`FragmentScanExec`] into one read per task, each of about the
/// same bytes.
pub(crate) fn split_across_tasks(
    event: ScaleUpLeafNodeEvent<'_>,
) -> Option<DFResult<ScaleUpLeafNodeEventResponse>> {
    let scan = event.plan.downcast_ref::<FragmentScanExec>()?;
    let shares: Vec<Share> = scan.read.shares().collect();
    Some(split_leaf(&event, &shares, |s| s.bytes, |s| scan.of(s)))
}

/// The message a [`FragmentScanExec`] crosses the network as.
#[derive(Clone, PartialEq, prost::Message)]
pub(super) struct ReadProto {
    #[prost(string, tag = "1")]
    table: String,
    #[prost(string, tag = "2")]
    location: String,
    #[prost(uint64, tag = "3")]
    version: u64,
    #[prost(string, repeated, tag = "4")]
    columns: Vec<String>,
    #[prost(message, optional, tag = "5")]
    filters: Option<protobuf::LogicalExprList>,
    #[prost(uint64, optional, tag = "6")]
    limit: Option<u64>,
    #[prost(uint64, repeated, tag = "7")]
    fragments: Vec<u64>,
    #[prost(uint64, repeated, tag = "8")]
    fragment_bytes: Vec<u64>,
    #[prost(message, optional, tag = "9")]
    schema: Option<protobuf::Schema>,
    /// How many of `fragments`, in order, each partition reads.
    #[prost(uint64, repeated, tag = "10")]
    partition_sizes: Vec<u64>,
}

impl FragmentScanExec {
    pub(super) fn to_proto(&self) -> DFResult<ReadProto> {
        let read = &self.read;
        let filters = to_proto::serialize_exprs(&read.filters, &DefaultLogicalExtensionCodec {})?;
        Ok(ReadProto {
            table: read.table.clone(),
            location: read.location.clone(),
            version: read.version,
            columns: read.columns.clone(),
            filters: Some(protobuf::LogicalExprList { expr: filters }),
            limit: read.limit.map(|l| l as u64),
            fragments: read.shares().map(|s| s.fragment).collect(),
            fragment_bytes: read.shares().map(|s| s.bytes).collect(),
            schema: Some(self.schema().as_ref().try_into()?),
            partition_sizes: read.partitions.iter().map(|p| p.len() as u64).collect(),
        })
    }

    /// The read `proto` describes, opening its table in `warehouse`.
    pub(super) fn from_proto(
        proto: ReadProto,
        ctx: &TaskContext,
        warehouse: Arc<Warehouse>,
    ) -> DFResult<Self> {
        let schema: Schema = match &proto.schema {
            Some(schema) => schema.try_into()?,
            None => return internal_err!("a table read came without its schema"),
        };
        let filters = match &proto.filters {
            Some(list) => {
                from_proto::parse_exprs(&list.expr, ctx, &DefaultLogicalExtensionCodec {})?
            }
            None => Vec::new(),
        };
        let mut shares = (proto.fragments.iter().zip(&proto.fragment_bytes))
            .map(|(&fragment, &bytes)| Share { fragment, bytes });
        let partitions = (proto.partition_sizes.iter())
            .map(|&size| shares.by_ref().take(size as usize).collect())
            .collect();
        let read = Read {
            table: proto.table,
            location: proto.location,
            version: proto.version,
            columns: proto.columns,
            filters,
            limit: proto.limit.map(|l| l as usize),
            partitions,
        };
        Ok(Self::with_read(
            read,
            Arc::new(schema),
            warehouse,
            Arc::default(),
        ))
    }
}
