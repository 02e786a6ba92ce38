//! `job_status()`: how far behind each streaming job is and how fast it
//! loads ([`crate::job::status`]), one row per job the user may see (or
//! the one `job = 'name'` names), beside Doris's `job()` columns rather
//! than among them.

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, Float64Array};
use datafusion::catalog::TableProvider;

use super::files::{argument_job, number, table, text};
use super::visible;
use crate::catalog::show_millis;
use crate::error::Result;
use crate::job::status::recent_rate;
use crate::job::Job;
use crate::session::Session;

/// The `job_status()` columns.
pub(super) const STATUS_COLUMNS: [&str; 12] = [
    "JobName",
    "TableName",
    "Status",
    "BacklogFiles",
    "BacklogBytes",
    "BacklogComplete",
    "OldestUnloadedAgeSeconds",
    "ListedTime",
    "LastLoadTime",
    "RowsPerSecond",
    "BytesPerSecond",
    "LeaseHolder",
];

/// `job_status()` or `job_status(job = 'name')`. Scheduled jobs have no
/// backlog: their columns stay empty.
pub(in crate::plan) async fn job_status_table(
    session: &Session,
    pairs: &[(String, String)],
) -> Result<Arc<dyn TableProvider>> {
    let jobs = if pairs.is_empty() {
        session
            .engine()
            .jobs()
            .jobs()
            .into_iter()
            .filter(|job| visible(session, job))
            .collect()
    } else {
        vec![argument_job(session, "job_status", pairs)?]
    };
    let leases = session.engine().leases();
    let mut rows = Vec::new();
    for job in jobs {
        let holder = leases.current(job.id).await?.map(|lease| lease.holder);
        rows.push((job, holder));
    }
    let now = chrono::Utc::now();
    let r = rows.as_slice();
    let backlog = |job: &Job| job.backlog.clone();
    let rate = |job: &Job| recent_rate(job);
    table(
        &STATUS_COLUMNS,
        vec![
            text(r, |(job, _)| Some(job.name.clone())),
            text(r, |(job, _)| {
                Some(format!("{}.{}", job.database, job.table))
            }),
            text(r, |(job, _)| Some(job.status.to_string())),
            number(r, |(job, _)| backlog(job).map(|b| b.files)),
            number(r, |(job, _)| backlog(job).map(|b| b.bytes)),
            text(r, |(job, _)| backlog(job).map(|b| (!b.more).to_string())),
            float(r, |(job, _)| {
                backlog(job).and_then(|b| b.oldest_age_seconds(now))
            }),
            text(r, |(job, _)| backlog(job).map(|b| show_millis(b.listed_ms))),
            text(r, |(job, _)| job.last_visible_ms.map(show_millis)),
            float(r, |(job, _)| rate(job).map(|(rows, _)| rows)),
            float(r, |(job, _)| rate(job).map(|(_, bytes)| bytes)),
            text(r, |(_, holder)| holder.clone()),
        ],
    )
}

/// A column of numbers with a fraction.
fn float<T>(rows: &[T], value: impl Fn(&T) -> Option<f64>) -> ArrayRef {
    Arc::new(rows.iter().map(value).collect::<Float64Array>())
}
