//! `tributary serve`: the engine as a long-running server that speaks the
//! MySQL client/server protocol, as Doris's FE does on port 9030, so the
//! `mysql` client, JDBC and Python drivers and SQL tools work with it. The
//! server keeps the warehouse open, so its jobs run for as long as it
//! lives; on SIGTERM or SIGINT it stops accepting, cancels running tasks
//! before their commits and returns.
//!
//! The wire protocol is opensrv-mysql's; the modules here own what is
//! tributary's: [`connection`] (one client: authentication, its session,
//! statements), [`results`] (result sets as MySQL columns and rows, errors
//! as MySQL error codes), [`variables`] (what drivers ask on connect),
//! [`auth`] (`mysql_native_password`), [`packets`] (a guard on the read
//! side of the protocol crate), [`hangup`] (a client that went away
//! while its statement ran) and [`processes`] (`SHOW PROCESSLIST`,
//! `KILL`).

mod auth;
mod connection;
mod hangup;
mod packets;
mod processes;
mod results;
mod variables;

use std::future::Future;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use opensrv_mysql::{AsyncMysqlIntermediary, IntermediaryOptions};
use tokio::net::TcpListener;

use crate::engine::Engine;
use connection::Connection;
use packets::{InvalidQueries, PacketBounded};
use processes::Processes;
use tokio_util::sync::CancellationToken;

pub use variables::SERVER_VERSION;

/// How long a shutdown waits for running tasks to stop.
const SHUTDOWN_WAIT: Duration = Duration::from_secs(30);

/// Serves `engine` to MySQL clients on `listener` until `shutdown`
/// completes; then stops accepting, cancels the running tasks of jobs
/// (nothing of them is committed) and returns. Connections still open are
/// dropped.
pub async fn serve(engine: Engine, listener: TcpListener, shutdown: impl Future<Output = ()>) {
    let ids = Arc::new(AtomicU32::new(1));
    let processes = Processes::default();
    tokio::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => accepted,
        };
        let (stream, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(error) => {
                tracing::warn!(%error, "cannot accept a connection");
                continue;
            }
        };
        let id = ids.fetch_add(1, Ordering::Relaxed);
        let invalid = InvalidQueries::default();
        let hangup = hangup::Hangup::watch(&stream);
        let close = CancellationToken::new();
        let connection = Connection::new(
            engine.clone(),
            id,
            peer,
            invalid.clone(),
            hangup,
            processes.clone(),
            close.clone(),
        );
        let processes = processes.clone();
        tokio::spawn(async move {
            let _ = stream.set_nodelay(true);
            let (reader, writer) = stream.into_split();
            let reader = PacketBounded::new(reader, invalid);
            // `USE db` goes to the engine with the rest of the query.
            let options = IntermediaryOptions {
                process_use_statement_on_query: true,
                ..Default::default()
            };
            let served =
                AsyncMysqlIntermediary::run_with_options(connection, reader, writer, &options);
            tokio::select! {
                served = served => if let Err(error) = served {
                    tracing::debug!(connection = id, %error, "connection ended with an error");
                },
                () = close.cancelled() => {}
            }
            processes.close(id);
            tracing::info!(connection = id, %peer, "connection closed");
        });
    }
    tracing::info!("shutting down: no new connections; cancelling running tasks");
    engine.shutdown(SHUTDOWN_WAIT).await;
    engine.leases().release_all().await;
    tracing::info!("stopped");
}
