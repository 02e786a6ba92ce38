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
//!
//! A job's large batch is loaded across the workers the same way
//! ([`load`]): the planner shares its files out as it shares out a
//! table's fragments, each worker writes its share as uncommitted
//! fragments, and the process that holds the job's lease commits them.

use std::sync::Arc;

use datafusion::common::Result as DFResult;
use datafusion::physical_plan::ExecutionPlan;
use datafusion_distributed::{
    DistributedLeafExec, ScaleUpLeafNodeEvent, ScaleUpLeafNodeEventResponse,
};

mod auth;
mod codec;
mod load;
mod scan;
pub mod worker;
mod workers;

pub(crate) use load::load_across;
pub(crate) use scan::{fragment_bytes, AcrossWorkers, FragmentScanExec};
pub(crate) use workers::worker_failure;
pub use workers::{WorkerOptions, Workers};

/// `items` in `tasks` groups of about equal `bytes`: the largest first,
/// each to the group with the fewest bytes so far.
fn balance<T: Clone>(items: &[T], bytes: impl Fn(&T) -> u64, tasks: usize) -> Vec<Vec<T>> {
    let mut sorted = items.to_vec();
    // Stable: items of equal size keep their order.
    sorted.sort_by_key(|item| std::cmp::Reverse(bytes(item)));
    let mut groups: Vec<(u64, Vec<T>)> = vec![(0, Vec::new()); tasks];
    for item in sorted {
        let lightest = (groups.iter_mut())
            .min_by_key(|(bytes, _)| *bytes)
            .expect("at least one task");
        lightest.0 += bytes(&item);
        lightest.1.push(item);
    }
    groups.into_iter().map(|(_, items)| items).collect()
}

/// The leaf of `event` as one variant per task, made by `of` from a group
/// of its `items` of about equal `bytes`.
fn split_leaf<T: Clone, P: ExecutionPlan + 'static>(
    event: &ScaleUpLeafNodeEvent<'_>,
    items: &[T],
    bytes: impl Fn(&T) -> u64,
    of: impl Fn(&[T]) -> P,
) -> DFResult<ScaleUpLeafNodeEventResponse> {
    let variants = balance(items, bytes, event.task_count.max(1))
        .into_iter()
        .map(|group| Arc::new(of(&group)) as Arc<dyn ExecutionPlan>);
    let leaf = DistributedLeafExec::try_new(event.plan.clone(), variants)?;
    Ok(ScaleUpLeafNodeEventResponse::new(Arc::new(leaf)))
}

#[cfg(test)]
mod tests {
    use super::balance;

    #[test]
    fn balance_gives_every_item_to_one_task_and_evens_the_bytes() {
        let groups = balance(&[100, 10, 60, 50, 40, 1], |&b| b, 3);
        let mut items: Vec<u64> = groups.iter().flatten().copied().collect();
        items.sort();
        assert_eq!(items, vec![1, 10, 40, 50, 60, 100]);
        assert_eq!(groups, vec![vec![100], vec![60, 10, 1], vec![50, 40]]);
    }

    #[test]
    fn balance_leaves_extra_tasks_empty() {
        let groups = balance(&[5], |&b| b, 3);
        assert_eq!(groups, vec![vec![5], vec![], vec![]]);
    }
}
