//! Opening an [`Engine`]: load the warehouse's catalog and job store, then
//! start the scheduler that runs its jobs for as long as the engine lives.

use std::sync::Arc;

use crate::catalog::Catalog;
use crate::engine::Engine;
use crate::error::Result;
use crate::ingest::scheduler::supervise;
use crate::ingest::validate::NextTask;
use crate::job::JobStore;
use crate::read::SourceAccess;
use crate::warehouse::{StorageOptions, Warehouse};

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
        Self::open_confined(location, options, SourceAccess::anywhere()).await
    }

    /// [`Engine::open_with_options`], with `S3()` reaching only the local
    /// files and endpoints `access` allows (see [`Engine::set_local_files`]
    /// and [`Engine::set_s3_endpoints`]) from the start, jobs included.
    pub async fn open_confined(
        location: &str,
        options: &StorageOptions,
        access: SourceAccess,
    ) -> Result<Self> {
        let engine = Self::open_worker(location, options, access).await?;
        // Jobs that were running before go on by themselves, and the
        // statements' changes to jobs take effect from now on.
        supervise(&engine);
        crate::maintenance::supervise(&engine);
        Ok(engine)
    }

    /// Opens the warehouse at `location` as [`Engine::open_confined`]
    /// does, but runs none of its jobs and no maintenance: for a
    /// `tributary worker`, which loads only the files other processes give
    /// it (see [`crate::distributed`]).
    pub async fn open_worker(
        location: &str,
        options: &StorageOptions,
        access: SourceAccess,
    ) -> Result<Self> {
        let warehouse = Arc::new(Warehouse::open(location, options)?);
        let catalog = Arc::new(Catalog::load(warehouse.clone()).await?);
        let jobs = Arc::new(JobStore::load(warehouse).await?);
        tracing::info!(warehouse = location, "opened warehouse");
        let engine = Self::new(catalog, jobs, Arc::new(NextTask));
        engine.set_local_files(access.local_files);
        engine.set_s3_endpoints(access.endpoints);
        Ok(engine)
    }
}
