//! `tributary serve --http`: the Prometheus metrics at `/metrics`, read
//! by the Prometheus project's own Python parser (prometheus_client,
//! installed by `.ci/setup`) from a real server whose job loaded known
//! files, for a user who may see the job and one who may not; and the
//! status page, rendered by headless Chromium (Debian's, installed by
//! `.ci/setup`).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use object_store::path::Path as ObjectPath;
use object_store::{ObjectStoreExt, PutPayload};

use crate::ports::free_port;
use crate::s3_server::{venv, S3Server, ACCESS_KEY, REGION, SECRET_KEY};
use crate::support::{stdout, Server};

/// Fetches `/metrics` from `port` as `user` (basic auth), parses it as
/// OpenMetrics and prints `name{labels} value` a line, or `HTTP <code>`.
const SCRAPE: &str = r#"
import base64, sys, urllib.request, urllib.error
from prometheus_client.openmetrics.parser import text_string_to_metric_families
port, user, password = sys.argv[1], sys.argv[2], sys.argv[3]
request = urllib.request.Request(f"http://127.0.0.1:{port}/metrics")
if user != "-":
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    request.add_header("Authorization", f"Basic {token}")
try:
    body = urllib.request.urlopen(request, timeout=30).read().decode()
except urllib.error.HTTPError as e:
    print("HTTP", e.code)
    sys.exit(0)
for family in text_string_to_metric_families(body):
    for sample in family.samples:
        labels = ",".join(f'{k}="{v}"' for k, v in sorted(sample.labels.items()))
        print(f"{sample.name}{{{labels}}} {sample.value}")
"#;

/// The samples `/metrics` gives `user`, by `name{labels}`.
fn scrape(port: u16, user: &str, password: &str) -> BTreeMap<String, f64> {
    let mut child = Command::new(venv().join("bin/python"))
        .args(["-", &port.to_string(), user, password])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(SCRAPE.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout(&out)
        .lines()
        .map(|line| {
            let (name, value) = line.rsplit_once(' ').unwrap();
            (name.to_string(), value.parse().unwrap())
        })
        .collect()
}

#[test]
fn metrics_count_what_a_job_loaded_for_the_users_who_may_see_it() {
    let root = tempfile::tempdir().unwrap();
    let source = root.path().join("src");
    std::fs::create_dir_all(&source).unwrap();
    let mut bytes = 0;
    for i in 1..=3 {
        let content = format!("{i},a\n{},b\n", i + 10);
        bytes += content.len();
        std::fs::write(source.join(format!("f{i}.csv")), content).unwrap();
    }
    let http = free_port();
    let address = format!("127.0.0.1:{http}");
    let server = Server::start_with_args(root.path(), &[], &["--http", &address]);
    server.root(&format!(
        "CREATE DATABASE m; CREATE TABLE m.t (id INT NOT NULL, name STRING);
         CREATE USER 'watcher' IDENTIFIED BY 'pw';
         CREATE JOB feed ON STREAMING PROPERTIES (\"max_interval\" = \"1s\", \"s3.max_batch_files\" = \"1\")
         DO INSERT INTO m.t SELECT * FROM S3(\"uri\" = \"file://{}/*.csv\", \"format\" = \"csv\", \"column_separator\" = \",\")",
        source.display()
    ));
    server.wait_for("SELECT count(*) AS n FROM m.t", "n\n6\n");
    server.wait_for(
        "SELECT BacklogFiles FROM job_status(job = 'feed')",
        "BacklogFiles\n0\n",
    );
    // A statement that fails, counted apart.
    let failed = server.mysql("root", None, "SELECT * FROM m.nope");
    assert!(!failed.status.success());
    // A job that sets a bad file aside.
    let bad = root.path().join("bad");
    std::fs::create_dir_all(&bad).unwrap();
    std::fs::write(bad.join("b1.csv"), "x,not a number\n").unwrap();
    server.root(&format!(
        "CREATE JOB skipper ON STREAMING PROPERTIES (\"max_interval\" = \"1s\", \"s3.on_file_error\" = \"skip\")
         DO INSERT INTO m.t SELECT * FROM S3(\"uri\" = \"file://{}/*.csv\", \"format\" = \"csv\", \"column_separator\" = \",\")",
        bad.display()
    ));
    server.wait_for(
        "SELECT Status FROM job_files(job = 'skipper')",
        "Status\nQUARANTINED\n",
    );
    // A read of an S3 server: its requests counted by kind.
    let s3 = S3Server::start();
    s3.create_bucket("metrics-in");
    let store = s3.store("metrics-in");
    tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(store.put(&ObjectPath::from("in/a.csv"), PutPayload::from("1,x\n")))
        .unwrap();
    let read = server.root(&format!(
        "SELECT count(*) AS n FROM S3('uri' = 's3://metrics-in/in/*.csv', 'format' = 'csv', 'column_separator' = ',',
           's3.endpoint' = '{}', 's3.region' = '{REGION}', 's3.access_key' = '{ACCESS_KEY}', 's3.secret_key' = '{SECRET_KEY}')",
        s3.endpoint
    ));
    assert_eq!(read, "n\n1\n");

    let seen = scrape(http, "root", "");
    let job = r#"job="feed",table="m.t""#;
    let value = |name: &str| {
        *seen
            .get(name)
            .unwrap_or_else(|| panic!("{name} in {seen:#?}"))
    };
    assert_eq!(
        value(&format!("tributary_job_loaded_rows_total{{{job}}}")),
        6.0
    );
    assert_eq!(
        value(&format!("tributary_job_loaded_files_total{{{job}}}")),
        3.0
    );
    assert_eq!(
        value(&format!("tributary_job_loaded_bytes_total{{{job}}}")),
        bytes as f64
    );
    assert_eq!(
        value(&format!("tributary_job_rejected_rows_total{{{job}}}")),
        0.0
    );
    // The parser's labels are in name order.
    let success = r#"job="feed",outcome="success",table="m.t""#;
    assert_eq!(
        value(&format!("tributary_job_tasks_total{{{success}}}")),
        3.0
    );
    let state = |s: &str| format!(r#"tributary_job_state{{job="feed",state="{s}",table="m.t"}}"#);
    assert_eq!(value(&state("RUNNING")), 1.0);
    assert_eq!(value(&state("PAUSED")), 0.0);
    assert_eq!(value(&format!("tributary_job_backlog_files{{{job}}}")), 0.0);
    assert_eq!(value(&format!("tributary_job_lease_held{{{job}}}")), 1.0);
    let fresh = value(&format!("tributary_job_freshness_seconds{{{job}}}"));
    assert!((0.0..600.0).contains(&fresh), "{fresh}");
    let loaded_at = value(&format!(
        "tributary_job_last_load_timestamp_seconds{{{job}}}"
    ));
    let now = chrono::Utc::now().timestamp() as f64;
    assert!(
        loaded_at > now - 600.0 && loaded_at <= now + 1.0,
        "{loaded_at}"
    );
    // This process ran the three tasks: three durations observed.
    assert_eq!(
        value(&format!(
            "tributary_task_duration_seconds_count{{{success}}}"
        )),
        3.0
    );
    assert!(value(r#"tributary_statements_total{kind="select",outcome="error"}"#) >= 1.0);
    assert!(value(r#"tributary_statements_total{kind="create",outcome="ok"}"#) >= 1.0);
    assert!(value("tributary_connections_opened_total{}") >= 2.0);
    let skipper = r#"job="skipper",table="m.t""#;
    assert_eq!(
        value(&format!(
            "tributary_job_quarantined_files_total{{{skipper}}}"
        )),
        1.0
    );
    assert_eq!(
        value(&format!("tributary_job_skipped_late_files_total{{{job}}}")),
        0.0
    );
    assert!(value(r#"tributary_s3_requests_total{kind="list",outcome="ok"}"#) >= 1.0);
    assert!(value(r#"tributary_s3_requests_total{kind="get",outcome="ok"}"#) >= 1.0);

    // A user without LOAD on the table sees no job; a wrong password or
    // none is asked to log in.
    let watcher = scrape(http, "watcher", "pw");
    assert!(!watcher.keys().any(|k| k.contains("feed")), "{watcher:#?}");
    assert!(
        watcher.contains_key("tributary_connections{}"),
        "{watcher:#?}"
    );
    let refused = scrape(http, "watcher", "wrong");
    assert_eq!(refused.get("HTTP"), Some(&401.0), "{refused:#?}");
    let anonymous = scrape(http, "-", "");
    assert_eq!(anonymous.get("HTTP"), Some(&401.0), "{anonymous:#?}");

    // The status page, as a browser renders it: the job, its state, its
    // empty backlog; the job's page: its tasks, files and rows loaded.
    let shot = root.path().join("status.png");
    let page = chromium(&format!("http://root:@127.0.0.1:{http}/"), &shot);
    let row = page
        .split("<tr class=\"job\"")
        .nth(1)
        .unwrap_or_else(|| panic!("a job row in {page}"));
    assert!(row.contains(r#"data-job="feed""#), "{row}");
    assert!(row.contains("<td>m.t</td>"), "{row}");
    assert!(row.contains(">RUNNING</td>"), "{row}");
    assert!(row.contains(r#"<td class="backlog-files">0</td>"#), "{row}");
    assert!(row.contains("last hour: 6</title>"), "{row}");
    assert!(
        std::fs::metadata(&shot).unwrap().len() > 1000,
        "a screenshot"
    );
    let job = chromium(
        &format!("http://root:@127.0.0.1:{http}/jobs/feed"),
        &root.path().join("job.png"),
    );
    assert!(job.contains(r#"<td id="loaded-rows">6</td>"#), "{job}");
    assert_eq!(job.matches(">LOADED</td>").count(), 3, "{job}");
    assert_eq!(job.matches("<td>SUCCESS</td>").count(), 3, "{job}");
    // Another user's browser sees no job.
    let other = chromium(
        &format!("http://watcher:pw@127.0.0.1:{http}/"),
        &root.path().join("watcher.png"),
    );
    assert!(other.contains("No job you may see."), "{other}");
    assert!(server.stop());
}

/// The DOM headless Chromium renders at `url`, with a screenshot of it
/// kept at `screenshot`.
fn chromium(url: &str, screenshot: &Path) -> String {
    let run = |args: &[&str]| {
        let profile = tempfile::tempdir().unwrap();
        let out = Command::new("chromium")
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .args(args)
            .arg(url)
            .output()
            .expect("chromium runs (installed by .ci/setup)");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        stdout(&out)
    };
    run(&[
        "--window-size=1280,800",
        &format!("--screenshot={}", screenshot.display()),
    ]);
    run(&["--dump-dom"])
}
