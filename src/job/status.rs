//! How far behind a streaming job is: the files its last listing found
//! after the batch it cut ([`Backlog`], recorded with every task and every
//! idle poll, so any process reading the job store sees it), and what
//! `job_status()` derives from the job's record: the age of the oldest
//! file not loaded, when rows last became visible, and the rate of its
//! recent tasks.

use chrono::{DateTime, Utc};
use object_store::ObjectMeta;
use serde::{Deserialize, Serialize};

use super::{Job, TaskStatus};

/// How many files after a batch a task counts at most; on S3 it counts
/// no further than the page its listing has read
/// ([`crate::read::listing::Pages`]).
pub const BACKLOG_COUNTED: u64 = 1_000;

/// How many recent successful tasks the load rate is taken over.
const RATE_TASKS: usize = 20;

/// The files a job's listing found after the batch it cut, not loaded
/// (yet): the next tasks' work.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Backlog {
    /// Files counted, at most [`BACKLOG_COUNTED`].
    pub files: u64,
    pub bytes: u64,
    /// Whether the listing had more files than it counted.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub more: bool,
    /// The oldest last-modified time among the files counted (Unix ms).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oldest_ms: Option<i64>,
    /// When the listing ran (Unix ms).
    pub listed_ms: i64,
}

impl Backlog {
    /// No file left, as a listing that ended with its batch (or found
    /// nothing) finds it now.
    pub fn none() -> Self {
        Self {
            listed_ms: Utc::now().timestamp_millis(),
            ..Self::default()
        }
    }

    /// Counts `file`; `false` once [`BACKLOG_COUNTED`] files are counted
    /// (and `file` is not: there are more).
    pub fn count(&mut self, file: &ObjectMeta) -> bool {
        if self.files >= BACKLOG_COUNTED {
            self.more = true;
            return false;
        }
        self.add(file);
        true
    }

    /// The backlog with `batch` not loaded either (its task failed).
    pub fn with_batch(mut self, batch: &[ObjectMeta]) -> Self {
        for file in batch {
            self.add(file);
        }
        self
    }

    fn add(&mut self, file: &ObjectMeta) {
        self.files += 1;
        self.bytes += file.size;
        let modified = file.last_modified.timestamp_millis();
        self.oldest_ms = Some(self.oldest_ms.map_or(modified, |o| o.min(modified)));
    }

    /// How old the oldest file not loaded was at `now`, in seconds.
    pub fn oldest_age_seconds(&self, now: DateTime<Utc>) -> Option<f64> {
        self.oldest_ms
            .map(|ms| (now.timestamp_millis() - ms).max(0) as f64 / 1000.0)
    }
}

/// Rows and bytes a second over the job's last [`RATE_TASKS`] successful
/// tasks: what they loaded over the time from the first one's start to
/// the last one's end. `None` before a task loaded, or when that time is
/// under a second (task times are kept to the second).
pub fn recent_rate(job: &Job) -> Option<(f64, f64)> {
    let recent: Vec<_> = job
        .tasks
        .iter()
        .rev()
        .filter(|t| t.status == TaskStatus::Success)
        .take(RATE_TASKS)
        .collect();
    let time = |t: &str| DateTime::parse_from_rfc3339(t).ok();
    let start = time(&recent.last()?.start_time)?;
    let end = time(recent.first()?.finish_time.as_deref()?)?;
    let seconds = (end - start).num_milliseconds() as f64 / 1000.0;
    if seconds < 1.0 {
        return None;
    }
    let rows: u64 = recent.iter().map(|t| t.statistic.scanned_rows).sum();
    let bytes: u64 = recent.iter().map(|t| t.statistic.load_bytes).sum();
    Some((rows as f64 / seconds, bytes as f64 / seconds))
}

#[cfg(test)]
mod tests {
    use object_store::path::Path;

    use super::*;

    fn file(name: &str, size: u64, modified_ms: i64) -> ObjectMeta {
        ObjectMeta {
            location: Path::from(name),
            last_modified: DateTime::from_timestamp_millis(modified_ms).unwrap(),
            size,
            e_tag: None,
            version: None,
        }
    }

    #[test]
    fn a_backlog_counts_up_to_its_limit_and_keeps_the_oldest_time() {
        let mut backlog = Backlog::none();
        assert!(backlog.count(&file("a", 10, 5_000)));
        assert!(backlog.count(&file("b", 20, 2_000)));
        assert_eq!((backlog.files, backlog.bytes, backlog.more), (2, 30, false));
        assert_eq!(backlog.oldest_ms, Some(2_000));
        let now = DateTime::from_timestamp_millis(12_000).unwrap();
        assert_eq!(backlog.oldest_age_seconds(now), Some(10.0));
        for i in 2..BACKLOG_COUNTED {
            assert!(backlog.count(&file(&format!("c{i}"), 1, 9_000)));
        }
        assert!(!backlog.count(&file("z", 1, 1_000)));
        assert_eq!((backlog.files, backlog.more), (BACKLOG_COUNTED, true));
        assert_eq!(
            backlog.oldest_ms,
            Some(2_000),
            "a file not counted is not seen"
        );
        let failed = backlog.with_batch(&[file("a", 7, 1_500)]);
        assert_eq!(
            (failed.files, failed.oldest_ms),
            (BACKLOG_COUNTED + 1, Some(1_500))
        );
    }
}
