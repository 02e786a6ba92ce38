//! `tributary worker`: runs the plan stages that the processes of its
//! warehouse send it, and streams their rows back.
//!
//! A worker holds no catalog and runs no job: it opens the tables a stage
//! reads, by their location inside its own warehouse, at the version the
//! stage names.

use std::future::Future;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::error::DataFusionError;
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::execution::SessionState;
use datafusion::prelude::SessionContext;
use datafusion_distributed::{DistributedExt, Worker, WorkerQueryContext, WorkerSessionBuilder};
use tokio::net::TcpListener;
use tokio_stream::wrappers::TcpListenerStream;

use super::auth::{check_token, token_for, TokenChannels};
use super::scan::TributaryCodec;
use super::workers::worker_version;
use crate::error::{Error, Result};
use crate::memory::MemoryBudget;
use crate::warehouse::Warehouse;

/// Serves plan stages for `warehouse`'s processes on `listener` until
/// `stop` completes; its stages together hold at most `memory_limit`
/// bytes (by default 80% of the machine's memory).
pub async fn serve_worker(
    warehouse: Arc<Warehouse>,
    listener: TcpListener,
    memory_limit: Option<u64>,
    stop: impl Future<Output = ()>,
) -> Result<()> {
    let token = token_for(warehouse.root())?;
    let runtime = RuntimeEnvBuilder::new()
        .with_memory_pool(MemoryBudget::for_process(memory_limit))
        .build_arc()
        .map_err(|e| Error::Workers(format!("cannot set up the worker's runtime: {e}")))?;
    let session = StageSession {
        warehouse: warehouse.clone(),
        channels: TokenChannels::new(&token)?,
    };
    let worker = Worker::from_session_builder(session)
        .with_runtime_env(runtime)
        .with_version(worker_version(&warehouse));
    let check = check_token(token, warehouse.root().to_string());
    tonic::transport::Server::builder()
        .layer(tonic::service::InterceptorLayer::new(check))
        .add_service(worker.into_worker_server())
        .serve_with_incoming_shutdown(TcpListenerStream::new(listener), stop)
        .await
        .map_err(|e| Error::Workers(format!("the worker stopped: {e}")))
}

/// The session a stage runs in: tributary's functions and plan nodes, and
/// the token on the worker's own calls to other workers.
struct StageSession {
    warehouse: Arc<Warehouse>,
    channels: TokenChannels,
}

#[async_trait]
impl WorkerSessionBuilder for StageSession {
    async fn build_session_state(
        &self,
        query: WorkerQueryContext,
    ) -> std::result::Result<SessionState, DataFusionError> {
        let state = query
            .builder
            .with_distributed_user_codec(TributaryCodec {
                warehouse: self.warehouse.clone(),
            })
            .with_distributed_channel_resolver(self.channels.clone())
            .build();
        let ctx = SessionContext::new_with_state(state);
        crate::session::register_functions(&ctx);
        // Planned in place of `+`, `-` and `*`, not callable by name.
        for checked in crate::plan::checked_arithmetic::all() {
            ctx.register_udf(checked);
        }
        tracing::info!("running a plan stage");
        Ok(ctx.state())
    }
}
