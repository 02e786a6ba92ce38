//! [`Session`]: runs SQL text for one user with a current database.

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::config::Dialect;
use datafusion::execution::runtime_env::{RuntimeEnv, RuntimeEnvBuilder};
use datafusion::execution::session_state::SessionStateBuilder;
use datafusion::prelude::{SessionConfig, SessionContext};

use crate::catalog::{WarehouseCatalogProvider, CATALOG_NAME};
use crate::engine::{Engine, DEFAULT_USER};
use crate::memory::MemoryBudget;
use crate::plan::dictionary_group_by::DictionaryGroupBy;
use crate::progress::Progress;
use crate::read::{PreparedFunction, PreparedSources, TABLE_FUNCTIONS};

/// What a statement produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResultKind {
    /// A result set (`SELECT`, `SHOW`, `DESC`, ...).
    Rows,
    /// A change of `n` rows or objects (`INSERT`, `CREATE`, `DROP`, ...).
    Affected(u64),
}

/// The result of one statement.
#[derive(Debug, Clone)]
pub struct StatementResult {
    pub kind: ResultKind,
    pub schema: SchemaRef,
    pub batches: Vec<RecordBatch>,
    /// Notes about the statement (e.g. Doris clauses that were ignored).
    pub warnings: Vec<String>,
}

impl StatementResult {
    /// A result set.
    pub fn rows(schema: SchemaRef, batches: Vec<RecordBatch>) -> Self {
        Self {
            kind: ResultKind::Rows,
            schema,
            batches,
            warnings: vec![],
        }
    }

    /// A change of `n` rows or objects, with no result set.
    pub fn affected(n: u64) -> Self {
        Self {
            kind: ResultKind::Affected(n),
            schema: Arc::new(Schema::empty()),
            batches: vec![],
            warnings: vec![],
        }
    }

    /// A result set of nullable string columns, built row by row.
    pub fn strings(columns: &[&str], rows: Vec<Vec<Option<String>>>) -> Self {
        let schema = Arc::new(Schema::new(
            columns
                .iter()
                .map(|c| Field::new(*c, DataType::Utf8, true))
                .collect::<Vec<_>>(),
        ));
        let arrays: Vec<ArrayRef> = (0..columns.len())
            .map(|i| {
                Arc::new(rows.iter().map(|r| r[i].clone()).collect::<StringArray>()) as ArrayRef
            })
            .collect();
        let batch = RecordBatch::try_new(schema.clone(), arrays).expect("columns match schema");
        Self::rows(schema, vec![batch])
    }

    /// Adds warnings.
    pub fn with_warnings(mut self, warnings: Vec<String>) -> Self {
        self.warnings.extend(warnings);
        self
    }

    /// Total number of rows in the result set.
    pub fn num_rows(&self) -> usize {
        self.batches.iter().map(RecordBatch::num_rows).sum()
    }
}

/// Doris's statement time limits of a session, in seconds: a statement
/// that runs longer is cancelled with an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// `query_timeout`: any statement but an INSERT (Doris's default 300).
    pub query_secs: u64,
    /// `insert_timeout`: an INSERT (Doris's default 14400, four hours).
    pub insert_secs: u64,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            query_secs: 300,
            insert_secs: 14_400,
        }
    }
}

/// A connection-like session: a user, a current database and the
/// DataFusion context queries are planned in.
pub struct Session {
    engine: Engine,
    user: String,
    database: Option<String>,
    timeouts: Timeouts,
    /// The memory of the statement running, within the engine's
    /// (`exec_mem_limit`).
    memory: Arc<MemoryBudget>,
    /// The engine's runtime with this session's memory budget.
    runtime: Arc<RuntimeEnv>,
    ctx: SessionContext,
    /// Tables prepared for the `S3(...)` calls of the statement being planned.
    prepared: Arc<PreparedSources>,
    /// How far the running statement has come.
    progress: Arc<Progress>,
}

impl Engine {
    /// A new session as `root`.
    pub fn session(&self) -> Session {
        self.session_as(DEFAULT_USER)
    }

    /// A new session as `user`.
    pub fn session_as(&self, user: &str) -> Session {
        Session::new(self.clone(), user)
    }
}

impl Session {
    pub(crate) fn new(engine: Engine, user: &str) -> Self {
        let prepared = Arc::new(PreparedSources::default());
        let memory = MemoryBudget::for_session(engine.memory());
        let runtime = RuntimeEnvBuilder::from_runtime_env(engine.runtime())
            .with_memory_pool(memory.clone())
            .build_arc()
            .expect("a runtime from the engine's builds");
        let progress = Arc::new(Progress::default());
        let ctx = new_context(&engine, &runtime, user, None, &prepared, &progress);
        Self {
            engine,
            user: user.to_string(),
            database: None,
            timeouts: Timeouts::default(),
            memory,
            runtime,
            ctx,
            prepared,
            progress,
        }
    }

    /// The engine this session belongs to.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The session user.
    pub fn user(&self) -> &str {
        &self.user
    }

    /// The current database, if one was selected with `USE`.
    pub fn database(&self) -> Option<&str> {
        self.database.as_deref()
    }

    /// Changes the current database (the caller checked it exists).
    pub(crate) fn set_database(&mut self, database: Option<String>) {
        self.ctx = new_context(
            &self.engine,
            &self.runtime,
            &self.user,
            database.as_deref(),
            &self.prepared,
            &self.progress,
        );
        self.database = database;
    }

    /// The session's statement time limits.
    pub fn timeouts(&self) -> Timeouts {
        self.timeouts
    }

    pub(crate) fn set_timeouts(&mut self, timeouts: Timeouts) {
        self.timeouts = timeouts;
    }

    /// `exec_mem_limit`: the bytes one statement of the session may hold.
    pub fn exec_mem_limit(&self) -> u64 {
        self.memory.limit()
    }

    pub(crate) fn set_exec_mem_limit(&mut self, bytes: u64) {
        self.memory.set_limit(bytes);
    }

    /// How far the session's running statement has come.
    pub fn progress(&self) -> &Arc<Progress> {
        &self.progress
    }

    /// Tables prepared for table-function calls (see [`crate::read::rewrite_calls`]).
    pub(crate) fn prepared_sources(&self) -> &PreparedSources {
        &self.prepared
    }

    /// The DataFusion context queries are planned in.
    pub fn context(&self) -> &SessionContext {
        &self.ctx
    }
}

/// tributary's functions beside DataFusion's: a worker running a stage of
/// a query needs the same ones as the process that planned it.
pub(crate) fn register_functions(ctx: &SessionContext) {
    crate::plan::series::register(ctx);
    crate::plan::string_size::register(ctx);
    crate::plan::text_search::register(ctx);
    crate::plan::mysql_functions::register(ctx);
    crate::plan::date_functions::register(ctx);
    crate::plan::string_functions::register(ctx);
    crate::plan::nested_functions::register(ctx);
}

/// Name of the DataFusion default schema while no database is selected; no
/// database can have it, so unqualified names fail with "no database selected".
pub(crate) const NO_DATABASE: &str = "";

/// A DataFusion context over the engine's catalog as `user` sees it,
/// with `database` as the default schema.
fn new_context(
    engine: &Engine,
    runtime: &Arc<RuntimeEnv>,
    user: &str,
    database: Option<&str>,
    prepared: &Arc<PreparedSources>,
    progress: &Arc<Progress>,
) -> SessionContext {
    let mut config = SessionConfig::new()
        .with_extension(progress.clone())
        .with_default_catalog_and_schema(CATALOG_NAME, database.unwrap_or(NO_DATABASE))
        .with_create_default_catalog_and_schema(false)
        .with_information_schema(false);
    config.options_mut().sql_parser.dialect = Dialect::MySQL;
    // As in MySQL and Doris, `1.5` and a number past BIGINT are exact
    // DECIMALs, not floating point (a LARGEINT's 39 digits stay exact).
    config.options_mut().sql_parser.parse_float_as_decimal = true;
    let state = SessionStateBuilder::new()
        .with_config(config)
        .with_runtime_env(runtime.clone())
        .with_default_features()
        .with_physical_optimizer_rule(Arc::new(DictionaryGroupBy))
        .build();
    let ctx = SessionContext::new_with_state(state);
    ctx.register_catalog(
        CATALOG_NAME,
        Arc::new(WarehouseCatalogProvider::new(
            engine.catalog().clone(),
            user.to_string(),
        )),
    );
    register_functions(&ctx);
    crate::plan::mysql_functions::register_session_values(&ctx, user, database);
    // Calls are rewritten to these lower-case names before planning.
    for name in TABLE_FUNCTIONS {
        ctx.register_udtf(
            name,
            Arc::new(PreparedFunction::new(name, prepared.clone())),
        );
    }
    ctx
}
