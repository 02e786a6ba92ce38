//! [`Batch`]: the files one task of a streaming job loads.

use object_store::ObjectMeta;

/// The files of one task, in lexicographic order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Batch {
    pub files: Vec<ObjectMeta>,
    /// Sum of the files' sizes.
    pub bytes: u64,
    /// Whether the batch stopped at a limit with files left over: the next
    /// task should start at once instead of waiting `max_interval`.
    pub full: bool,
}

impl Batch {
    /// The offset to commit with the batch: its last file's key.
    pub fn end_offset(&self) -> &str {
        self.files
            .last()
            .map(|f| f.location.as_ref())
            .unwrap_or_default()
    }
}

/// Takes files, in the order given, until adding the next one would pass
/// `max_files` or `max_bytes`; always at least one file. `None` when there
/// is no file.
pub fn cut_batch(
    files: impl IntoIterator<Item = ObjectMeta>,
    max_files: u64,
    max_bytes: u64,
) -> Option<Batch> {
    let mut batch = Batch {
        files: Vec::new(),
        bytes: 0,
        full: false,
    };
    for file in files {
        let over_files = batch.files.len() as u64 + 1 > max_files;
        let over_bytes = batch.bytes + file.size > max_bytes;
        if !batch.files.is_empty() && (over_files || over_bytes) {
            batch.full = true;
            break;
        }
        batch.bytes += file.size;
        batch.files.push(file);
    }
    (!batch.files.is_empty()).then_some(batch)
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
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
}
