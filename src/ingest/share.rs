//! A batch loaded across workers. The process that holds the job's lease
//! shares the batch's files out ([`write_across`], through
//! [`crate::distributed`]); each worker reads, converts and writes its
//! share as fragments nobody sees yet ([`write_share`]) and returns them
//! with what it counted; the lease holder gathers the shares and commits
//! them as one, with the offset, as it commits a batch it wrote itself. A
//! share that is missing or failed leaves nothing committed: the lease
//! holder then loads the batch itself.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use futures::StreamExt;
use object_store::ObjectMeta;

use super::batch::Batch;
use super::commit::writers;
use super::failpoint::{crash_point, CrashPoint};
use super::tally::Tally;
use super::task::{converted_rows, PendingLoad};
use crate::distributed::{load_across, Workers};
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::job::Job;
use crate::session::Session;
use crate::write::{gathered, write_fragments_in_parallel, Written};

/// What a worker wrote of its share of a batch, uncommitted.
pub struct ShareWritten {
    /// The share's files, in the order `tally` numbers them.
    pub files: Vec<String>,
    /// The fragments; `None` when the files had no rows.
    pub written: Option<Written>,
    pub tally: Tally,
}

/// Reads, converts and writes `files` of a batch of `job` (on a worker,
/// with its `engine`) into the target table as of `version`, without
/// committing them.
pub async fn write_share(
    engine: &Engine,
    job: &Job,
    version: u64,
    files: Vec<ObjectMeta>,
) -> Result<ShareWritten> {
    let pending = PendingLoad::share(engine, job, version, files).await?;
    let tally = Arc::new(Mutex::new(Tally::default()));
    let written = match converted_rows(job, &pending, &tally).await? {
        None => None,
        Some(rows) => {
            let rows = rows.inspect(|_| crash_point(CrashPoint::DuringShare));
            let target = &pending.target;
            let rows = Box::pin(RecordBatchStreamAdapter::new(target.schema.clone(), rows));
            write_fragments_in_parallel(
                target.dataset.clone(),
                target.schema.clone(),
                &target.name,
                rows,
                writers(&pending.batch),
            )
            .await?
        }
    };
    let tally = tally.lock().expect("lock").clone();
    let files = (pending.batch.files.iter())
        .map(|f| f.location.to_string())
        .collect();
    Ok(ShareWritten {
        files,
        written,
        tally,
    })
}

/// The workers `batch` is loaded across, if it is: `session`'s process
/// has some that answer, and the batch has several files in an object
/// store (`local`: this machine's, which a worker cannot read) of at least
/// `min_bytes` (by default the process's `--distribute-min-bytes`).
pub(super) fn workers_for(
    session: &Session,
    batch: &Batch,
    local: bool,
    min_bytes: Option<u64>,
) -> Option<Workers> {
    let workers = session.engine().workers()?;
    let worth_it = batch.files.len() >= 2
        && batch.bytes >= min_bytes.unwrap_or(workers.min_bytes())
        && !local
        && !workers.live().is_empty();
    worth_it.then_some(workers)
}

/// `batch`'s rows written by `workers` for `job` as of table `version`,
/// with what they counted; `None` when the workers did not write them all
/// (the batch could not be planned across them, or a share failed: said
/// in the log), so that this process loads the batch itself.
pub(super) async fn write_across(
    workers: &Workers,
    session: &Session,
    job: &Job,
    batch: &Batch,
    version: u64,
) -> Option<(Option<Written>, Tally)> {
    let shares = load_across(workers, session, job, version, &batch.files).await;
    match shares.and_then(|shares| shares.map(|s| gather(batch, s)).transpose()) {
        Ok(written) => written,
        Err(error) => {
            tracing::warn!(job = %job.name, error = %error, "the workers could not load the batch; loading it in this process");
            None
        }
    }
}

/// The shares of `batch` as one append and one tally, numbering files as
/// the batch does; refused unless every file of the batch is in exactly
/// one share.
fn gather(batch: &Batch, shares: Vec<ShareWritten>) -> Result<(Option<Written>, Tally)> {
    let numbers: HashMap<&str, usize> = (batch.files.iter().enumerate())
        .map(|(n, file)| (file.location.as_ref(), n))
        .collect();
    let mut loaded = vec![false; batch.files.len()];
    let mut tally = Tally::default();
    let mut parts = Vec::with_capacity(shares.len());
    for share in shares {
        let mut share_numbers = Vec::with_capacity(share.files.len());
        for name in &share.files {
            let n = (numbers.get(name.as_str()).copied())
                .filter(|&n| !loaded[n])
                .ok_or_else(|| {
                    Error::Workers(format!(
                        "a worker loaded {name}, which is not in its share of the batch"
                    ))
                })?;
            loaded[n] = true;
            share_numbers.push(n);
        }
        tally.absorb(share.tally, |n| share_numbers.get(n).copied().unwrap_or(n));
        parts.push(share.written);
    }
    if let Some(n) = loaded.iter().position(|loaded| !loaded) {
        return Err(Error::Workers(format!(
            "no worker loaded {}, a file of the batch",
            batch.files[n].location
        )));
    }
    Ok((gathered(parts)?, tally))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(name: &str) -> ObjectMeta {
        ObjectMeta {
            location: name.into(),
            last_modified: chrono::Utc::now(),
            size: 10,
            e_tag: None,
            version: None,
        }
    }

    fn share(files: &[&str], rows_per_file: usize) -> ShareWritten {
        let mut tally = Tally::default();
        for n in 0..files.len() {
            tally.count(Some(n), rows_per_file, 0);
        }
        ShareWritten {
            files: files.iter().map(|f| f.to_string()).collect(),
            written: None,
            tally,
        }
    }

    fn batch(files: &[&str]) -> Batch {
        Batch {
            files: files.iter().map(|f| file(f)).collect(),
            bytes: 10 * files.len() as u64,
            full: false,
            offset: files.last().unwrap().to_string(),
        }
    }

    #[test]
    fn shares_gather_into_the_batch_numbering() {
        let batch = batch(&["a", "b", "c"]);
        let Ok((written, tally)) = gather(&batch, vec![share(&["c", "a"], 2), share(&["b"], 5)])
        else {
            panic!("every file is in one share");
        };
        assert!(written.is_none());
        assert_eq!(tally.scanned, 9);
        assert_eq!(tally.file(1).map(|f| f.scanned), Some(5));
        assert_eq!(tally.file(2).map(|f| f.scanned), Some(2));
    }

    #[test]
    fn a_missing_or_doubled_file_is_refused() {
        let batch = batch(&["a", "b", "c"]);
        let refused = |shares| match gather(&batch, shares) {
            Ok(_) => panic!("gathered"),
            Err(error) => error.to_string(),
        };
        let missing = refused(vec![share(&["a", "b"], 1)]);
        assert!(missing.contains("no worker loaded c"), "{missing}");
        let doubled = refused(vec![share(&["a", "b"], 1), share(&["b", "c"], 1)]);
        assert!(doubled.contains("a worker loaded b"), "{doubled}");
        let stranger = refused(vec![share(&["a", "b", "c", "d"], 1)]);
        assert!(stranger.contains("a worker loaded d"), "{stranger}");
    }
}
