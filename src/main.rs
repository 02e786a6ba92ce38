//! The `tributary` binary: a mysql-style client over an embedded engine.

mod cli;

use std::path::PathBuf;

use clap::Parser;
use tracing_subscriber::EnvFilter;
use tributary::distributed::{self, WorkerOptions, Workers};
use tributary::read::{Endpoints, LocalFiles, SourceAccess};
use tributary::serve::ServeOptions;
use tributary::Engine;

/// An embeddable SQL engine on DataFusion and Lance with Doris-style
/// continuous load jobs.
#[derive(Debug, Parser)]
#[command(name = "tributary", version)]
struct Args {
    /// Warehouse: a local directory or s3://bucket/prefix.
    #[arg(
        long,
        short = 'w',
        env = "TRIBUTARY_WAREHOUSE",
        default_value = "./warehouse",
        global = true
    )]
    warehouse: String,
    /// Object-store option for an S3 warehouse, KEY=VALUE (repeatable), e.g.
    /// s3.endpoint=http://127.0.0.1:9000.
    #[arg(long = "storage-option", value_name = "KEY=VALUE", value_parser = parse_key_value, global = true)]
    storage_options: Vec<(String, String)>,
    /// Directories whose files S3('uri' = 'file://...') may read (users
    /// with ADMIN_PRIV only), comma-separated; "none" for no local files.
    /// Default: the current directory for the client, none for `serve`.
    #[arg(
        long = "local-files",
        value_name = "DIR[,DIR...]",
        env = "TRIBUTARY_LOCAL_FILES",
        global = true
    )]
    local_files: Option<String>,
    /// The S3 endpoints S3('s3.endpoint' = ...) may call, HOST:PORT,
    /// comma-separated; "none" for none. Default: any but link-local and
    /// cloud metadata addresses (always refused).
    #[arg(
        long = "s3-endpoints",
        value_name = "HOST:PORT[,...]",
        env = "TRIBUTARY_S3_ENDPOINTS",
        global = true
    )]
    s3_endpoints: Option<String>,
    /// The memory all statements of the process may hold at once, in
    /// bytes or as a size (16GiB); a statement that would pass it fails
    /// and the others go on. Default: 80% of the machine's memory. Each
    /// statement is also held to its session's exec_mem_limit (2 GiB).
    #[arg(
        long = "memory-limit",
        value_name = "SIZE",
        env = "TRIBUTARY_MEMORY_LIMIT",
        global = true
    )]
    memory_limit: Option<bytesize::ByteSize>,
    /// How log events are written to stderr: `text`, or `json` (one
    /// object a line, for log shippers). `RUST_LOG` chooses which.
    #[arg(
        long = "log-format",
        value_enum,
        default_value_t = LogFormat::Text,
        env = "TRIBUTARY_LOG_FORMAT",
        global = true
    )]
    log_format: LogFormat,
    /// Workers to run queries across (`tributary worker` processes of this
    /// warehouse), HOST:PORT, comma-separated.
    #[arg(
        long = "workers",
        value_name = "HOST:PORT[,...]",
        env = "TRIBUTARY_WORKERS",
        value_delimiter = ',',
        global = true
    )]
    workers: Vec<String>,
    /// With --workers: the bytes of table data a query must read, or of
    /// files a job's batch or an INSERT must load, before it runs across the
    /// workers (smaller ones run in this process), in bytes or as a size
    /// (64MiB); a job's `distribute_min_bytes` property overrides it.
    #[arg(
        long = "distribute-min-bytes",
        value_name = "SIZE",
        env = "TRIBUTARY_DISTRIBUTE_MIN_BYTES",
        default_value = "64MiB",
        global = true
    )]
    distribute_min_bytes: bytesize::ByteSize,
    #[command(subcommand)]
    command: Option<Command>,
    /// The session user.
    #[arg(long, short = 'u', default_value = tributary::DEFAULT_USER)]
    user: String,
    /// Run these statements and exit.
    #[arg(long = "execute", short = 'e', conflicts_with = "file")]
    execute: Option<String>,
    /// Run the statements in this file and exit.
    #[arg(long = "file", short = 'f')]
    file: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Keep the warehouse open and its jobs running, and serve MySQL
    /// clients (the mysql client, JDBC and Python drivers) until SIGTERM or
    /// SIGINT.
    Serve {
        /// Address to serve the MySQL protocol on.
        #[arg(long, default_value = "127.0.0.1:9030")]
        mysql: std::net::SocketAddr,
        /// The server's TLS certificate chain (PEM); with --tls-key, clients
        /// that ask for TLS get it.
        #[arg(long, requires = "tls_key")]
        tls_cert: Option<PathBuf>,
        /// The private key of --tls-cert (PEM).
        #[arg(long, requires = "tls_cert")]
        tls_key: Option<PathBuf>,
        /// Refuse logins over connections without TLS.
        #[arg(long, requires = "tls_cert")]
        require_tls: bool,
        /// Also serve HTTP on this address: a status page at / and
        /// Prometheus metrics at /metrics, for the MySQL port's users
        /// (basic auth; over TLS with --tls-cert).
        #[arg(long)]
        http: Option<std::net::SocketAddr>,
    },
    /// Run the plan stages that this warehouse's processes (started with
    /// --workers) send, until SIGTERM or SIGINT. Runs no job and serves no
    /// client.
    Worker {
        /// Address to take plan stages on.
        #[arg(long, default_value = "127.0.0.1:9040")]
        listen: std::net::SocketAddr,
    },
}

/// The server's options from the `serve` flags.
fn serve_options(
    tls_cert: Option<PathBuf>,
    tls_key: Option<PathBuf>,
    require_tls: bool,
) -> tributary::Result<ServeOptions> {
    let tls = match (tls_cert, tls_key) {
        (Some(cert), Some(key)) => Some(tributary::serve::tls::server_config(&cert, &key)?),
        _ => None,
    };
    Ok(ServeOptions { tls, require_tls })
}

/// The local files `S3()` may read: the directories of `--local-files`,
/// else the current directory for the client and none for a server.
fn local_files(flag: Option<&str>, serving: bool) -> tributary::Result<LocalFiles> {
    let roots: Vec<PathBuf> = match flag.map(str::trim) {
        Some("none") | Some("") => Vec::new(),
        Some(list) => list.split(',').map(|d| PathBuf::from(d.trim())).collect(),
        None if serving => Vec::new(),
        None => vec![PathBuf::from(".")],
    };
    LocalFiles::under(&roots)
}

/// The endpoints of `--s3-endpoints`, else any.
fn s3_endpoints(flag: Option<&str>) -> Endpoints {
    match flag.map(str::trim) {
        None => Endpoints::any(),
        Some("none") | Some("") => Endpoints::only(&[]),
        Some(list) => Endpoints::only(&list.split(',').map(str::to_string).collect::<Vec<_>>()),
    }
}

fn parse_key_value(s: &str) -> Result<(String, String), String> {
    s.split_once('=')
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .ok_or_else(|| format!("'{s}' is not KEY=VALUE"))
}

/// `tributary serve`: serves until SIGTERM or SIGINT.
async fn serve(
    engine: Engine,
    address: std::net::SocketAddr,
    http: Option<std::net::SocketAddr>,
    options: ServeOptions,
) -> i32 {
    let stop = tokio_util::sync::CancellationToken::new();
    if let Some(http) = http {
        let Some((listener, local)) = listen(http, "--http").await else {
            return 1;
        };
        let scheme = if options.tls.is_some() {
            "https"
        } else {
            "http"
        };
        tracing::info!(address = %local, "serving HTTP");
        eprintln!("tributary: serving the status page on {scheme}://{local}/ and metrics on {scheme}://{local}/metrics");
        tokio::spawn(tributary::serve::http::serve_http(
            engine.clone(),
            listener,
            options.tls.clone(),
            stop.clone().cancelled_owned(),
        ));
    }
    let Some((listener, local)) = listen(address, "--mysql").await else {
        return 1;
    };
    tracing::info!(address = %local, "serving the MySQL protocol");
    eprintln!(
        "tributary: serving the MySQL protocol on {local} (mysql -h {} -P {} -u root)",
        local.rsplit_once(':').map_or("127.0.0.1", |(h, _)| h),
        local.rsplit_once(':').map_or("9030", |(_, p)| p)
    );
    if !address.ip().is_loopback() && !options.require_tls {
        tracing::warn!(address = %local, "serving beyond this machine with logins allowed in plain text: passwords (scrambled) and data can cross the network unencrypted; give --tls-cert, --tls-key and --require-tls, or bind to 127.0.0.1");
        eprintln!("tributary: WARNING: {local} is reachable from other machines and clients may connect without TLS: give --tls-cert, --tls-key and --require-tls, or bind to 127.0.0.1");
    }
    tributary::serve::serve_with(engine, listener, stop_signal(), options).await;
    stop.cancel();
    0
}

/// `tributary worker`: takes plan stages until SIGTERM or SIGINT.
async fn worker(
    location: &str,
    options: &tributary::warehouse::StorageOptions,
    access: SourceAccess,
    address: std::net::SocketAddr,
    memory_limit: Option<u64>,
) -> i32 {
    let engine = match Engine::open_worker(location, options, access).await {
        Ok(engine) => engine,
        Err(e) => {
            eprintln!("ERROR: {e}");
            return 1;
        }
    };
    let Some((listener, local)) = listen(address, "--listen").await else {
        return 1;
    };
    let root = engine.catalog().warehouse().root().to_string();
    tracing::info!(address = %local, warehouse = root, "serving as a worker");
    eprintln!(
        "tributary: worker for the warehouse {root} on {local} (give it to other processes as --workers {local})"
    );
    if !address.ip().is_loopback() {
        eprintln!("tributary: WARNING: {local} is reachable from other machines: stages and their rows cross the network unencrypted (only processes with this warehouse's secret key may send them)");
    }
    let serving = distributed::worker::serve_worker(engine, listener, memory_limit, stop_signal());
    match serving.await {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("ERROR: {e}");
            1
        }
    }
}

/// A listener on `address` (the one `flag` gave) and the address it got,
/// or `None` once it said why it cannot listen.
async fn listen(
    address: std::net::SocketAddr,
    flag: &str,
) -> Option<(tokio::net::TcpListener, String)> {
    match tokio::net::TcpListener::bind(address).await {
        Ok(listener) => {
            let local = listener
                .local_addr()
                .map_or(address.to_string(), |a| a.to_string());
            Some((listener, local))
        }
        Err(e) => {
            eprintln!("ERROR: cannot listen on {address}: {e} (is another server on that port? choose another with {flag} <address:port>)");
            None
        }
    }
}

/// Completes on SIGTERM or SIGINT.
async fn stop_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        return std::future::pending().await;
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
}

/// The stack of the runtime's threads: planning and dropping a statement
/// walk it recursively, so a statement as deep as the parser lets through
/// ([`tributary::parse::check_depth`]) must fit, in a debug build too.
/// Only the pages used are committed.
const WORKER_STACK: usize = 256 << 20;

fn main() {
    // Before the runtime starts any thread.
    tributary::tune_encoder_threads();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_stack_size(WORKER_STACK)
        .build()
        .unwrap_or_else(|e| {
            eprintln!("ERROR: cannot start the runtime: {e}");
            std::process::exit(1);
        });
    // On a worker thread, with its stack, like the server's connections.
    let code = runtime.block_on(async { tokio::spawn(run()).await.unwrap_or(1) });
    std::process::exit(code);
}

async fn run() -> i32 {
    let args = Args::parse();
    // A server logs its connections and jobs; the client only what is wrong.
    let default_filter = match args.command {
        Some(Command::Serve { .. }) | Some(Command::Worker { .. }) => "warn,tributary=info",
        None => "warn",
    };
    let logs = tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter)),
        )
        .with_writer(std::io::stderr);
    match args.log_format {
        LogFormat::Text => logs.init(),
        LogFormat::Json => logs.json().flatten_event(true).init(),
    }
    let options = args.storage_options.into_iter().collect();
    // A worker, like a server, reads no local file unless told to.
    let serving = matches!(
        args.command,
        Some(Command::Serve { .. }) | Some(Command::Worker { .. })
    );
    let local_files = match local_files(args.local_files.as_deref(), serving) {
        Ok(local_files) => local_files,
        Err(e) => {
            eprintln!("ERROR: {e}");
            return 1;
        }
    };
    let access = SourceAccess {
        local_files,
        endpoints: s3_endpoints(args.s3_endpoints.as_deref()),
    };
    if let Some(Command::Worker { listen }) = args.command {
        let limit = args.memory_limit.map(|l| l.as_u64());
        return worker(&args.warehouse, &options, access, listen, limit).await;
    }
    let engine = match Engine::open_confined(&args.warehouse, &options, access).await {
        Ok(engine) => engine,
        Err(e) => {
            eprintln!("ERROR: {e}");
            return 1;
        }
    };
    if let Some(limit) = args.memory_limit {
        engine.set_memory_limit(limit.as_u64());
    }
    if !args.workers.is_empty() {
        let options = WorkerOptions {
            addresses: args.workers,
            min_bytes: args.distribute_min_bytes.as_u64(),
        };
        match Workers::connect(options, engine.catalog().warehouse().clone()).await {
            Ok(workers) => engine.set_workers(workers),
            Err(e) => {
                eprintln!("ERROR: {e}");
                return 1;
            }
        }
    }
    if let Some(Command::Serve {
        mysql,
        tls_cert,
        tls_key,
        require_tls,
        http,
    }) = args.command
    {
        return match serve_options(tls_cert, tls_key, require_tls) {
            Ok(options) => serve(engine, mysql, http, options).await,
            Err(e) => {
                eprintln!("ERROR: {e}");
                1
            }
        };
    }
    let mut session = engine.session_as(&args.user);
    let input = match (args.execute, args.file) {
        (Some(sql), _) => cli::Input::Text(sql),
        (None, Some(path)) => cli::Input::File(path),
        (None, None) => cli::Input::Stdin,
    };
    let code = cli::run(&mut session, input).await;
    // Another process may run this one's jobs at once.
    engine.leases().release_all().await;
    code
}
