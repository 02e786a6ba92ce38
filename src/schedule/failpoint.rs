//! Crash points for recovery tests: when `TRIBUTARY_CRASH_AT` names a
//! point, the process aborts there, dying like `kill -9` (no destructor,
//! no flush), so a test can kill a real process at an exact step of a task.
//! Unset, a crash point costs one cached lookup.

use std::sync::OnceLock;

/// The environment variable naming the crash point.
pub const CRASH_AT: &str = "TRIBUTARY_CRASH_AT";

/// Aborts the process if `TRIBUTARY_CRASH_AT` is `point`.
pub fn crash_point(point: &str) {
    static AT: OnceLock<Option<String>> = OnceLock::new();
    if AT.get_or_init(|| std::env::var(CRASH_AT).ok()).as_deref() == Some(point) {
        eprintln!("tributary: crash point '{point}' reached; aborting");
        std::process::abort();
    }
}
