//! [`Workers`]: the workers a process plans queries across, which of them
//! answer, and the session a query across them is planned in.
//!
//! Membership is the static list the process was started with. A worker
//! that does not answer, or that serves another warehouse, is left out
//! (with a warning when that changes) and looked at again every few
//! seconds; with none left, queries run in this process.

use std::any::Any;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock, Weak};
use std::time::Duration;

use datafusion::arrow::array::{ArrayRef, RecordBatch, StringArray};
use datafusion::common::tree_node::{TreeNode, TreeNodeRecursion};
use datafusion::common::Result as DFResult;
use datafusion::datasource::source_as_provider;
use datafusion::error::DataFusionError;
use datafusion::execution::session_state::{SessionState, SessionStateBuilder};
use datafusion::logical_expr::{Explain, Expr, LogicalPlan};
use datafusion_distributed::{
    display_plan_ascii, ChannelResolver, DistributedExt, GetWorkerInfoRequest,
    SessionStateBuilderExt, WorkerResolver,
};
use url::Url;

use super::auth::{token_for, TokenChannels};
use super::codec::TributaryCodec;
use super::scan::AcrossWorkers;
use super::{load, scan};
use crate::catalog::LanceTable;
use crate::error::{Error, Result};
use crate::warehouse::Warehouse;

/// How often the workers are asked whether they answer.
const PROBE_EVERY: Duration = Duration::from_secs(3);
/// How long one worker has to answer.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// What `--workers` and `--distribute-min-bytes` give.
#[derive(Debug, Clone)]
pub struct WorkerOptions {
    /// `host:port` of each worker.
    pub addresses: Vec<String>,
    /// The bytes a query must read from tables, or a job's batch must
    /// have in files, before it runs across the workers; smaller ones run
    /// in this process.
    pub min_bytes: u64,
}

/// The workers of this process; cheap to clone.
#[derive(Clone)]
pub struct Workers {
    inner: Arc<Inner>,
}

struct Inner {
    all: Vec<Url>,
    live: RwLock<Vec<Url>>,
    /// Whether the workers were asked once already.
    probed: AtomicBool,
    channels: TokenChannels,
    min_bytes: u64,
    warehouse: Arc<Warehouse>,
}

impl std::fmt::Debug for Workers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Workers")
            .field("all", &self.inner.all)
            .field("min_bytes", &self.inner.min_bytes)
            .finish()
    }
}

/// The version a worker reports: the build and the warehouse it serves;
/// a process plans only across workers that report its own.
pub(crate) fn worker_version(warehouse: &Warehouse) -> String {
    format!(
        "tributary {} for {}",
        env!("CARGO_PKG_VERSION"),
        warehouse.root()
    )
}

impl Workers {
    /// The workers at `options.addresses`, once each was asked whether it
    /// answers; then asked again every few seconds.
    pub async fn connect(options: WorkerOptions, warehouse: Arc<Warehouse>) -> Result<Self> {
        let all = (options.addresses.iter())
            .map(|a| worker_url(a))
            .collect::<Result<Vec<_>>>()?;
        let token = token_for(warehouse.root())?;
        let inner = Arc::new(Inner {
            all,
            live: RwLock::new(Vec::new()),
            probed: AtomicBool::new(false),
            channels: TokenChannels::new(&token)?,
            min_bytes: options.min_bytes,
            warehouse,
        });
        inner.probe().await;
        tokio::spawn(probe_forever(Arc::downgrade(&inner)));
        Ok(Self { inner })
    }

    /// The bytes a query or a batch must have to run across the workers
    /// (`--distribute-min-bytes`).
    pub fn min_bytes(&self) -> u64 {
        self.inner.min_bytes
    }

    /// The workers that answered last time they were asked.
    pub fn live(&self) -> Vec<Url> {
        self.inner.live()
    }

    /// Whether `plan` should run across the workers: it is a query that
    /// reads only tables, enough of them, and some worker answers. A query
    /// with a scalar subquery that may return several rows stays here:
    /// datafusion-distributed plans scalar subqueries as joins, which
    /// would return a row per subquery row where SQL (and this process)
    /// raises an error.
    pub(crate) fn should_run(&self, plan: &LogicalPlan) -> bool {
        if self.live().is_empty() || !is_query(plan) {
            return false;
        }
        let mut bytes = 0;
        let mut tables = 0;
        let mut only_tables = true;
        let _ = plan.apply_with_subqueries(|node| {
            if has_scalar_subquery_of_rows(node) {
                only_tables = false;
                return Ok(TreeNodeRecursion::Stop);
            }
            if let LogicalPlan::TableScan(scan) = node {
                let table = source_as_provider(&scan.source).ok();
                match table
                    .as_ref()
                    .and_then(|t| (t.as_ref() as &dyn Any).downcast_ref::<LanceTable>())
                {
                    Some(table) => {
                        tables += 1;
                        bytes += table.data_bytes();
                    }
                    None => {
                        only_tables = false;
                        return Ok(TreeNodeRecursion::Stop);
                    }
                }
            }
            Ok(TreeNodeRecursion::Continue)
        });
        only_tables && tables > 0 && bytes >= self.inner.min_bytes
    }

    /// The rows of `EXPLAIN` of a query that runs across the workers: its
    /// logical plan and its stages, each with its tasks, as
    /// datafusion-distributed draws them.
    pub(crate) async fn explain(
        &self,
        state: &SessionState,
        explain: &Explain,
    ) -> DFResult<RecordBatch> {
        let state = self.state_for(state);
        let logical = state.optimize(&explain.plan)?;
        let physical = (state.query_planner())
            .create_physical_plan(&logical, &state)
            .await?;
        let kinds = StringArray::from(vec!["logical_plan", "distributed_plan"]);
        let plans = StringArray::from(vec![
            logical.display_indent().to_string(),
            display_plan_ascii(physical.as_ref(), false),
        ]);
        let columns: Vec<ArrayRef> = vec![Arc::new(kinds), Arc::new(plans)];
        Ok(RecordBatch::try_new(
            explain.schema.inner().clone(),
            columns,
        )?)
    }

    /// `state` planning across the workers: datafusion-distributed's
    /// planner, the live workers, tables read by fragments.
    pub(crate) fn state_for(&self, state: &SessionState) -> SessionState {
        let mut builder = SessionStateBuilder::new_from_existing(state.clone());
        builder
            .config()
            .get_or_insert_default()
            .set_extension(Arc::new(AcrossWorkers));
        builder
            .with_distributed_planner()
            .with_distributed_worker_resolver(Live(self.inner.clone()))
            .with_distributed_channel_resolver(self.inner.channels.clone())
            .with_distributed_user_codec(TributaryCodec {
                warehouse: self.inner.warehouse.clone(),
                engine: None,
            })
            .with_distributed_desired_task_count_handler(scan::desired_tasks)
            .with_distributed_desired_task_count_handler(load::desired_tasks)
            .with_distributed_scale_up_leaf_node_handler(scan::split_across_tasks)
            .with_distributed_scale_up_leaf_node_handler(load::split_across_tasks)
            .build()
    }
}

/// A query across the workers that failed because a worker went away (it
/// died, or the network between them broke) says so; any other error is
/// the query's own and passes unchanged.
pub(crate) fn worker_failure(workers: &Workers, error: DataFusionError) -> DataFusionError {
    if !workers.lost_one(&error) {
        return error;
    }
    DataFusionError::External(Box::new(Error::Workers(
        "a worker stopped answering while the query ran, so it has no answer: run it again (a worker that does not answer is left out)".into(),
    )))
}

impl Workers {
    /// Whether `error` of a plan run across the workers says a worker went
    /// away; if so, the workers are asked again at once, so that the next
    /// plan leaves a dead one out.
    pub(crate) fn lost_one(&self, error: &DataFusionError) -> bool {
        const GONE: [&str; 9] = [
            "transport error",
            "tcp connect error",
            "connection reset",
            "broken pipe",
            "h2 protocol error",
            "stream closed",
            "connection refused",
            "error connecting to distributed datafusion worker",
            "the worker stopped",
        ];
        let message = error.to_string().to_lowercase();
        if !GONE.iter().any(|m| message.contains(m)) {
            return false;
        }
        let inner = self.inner.clone();
        tokio::spawn(async move { inner.probe().await });
        true
    }
}

/// A plain query: no statement that writes or changes anything, and no
/// EXPLAIN (see [`Workers::explain`]).
fn is_query(plan: &LogicalPlan) -> bool {
    !matches!(
        plan,
        LogicalPlan::Dml(_)
            | LogicalPlan::Ddl(_)
            | LogicalPlan::Copy(_)
            | LogicalPlan::Statement(_)
            | LogicalPlan::Explain(_)
            | LogicalPlan::Analyze(_)
            | LogicalPlan::DescribeTable(_)
    )
}

/// Whether an expression of `node` is a scalar subquery that may return
/// more than one row.
fn has_scalar_subquery_of_rows(node: &LogicalPlan) -> bool {
    let mut found = false;
    let _ = node.apply_expressions(|expr| {
        expr.apply(|e| {
            if let Expr::ScalarSubquery(subquery) = e {
                found |= !matches!(subquery.subquery.max_rows(), Some(0 | 1));
            }
            Ok(match found {
                true => TreeNodeRecursion::Stop,
                false => TreeNodeRecursion::Continue,
            })
        })
    });
    found
}

/// `http://host:port` of `host:port`.
fn worker_url(address: &str) -> Result<Url> {
    let address = address.trim();
    let url = Url::parse(&format!("http://{address}")).ok();
    match url {
        Some(url) if url.port().is_some() && url.path() == "/" && !address.contains('/') => {
            Ok(url)
        }
        _ => Err(Error::Workers(format!(
            "'{address}' is not a worker address: give --workers as HOST:PORT,HOST:PORT (the --listen of each `tributary worker`)"
        ))),
    }
}

/// The live workers, for datafusion-distributed's planner.
struct Live(Arc<Inner>);

impl WorkerResolver for Live {
    fn get_urls(&self) -> std::result::Result<Vec<Url>, DataFusionError> {
        Ok(self.0.live())
    }
}

async fn probe_forever(inner: Weak<Inner>) {
    loop {
        tokio::time::sleep(PROBE_EVERY).await;
        let Some(inner) = inner.upgrade() else {
            return;
        };
        inner.probe().await;
    }
}

impl Inner {
    fn live(&self) -> Vec<Url> {
        self.live.read().expect("workers lock").clone()
    }

    /// Asks every worker whether it answers and serves this warehouse;
    /// says when one is left out or comes back.
    async fn probe(&self) {
        let expected = worker_version(&self.warehouse);
        let answers =
            futures::future::join_all(self.all.iter().map(|url| self.ask(url, &expected))).await;
        let mut live = Vec::new();
        let before = self.live();
        for (url, answer) in self.all.iter().zip(answers) {
            let was_live = before.contains(url);
            match answer {
                Ok(()) => {
                    if !was_live {
                        tracing::info!(worker = %address(url), "worker answers: queries that read enough run across it");
                    }
                    live.push(url.clone());
                }
                Err(why) => {
                    // Said once when it goes, and for each one down at start.
                    if was_live || !self.probed.load(Ordering::Relaxed) {
                        tracing::warn!(worker = %address(url), "worker left out: {why}");
                    }
                }
            }
        }
        *self.live.write().expect("workers lock") = live;
        self.probed.store(true, Ordering::Relaxed);
    }

    async fn ask(&self, url: &Url, expected: &str) -> std::result::Result<(), String> {
        let answer = tokio::time::timeout(PROBE_TIMEOUT, async {
            let mut client = self
                .channels
                .get_worker_client_for_url(url)
                .await
                .map_err(|e| short(&e.to_string()))?;
            client
                .get_worker_info(GetWorkerInfoRequest {})
                .await
                .map_err(|e| short(&e.to_string()))
        })
        .await;
        match answer {
            Err(_) => Err(format!(
                "it did not answer within {PROBE_TIMEOUT:?}; queries run without it until it does"
            )),
            Ok(Err(e)) => Err(e),
            Ok(Ok(info)) if info.version == expected => Ok(()),
            Ok(Ok(info)) => Err(format!(
                "it is {}, this process is {expected}: start the worker with this warehouse and build",
                info.version
            )),
        }
    }
}

/// `host:port` of a worker's URL.
fn address(url: &Url) -> String {
    format!(
        "{}:{}",
        url.host_str().unwrap_or_default(),
        url.port().unwrap_or_default()
    )
}

/// The part of a connection error a user can act on.
fn short(message: &str) -> String {
    if message.contains("Unauthenticated") || message.contains("takes plans only") {
        return "it refused this process: it serves another warehouse or holds another secret key file (TRIBUTARY_SECRET_KEY_FILE)".into();
    }
    if message.contains("connect") {
        return "nothing answers there; queries run without it until it does".into();
    }
    message.lines().next().unwrap_or(message).to_string()
}
