//! [`Batch`]: the files one task of a streaming job loads.

use futures::stream::BoxStream;
use futures::TryStreamExt;
use object_store::ObjectMeta;

use crate::error::Result;
use crate::job::Backlog;
use crate::read::listing::Pages;

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
    /// The files the listing had after the batch.
    pub backlog: Backlog,
    /// The first of them, at most a batch's count: the next batch's files
    /// unless the listing changes.
    pub next: Vec<ObjectMeta>,
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
pub async fn cut_from_listing(
    mut listing: Listing<'_>,
    pages: &Pages,
    mut cutter: Cutter,
) -> Result<Option<Cut>> {
    let mut end_offset = None;
    let mut left = None;
    while !cutter.batch.full {
        let Some(file) = listing.try_next().await? else {
            break;
        };
        end_offset = Some(file.location.to_string());
        left = cutter.try_offer(file);
        if left.is_some() {
            break;
        }
    }
    let (backlog, next) = if cutter.batch.full {
        count_backlog(left, listing, pages, cutter.max_files).await?
    } else {
        (Backlog::none(), Vec::new())
    };
    Ok(cutter.finish().map(|batch| Cut {
        end_offset: end_offset.unwrap_or_else(|| batch.offset.clone()),
        batch,
        backlog,
        next,
    }))
}

/// Counts the files after a full batch: `first` (the one that did not
/// fit), then the listing's, up to [`crate::job::status::BACKLOG_COUNTED`]
/// and no further than the page the listing has read, so that counting
/// costs no request; with the first `keep` of them.
async fn count_backlog(
    first: Option<ObjectMeta>,
    mut listing: Listing<'_>,
    pages: &Pages,
    keep: u64,
) -> Result<(Backlog, Vec<ObjectMeta>)> {
    let mut backlog = Backlog::none();
    let mut kept = Vec::new();
    let mut file = first;
    loop {
        if let Some(file) = file.take() {
            if !backlog.count(&file) {
                break;
            }
            if (kept.len() as u64) < keep {
                kept.push(file);
            }
        }
        if pages.left_in_page() == 0 {
            backlog.more = true;
            break;
        }
        match listing.try_next().await? {
            Some(next) => file = Some(next),
            None => break,
        }
    }
    Ok((backlog, kept))
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
        self.try_offer(file).is_none()
    }

    /// [`Self::offer`], handing `file` back when it does not fit.
    fn try_offer(&mut self, file: ObjectMeta) -> Option<ObjectMeta> {
        let batch = &mut self.batch;
        let over_files = batch.files.len() as u64 + 1 > self.max_files;
        let over_bytes = batch.bytes + file.size > self.max_bytes;
        if !batch.files.is_empty() && (over_files || over_bytes) {
            batch.full = true;
            return Some(file);
        }
        batch.bytes += file.size;
        if file.location.as_ref() > batch.offset.as_str() {
            batch.offset = file.location.to_string();
        }
        batch.files.push(file);
        None
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

    /// A listing of `n` files of 10 bytes, and how many of them were read.
    fn listing(
        n: usize,
    ) -> (
        Listing<'static>,
        std::sync::Arc<std::sync::atomic::AtomicUsize>,
    ) {
        let read = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counted = read.clone();
        let listing = futures::stream::iter((1..=n).map(|i| file(&format!("a/{i:05}"), 10)))
            .inspect(move |_| {
                counted.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            })
            .map(Ok)
            .boxed();
        (listing, read)
    }

    #[tokio::test]
    async fn a_full_batch_counts_the_files_after_it_up_to_a_limit() {
        use crate::job::status::BACKLOG_COUNTED;
        use std::sync::atomic::Ordering::Relaxed;
        let (ten, read) = listing(10);
        let cut = cut_from_listing(ten, &Pages::unpaged(), Cutter::new(3, u64::MAX, None))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(names(&cut.batch), ["a/00001", "a/00002", "a/00003"]);
        assert_eq!((cut.end_offset.as_str(), cut.batch.full), ("a/00004", true));
        assert_eq!(read.load(Relaxed), 10);
        let backlog = (cut.backlog.files, cut.backlog.bytes, cut.backlog.more);
        assert_eq!(backlog, (7, 70, false));
        // The next batch's files, as far as the listing shows them.
        let next: Vec<&str> = cut.next.iter().map(|f| f.location.as_ref()).collect();
        assert_eq!(next, ["a/00004", "a/00005", "a/00006"]);
        // A long backlog is read one file past the count, no further.
        let (long, read) = listing(5_000);
        let cut = cut_from_listing(long, &Pages::unpaged(), Cutter::new(3, u64::MAX, None))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (cut.backlog.files, cut.backlog.more),
            (BACKLOG_COUNTED, true)
        );
        assert_eq!(read.load(Relaxed) as u64, 3 + BACKLOG_COUNTED + 1);
    }

    #[tokio::test]
    async fn a_batch_that_takes_the_whole_listing_leaves_no_backlog() {
        let (two, _) = listing(2);
        let cut = cut_from_listing(two, &Pages::unpaged(), Cutter::new(3, u64::MAX, None))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (cut.end_offset.as_str(), cut.batch.full),
            ("a/00002", false)
        );
        assert_eq!((cut.backlog.files, cut.backlog.more), (0, false));
        let empty = futures::stream::empty().boxed();
        assert!(
            cut_from_listing(empty, &Pages::unpaged(), Cutter::new(3, 3, None))
                .await
                .unwrap()
                .is_none()
        );
    }
}
