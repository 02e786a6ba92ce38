//! Running jobs. The [`scheduler`] follows the job store and keeps one loop
//! per running job; a streaming job's loop runs its tasks, and each task
//! goes through the phases of the ingest path, one module each:
//!
//! ```text
//! task::next_batch   list the files after the offset, cut the batch   (batch)
//!   -> read          the job's INSERT over exactly those files
//!                    (CSV columns straight to the table's types)
//!   -> convert       rows to the table's types, file by file           (tally)
//!   -> commit        write fragments (several writers for a large batch);
//!                    check cancel and limits; commit rows + offset +
//!                    finished task + file ledger + rejected rows in one
//!                    Lance commit
//! ```
//!
//! An `INSERT ... SELECT FROM S3()` that only picks CSV columns takes the
//! same read, convert and write steps as one batch of every file it matches,
//! keeping every row or none ([`one_shot`]).
//!
//! A process given workers loads a large batch across them: each writes
//! its share of the files as uncommitted fragments and the process that
//! holds the job's lease commits them all at once ([`share`]).
//!
//! With `s3.on_file_error` = `skip`, a batch that fails on its files is
//! loaded again file by file and a bad file is set aside ([`quarantine`]).
//!
//! A job's loop records the commits its store does not know (a crash's,
//! another process's) before it loads: when it starts, when it takes the
//! job over, after a refused commit, and whenever a poll finds such
//! commits ([`recovery`]); crash points at the phase boundaries serve the
//! crash tests ([`failpoint`]). A job `ON SCHEDULE` runs its INSERT at the
//! points of its schedule instead ([`timer`]).

mod batch;
mod body;
mod commit;
mod convert;
pub mod failpoint;
mod late;
pub(crate) mod one_shot;
mod quarantine;
mod read;
pub mod recovery;
pub(crate) mod scheduler;
pub(crate) mod share;
mod streaming;
mod tally;
pub mod task;
mod timer;
pub mod validate;

pub use batch::{cut_batch, cut_from_listing, Batch, Cut, Cutter, Listing};
pub(crate) use tally::Tally;
