//! [`Tally`]: what converting a batch counted (rows read, rows left out,
//! the first one left out), and [`FilterLimits`]: the job's rule for how
//! many may be left out before the task commits nothing
//! (`session.insert_max_filter_ratio`, `session.enable_insert_strict`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::job::ledger::RejectedRow;
use crate::job::{Job, LoadStatistic};

/// What conversion counted so far, in all and file by file; it crosses
/// from a worker to the process that commits its share of a batch.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Tally {
    pub scanned: u64,
    pub filtered: u64,
    /// The first bad row: (file number, row in file), and its description.
    first: Option<((usize, usize), String)>,
    /// By file number, when the rows of each file are known apart.
    files: BTreeMap<usize, FileTally>,
    /// The rows left out, as read, up to [`MAX_KEPT_ROWS`].
    pub kept: Vec<RejectedRow>,
}

/// Rows left out that a task keeps (with their values), at most.
pub const MAX_KEPT_ROWS: usize = 1000;

/// What conversion counted of one file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileTally {
    pub scanned: u64,
    pub filtered: u64,
    /// The file's first bad row (row in file) and its description.
    pub first: Option<(usize, String)>,
}

impl Tally {
    /// Counts a converted batch of `rows` rows of which `filtered` were
    /// left out, read from file number `file` when known.
    pub fn count(&mut self, file: Option<usize>, rows: usize, filtered: usize) {
        self.scanned += rows as u64;
        self.filtered += filtered as u64;
        if let Some(file) = file {
            let counted = self.files.entry(file).or_default();
            counted.scanned += rows as u64;
            counted.filtered += filtered as u64;
        }
    }

    /// Records a left-out row at (file number, row in file) unless an
    /// earlier one is known, in all and in its file (when `known_file`);
    /// `describe` is called only when it is kept.
    pub fn left_out(
        &mut self,
        known_file: bool,
        at: (usize, usize),
        describe: impl FnOnce() -> String,
    ) {
        let first_of_all = self
            .first
            .as_ref()
            .is_none_or(|(earliest, _)| at < *earliest);
        let file = known_file.then(|| self.files.entry(at.0).or_default());
        let first_of_file = file
            .as_ref()
            .is_some_and(|f| f.first.as_ref().is_none_or(|(row, _)| at.1 < *row));
        if !first_of_all && !first_of_file {
            return;
        }
        let message = describe();
        if let Some(file) = file.filter(|_| first_of_file) {
            file.first = Some((at.1, message.clone()));
        }
        if first_of_all {
            self.first = Some((at, message));
        }
    }

    /// Keeps a row left out, unless [`MAX_KEPT_ROWS`] are kept already.
    pub fn keep(&mut self, row: RejectedRow) {
        if self.kept.len() < MAX_KEPT_ROWS {
            self.kept.push(row);
        }
    }

    /// Adds what `share` counted of some of the batch's files, its file
    /// number `n` being the batch's file number `file_number(n)`.
    pub fn absorb(&mut self, share: Tally, file_number: impl Fn(usize) -> usize) {
        let apart = |t: &Tally| !(t.files.is_empty() && t.scanned > 0);
        let known_apart = apart(self) && apart(&share);
        self.scanned += share.scanned;
        self.filtered += share.filtered;
        for (n, counted) in share.files {
            self.files.insert(file_number(n), counted);
        }
        if !known_apart {
            self.files.clear();
        }
        if let Some(((n, row), message)) = share.first {
            let at = (file_number(n), row);
            if self
                .first
                .as_ref()
                .is_none_or(|(earliest, _)| at < *earliest)
            {
                self.first = Some((at, message));
            }
        }
        let room = MAX_KEPT_ROWS.saturating_sub(self.kept.len());
        self.kept.extend(share.kept.into_iter().take(room));
    }

    /// What was counted of file number `file`: `None` when the rows of the
    /// batch's files were not known apart; a file with no rows counts 0.
    pub fn file(&self, file: usize) -> Option<FileTally> {
        if self.files.is_empty() && self.scanned > 0 {
            return None;
        }
        Some(self.files.get(&file).cloned().unwrap_or_default())
    }

    /// The first row left out: file, line and reason.
    pub fn first_error(&self) -> Option<String> {
        self.first.as_ref().map(|(_, message)| message.clone())
    }

    /// The statistics of a batch of `files` files and `bytes` bytes.
    pub fn statistic(&self, files: u64, bytes: u64) -> LoadStatistic {
        LoadStatistic {
            scanned_rows: self.scanned,
            load_bytes: bytes,
            file_number: files,
            file_size: bytes,
            filtered_rows: self.filtered,
        }
    }

    /// The error that fails the task when too many rows were left out.
    pub fn over_limit(&self, limits: &FilterLimits) -> Option<Error> {
        if self.filtered == 0 {
            return None;
        }
        let ratio = self.filtered as f64 / self.scanned.max(1) as f64;
        let rule = if limits.strict {
            "session.enable_insert_strict is true".to_string()
        } else if ratio > limits.max_ratio {
            format!(
                "more than session.insert_max_filter_ratio = {} allows",
                limits.max_ratio
            )
        } else {
            return None;
        };
        Some(Error::TooManyFilteredRows {
            filtered: self.filtered,
            scanned: self.scanned,
            rule,
            first: self.first_error().unwrap_or_default(),
        })
    }
}

/// When left-out rows fail a task.
#[derive(Debug, Clone, Default)]
pub struct FilterLimits {
    /// `session.insert_max_filter_ratio`: the share of rows that may be left out.
    pub max_ratio: f64,
    /// `session.enable_insert_strict`: no row may be left out.
    pub strict: bool,
}

impl FilterLimits {
    pub fn of(job: &Job) -> Self {
        let session = &job.properties.session;
        Self {
            max_ratio: session
                .get("insert_max_filter_ratio")
                .and_then(|r| r.parse().ok())
                .unwrap_or(0.0),
            strict: session
                .get("enable_insert_strict")
                .is_some_and(|s| s.eq_ignore_ascii_case("true")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tally(scanned: usize, filtered: usize) -> Tally {
        let mut tally = Tally::default();
        tally.count(None, scanned, filtered);
        tally
    }

    #[test]
    fn the_ratio_decides_unless_strict() {
        let quarter = FilterLimits {
            max_ratio: 0.25,
            strict: false,
        };
        assert!(tally(8, 2).over_limit(&quarter).is_none());
        let error = tally(8, 3).over_limit(&quarter).unwrap().to_string();
        assert!(
            error.starts_with("3 of 8 rows could not be converted to the table's types (more than session.insert_max_filter_ratio = 0.25 allows)"),
            "{error}"
        );
        let strict = FilterLimits {
            max_ratio: 1.0,
            strict: true,
        };
        assert!(tally(8, 1).over_limit(&strict).is_some());
        assert!(tally(8, 0).over_limit(&strict).is_none());
        // By default no row may be left out.
        assert!(tally(1000, 1)
            .over_limit(&FilterLimits::default())
            .is_some());
    }

    #[test]
    fn shares_of_a_batch_add_up_file_by_file_in_the_batch_order() {
        // Worker 1 read the batch's files 2 and 0, worker 2 its file 1.
        let mut one = Tally::default();
        one.count(Some(0), 4, 1);
        one.count(Some(1), 3, 0);
        one.left_out(true, (0, 2), || "file 2, row 2".into());
        let mut two = Tally::default();
        two.count(Some(0), 5, 1);
        two.left_out(true, (0, 3), || "file 1, row 3".into());
        let mut batch = Tally::default();
        batch.absorb(one, |n| [2, 0][n]);
        batch.absorb(two, |n| [1][n]);
        assert_eq!((batch.scanned, batch.filtered), (12, 2));
        assert_eq!(batch.first_error().as_deref(), Some("file 1, row 3"));
        assert_eq!(batch.file(0).map(|f| f.scanned), Some(3));
        assert_eq!(batch.file(1).map(|f| f.filtered), Some(1));
        assert_eq!(
            batch.file(2).map(|f| f.first),
            Some(Some((2, "file 2, row 2".into())))
        );
        // A share whose files were not known apart makes the batch's so.
        batch.absorb(tally(2, 0), |n| n);
        assert_eq!(batch.file(0), None);
        let json = serde_json::to_string(&batch).unwrap();
        let back: Tally = serde_json::from_str(&json).unwrap();
        assert_eq!(
            (back.scanned, back.first_error()),
            (14, batch.first_error())
        );
    }

    #[test]
    fn the_earliest_bad_row_is_kept_whichever_file_came_first() {
        let mut tally = Tally::default();
        tally.count(Some(1), 5, 1);
        tally.count(Some(0), 5, 2);
        tally.left_out(true, (1, 4), || "file 1".into());
        tally.left_out(true, (0, 7), || "file 0, row 7".into());
        tally.left_out(true, (0, 9), || {
            unreachable!("a later row is not described")
        });
        assert_eq!(tally.first_error().as_deref(), Some("file 0, row 7"));
        // Each file keeps its own first bad row and counts.
        let file1 = tally.file(1).unwrap();
        assert_eq!((file1.scanned, file1.filtered), (5, 1));
        assert_eq!(file1.first, Some((4, "file 1".to_string())));
        assert_eq!(tally.file(2), Some(FileTally::default()));
        let statistic = tally.statistic(2, 100);
        assert_eq!(
            (
                statistic.scanned_rows,
                statistic.filtered_rows,
                statistic.file_number
            ),
            (10, 3, 2)
        );
    }
}
