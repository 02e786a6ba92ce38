//! `job_leases()`: which process runs each job ([`crate::job::lease`]),
//! one row per job the user may see (as in `job()`), beside Doris's
//! `job()` columns rather than among them.

use std::sync::Arc;

use datafusion::catalog::TableProvider;

use super::files::{number, table, text};
use super::visible_jobs_with_leases;
use crate::error::{Error, Result};
use crate::session::Session;

/// The `job_leases()` columns.
const LEASE_COLUMNS: [&str; 5] = ["JobName", "Holder", "Epoch", "ExpiresAt", "ThisProcess"];

/// `job_leases()`: a job nobody runs now has no holder.
pub(in crate::plan) async fn job_leases_table(
    session: &Session,
    pairs: &[(String, String)],
) -> Result<Arc<dyn TableProvider>> {
    if let Some((key, _)) = pairs.first() {
        return Err(Error::InvalidOption {
            key: key.clone(),
            message: "job_leases() takes no arguments: SELECT * FROM job_leases()".into(),
        });
    }
    let leases = session.engine().leases();
    let rows: Vec<_> = visible_jobs_with_leases(session)
        .await?
        .into_iter()
        .map(|(job, lease)| (job.name, lease))
        .collect();
    let r = rows.as_slice();
    let expires = |ms: i64| {
        chrono::DateTime::from_timestamp_millis(ms).map(|t| {
            t.with_timezone(&chrono::Local)
                .format("%Y-%m-%d %H:%M:%S")
                .to_string()
        })
    };
    table(
        &LEASE_COLUMNS,
        vec![
            text(r, |(name, _)| Some(name.clone())),
            text(r, |(_, l)| l.as_ref().map(|l| l.holder.clone())),
            number(r, |(_, l)| l.as_ref().map(|l| l.epoch)),
            text(r, |(_, l)| {
                l.as_ref().and_then(|l| expires(l.expires_at_ms))
            }),
            text(r, |(_, l)| {
                Some((l.as_ref().is_some_and(|l| l.holder == leases.holder())).to_string())
            }),
        ],
    )
}
