//! `job_status()`: how far behind each streaming job is and how fast it
//! loads ([`crate::job::status`]), one row per job the user may see (or
//! the one `job = 'name'` names), beside Doris's `job()` columns rather
//! than among them.

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, Float64Array};
use datafusion::catalog::TableProvider;

use super::files::{argument_job, number, table, text};
use super::visible_jobs_with_leases;
use crate::catalog::show_millis;
use crate::error::Result;
use crate::job::status::recent_rate;
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
    let rows = if pairs.is_empty() {
        visible_jobs_with_leases(session).await?
    } else {
        let job = argument_job(session, "job_status", pairs)?;
        let lease = session.engine().leases().current(job.id).await?;
        vec![(job, lease)]
    };
    let now = chrono::Utc::now();
    let r = rows.as_slice();
    table(
        &STATUS_COLUMNS,
        vec![
            text(r, |(job, _)| Some(job.name.clone())),
            text(r, |(job, _)| Some(job.qualified_table())),
            text(r, |(job, _)| Some(job.status.to_string())),
            number(r, |(job, _)| job.backlog.as_ref().map(|b| b.files)),
            number(r, |(job, _)| job.backlog.as_ref().map(|b| b.bytes)),
            text(r, |(job, _)| {
                job.backlog.as_ref().map(|b| (!b.more).to_string())
            }),
            float(r, |(job, _)| {
                job.backlog.as_ref().and_then(|b| b.oldest_age_seconds(now))
            }),
            text(r, |(job, _)| {
                job.backlog.as_ref().map(|b| show_millis(b.listed_ms))
            }),
            text(r, |(job, _)| job.last_visible_ms.map(show_millis)),
            float(r, |(job, _)| recent_rate(job).map(|(rows, _)| rows)),
            float(r, |(job, _)| recent_rate(job).map(|(_, bytes)| bytes)),
            text(r, |(_, lease)| lease.as_ref().map(|l| l.holder.clone())),
        ],
    )
}

/// A column of numbers with a fraction.
fn float<T>(rows: &[T], value: impl Fn(&T) -> Option<f64>) -> ArrayRef {
    Arc::new(rows.iter().map(value).collect::<Float64Array>())
}
