//! Scheduling streaming jobs: a loop per running job ([`scheduler`]),
//! steered through its [`control`], runs tasks ([`task`]) that each load
//! the next batch of files ([`batch`]) after the job's offset.

mod batch;
pub(crate) mod control;
pub mod failpoint;
pub mod recovery;
pub(crate) mod scheduler;
pub mod task;

pub use batch::{cut_batch, Batch};
