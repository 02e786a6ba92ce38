//! Scheduling streaming jobs: cutting the next batch of files after a job's
//! offset. (The task runner that loads batches is issue #5's next step.)

mod batch;

pub use batch::{cut_batch, Batch};
