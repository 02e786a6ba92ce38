//! # tributary
//!
//! An embeddable SQL engine built on [DataFusion](https://datafusion.apache.org)
//! whose tables are [Lance](https://lancedb.github.io/lance/) datasets, with
//! Apache Doris's continuous load jobs.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> tributary::Result<()> {
//! use tributary::Engine;
//! # let dir = tempfile::tempdir().unwrap();
//! # let warehouse = dir.path().to_str().unwrap();
//! let engine = Engine::open(warehouse).await?;
//! let mut session = engine.session();
//! session
//!     .sql("CREATE DATABASE shop; USE shop;
//!           CREATE TABLE orders (id INT NOT NULL, amount DECIMAL(10,2));
//!           INSERT INTO orders VALUES (1, 9.99), (2, 20.00)")
//!     .await?;
//! let batches = session.sql("SELECT count(*) AS n FROM shop.orders").await?;
//! let formatted = arrow::util::pretty::pretty_format_batches(&batches).unwrap();
//! assert!(formatted.to_string().contains("| 2 |"));
//! # Ok(())
//! # }
//! ```
//!
//! The data flow follows the folders: a statement goes `parse` → `plan` →
//! `catalog`/`write`; a job's rows go `ingest` (list, read through `read`,
//! convert, commit through `write`), steered by the job store in `job`.

pub mod catalog;
pub mod display;
pub mod distributed;
mod engine;
mod error;
pub mod ingest;
pub mod job;
mod maintenance;
mod memory;
pub mod metrics;
mod open;
pub mod parse;
mod plan;
pub mod progress;
pub mod read;
pub mod serve;
mod session;
pub mod warehouse;
pub mod write;

pub use engine::{Engine, DEFAULT_USER};
pub use error::{Error, Result};
pub use session::{ResultKind, Session, StatementResult, Timeouts};
pub use write::tune_encoder_threads;
