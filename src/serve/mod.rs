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
//! [`auth`] (`mysql_native_password`), [`tls`] (the server's
//! certificate), [`hangup`] (a client that went away while its statement
//! ran) and [`processes`] (`SHOW PROCESSLIST`, `KILL`). [`http`] is the
//! HTTP port beside it (`--http`: the status page of [`page`], Prometheus
//! metrics).

mod auth;
mod connection;
mod hangup;
pub mod http;
mod page;
mod processes;
mod results;
pub mod tls;
mod variables;

use std::future::Future;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use opensrv_mysql::{
    plain_run_with_options, secure_run_with_options, AsyncMysqlIntermediary, IntermediaryOptions,
};
use rustls::ServerConfig;
use tokio::net::{TcpListener, TcpStream};

use crate::engine::Engine;
use connection::Connection;
use processes::Processes;
use tokio_util::sync::CancellationToken;

pub use variables::{version_comment, SERVER_VERSION};

/// How long a shutdown waits for running tasks to stop.
const SHUTDOWN_WAIT: Duration = Duration::from_secs(30);

/// How the server takes connections.
#[derive(Debug, Clone, Default)]
pub struct ServeOptions {
    /// TLS for the clients that ask for it ([`tls::server_config`]).
    pub tls: Option<Arc<ServerConfig>>,
    /// Refuse logins over connections without TLS.
    pub require_tls: bool,
}

/// Serves `engine` to MySQL clients on `listener` until `shutdown`
/// completes; then stops accepting, cancels the running tasks of jobs
/// (nothing of them is committed) and returns. Connections still open are
/// dropped.
pub async fn serve(engine: Engine, listener: TcpListener, shutdown: impl Future<Output = ()>) {
    serve_with(engine, listener, shutdown, ServeOptions::default()).await;
}

/// [`serve`] with TLS, as `options` say.
pub async fn serve_with(
    engine: Engine,
    listener: TcpListener,
    shutdown: impl Future<Output = ()>,
    options: ServeOptions,
) {
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
        let hangup = hangup::Hangup::watch(&stream);
        let close = CancellationToken::new();
        let connection = Connection::new(
            engine.clone(),
            id,
            peer,
            hangup,
            processes.clone(),
            close.clone(),
        );
        let processes = processes.clone();
        let options = options.clone();
        let metrics_engine = engine.clone();
        metrics_engine.metrics().connection_opened();
        tokio::spawn(async move {
            tokio::select! {
                served = run_connection(connection, stream, &options) => if let Err(error) = served {
                    tracing::debug!(connection = id, %error, "connection ended with an error");
                },
                () = close.cancelled() => {}
            }
            processes.close(id);
            metrics_engine.metrics().connection_closed();
            tracing::info!(connection = id, %peer, "connection closed");
        });
    }
    tracing::info!("shutting down: no new connections; cancelling running tasks");
    engine.shutdown(SHUTDOWN_WAIT).await;
    engine.leases().release_all().await;
    tracing::info!("stopped");
}

/// Speaks the protocol with one client: over TLS when it asks for it and
/// the server has it, else in plain text (refused at login with
/// `require_tls`).
async fn run_connection(
    mut connection: Connection,
    stream: TcpStream,
    options: &ServeOptions,
) -> std::io::Result<()> {
    let _ = stream.set_nodelay(true);
    let (reader, mut writer) = stream.into_split();
    // `USE db` goes to the engine with the rest of the query.
    let intermediary = IntermediaryOptions {
        process_use_statement_on_query: true,
        ..Default::default()
    };
    let (secure, handshake) =
        AsyncMysqlIntermediary::init_before_ssl(&mut connection, reader, &mut writer, &options.tls)
            .await?;
    match (secure, &options.tls) {
        (true, Some(tls)) => {
            secure_run_with_options(connection, writer, intermediary, tls.clone(), handshake).await
        }
        _ => {
            connection.refuse_login_without_tls(options.require_tls);
            plain_run_with_options(connection, writer, intermediary, handshake).await
        }
    }
}
