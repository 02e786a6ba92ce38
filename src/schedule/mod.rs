//! Running jobs: a loop per running job ([`scheduler`]), steered through
//! its [`control`], runs tasks ([`task`]) that each load the next batch of
//! files ([`batch`]) after the job's offset, and brings the job store up
//! to date after a crash ([`recovery`]); a job `ON SCHEDULE` runs its
//! INSERT at the points of its schedule instead ([`timer`]).

mod batch;
pub(crate) mod control;
pub mod failpoint;
pub mod recovery;
pub(crate) mod scheduler;
pub mod task;
mod timer;

pub use batch::{cut_batch, Batch};
