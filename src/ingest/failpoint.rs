//! Crash points for recovery tests: when `TRIBUTARY_CRASH_AT` names a
//! [`CrashPoint`], the process aborts there, dying like `kill -9` (no
//! destructor, no flush), so a test can kill a real process at an exact
//! step of a task. Unset, a crash point costs one cached lookup.

use std::sync::OnceLock;

/// The environment variable naming the crash point.
pub const CRASH_AT: &str = "TRIBUTARY_CRASH_AT";

/// The boundaries of a task where a test may crash it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CrashPoint {
    /// The first rows of the batch have been read.
    DuringRead,
    /// A worker has read the first rows of its share of a batch.
    DuringShare,
    /// Every row is written as fragments; nothing is committed.
    BeforeCommit,
    /// Rows and offset are committed; the job store is not updated.
    AfterCommit,
    /// A quarantined file is in the ledger; the offset has not moved past
    /// it.
    AfterQuarantine,
}

impl CrashPoint {
    /// The name `TRIBUTARY_CRASH_AT` gives it.
    pub fn name(self) -> &'static str {
        match self {
            CrashPoint::DuringRead => "during-read",
            CrashPoint::DuringShare => "during-share",
            CrashPoint::BeforeCommit => "before-commit",
            CrashPoint::AfterCommit => "after-commit",
            CrashPoint::AfterQuarantine => "after-quarantine",
        }
    }
}

/// Aborts the process if `TRIBUTARY_CRASH_AT` names `point`.
pub fn crash_point(point: CrashPoint) {
    static AT: OnceLock<Option<String>> = OnceLock::new();
    if AT.get_or_init(|| std::env::var(CRASH_AT).ok()).as_deref() == Some(point.name()) {
        eprintln!(
            "tributary: crash point '{}' reached; aborting",
            point.name()
        );
        std::process::abort();
    }
}
