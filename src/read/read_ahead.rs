//! Reading the next batch's files while this batch is written and
//! committed. A task's reads and its fixed work (writing, the commit, its
//! records, the next listing) run one after the other; on a backlog of
//! small files in an object store the fixed work is a third of a task,
//! and the store waits through it. When a task has read its files, the
//! files its listing had after the batch are read ahead, as many reads at
//! once as a task makes; the next task takes those bytes instead of
//! reading the files again, but only for a file its own listing names
//! with the same size and entity tag. A task whose files were all read
//! ahead starts the next read-ahead at once, so the store is kept busy
//! through the task; the reads of all of a job's read-aheads share one
//! bound on reads at once, the earlier's first. Which files a batch loads is never
//! decided here: a file read ahead that the next batch does not name, or
//! names changed, is dropped, and a read ahead that failed is read again
//! the usual way (which reports its error).

use std::collections::HashMap;
use std::sync::Arc;

use bytes::Bytes;
use futures::future::{BoxFuture, Shared};
use futures::{FutureExt, StreamExt};
use object_store::path::Path;
use object_store::{ObjectMeta, ObjectStore, ObjectStoreExt};
use tokio::sync::Semaphore;
use tokio::task::JoinHandle;

/// The largest file read ahead: small files are where a task's fixed
/// work counts; a large one is read by its task as it streams.
pub const LARGEST_FILE: u64 = 1 << 20;

/// How many files a job reads ahead at once: as many as a task reads
/// small files at once.
pub const READS_AT_ONCE: usize = 64;

/// The reads a job's read-aheads may make at once.
pub fn read_permits() -> Arc<Semaphore> {
    Arc::new(Semaphore::new(READS_AT_ONCE))
}

type Read = Shared<BoxFuture<'static, Option<Bytes>>>;

/// The files read ahead for the next batch, keyed by name.
pub struct ReadAhead {
    files: HashMap<Path, (ObjectMeta, Read)>,
    /// Drives the reads; stopped when the read-ahead is dropped.
    driver: JoinHandle<()>,
}

impl Drop for ReadAhead {
    fn drop(&mut self) {
        self.driver.abort();
    }
}

impl ReadAhead {
    /// Starts reading `files` (those of them no larger than
    /// [`LARGEST_FILE`] with an entity tag) from `store`, each read with
    /// one of `permits`.
    pub fn start(
        store: Arc<dyn ObjectStore>,
        files: Vec<ObjectMeta>,
        permits: Arc<Semaphore>,
    ) -> Self {
        let files: HashMap<Path, (ObjectMeta, Read)> = files
            .into_iter()
            .filter(|f| f.size <= LARGEST_FILE && f.e_tag.is_some())
            .map(|meta| {
                let read = read(store.clone(), meta.clone(), permits.clone())
                    .boxed()
                    .shared();
                (meta.location.clone(), (meta, read))
            })
            .collect();
        let reads: Vec<Read> = files.values().map(|(_, read)| read.clone()).collect();
        let driver = tokio::spawn(async move {
            futures::stream::iter(reads)
                .buffer_unordered(READS_AT_ONCE)
                .for_each(|_| async {})
                .await;
        });
        Self { files, driver }
    }

    /// The bytes of `file` when they were read ahead (waiting for a read
    /// still running) and it is the same file: same size and entity tag.
    pub async fn bytes_of(&self, file: &ObjectMeta) -> Option<Bytes> {
        self.read_of(file)?.clone().await
    }

    /// Whether every one of `files` is being read ahead.
    pub fn covers(&self, files: &[ObjectMeta]) -> bool {
        files.iter().all(|file| self.read_of(file).is_some())
    }

    fn read_of(&self, file: &ObjectMeta) -> Option<&Read> {
        let (meta, read) = self.files.get(&file.location)?;
        let same = meta.size == file.size && meta.e_tag.is_some() && meta.e_tag == file.e_tag;
        same.then_some(read)
    }
}

/// `meta`'s bytes, when the store still has that version of it.
async fn read(
    store: Arc<dyn ObjectStore>,
    meta: ObjectMeta,
    permits: Arc<Semaphore>,
) -> Option<Bytes> {
    let _permit = permits.acquire_owned().await.ok()?;
    let got = store.get(&meta.location).await.ok()?;
    if got.meta.e_tag != meta.e_tag || got.meta.size != meta.size {
        return None;
    }
    got.bytes().await.ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use object_store::memory::InMemory;
    use object_store::PutPayload;

    async fn put(store: &InMemory, name: &str, body: &'static str) -> ObjectMeta {
        let path = Path::from(name);
        store
            .put(&path, PutPayload::from_static(body.as_bytes()))
            .await
            .unwrap();
        store.head(&path).await.unwrap()
    }

    #[tokio::test]
    async fn only_the_same_files_are_taken_from_a_read_ahead() {
        let store = Arc::new(InMemory::new());
        let a = put(&store, "a.csv", "1,a\n").await;
        let b = put(&store, "b.csv", "2,b\n").await;
        let ahead = ReadAhead::start(store.clone(), vec![a.clone(), b.clone()], read_permits());
        assert!(ahead.covers(&[a.clone(), b.clone()]));
        assert_eq!(ahead.bytes_of(&a).await.unwrap(), Bytes::from("1,a\n"));
        // Rewritten since: the next listing sees another version.
        let b2 = put(&store, "b.csv", "3,c\n").await;
        assert_ne!(b.e_tag, b2.e_tag);
        assert_eq!(ahead.bytes_of(&b2).await, None);
        assert!(!ahead.covers(&[a.clone(), b2.clone()]));
        // A file that was not read ahead.
        let c = put(&store, "c.csv", "4,d\n").await;
        assert_eq!(ahead.bytes_of(&c).await, None);
    }

    #[tokio::test]
    async fn a_file_rewritten_before_it_is_read_ahead_is_not_taken() {
        let store = Arc::new(InMemory::new());
        let a = put(&store, "a.csv", "1,a\n").await;
        put(&store, "a.csv", "2,b\n").await;
        let ahead = ReadAhead::start(store.clone(), vec![a.clone()], read_permits());
        // The listing named the first version; the store holds another.
        assert_eq!(ahead.bytes_of(&a).await, None);
    }
}
