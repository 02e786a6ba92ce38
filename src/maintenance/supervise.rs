//! The background loop that maintains every table of the warehouse whose
//! maintenance lease this process takes.

use crate::catalog::TableDef;
use crate::engine::Engine;
use crate::job::lease::LeaseOf;

/// Maintains the warehouse's tables every [`super::period`] for as long as
/// the engine lives, each in the one process that takes its lease.
pub(crate) fn supervise(engine: &Engine) {
    let weak = engine.downgrade();
    tokio::spawn(async move {
        let period = super::period();
        let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            let Some(engine) = weak.upgrade() else { return };
            for def in engine.catalog().tables() {
                if engine.controls().is_closed() {
                    return;
                }
                maintain_held(&engine, &def).await;
            }
        }
    });
}

/// Maintains `def`'s table, when it has anything to do, if this process
/// takes its lease, renewing the lease while it works; stops when the
/// lease is lost to another process (what was not committed is left for
/// the cleanup of abandoned files).
async fn maintain_held(engine: &Engine, def: &TableDef) {
    match super::due(engine, def).await {
        Ok(false) => return,
        Ok(true) => {}
        Err(error) => {
            tracing::warn!(table = %def.qualified_name(), error = %error, "cannot look at the table's state; trying again later");
            return;
        }
    }
    let lease = LeaseOf::TableMaintenance(def.id);
    if !matches!(engine.leases().acquire(lease).await, Ok(Some(_))) {
        return;
    }
    let renew = async {
        loop {
            tokio::time::sleep(engine.leases().ttl() / 3).await;
            if !matches!(engine.leases().acquire(lease).await, Ok(Some(_))) {
                return;
            }
        }
    };
    let table = def.qualified_name();
    tokio::select! {
        maintained = super::maintain(engine, def, false) => if let Err(error) = maintained {
            tracing::warn!(table = %table, error = %error, "cannot maintain the table; trying again later");
        },
        () = renew => tracing::warn!(table = %table, "the table's maintenance lease went to another process; stopped"),
    }
    engine.leases().release(lease).await;
}
