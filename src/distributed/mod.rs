//! Queries across worker processes, on
//! [datafusion-distributed](https://github.com/datafusion-contrib/datafusion-distributed).
//!
//! `tributary worker` ([`worker`]) runs plan stages for the processes of
//! one warehouse. A process given workers ([`Workers`]) plans a query that
//! reads enough of its tables through datafusion-distributed's planner
//! ([`Workers::state_for`]): each table is read by a [`FragmentScanExec`]
//! whose Lance fragments are shared out among the tasks of its stage, the
//! stages go to the workers as datafusion-proto plans (our node through
//! `TributaryCodec`) and their rows come back over Arrow Flight. Every
//! request carries a token only holders of the warehouse's secret key can
//! make ([`auth`]), and a worker reads only inside its own warehouse.

mod auth;
mod scan;
pub mod worker;
mod workers;

pub(crate) use scan::{fragment_bytes, AcrossWorkers, FragmentScanExec};
pub(crate) use workers::worker_failure;
pub use workers::{WorkerOptions, Workers};
