//! How far the statement running in a session has come: rows written or
//! returned, files and bytes loaded, time since it began. The writing and
//! loading paths add to it as they go (reached through the session's
//! DataFusion config); the REPL draws it as a line on a terminal, and
//! `SHOW PROCESSLIST` shows it in `State`.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use datafusion::execution::TaskContext;
use indicatif::HumanCount;

/// The counters of one session's running statement.
#[derive(Debug)]
pub struct Progress {
    rows: AtomicU64,
    files: AtomicU64,
    bytes: AtomicU64,
    started: Mutex<Instant>,
}

impl Default for Progress {
    fn default() -> Self {
        Self {
            rows: AtomicU64::new(0),
            files: AtomicU64::new(0),
            bytes: AtomicU64::new(0),
            started: Mutex::new(Instant::now()),
        }
    }
}

impl Progress {
    /// The progress of the statement `ctx` runs, when it runs in a session.
    pub fn of(ctx: &TaskContext) -> Option<std::sync::Arc<Progress>> {
        ctx.session_config().get_extension::<Progress>()
    }

    /// A statement begins: the counters start from zero.
    pub fn restart(&self) {
        self.rows.store(0, Ordering::Relaxed);
        self.files.store(0, Ordering::Relaxed);
        self.bytes.store(0, Ordering::Relaxed);
        *self.started.lock().expect("lock") = Instant::now();
    }

    pub fn add_rows(&self, rows: u64) {
        self.rows.fetch_add(rows, Ordering::Relaxed);
    }

    /// Files and bytes loaded (a job's tasks, while `WAIT JOB` waits).
    pub fn set_loaded(&self, files: u64, bytes: u64, rows: u64) {
        self.files.store(files, Ordering::Relaxed);
        self.bytes.store(bytes, Ordering::Relaxed);
        self.rows.store(rows, Ordering::Relaxed);
    }

    /// The counters now.
    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            rows: self.rows.load(Ordering::Relaxed),
            files: self.files.load(Ordering::Relaxed),
            bytes: self.bytes.load(Ordering::Relaxed),
            elapsed: self.started.lock().expect("lock").elapsed(),
        }
    }
}

/// What a statement had done at one moment.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Snapshot {
    pub rows: u64,
    pub files: u64,
    pub bytes: u64,
    pub elapsed: Duration,
}

/// `12.3 s, 1,204,000 rows (97,886 rows/s), 3 files, 41.0 MB`: the parts
/// with something to say.
impl fmt::Display for Snapshot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let seconds = self.elapsed.as_secs_f64();
        write!(f, "{seconds:.1} s")?;
        if self.rows > 0 {
            write!(f, ", {} rows", HumanCount(self.rows))?;
            if seconds >= 1.0 {
                write!(
                    f,
                    " ({} rows/s)",
                    HumanCount((self.rows as f64 / seconds) as u64)
                )?;
            }
        }
        if self.files > 0 {
            write!(f, ", {} files", HumanCount(self.files))?;
        }
        if self.bytes > 0 {
            write!(f, ", {}", bytesize::ByteSize(self.bytes).display().si())?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_snapshot_says_what_it_has() {
        let quiet = Snapshot {
            rows: 0,
            files: 0,
            bytes: 0,
            elapsed: Duration::from_millis(1500),
        };
        assert_eq!(quiet.to_string(), "1.5 s");
        let busy = Snapshot {
            rows: 1_204_000,
            files: 3,
            bytes: 41_000_000,
            elapsed: Duration::from_secs(10),
        };
        assert_eq!(
            busy.to_string(),
            "10.0 s, 1,204,000 rows (120,400 rows/s), 3 files, 41.0 MB"
        );
    }
}
