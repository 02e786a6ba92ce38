//! Job leases: which process runs a job (and which maintains a table:
//! [`LeaseOf::TableMaintenance`], `table-<id>.json`, taken the same way).
//! Several processes may open one
//! warehouse; each job runs in the one process that holds its lease, a
//! document in the warehouse (`_tributary/leases/<job id>.json`: holder,
//! epoch, expiry) taken and renewed with the same read-modify-write as the
//! catalog (a conditional PUT on S3, a file lock locally). The holder
//! renews it while it runs the job; a process that finds it held by
//! another and not expired leaves the job alone; when the holder dies its
//! lease expires and another process takes the job over within the TTL
//! (`TRIBUTARY_LEASE_TTL_SECS`, default 6 s), with the next epoch. A
//! holder that stops running a job (pause, drop, shutdown) gives the lease
//! up at once. A lease alone does not make loading exactly-once: a holder
//! that was stopped past its lease can wake up and commit; the commit
//! fence does that ([`crate::write::Fence`]).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::parse::options::seconds_from_env;
use crate::warehouse::Warehouse;

/// What a lease is of: a job (its loop), or a table's maintenance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LeaseOf {
    Job(u64),
    TableMaintenance(u64),
}

/// A job's lease, by the job's id.
impl From<u64> for LeaseOf {
    fn from(job_id: u64) -> Self {
        LeaseOf::Job(job_id)
    }
}

impl LeaseOf {
    fn path(self) -> String {
        match self {
            LeaseOf::Job(id) => format!("_tributary/leases/{id}.json"),
            LeaseOf::TableMaintenance(id) => format!("_tributary/leases/table-{id}.json"),
        }
    }
}

/// Default lease time to live.
const DEFAULT_TTL: Duration = Duration::from_secs(6);

/// Who runs a job, until when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Lease {
    /// The process (`host:pid:id`).
    pub holder: String,
    /// Goes up by one each time the job changes hands.
    pub epoch: u64,
    /// Unix milliseconds.
    pub expires_at_ms: i64,
}

impl Lease {
    fn live(&self, now_ms: i64) -> bool {
        self.expires_at_ms > now_ms
    }
}

/// This process's side of the job leases of a warehouse.
#[derive(Debug)]
pub struct Leases {
    warehouse: Arc<Warehouse>,
    holder: String,
    ttl: Duration,
    /// The leases this process holds, as last written.
    held: Mutex<HashMap<LeaseOf, Lease>>,
}

impl Leases {
    pub fn new(warehouse: Arc<Warehouse>) -> Self {
        let ttl = seconds_from_env("TRIBUTARY_LEASE_TTL_SECS", DEFAULT_TTL);
        let host = std::fs::read_to_string("/etc/hostname")
            .map(|h| h.trim().to_string())
            .unwrap_or_else(|_| "localhost".to_string());
        let id = uuid::Uuid::new_v4().simple().to_string();
        Self {
            warehouse,
            holder: format!("{host}:{}:{}", std::process::id(), &id[..8]),
            ttl,
            held: Mutex::new(HashMap::new()),
        }
    }

    /// This process, as leases name it.
    pub fn holder(&self) -> &str {
        &self.holder
    }

    /// How long a lease lasts unless renewed.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// Takes or renews the lease of `of` (a job, by its id, or a table's
    /// maintenance): `Some` when this process holds it now, `None` when
    /// another live process does. A lease held with most of its time left
    /// is not written again.
    pub async fn acquire(&self, of: impl Into<LeaseOf>) -> Result<Option<Lease>> {
        let of = of.into();
        let now = now_ms();
        let ttl_ms = self.ttl.as_millis() as i64;
        if let Some(lease) = self.held.lock().expect("lock").get(&of) {
            if lease.expires_at_ms - now > ttl_ms * 2 / 3 {
                return Ok(Some(lease.clone()));
            }
        }
        let written = self
            .change(of, |current| match current {
                Some(lease) if lease.holder == self.holder => Some(Lease {
                    expires_at_ms: now + ttl_ms,
                    ..lease
                }),
                Some(lease) if lease.live(now) => None,
                other => Some(Lease {
                    holder: self.holder.clone(),
                    epoch: other.map_or(1, |l| l.epoch + 1),
                    expires_at_ms: now + ttl_ms,
                }),
            })
            .await?;
        let mut held = self.held.lock().expect("lock");
        match &written {
            Some(lease) => held.insert(of, lease.clone()),
            // Another live process holds it, or wrote it first.
            None => held.remove(&of),
        };
        Ok(written)
    }

    /// Gives up the lease of `of` if this process holds it, so that
    /// another process may take it at once.
    pub async fn release(&self, of: impl Into<LeaseOf>) {
        let of = of.into();
        if self.held.lock().expect("lock").remove(&of).is_none() {
            return;
        }
        let released = self
            .change(of, |current| {
                current
                    .filter(|lease| lease.holder == self.holder)
                    .map(|lease| Lease {
                        expires_at_ms: 0,
                        ..lease
                    })
            })
            .await;
        if let Err(error) = released {
            tracing::warn!(lease = ?of, error = %error, "cannot give up a lease; it expires by itself");
        }
    }

    /// Reads the lease of `of` and writes what `decide` makes of it, as
    /// one step against other processes; the lease written, or `None` when
    /// `decide` wrote nothing or another process wrote first.
    async fn change(
        &self,
        of: LeaseOf,
        decide: impl FnOnce(Option<Lease>) -> Option<Lease>,
    ) -> Result<Option<Lease>> {
        let path = of.path();
        let _lock = self.warehouse.lock(&path).await?;
        let read = self.warehouse.read_versioned(&path).await?;
        let current = read
            .bytes
            .as_ref()
            .map(|b| parse(&self.warehouse, &path, b))
            .transpose()?;
        let Some(next) = decide(current) else {
            return Ok(None);
        };
        let json = serde_json::to_vec(&next).expect("a lease serialises");
        let written = self
            .warehouse
            .write_if_unchanged(&path, Bytes::from(json), &read)
            .await?;
        Ok(written.then_some(next))
    }

    /// Gives up every lease this process holds (when it exits).
    pub async fn release_all(&self) {
        let held: Vec<LeaseOf> = self.held.lock().expect("lock").keys().copied().collect();
        for of in held {
            self.release(of).await;
        }
    }

    /// The live lease of job `job_id`, whoever holds it.
    pub async fn current(&self, job_id: u64) -> Result<Option<Lease>> {
        let path = LeaseOf::Job(job_id).path();
        let Some(bytes) = self.warehouse.read(&path).await? else {
            return Ok(None);
        };
        let lease = parse(&self.warehouse, &path, &bytes)?;
        Ok(lease.live(now_ms()).then_some(lease))
    }
}

fn parse(warehouse: &Warehouse, path: &str, bytes: &[u8]) -> Result<Lease> {
    serde_json::from_slice(bytes)
        .map_err(|e| Error::Catalog(format!("{} is not a valid lease: {e}", warehouse.uri(path))))
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}
