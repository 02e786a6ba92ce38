//! Late files: files that appear with a name at or below a streaming job's
//! offset after its listing has passed that name. Doris never sees them;
//! a tributary job looks back for them ([`Lookback`]) and, as
//! `s3.late_files` says, records them `SKIPPED_LATE` (the default) or
//! loads them once with its next batch.
//!
//! The look-back is bounded: each listing starts after the smallest of the
//! job's `s3.late_files.window` most recent file names (by name) instead
//! of after the offset, and a listed file at or below the offset that the
//! job has no record of is late. The ledger says which files the job has
//! seen; the window is read from it when the job's loop starts and kept
//! up to date by the loop. A file that sorts below the window, or at or
//! below an offset the user gave (files passed over on purpose), is not
//! looked for. A file whose load failed is looked for again.

use std::collections::BTreeSet;

use object_store::ObjectMeta;

use crate::engine::Engine;
use crate::error::Result;
use crate::job::ledger::{records_of, FileRecord, FileStatus};
use crate::job::Job;

/// The names (store keys) of a job's most recent files, by name: a file
/// at or below the offset that is not among them is late.
#[derive(Debug, Default)]
pub struct Lookback {
    known: BTreeSet<String>,
    window: usize,
}

impl Lookback {
    /// The window of `job`, read from its ledger.
    pub async fn load(engine: &Engine, job: &Job) -> Result<Self> {
        let window = usize::try_from(job.properties.late_files_window).unwrap_or(usize::MAX);
        let mut lookback = Self {
            known: BTreeSet::new(),
            window,
        };
        if window == 0 {
            return Ok(lookback);
        }
        let records = engine.jobs().files(job.id).await?;
        let seen = records
            .iter()
            .filter(|r| r.status != FileStatus::Failed)
            .map(|r| job.offset_key(&r.file))
            .filter(|key| job.current_offset.as_ref().is_some_and(|o| key <= o));
        lookback.remember(seen);
        Ok(lookback)
    }

    /// Where the listing of `job`, whose offset is `offset`, starts: after
    /// the window's smallest name, but not below the offset the user last
    /// gave; `None` when there is nothing to look back over (the listing
    /// starts after the offset).
    pub fn start_after(&self, job: &Job, offset: Option<&str>) -> Option<String> {
        let offset = offset?;
        let smallest = self.known.first()?;
        let start = match &job.given_offset {
            Some(given) if given > smallest => given,
            _ => smallest,
        };
        (start.as_str() < offset).then(|| start.clone())
    }

    /// Whether `file`, listed at or below the offset, is late.
    pub fn is_late(&self, file: &ObjectMeta) -> bool {
        !self.known.contains(file.location.as_ref())
    }

    /// Remembers files the job has now seen, keeping the window's size.
    pub fn remember(&mut self, keys: impl IntoIterator<Item = String>) {
        if self.window == 0 {
            return;
        }
        self.known.extend(keys);
        while self.known.len() > self.window {
            self.known.pop_first();
        }
    }
}

/// The ledger records of late files `task_id` found and the job skips.
pub fn skipped_late(job: &Job, task_id: u64, files: &[ObjectMeta]) -> Vec<FileRecord> {
    records_of(job, task_id, files, FileStatus::SkippedLate, |meta| {
        format!(
            "it appeared after the job's offset had passed its name (s3.late_files = skip); ALTER JOB {} RETRY FILE '{}' loads it",
            job.name,
            job.shown_offset(meta.location.as_ref())
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(given: Option<&str>) -> Job {
        let mut job: Job = serde_json::from_value(serde_json::json!({
            "id": 1, "name": "j", "definer": "root", "status": "RUNNING", "sql": "",
            "database": "d", "table": "t", "create_time": "", "comment": null,
            "properties": crate::job::JobProperties::default(),
            "succeed_task_count": 0, "failed_task_count": 0, "canceled_task_count": 0,
            "current_offset": null, "end_offset": null,
            "load_statistic": crate::job::LoadStatistic::default(),
            "error_msg": null, "runtime_msg": null,
        }))
        .unwrap();
        job.given_offset = given.map(Into::into);
        job
    }

    #[test]
    fn the_window_keeps_the_most_recent_names_and_starts_the_listing_below_them() {
        let mut lookback = Lookback {
            known: BTreeSet::new(),
            window: 3,
        };
        let offset = Some("d/5");
        assert_eq!(lookback.start_after(&job(None), offset), None);
        lookback.remember(["d/1", "d/2", "d/3", "d/4", "d/5"].map(String::from));
        assert_eq!(lookback.known.len(), 3);
        let start = lookback.start_after(&job(None), offset);
        assert_eq!(start.as_deref(), Some("d/3"));
        assert_eq!(lookback.start_after(&job(None), None), None);
        // Files at or below an offset the user gave are never late.
        let given = lookback.start_after(&job(Some("d/4")), offset);
        assert_eq!(given.as_deref(), Some("d/4"));
        assert_eq!(lookback.start_after(&job(Some("d/5")), offset), None);
        let none = Lookback::default();
        assert_eq!(none.start_after(&job(None), offset), None);
    }
}
