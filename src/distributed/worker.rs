//! `tributary worker`: runs the plan stages that the processes of its
//! warehouse send it, and streams their rows back.
//!
//! A worker runs no job and no maintenance: it opens the tables a stage
//! reads, by their location inside its own warehouse, at the version the
//! stage names, and loads the share of a job's batch a stage gives it
//! with the job's INSERT, read from the warehouse's catalog and the
//! stage's copy of the job.

use async_trait::async_trait;
use datafusion::error::DataFusionError;
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::execution::SessionState;
use datafusion::prelude::SessionContext;
use datafusion_distributed::{DistributedExt, Worker, WorkerQueryContext, WorkerSessionBuilder};
use std::future::Future;
use tokio::net::TcpListener;
use tokio_stream::wrappers::TcpListenerStream;

use super::auth::{check_token, token_for, TokenChannels};
use super::codec::TributaryCodec;
use super::workers::worker_version;
use crate::engine::Engine;
use crate::error::{Error, Result};

/// Serves plan stages for the processes of `engine`'s warehouse (opened
/// with [`Engine::open_worker`]) on `listener` until `stop` completes; its
/// stages together hold at most `memory_limit` bytes (by default 80% of
/// the machine's memory).
pub async fn serve_worker(
    engine: Engine,
    listener: TcpListener,
    memory_limit: Option<u64>,
    stop: impl Future<Output = ()>,
) -> Result<()> {
    let warehouse = engine.catalog().warehouse().clone();
    let token = token_for(warehouse.root())?;
    // One budget for the stages and the shares of batches the worker loads.
    if let Some(limit) = memory_limit {
        engine.set_memory_limit(limit);
    }
    let runtime = RuntimeEnvBuilder::new()
        .with_memory_pool(engine.memory().clone())
        .build_arc()
        .map_err(|e| Error::Workers(format!("cannot set up the worker's runtime: {e}")))?;
    let session = StageSession {
        engine,
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
    engine: Engine,
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
                warehouse: self.engine.catalog().warehouse().clone(),
                engine: Some(self.engine.clone()),
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
