//! The process's Prometheus metrics, as `serve --http` exposes them at
//! `/metrics` (OpenMetrics text): what this process observes as it runs
//! (task durations, connections, statements), and what every process on
//! the warehouse reads from the job store at each scrape (rows, bytes and
//! files loaded, task outcomes, backlog, freshness), so that any server
//! reports every job the user may see, whichever process runs it.

use std::collections::HashMap;
use std::sync::atomic::AtomicU64;
use std::sync::Mutex;
use std::time::Duration;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{text, DescriptorEncoder, EncodeLabelSet, EncodeMetric};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::Registry;

use crate::error::Result;
use crate::job::{Job, JobStatus, Task};
use crate::session::Session;

/// The content type of [`Metrics::render`]'s text.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// A job, as its metrics are labelled.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct JobLabels {
    job: String,
    table: String,
}

impl JobLabels {
    fn of(job: &Job) -> Self {
        Self {
            job: job.name.clone(),
            table: job.qualified_table(),
        }
    }
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TaskLabels {
    job: String,
    table: String,
    outcome: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StateLabels {
    job: String,
    table: String,
    state: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StatementLabels {
    kind: String,
    outcome: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabels {
    kind: String,
}

type Histograms<L> = Family<L, Histogram, fn() -> Histogram>;

/// Task durations: 50 ms to about 14 minutes.
fn task_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.05, 2.0, 15))
}

/// Statement durations: 1 ms to about 16 seconds.
fn statement_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.001, 2.0, 15))
}

/// What this process observes; the job store's figures are read at each
/// [`Metrics::render`].
#[derive(Debug)]
pub struct Metrics {
    /// By job: a scrape shows those of the jobs its user may see.
    task_seconds: Mutex<HashMap<TaskLabels, Histogram>>,
    connections: Gauge,
    connections_opened: Counter,
    statements: Family<StatementLabels, Counter>,
    statement_seconds: Histograms<KindLabels>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self {
            task_seconds: Mutex::default(),
            connections: Gauge::default(),
            connections_opened: Counter::default(),
            statements: Family::default(),
            statement_seconds: Family::new_with_constructor(statement_histogram),
        }
    }
}

/// The statement kinds counted apart (the first word); others are
/// `other`, so that a label never holds what a user typed.
const STATEMENT_KINDS: [&str; 20] = [
    "select", "insert", "update", "delete", "create", "drop", "alter", "show", "set", "use",
    "describe", "explain", "pause", "resume", "wait", "kill", "admin", "grant", "revoke", "with",
];

/// The kind of `sql` as [`Metrics::statement_finished`] counts it.
pub fn statement_kind(sql: &str) -> &'static str {
    let first = sql
        .trim_start()
        .split(|c: char| !c.is_ascii_alphabetic())
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    STATEMENT_KINDS
        .iter()
        .find(|k| **k == first)
        .copied()
        .unwrap_or("other")
}

impl Metrics {
    /// Logs `task` of `job`, which took `duration`, and observes it.
    pub fn task_finished(&self, job: &Job, task: &Task, duration: Duration) {
        task.log_finished(job, duration);
        let JobLabels { job, table } = JobLabels::of(job);
        let labels = TaskLabels {
            job,
            table,
            outcome: task.status.to_string().to_ascii_lowercase(),
        };
        self.task_seconds
            .lock()
            .expect("lock")
            .entry(labels)
            .or_insert_with(task_histogram)
            .observe(duration.as_secs_f64());
    }

    /// A connection opened; it is counted open until `connection_closed`.
    pub fn connection_opened(&self) {
        self.connections.inc();
        self.connections_opened.inc();
    }

    pub fn connection_closed(&self) {
        self.connections.dec();
    }

    /// Counts a statement of `kind` ([`statement_kind`]) that took
    /// `duration` and succeeded or not.
    pub fn statement_finished(&self, kind: &str, ok: bool, duration: Duration) {
        let outcome = if ok { "ok" } else { "error" };
        self.statements
            .get_or_create(&StatementLabels {
                kind: kind.to_string(),
                outcome: outcome.to_string(),
            })
            .inc();
        self.statement_seconds
            .get_or_create(&KindLabels {
                kind: kind.to_string(),
            })
            .observe(duration.as_secs_f64());
    }

    /// The metrics as `session`'s user may see them: this process's, and
    /// those of the jobs the user may see, read from the job store now.
    pub async fn render(&self, session: &Session) -> Result<String> {
        crate::plan::read_jobs_again(session).await;
        let this_process = session.engine().leases().holder();
        let jobs: Vec<(Job, bool)> = crate::plan::visible_jobs_with_leases(session)
            .await?
            .into_iter()
            .map(|(job, lease)| {
                let held = lease.is_some_and(|lease| lease.holder == this_process);
                (job, held)
            })
            .collect();
        let mut registry = Registry::default();
        self.register(&mut registry);
        let durations = self
            .task_seconds
            .lock()
            .expect("lock")
            .iter()
            .filter(|(labels, _)| jobs.iter().any(|(job, _)| job.name == labels.job))
            .map(|(labels, histogram)| (labels.clone(), histogram.clone()))
            .collect();
        registry.register_collector(Box::new(TaskDurations(durations)));
        register_jobs(&mut registry, &jobs);
        let mut out = String::new();
        // Writing to a String cannot fail.
        text::encode(&mut out, &registry).expect("metrics text");
        Ok(out)
    }

    fn register(&self, registry: &mut Registry) {
        registry.register(
            "tributary_s3_requests",
            "HTTP requests S3() reads sent, each retried attempt apart, by kind (get, head, list, ...) and outcome (ok, client_error, server_error, transport_error)",
            S3_REQUESTS.clone(),
        );
        registry.register(
            "tributary_connections",
            "MySQL-protocol connections open now",
            self.connections.clone(),
        );
        registry.register(
            "tributary_connections_opened",
            "MySQL-protocol connections opened since the process started",
            self.connections_opened.clone(),
        );
        registry.register(
            "tributary_statements",
            "Statements run over the MySQL protocol, by first word and outcome",
            self.statements.clone(),
        );
        registry.register(
            "tributary_statement_duration_seconds",
            "Time statements over the MySQL protocol took, by first word",
            self.statement_seconds.clone(),
        );
    }
}

/// Every HTTP request `S3()` reads make in this process (retried attempts
/// each count), by kind and outcome; see [`CountingConnector`].
static S3_REQUESTS: std::sync::LazyLock<Family<RequestLabels, Counter>> =
    std::sync::LazyLock::new(Family::default);

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    kind: String,
    outcome: String,
}

/// The HTTP connector of `S3()`'s stores: object_store's own (reqwest),
/// with every request it sends counted, so that retries and errors show.
#[derive(Debug, Default)]
pub struct CountingConnector(object_store::client::ReqwestConnector);

impl object_store::client::HttpConnector for CountingConnector {
    fn connect(
        &self,
        options: &object_store::ClientOptions,
    ) -> object_store::Result<object_store::client::HttpClient> {
        let inner = self.0.connect(options)?;
        Ok(object_store::client::HttpClient::new(CountingClient(inner)))
    }
}

#[derive(Debug)]
struct CountingClient(object_store::client::HttpClient);

#[async_trait::async_trait]
impl object_store::client::HttpService for CountingClient {
    async fn call(
        &self,
        request: object_store::client::HttpRequest,
    ) -> Result<object_store::client::HttpResponse, object_store::client::HttpError> {
        let kind = request_kind(request.method().as_str(), request.uri().query());
        let response = self.0.execute(request).await;
        let outcome = match &response {
            Ok(r) if r.status().is_success() || r.status().is_redirection() => "ok",
            Ok(r) if r.status().is_client_error() => "client_error",
            Ok(_) => "server_error",
            Err(_) => "transport_error",
        };
        S3_REQUESTS
            .get_or_create(&RequestLabels {
                kind: kind.into(),
                outcome: outcome.into(),
            })
            .inc();
        response
    }
}

/// What an S3 request does, from its method and query string.
fn request_kind(method: &str, query: Option<&str>) -> &'static str {
    let listing = query.is_some_and(|q| q.split('&').any(|p| p == "list-type=2"));
    match method {
        "GET" if listing => "list",
        "GET" => "get",
        "HEAD" => "head",
        "PUT" => "put",
        "POST" => "post",
        "DELETE" => "delete",
        _ => "other",
    }
}

/// The task durations of the jobs a scrape's user may see.
#[derive(Debug)]
struct TaskDurations(Vec<(TaskLabels, Histogram)>);

impl Collector for TaskDurations {
    fn encode(&self, mut encoder: DescriptorEncoder) -> std::fmt::Result {
        let mut metric = encoder.encode_descriptor(
            "tributary_task_duration_seconds",
            "Time a job's task took, from its listing to its commit (this process's tasks)",
            None,
            MetricType::Histogram,
        )?;
        for (labels, histogram) in &self.0 {
            histogram.encode(metric.encode_family(labels)?)?;
        }
        Ok(())
    }
}

/// The job store's figures of `jobs` (with whether this process holds
/// each one's lease), as counters and gauges made for this scrape.
fn register_jobs(registry: &mut Registry, jobs: &[(Job, bool)]) {
    let counter = |value: fn(&Job) -> u64| {
        let family = Family::<JobLabels, Counter>::default();
        for (job, _) in jobs {
            family.get_or_create(&JobLabels::of(job)).inc_by(value(job));
        }
        family
    };
    let gauge = |value: &dyn Fn(&Job, bool) -> Option<f64>| {
        let family = Family::<JobLabels, Gauge<f64, AtomicU64>>::default();
        for (job, held) in jobs {
            if let Some(v) = value(job, *held) {
                family.get_or_create(&JobLabels::of(job)).set(v);
            }
        }
        family
    };
    registry.register(
        "tributary_job_loaded_rows",
        "Rows a job loaded",
        counter(|j| {
            j.load_statistic
                .scanned_rows
                .saturating_sub(j.load_statistic.filtered_rows)
        }),
    );
    registry.register(
        "tributary_job_rejected_rows",
        "Rows a job left out because they did not convert to the table's types",
        counter(|j| j.load_statistic.filtered_rows),
    );
    registry.register(
        "tributary_job_loaded_bytes",
        "Bytes of the files a job loaded",
        counter(|j| j.load_statistic.load_bytes),
    );
    registry.register(
        "tributary_job_loaded_files",
        "Files a job loaded",
        counter(|j| j.load_statistic.file_number),
    );
    registry.register(
        "tributary_job_quarantined_files",
        "Files a job set aside because they failed alone (s3.on_file_error = skip)",
        counter(|j| j.quarantined_files),
    );
    registry.register(
        "tributary_job_skipped_late_files",
        "Files a job noticed after its offset had passed their names and did not load (s3.late_files = skip)",
        counter(|j| j.skipped_late_files),
    );
    let tasks = Family::<TaskLabels, Counter>::default();
    for (job, _) in jobs {
        let JobLabels { job: name, table } = JobLabels::of(job);
        for (outcome, count) in [
            ("success", job.succeed_task_count),
            ("failed", job.failed_task_count),
            ("canceled", job.canceled_task_count),
        ] {
            let labels = TaskLabels {
                job: name.clone(),
                table: table.clone(),
                outcome: outcome.into(),
            };
            tasks.get_or_create(&labels).inc_by(count);
        }
    }
    registry.register("tributary_job_tasks", "A job's tasks, by outcome", tasks);
    let states = Family::<StateLabels, Gauge>::default();
    for (job, _) in jobs {
        let JobLabels { job: name, table } = JobLabels::of(job);
        for state in JobStatus::ALL {
            let labels = StateLabels {
                job: name.clone(),
                table: table.clone(),
                state: state.to_string(),
            };
            states
                .get_or_create(&labels)
                .set(i64::from(job.status == state));
        }
    }
    registry.register(
        "tributary_job_state",
        "1 for a job's state (RUNNING, PAUSED, ...), 0 for the others",
        states,
    );
    registry.register(
        "tributary_job_backlog_files",
        "Files a job's last listing found after its batch, not loaded (counted up to 1,000 past the batch)",
        gauge(&|j, _| j.backlog.as_ref().map(|b| b.files as f64)),
    );
    registry.register(
        "tributary_job_backlog_bytes",
        "Bytes of the files of tributary_job_backlog_files",
        gauge(&|j, _| j.backlog.as_ref().map(|b| b.bytes as f64)),
    );
    let now = chrono::Utc::now();
    registry.register(
        "tributary_job_oldest_unloaded_age_seconds",
        "How long ago the oldest file a job has not loaded was written (0 when none waits)",
        gauge(&|j, _| {
            j.backlog
                .as_ref()
                .map(|b| b.oldest_age_seconds(now).unwrap_or(0.0))
        }),
    );
    registry.register(
        "tributary_job_last_load_timestamp_seconds",
        "When a job's last commit of rows became visible (Unix time)",
        gauge(&|j, _| j.last_visible_ms.map(|ms| ms as f64 / 1000.0)),
    );
    registry.register(
        "tributary_job_freshness_seconds",
        "Seconds since a job's last commit of rows became visible: how old the newest loaded rows are",
        gauge(&|j, _| {
            j.last_visible_ms
                .map(|ms| (now.timestamp_millis() - ms).max(0) as f64 / 1000.0)
        }),
    );
    registry.register(
        "tributary_job_lease_held",
        "1 when this process runs the job (holds its lease), else 0",
        gauge(&|_, held| Some(f64::from(u8::from(held)))),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s3_requests_are_told_apart_by_method_and_query() {
        assert_eq!(request_kind("GET", Some("list-type=2&prefix=a%2F")), "list");
        assert_eq!(request_kind("GET", Some("prefix=list-type=2")), "get");
        assert_eq!(request_kind("GET", None), "get");
        assert_eq!(request_kind("HEAD", None), "head");
    }

    #[test]
    fn statements_are_counted_by_their_first_word_only() {
        assert_eq!(statement_kind("  SELECT 1"), "select");
        assert_eq!(statement_kind("insert into t values (1)"), "insert");
        assert_eq!(statement_kind("/* hint */ SELECT 1"), "other");
        assert_eq!(statement_kind("frobnicate the secret"), "other");
        assert_eq!(statement_kind(""), "other");
    }
}
