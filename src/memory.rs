//! Memory budgets of statements, as DataFusion memory pools: the engine's
//! budget is the operator's cap for the whole process (`--memory-limit`),
//! and each session draws its statements' memory from it under Doris's
//! `exec_mem_limit`. Operators that can spill (sorts, aggregations, joins)
//! spill when their budget is used up; others, and a result set that
//! outgrows it, end the statement with an error that says which limit
//! was reached and how to raise it. Other statements and the process go
//! on.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use datafusion::arrow::record_batch::RecordBatch;
use datafusion::error::{DataFusionError, Result as DFResult};
use datafusion::execution::memory_pool::{
    MemoryConsumer, MemoryLimit, MemoryPool, MemoryReservation,
};
use datafusion::execution::SendableRecordBatchStream;
use futures::TryStreamExt;

/// Doris's default `exec_mem_limit`: 2 GiB per statement.
pub const DEFAULT_EXEC_MEM_LIMIT: u64 = 2 << 30;

/// The smallest `exec_mem_limit` a session may set: 1 MiB.
pub const MIN_EXEC_MEM_LIMIT: u64 = 1 << 20;

/// The share of the machine's memory the process may use for statements
/// unless the operator says otherwise (Doris's BE `mem_limit` is 90%; the
/// rest here is left to the load's writers and the allocator's slack).
const DEFAULT_SHARE_OF_MACHINE: f64 = 0.8;

/// A memory budget: at most `limit` bytes reserved at once, drawn from the
/// budget it is `within` (a session's from the engine's) when it has one.
#[derive(Debug)]
pub struct MemoryBudget {
    limit: AtomicUsize,
    used: AtomicUsize,
    within: Option<Arc<MemoryBudget>>,
}

impl MemoryBudget {
    /// The process's budget: `limit` bytes, or by default a share of the
    /// machine's memory (unbounded where that is not known).
    pub fn for_process(limit: Option<u64>) -> Arc<Self> {
        let limit = limit.or_else(default_process_limit).unwrap_or(u64::MAX);
        Arc::new(Self::new(limit, None))
    }

    /// A session's budget within `process`, `exec_mem_limit` bytes per
    /// statement.
    pub fn for_session(process: &Arc<MemoryBudget>) -> Arc<Self> {
        Arc::new(Self::new(DEFAULT_EXEC_MEM_LIMIT, Some(process.clone())))
    }

    fn new(limit: u64, within: Option<Arc<MemoryBudget>>) -> Self {
        Self {
            limit: AtomicUsize::new(usize::try_from(limit).unwrap_or(usize::MAX)),
            used: AtomicUsize::new(0),
            within,
        }
    }

    /// The budget's limit in bytes.
    pub fn limit(&self) -> u64 {
        self.limit.load(Ordering::Relaxed) as u64
    }

    /// Changes the limit; memory already reserved stays reserved.
    pub fn set_limit(&self, limit: u64) {
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        self.limit.store(limit, Ordering::Relaxed);
    }

    /// Takes `additional` bytes if they fit, here and in the budget this
    /// one is within.
    fn take(&self, additional: usize) -> std::result::Result<(), String> {
        let limit = self.limit.load(Ordering::Relaxed);
        self.used
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |used| {
                used.checked_add(additional).filter(|total| *total <= limit)
            })
            .map_err(|_| self.exhausted(limit))?;
        if let Some(within) = &self.within {
            if let Err(message) = within.take(additional) {
                self.used.fetch_sub(additional, Ordering::SeqCst);
                return Err(message);
            }
        }
        Ok(())
    }

    fn give_back(&self, bytes: usize) {
        self.used.fetch_sub(bytes, Ordering::SeqCst);
        if let Some(within) = &self.within {
            within.give_back(bytes);
        }
    }

    fn force(&self, additional: usize) {
        self.used.fetch_add(additional, Ordering::SeqCst);
        if let Some(within) = &self.within {
            within.force(additional);
        }
    }

    /// The sentence for a statement that needs more than this budget.
    fn exhausted(&self, limit: usize) -> String {
        let limit = bytesize::ByteSize(limit as u64).display().iec();
        match self.within {
            Some(_) => format!(
                "the statement needs more memory than exec_mem_limit ({limit}) allows and was cancelled: SET exec_mem_limit = <bytes> to allow more, or narrow the query (fewer rows or columns, a LIMIT)"
            ),
            None => format!(
                "the statements running in this process together need more memory than --memory-limit ({limit}) allows, and this one was cancelled: run it again when fewer run, or raise --memory-limit"
            ),
        }
    }
}

impl std::fmt::Display for MemoryBudget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let used = bytesize::ByteSize(self.reserved() as u64).display().iec();
        let limit = bytesize::ByteSize(self.limit()).display().iec();
        write!(f, "{used} of {limit} in use")
    }
}

impl MemoryPool for MemoryBudget {
    fn name(&self) -> &str {
        "tributary"
    }

    fn grow(&self, _reservation: &MemoryReservation, additional: usize) {
        self.force(additional);
    }

    fn shrink(&self, _reservation: &MemoryReservation, shrink: usize) {
        self.give_back(shrink);
    }

    fn try_grow(&self, _reservation: &MemoryReservation, additional: usize) -> DFResult<()> {
        self.take(additional)
            .map_err(DataFusionError::ResourcesExhausted)
    }

    fn reserved(&self) -> usize {
        self.used.load(Ordering::SeqCst)
    }

    fn memory_limit(&self) -> MemoryLimit {
        MemoryLimit::Finite(self.limit.load(Ordering::Relaxed))
    }
}

/// The batches of `stream`, each counted against `pool` while the
/// statement runs, so that a result set larger than the statement's
/// budget ends it instead of the process.
pub(crate) async fn collect(
    stream: SendableRecordBatchStream,
    pool: &Arc<dyn MemoryPool>,
) -> DFResult<Vec<RecordBatch>> {
    let reservation = MemoryConsumer::new("result set").register(pool);
    stream
        .and_then(|batch| {
            let grown = reservation.try_grow(batch.get_array_memory_size());
            futures::future::ready(grown.map(|()| batch))
        })
        .try_collect()
        .await
}

/// [`DEFAULT_SHARE_OF_MACHINE`] of the machine's memory, from
/// `/proc/meminfo`; `None` where that cannot be read.
fn default_process_limit() -> Option<u64> {
    let meminfo = std::fs::read_to_string("/proc/meminfo").ok()?;
    let kib: u64 = meminfo
        .lines()
        .find_map(|line| line.strip_prefix("MemTotal:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some((kib as f64 * 1024.0 * DEFAULT_SHARE_OF_MACHINE) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reservation(pool: &Arc<dyn MemoryPool>) -> MemoryReservation {
        MemoryConsumer::new("test").register(pool)
    }

    #[test]
    fn a_statement_is_bounded_by_its_session_and_by_the_process() {
        let process = MemoryBudget::for_process(Some(3072));
        let one: Arc<dyn MemoryPool> = MemoryBudget::for_session(&process);
        let two = MemoryBudget::for_session(&process);
        two.set_limit(2048);
        let two: Arc<dyn MemoryPool> = two;
        let a = reservation(&one);
        let b = reservation(&two);
        a.try_grow(2048).unwrap();
        let error = b.try_grow(2049).unwrap_err().to_string();
        assert!(error.contains("exec_mem_limit (2.0 KiB)"), "{error}");
        let error = b.try_grow(1025).unwrap_err().to_string();
        assert!(error.contains("--memory-limit (3.0 KiB)"), "{error}");
        // A refused reservation takes nothing from either budget.
        assert_eq!(
            (one.reserved(), two.reserved(), process.reserved()),
            (2048, 0, 2048)
        );
        drop(a);
        b.try_grow(2048).unwrap();
        assert_eq!(process.reserved(), 2048);
    }
}
