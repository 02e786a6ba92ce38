//! Fencing a streaming task's commit. Lance rebases concurrent appends
//! silently, so two processes running the same job could both commit the
//! same files. A task's commit goes through [`FencedCommitHandler`]: Lance
//! calls it for each version it tries to write, and it refuses when any
//! version after the one the task read its offset from carries a commit of
//! the same job (another process loaded files after that offset). Below
//! it, the version is written with a create-if-absent PUT (Lance's
//! [`ConditionalPutCommitHandler`]), so no commit can slip in between the
//! check and the write. The refused task has committed nothing; its job
//! goes on from the other commit.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use lance::io::ObjectStore;
use lance::Dataset;
use lance_object_store::path::Path;
use lance_table::format::{IndexMetadata, Manifest, Transaction};
use lance_table::io::commit::{
    CommitError, CommitHandler, ConditionalPutCommitHandler, ManifestLocation,
    ManifestNamingScheme, ManifestWriter,
};

/// What a task's commit must not pass over: commits carrying `key` (its
/// job's offset property) after `read_version`.
#[derive(Debug)]
pub struct Fence {
    dataset: Arc<Dataset>,
    read_version: u64,
    key: String,
    /// The version whose commit refused this one, once one did (0 before:
    /// such a version comes after the read one, so it is never 0).
    tripped_at: AtomicU64,
}

impl Fence {
    /// The fence of a task that read its offset at `dataset`'s version.
    pub fn new(dataset: Arc<Dataset>, key: String) -> Arc<Self> {
        let read_version = dataset.version().version;
        Arc::new(Self {
            dataset,
            read_version,
            key,
            tripped_at: AtomicU64::new(0),
        })
    }

    /// The version with another commit of the job that refused this one.
    pub fn tripped(&self) -> Option<u64> {
        Some(self.tripped_at.load(Ordering::SeqCst)).filter(|v| *v > 0)
    }

    /// The first version before `version` and after the read one that
    /// carries a commit of the job.
    async fn committed_before(&self, version: u64) -> lance::Result<Option<u64>> {
        for candidate in (self.read_version + 1)..version {
            let transaction = super::transaction_of(&self.dataset, candidate).await?;
            let ours = transaction
                .and_then(|t| t.transaction_properties)
                .is_some_and(|p| p.contains_key(&self.key));
            if ours {
                return Ok(Some(candidate));
            }
        }
        Ok(None)
    }
}

/// Lance's create-if-absent commit, refused past a [`Fence`].
#[derive(Debug)]
pub struct FencedCommitHandler {
    fence: Arc<Fence>,
}

impl FencedCommitHandler {
    pub fn new(fence: Arc<Fence>) -> Arc<Self> {
        Arc::new(Self { fence })
    }
}

#[async_trait::async_trait]
impl CommitHandler for FencedCommitHandler {
    fn is_version_not_found_definitive(&self) -> bool {
        ConditionalPutCommitHandler.is_version_not_found_definitive()
    }

    #[allow(clippy::too_many_arguments)]
    async fn commit(
        &self,
        manifest: &mut Manifest,
        indices: Option<Vec<IndexMetadata>>,
        base_path: &Path,
        object_store: &ObjectStore,
        manifest_writer: ManifestWriter,
        naming_scheme: ManifestNamingScheme,
        transaction: Option<Transaction>,
    ) -> Result<ManifestLocation, CommitError> {
        if let Some(version) = self.fence.committed_before(manifest.version).await? {
            self.fence.tripped_at.store(version, Ordering::SeqCst);
            return Err(CommitError::OtherError(lance::Error::fenced_by_peer(
                format!("version {version} holds another commit of the same job"),
            )));
        }
        ConditionalPutCommitHandler
            .commit(
                manifest,
                indices,
                base_path,
                object_store,
                manifest_writer,
                naming_scheme,
                transaction,
            )
            .await
    }
}
