//! [`Batch`]: the files one task of a streaming job loads.

use futures::stream::BoxStream;
use futures::TryStreamExt;
use object_store::ObjectMeta;

use crate::error::Result;

/// The files of one task, in lexicographic order: files at or below the
/// job's offset that it loads again or late (if any), then the new ones.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Batch {
    pub files: Vec<ObjectMeta>,
    /// Sum of the files' sizes.
    pub bytes: u64,
    /// Whether the batch stopped at a limit with files left over: the next
    /// task should start at once instead of waiting `max_interval`.
    pub full: bool,
    /// The offset to commit with the batch: its last file's key, or the
    /// job's offset when that is greater (a batch of late files only).
    pub offset: String,
}

impl Batch {
    /// The offset to commit with the batch.
    pub fn end_offset(&self) -> &str {
        &self.offset
    }
}

/// The files after an offset, as a listing streams them in key order.
pub type Listing<'a> = BoxStream<'a, Result<ObjectMeta>>;

/// The files a listing gave one task, and where the listing stopped.
#[derive(Debug)]
pub struct Cut {
    pub batch: Batch,
    /// The greatest file name the listing read: the batch's last file, or
    /// the first one after it when the batch stopped at a limit.
    pub end_offset: String,
}

/// Takes files, in the order given, until adding the next one would pass
/// `max_files` or `max_bytes`; always at least one file. `None` when there
/// is no file.
pub fn cut_batch(
    files: impl IntoIterator<Item = ObjectMeta>,
    max_files: u64,
    max_bytes: u64,
) -> Option<Batch> {
    let mut cutter = Cutter::new(max_files, max_bytes, None);
    for file in files {
        if !cutter.offer(file) {
            break;
        }
    }
    cutter.finish()
}

/// Fills `cutter` from a listing, reading no further than the first file
/// that does not fit: a listing that pages stops there, so a task lists
/// about one page however long the backlog is.
pub async fn cut_from_listing(mut listing: Listing<'_>, mut cutter: Cutter) -> Result<Option<Cut>> {
    let mut end_offset = None;
    while !cutter.batch.full {
        let Some(file) = listing.try_next().await? else {
            break;
        };
        end_offset = Some(file.location.to_string());
        if !cutter.offer(file) {
            break;
        }
    }
    Ok(cutter.finish().map(|batch| Cut {
        end_offset: end_offset.unwrap_or_else(|| batch.offset.clone()),
        batch,
    }))
}

/// Builds a batch file by file up to its limits.
pub struct Cutter {
    batch: Batch,
    max_files: u64,
    max_bytes: u64,
}

impl Cutter {
    /// An empty batch of at most `max_files` files and `max_bytes` bytes
    /// (at least one file), for a job whose offset is `offset`.
    pub fn new(max_files: u64, max_bytes: u64, offset: Option<&str>) -> Self {
        Self {
            batch: Batch {
                files: Vec::new(),
                bytes: 0,
                full: false,
                offset: offset.unwrap_or_default().to_string(),
            },
            max_files,
            max_bytes,
        }
    }

    /// Adds `file` to the batch; `false` (and the batch is full) when it
    /// would pass a limit.
    pub fn offer(&mut self, file: ObjectMeta) -> bool {
        let batch = &mut self.batch;
        let over_files = batch.files.len() as u64 + 1 > self.max_files;
        let over_bytes = batch.bytes + file.size > self.max_bytes;
        if !batch.files.is_empty() && (over_files || over_bytes) {
            batch.full = true;
            return false;
        }
        batch.bytes += file.size;
        if file.location.as_ref() > batch.offset.as_str() {
            batch.offset = file.location.to_string();
        }
        batch.files.push(file);
        true
    }

    fn finish(self) -> Option<Batch> {
        (!self.batch.files.is_empty()).then_some(self.batch)
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use futures::StreamExt;
    use object_store::path::Path;

    use super::*;

    fn file(name: &str, size: u64) -> ObjectMeta {
        ObjectMeta {
            location: Path::from(name),
            last_modified: Utc::now(),
            size,
            e_tag: None,
            version: None,
        }
    }

    fn names(batch: &Batch) -> Vec<&str> {
        batch.files.iter().map(|f| f.location.as_ref()).collect()
    }

    #[test]
    fn cuts_by_file_count() {
        let files = vec![file("a/1", 10), file("a/2", 10), file("a/3", 10)];
        let batch = cut_batch(files, 2, u64::MAX).unwrap();
        assert_eq!(names(&batch), ["a/1", "a/2"]);
        assert_eq!(
            (batch.bytes, batch.full, batch.end_offset()),
            (20, true, "a/2")
        );
    }

    #[test]
    fn cuts_by_bytes_but_takes_at_least_one_file() {
        let files = vec![file("a/1", 60), file("a/2", 50), file("a/3", 1)];
        let batch = cut_batch(files.clone(), 100, 100).unwrap();
        assert_eq!(names(&batch), ["a/1"]);
        assert!(batch.full);
        let huge = cut_batch(vec![file("big", 500), file("next", 1)], 100, 100).unwrap();
        assert_eq!(names(&huge), ["big"]);
        let all = cut_batch(files, 100, 1000).unwrap();
        assert_eq!((all.files.len(), all.full), (3, false));
        assert!(cut_batch(vec![], 1, 1).is_none());
    }

    #[tokio::test]
    async fn a_listing_is_read_up_to_the_first_file_that_does_not_fit() {
        let read = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counted = read.clone();
        let listing = futures::stream::iter((1..=10).map(|i| file(&format!("a/{i:02}"), 10)))
            .inspect(move |_| {
                counted.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            })
            .map(Ok)
            .boxed();
        let cut = cut_from_listing(listing, Cutter::new(3, u64::MAX, None))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(names(&cut.batch), ["a/01", "a/02", "a/03"]);
        assert_eq!((cut.end_offset.as_str(), cut.batch.full), ("a/04", true));
        assert_eq!(read.load(std::sync::atomic::Ordering::Relaxed), 4);
        let rest = futures::stream::iter([Ok(file("a/09", 1)), Ok(file("a/10", 1))]).boxed();
        let cut = cut_from_listing(rest, Cutter::new(3, u64::MAX, None))
            .await
            .unwrap()
            .unwrap();
        assert_eq!((cut.end_offset.as_str(), cut.batch.full), ("a/10", false));
        let empty = futures::stream::empty().boxed();
        assert!(cut_from_listing(empty, Cutter::new(3, 3, None))
            .await
            .unwrap()
            .is_none());
    }
}
