//! The `tributary` binary: a mysql-style client over an embedded engine.

mod cli;

use std::path::PathBuf;

use clap::Parser;
use tracing_subscriber::EnvFilter;
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
        default_value = "./warehouse"
    )]
    warehouse: String,
    /// Object-store option for an S3 warehouse, KEY=VALUE (repeatable), e.g.
    /// s3.endpoint=http://127.0.0.1:9000.
    #[arg(long = "storage-option", value_name = "KEY=VALUE", value_parser = parse_key_value)]
    storage_options: Vec<(String, String)>,
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

fn parse_key_value(s: &str) -> Result<(String, String), String> {
    s.split_once('=')
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .ok_or_else(|| format!("'{s}' is not KEY=VALUE"))
}

fn main() {
    // Before the runtime starts any thread.
    tributary::tune_encoder_threads();
    let runtime = tokio::runtime::Runtime::new().unwrap_or_else(|e| {
        eprintln!("ERROR: cannot start the runtime: {e}");
        std::process::exit(1);
    });
    std::process::exit(runtime.block_on(run()));
}

async fn run() -> i32 {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    let options = args.storage_options.into_iter().collect();
    let engine = match Engine::open_with_options(&args.warehouse, &options).await {
        Ok(engine) => engine,
        Err(e) => {
            eprintln!("ERROR: {e}");
            return 1;
        }
    };
    let mut session = engine.session_as(&args.user);
    let input = match (args.execute, args.file) {
        (Some(sql), _) => cli::Input::Text(sql),
        (None, Some(path)) => cli::Input::File(path),
        (None, None) => cli::Input::Stdin,
    };
    cli::run(&mut session, input).await
}
