//! [`Engine`]: an opened warehouse, shared by all sessions of a process.

use std::sync::{Arc, Weak};

use datafusion::execution::runtime_env::RuntimeEnv;

use crate::catalog::Catalog;
use crate::error::Result;
use crate::ingest::scheduler::supervise;
use crate::job::control::Controls;
use crate::job::{JobStore, JOB_STREAMING_TASK_EXEC_THREAD_NUM};
use crate::session::Session;
use crate::warehouse::{StorageOptions, Warehouse};

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
}

impl Engine {
    /// Opens or creates the warehouse at `location`: a local directory, or an
    /// `s3://bucket/prefix` URI (see [`Engine::open_with_options`]).
    pub async fn open(location: &str) -> Result<Self> {
        Self::open_with_options(location, &StorageOptions::new()).await
    }

    /// Opens or creates the warehouse at `location` with object-store
    /// options, e.g. `aws_endpoint`, `aws_region`, `aws_access_key_id`,
    /// `aws_secret_access_key` (or Doris's `s3.endpoint`, `s3.region`,
    /// `s3.access_key`, `s3.secret_key`).
    pub async fn open_with_options(location: &str, options: &StorageOptions) -> Result<Self> {
        let warehouse = Arc::new(Warehouse::open(location, options)?);
        let catalog = Arc::new(Catalog::load(warehouse.clone()).await?);
        let jobs = Arc::new(JobStore::load(warehouse).await?);
        tracing::info!(warehouse = location, "opened warehouse");
        let engine = Self {
            inner: Arc::new(EngineInner {
                catalog,
                jobs,
                controls: Controls::default(),
                task_slots: Arc::new(tokio::sync::Semaphore::new(
                    JOB_STREAMING_TASK_EXEC_THREAD_NUM,
                )),
                runtime: Arc::new(RuntimeEnv::default()),
            }),
        };
        // Jobs that were running before go on by themselves, and the
        // statements' changes to jobs take effect from now on.
        supervise(&engine);
        Ok(engine)
    }

    /// A new session as `root`.
    pub fn session(&self) -> Session {
        self.session_as(DEFAULT_USER)
    }

    /// A new session as `user`.
    pub fn session_as(&self, user: &str) -> Session {
        Session::new(self.clone(), user)
    }

    /// The engine's catalog.
    pub fn catalog(&self) -> &Arc<Catalog> {
        &self.inner.catalog
    }

    /// The engine's streaming jobs.
    pub fn jobs(&self) -> &Arc<JobStore> {
        &self.inner.jobs
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
}
