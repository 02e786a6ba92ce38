//! What table maintenance does for a table a job fills with many small
//! commits: the same small files loaded by a job of 10-file batches with
//! maintenance on (its default compaction; old versions removed at once,
//! as they are once the retention has passed), with it off (no
//! compaction, versions kept), and by one INSERT (one commit). Load time,
//! bytes on disk after maintenance caught up, and two queries on each.

use std::path::Path;
use std::time::{Duration, Instant};

use datafusion::arrow::util::display::array_value_to_string;

use super::{median, open, s3_call, tasks, timed};

pub const MAINTENANCE: &str = "table maintenance";

/// How often the maintenance loop looks at the tables in this
/// measurement (a server's default is a minute).
const PERIOD_SECS: &str = "2";

#[derive(Debug, serde::Serialize)]
pub struct MaintenanceCost {
    files: usize,
    /// Tasks (commits) of the job with maintenance on, and off.
    commits: (u64, u64),
    /// Seconds to load every file: job with maintenance on, off, one INSERT.
    load_seconds: (f64, f64, f64),
    /// Seconds from the end of the load until maintenance caught up.
    catch_up_seconds: f64,
    /// Bytes on disk: on (caught up), off, one INSERT.
    bytes: (u64, u64, u64),
    /// Versions and fragments: on, off, one INSERT.
    versions: (u64, u64, u64),
    fragments: (u64, u64, u64),
    /// Median seconds of `SELECT status, avg(amount) ... GROUP BY status`.
    group_by_seconds: (f64, f64, f64),
    /// Median seconds of `SELECT * ... WHERE order_id = <one id>`.
    point_seconds: (f64, f64, f64),
}

pub async fn maintenance_cost(root: &Path, small_dir: &Path, files: usize) -> MaintenanceCost {
    eprintln!("bench: {MAINTENANCE} over {files} small files");
    // Read when each engine opens.
    std::env::set_var("TRIBUTARY_MAINTENANCE_SECS", PERIOD_SECS);
    let call = s3_call(&format!("file://{}/*.csv", small_dir.display()), "csv", "");
    let job = format!(
        "CREATE JOB j ON STREAMING PROPERTIES ('s3.max_batch_files' = '10', 'max_interval' = '1s')
         DO INSERT INTO bench.orders SELECT * FROM {call};
         WAIT JOB WHERE jobName = 'j' TIMEOUT 3600"
    );
    let mut on = open(root, "wh-maintained", None).await;
    on.sql("ALTER TABLE bench.orders SET ('version_retention' = '0')")
        .await
        .unwrap();
    let mut off = open(root, "wh-unmaintained", None).await;
    off.sql(
        "ALTER TABLE bench.orders SET ('compaction' = 'off', 'version_retention' = '31536000')",
    )
    .await
    .unwrap();
    let mut once = open(root, "wh-one-insert", None).await;
    let load_seconds = (
        timed(&mut on, &job).await,
        timed(&mut off, &job).await,
        timed(
            &mut once,
            &format!("INSERT INTO bench.orders SELECT * FROM {call}"),
        )
        .await,
    );
    let commits = (tasks(&mut on, "j").await, tasks(&mut off, "j").await);
    let start = Instant::now();
    while !caught_up(&mut on).await {
        assert!(
            start.elapsed() < Duration::from_secs(1800),
            "maintenance did not catch up"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let catch_up_seconds = start.elapsed().as_secs_f64();
    for session in [&mut on, &mut off] {
        session.sql("DROP JOB WHERE jobName = 'j'").await.unwrap();
    }
    let id = middle_id(&mut once).await;
    let group_by = "SELECT status, avg(amount) FROM bench.orders GROUP BY status";
    let point = format!("SELECT * FROM bench.orders WHERE order_id = {id}");
    let mut medians = Vec::new();
    for sql in [group_by.to_string(), point] {
        let mut times = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..5 {
            times.0.push(timed(&mut on, &sql).await);
            times.1.push(timed(&mut off, &sql).await);
            times.2.push(timed(&mut once, &sql).await);
        }
        medians.push((median(&times.0), median(&times.1), median(&times.2)));
    }
    let state = (
        status(&mut on).await,
        status(&mut off).await,
        status(&mut once).await,
    );
    let bytes = |name: &str| dir_bytes(&root.join(name).join("tables"));
    let cost = MaintenanceCost {
        files,
        commits,
        load_seconds,
        catch_up_seconds,
        bytes: (
            bytes("wh-maintained"),
            bytes("wh-unmaintained"),
            bytes("wh-one-insert"),
        ),
        versions: (state.0.versions, state.1.versions, state.2.versions),
        fragments: (state.0.fragments, state.1.fragments, state.2.fragments),
        group_by_seconds: medians[0],
        point_seconds: medians[1],
    };
    eprintln!("bench: {MAINTENANCE}: {cost:?}");
    cost
}

impl MaintenanceCost {
    /// One line: each figure of the maintained table against the one
    /// loaded at once, and the unmaintained one.
    pub fn summary(&self) -> String {
        let ratio = |a: f64, b: f64| a / b;
        format!(
            "{} files in {} commits: load {:.1} s maintained / {:.1} s not ({:.2}x), caught up {:.1} s later; bytes {:.2}x one INSERT's (unmaintained {:.1}x); GROUP BY {:.2}x (unmaintained {:.1}x); point lookup {:.2}x (unmaintained {:.1}x); versions {}/{}/{}, fragments {}/{}/{}",
            self.files,
            self.commits.0,
            self.load_seconds.0,
            self.load_seconds.1,
            ratio(self.load_seconds.0, self.load_seconds.1),
            self.catch_up_seconds,
            ratio(self.bytes.0 as f64, self.bytes.2 as f64),
            ratio(self.bytes.1 as f64, self.bytes.2 as f64),
            ratio(self.group_by_seconds.0, self.group_by_seconds.2),
            ratio(self.group_by_seconds.1, self.group_by_seconds.2),
            ratio(self.point_seconds.0, self.point_seconds.2),
            ratio(self.point_seconds.1, self.point_seconds.2),
            self.versions.0,
            self.versions.1,
            self.versions.2,
            self.fragments.0,
            self.fragments.1,
            self.fragments.2,
        )
    }
}

/// The numbers of `SHOW TABLE STATUS` maintenance looks at.
struct Status {
    versions: u64,
    fragments: u64,
    small_fragments: u64,
}

async fn status(session: &mut tributary::Session) -> Status {
    let batches = session.sql("SHOW TABLE STATUS FROM bench").await.unwrap();
    let batch = &batches[0];
    let value = |name: &str| -> u64 {
        let column = batch.column(batch.schema().index_of(name).unwrap());
        array_value_to_string(column, 0).unwrap().parse().unwrap()
    };
    Status {
        versions: value("Versions"),
        fragments: value("Fragments"),
        small_fragments: value("Small_fragments"),
    }
}

/// Whether maintenance has nothing left to do: fewer small fragments than
/// make a compaction, and the old versions gone.
async fn caught_up(session: &mut tributary::Session) -> bool {
    let status = status(session).await;
    status.small_fragments < 16 && status.versions <= 2
}

/// An order id from the middle of the table.
pub(super) async fn middle_id(session: &mut tributary::Session) -> i64 {
    let batches = session
        .sql("SELECT min(order_id) + (max(order_id) - min(order_id)) / 2 FROM bench.orders")
        .await
        .unwrap();
    array_value_to_string(batches[0].column(0), 0)
        .unwrap()
        .parse()
        .unwrap()
}

/// The bytes of every file under `dir`.
pub(super) fn dir_bytes(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| match e.file_type() {
            Ok(t) if t.is_dir() => dir_bytes(&e.path()),
            _ => e.metadata().map_or(0, |m| m.len()),
        })
        .sum()
}
