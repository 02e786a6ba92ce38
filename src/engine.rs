//! [`Engine`]: an opened warehouse, shared by all sessions of a process:
//! its catalog, its job store, the live controls of running job loops and
//! the task slots they share. Opening one (and starting its scheduler) is
//! in [`crate::open`]; its sessions are made in [`crate::session`].

use std::sync::{Arc, Weak};

use datafusion::execution::runtime_env::{RuntimeEnv, RuntimeEnvBuilder};

use async_trait::async_trait;

use crate::catalog::Catalog;
use crate::error::Result;
use crate::job::control::Controls;
use crate::job::lease::Leases;
use crate::job::ledger::Outcome;
use crate::job::Job;
use crate::job::{JobStore, JOB_STREAMING_TASK_EXEC_THREAD_NUM};
use crate::memory::MemoryBudget;
use crate::read::{Endpoints, LocalFiles, SourceAccess};
use crate::warehouse::Warehouse;

/// The dry run of a job's next task (`VALIDATE JOB`): it reads files
/// through the job's INSERT, which [`crate::ingest`] does, so the engine is
/// given it when opened and statements reach it here, knowing nothing of
/// ingestion.
#[async_trait]
pub(crate) trait DryRun: Send + Sync + std::fmt::Debug {
    /// What `job`'s next task would load and leave out, file by file (none
    /// when there is nothing new).
    async fn next_task(&self, engine: &Engine, job: &Job) -> Result<Vec<Outcome>>;
}

/// An [`Engine`] reference that lets it be dropped.
pub(crate) struct WeakEngine(Weak<EngineInner>);

impl WeakEngine {
    pub(crate) fn upgrade(&self) -> Option<Engine> {
        self.0.upgrade().map(|inner| Engine { inner })
    }
}

/// The user a session runs as unless another is given.
pub const DEFAULT_USER: &str = "root";

/// An embeddable tributary engine over one warehouse.
///
/// Cheap to clone; all clones share the catalog.
#[derive(Clone, Debug)]
pub struct Engine {
    inner: Arc<EngineInner>,
}

#[derive(Debug)]
struct EngineInner {
    catalog: Arc<Catalog>,
    jobs: Arc<JobStore>,
    /// The loops of running jobs.
    controls: Controls,
    /// Bounds the tasks running at once (`job_streaming_task_exec_thread_num`).
    task_slots: Arc<tokio::sync::Semaphore>,
    runtime: Arc<RuntimeEnv>,
    /// The memory all statements of the process draw from.
    memory: Arc<MemoryBudget>,
    /// Which jobs this process runs.
    leases: Leases,
    /// Which local files and endpoints `S3()` may reach.
    source_access: std::sync::RwLock<Arc<SourceAccess>>,
    dry_run: Arc<dyn DryRun>,
    /// What this process observes for `/metrics`.
    metrics: crate::metrics::Metrics,
    /// The workers queries may run across (`--workers`).
    workers: std::sync::RwLock<Option<crate::distributed::Workers>>,
}

impl Engine {
    /// An engine over a loaded catalog and job store; no job runs yet
    /// (see [`Engine::open`], which starts the scheduler).
    pub(crate) fn new(
        catalog: Arc<Catalog>,
        jobs: Arc<JobStore>,
        dry_run: Arc<dyn DryRun>,
    ) -> Self {
        let memory = MemoryBudget::for_process(None);
        let runtime = RuntimeEnvBuilder::new()
            .with_memory_pool(memory.clone())
            .build_arc()
            .expect("the default runtime builds");
        crate::read::parquet::register_placeholder(&runtime);
        Self {
            inner: Arc::new(EngineInner {
                catalog,
                controls: Controls::default(),
                task_slots: Arc::new(tokio::sync::Semaphore::new(
                    JOB_STREAMING_TASK_EXEC_THREAD_NUM,
                )),
                runtime,
                memory,
                leases: Leases::new(jobs.warehouse().clone()),
                source_access: std::sync::RwLock::new(Arc::new(SourceAccess {
                    local_files: outside_warehouse(LocalFiles::anywhere(), jobs.warehouse()),
                    endpoints: Endpoints::any(),
                })),
                jobs,
                dry_run,
                metrics: crate::metrics::Metrics::default(),
                workers: std::sync::RwLock::new(None),
            }),
        }
    }

    /// What `job`'s next task would load and leave out ([`DryRun`]).
    pub(crate) async fn dry_run_next_task(&self, job: &Job) -> Result<Vec<Outcome>> {
        self.inner.dry_run.next_task(self, job).await
    }

    /// Stops running jobs for a clean exit: no job loop starts any more,
    /// running tasks are cancelled before their commits (nothing of them
    /// is committed; the jobs keep their state and go on when the
    /// warehouse is opened again), and this returns once every loop has
    /// ended (at most `timeout`).
    pub async fn shutdown(&self, timeout: std::time::Duration) {
        self.controls().close();
        let deadline = tokio::time::Instant::now() + timeout;
        while !self.controls().names().is_empty() && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }

    /// The engine's catalog.
    pub fn catalog(&self) -> &Arc<Catalog> {
        &self.inner.catalog
    }

    /// The engine's streaming jobs.
    pub fn jobs(&self) -> &Arc<JobStore> {
        &self.inner.jobs
    }

    /// The job leases of this process.
    pub fn leases(&self) -> &Leases {
        &self.inner.leases
    }

    /// What this process observes, for `/metrics`.
    pub fn metrics(&self) -> &crate::metrics::Metrics {
        &self.inner.metrics
    }

    /// The loops of running jobs.
    pub(crate) fn controls(&self) -> &Controls {
        &self.inner.controls
    }

    /// The slots tasks take to run (`job_streaming_task_exec_thread_num`).
    pub(crate) fn task_slots(&self) -> &Arc<tokio::sync::Semaphore> {
        &self.inner.task_slots
    }

    /// A reference that does not keep the engine alive (for job loops).
    pub(crate) fn downgrade(&self) -> WeakEngine {
        WeakEngine(Arc::downgrade(&self.inner))
    }

    pub(crate) fn runtime(&self) -> &Arc<RuntimeEnv> {
        &self.inner.runtime
    }

    /// Plans queries that read enough of the tables across `workers`
    /// (see [`crate::distributed`]).
    pub fn set_workers(&self, workers: crate::distributed::Workers) {
        *self.inner.workers.write().expect("lock") = Some(workers);
    }

    /// The workers queries may run across, if any.
    pub(crate) fn workers(&self) -> Option<crate::distributed::Workers> {
        self.inner.workers.read().expect("lock").clone()
    }

    /// The memory all statements of the process draw from.
    pub(crate) fn memory(&self) -> &Arc<MemoryBudget> {
        &self.inner.memory
    }

    /// Caps the memory the process's statements use at once, in bytes
    /// (by default 80% of the machine's memory); a statement that would
    /// pass it fails with an error, and the others go on.
    pub fn set_memory_limit(&self, bytes: u64) {
        self.inner.memory.set_limit(bytes);
    }

    /// Which local files and endpoints `S3()` may reach (by default any
    /// local file the process can read but the warehouse's own, and any
    /// endpoint but the cloud metadata services).
    pub fn source_access(&self) -> Arc<SourceAccess> {
        self.inner.source_access.read().expect("lock").clone()
    }

    /// Allows `S3()` to call only the S3 `endpoints` given (metadata
    /// addresses are refused whatever this says).
    pub fn set_s3_endpoints(&self, endpoints: Endpoints) {
        self.change_access(|access| access.endpoints = endpoints);
    }

    /// Allows `S3()` to read local files only as `local_files` says (the
    /// warehouse's own files stay unreadable); an embedding program that
    /// runs SQL of users it does not trust sets this to the directories
    /// they may read, or to [`LocalFiles::under`] no directory at all.
    pub fn set_local_files(&self, local_files: LocalFiles) {
        let local_files = outside_warehouse(local_files, self.catalog().warehouse());
        self.change_access(|access| access.local_files = local_files);
    }

    fn change_access(&self, change: impl FnOnce(&mut SourceAccess)) {
        let mut access = self.inner.source_access.write().expect("lock");
        let mut changed = (**access).clone();
        change(&mut changed);
        *access = Arc::new(changed);
    }
}

/// `local_files`, never inside a local warehouse.
fn outside_warehouse(local_files: LocalFiles, warehouse: &Warehouse) -> LocalFiles {
    match warehouse.local_dir() {
        Some(dir) => local_files.forbidding(dir),
        None => local_files,
    }
}
