//! Streaming jobs survive a restart of the engine with their state.

use tributary::job::JobStatus;
use tributary::Engine;

use crate::support::{assert_ok, lines, query, stdout, tributary, tributary_command, wait_for_job};

#[tokio::test]
async fn jobs_and_their_state_are_back_after_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let warehouse = dir.path().join("wh");
    let warehouse = warehouse.to_str().unwrap();
    {
        let engine = Engine::open(warehouse).await.unwrap();
        engine
            .session()
            .sql("CREATE DATABASE db1; CREATE TABLE db1.t (id INT, v STRING); CREATE USER loader; GRANT LOAD_PRIV ON db1.* TO loader; GRANT ADMIN_PRIV ON *.* TO loader")
            .await
            .unwrap();
        let mut s = engine.session_as("loader");
        s.sql(
            "
             CREATE JOB a ON STREAMING PROPERTIES ('s3.max_batch_bytes' = '512MB') COMMENT 'first'
               DO INSERT INTO db1.t SELECT * FROM S3('uri' = 'file:///tmp/a/*.csv', 'format' = 'csv');
             CREATE JOB b ON STREAMING
               DO INSERT INTO db1.t SELECT * FROM S3('uri' = 'file:///tmp/b/*.csv', 'format' = 'csv');
             PAUSE JOB WHERE jobName = 'b';
             ALTER JOB b PROPERTIES ('offset' = '{\"fileName\":\"/tmp/b/0042.csv\"}')",
        )
        .await
        .unwrap();
    }
    let engine = Engine::open(warehouse).await.unwrap();
    let a = engine.jobs().job("a").unwrap();
    let b = engine.jobs().job("b").unwrap();
    assert_eq!((a.id, a.definer.as_str()), (1, "loader"));
    // The scheduler picks a created job up on open.
    assert!(
        matches!(a.status, JobStatus::Pending | JobStatus::Running),
        "{a:?}"
    );
    assert_eq!(a.properties.max_batch_bytes, 512 << 20);
    assert_eq!(a.comment.as_deref(), Some("first"));
    assert_eq!((b.id, b.status), (2, JobStatus::Paused));
    assert_eq!(b.current_offset.as_deref(), Some("tmp/b/0042.csv"));
    let rows = engine
        .session()
        .sql("SELECT Name, Status, CurrentOffset FROM job(type=insert) WHERE Name = 'b'")
        .await
        .unwrap();
    assert_eq!(
        lines(&rows)[3],
        "| b    | PAUSED | {\"fileName\":\"/tmp/b/0042.csv\"} |"
    );
    // New ids continue after the reopened ones.
    let mut s = engine.session();
    s.sql("CREATE JOB c ON STREAMING DO INSERT INTO db1.t SELECT * FROM S3('uri' = 'file:///tmp/c/*.csv', 'format' = 'csv')")
        .await
        .unwrap();
    assert_eq!(engine.jobs().job("c").unwrap().id, 3);
}

#[tokio::test]
async fn job_credentials_are_sealed_in_the_warehouse() {
    let dir = tempfile::tempdir().unwrap();
    let warehouse = dir.path().join("wh");
    let engine = Engine::open(warehouse.to_str().unwrap()).await.unwrap();
    let mut s = engine.session();
    s.sql(
        "CREATE DATABASE d; CREATE TABLE d.t (a STRING);
         CREATE JOB secret_job ON STREAMING DO INSERT INTO d.t SELECT * FROM S3(
           'uri' = 'file:///nonexistent/tributary/*.csv', 's3.region' = 'us-east-1',
           's3.access_key' = 'AKIA-PLAINTEXT-ACCESS', 's3.secret_key' = 'PLAINTEXT-SECRET', 'format' = 'csv')",
    )
    .await
    .unwrap();
    let store = std::fs::read_to_string(warehouse.join("_tributary/jobs.json")).unwrap();
    assert!(store.contains("secret_job"));
    assert!(
        !store.contains("PLAINTEXT-SECRET") && !store.contains("AKIA-PLAINTEXT-ACCESS"),
        "{store}"
    );
    // The job itself still has its credentials, after a reopen too.
    drop(engine);
    let engine = Engine::open(warehouse.to_str().unwrap()).await.unwrap();
    let job = engine.jobs().job("secret_job").unwrap();
    assert!(job.sql.contains("'s3.secret_key' = ''"), "{}", job.sql);
    let full = engine.jobs().execute_sql(&job).unwrap();
    assert!(
        full.contains("'s3.secret_key' = 'PLAINTEXT-SECRET'"),
        "{full}"
    );
}

/// Without the secret key a job's sealed SQL cannot be read; giving the
/// credentials again with ALTER JOB is the way out, even when the rest of
/// the INSERT is the same.
#[test]
fn credentials_are_given_again_with_alter_when_the_key_is_lost() {
    let root = tempfile::tempdir().unwrap();
    let body = format!("INSERT INTO d.t SELECT * FROM S3('uri' = 'file://{}/nonexistent/*.csv',
        's3.region' = 'us-east-1', 's3.access_key' = 'AKIA-A', 's3.secret_key' = 'S-A', 'format' = 'csv')", root.path().display());
    assert_ok(&tributary(
        root.path(),
        &format!(
            "CREATE DATABASE d; CREATE TABLE d.t (a STRING);
             CREATE JOB j ON STREAMING DO {body}; PAUSE JOB WHERE jobName = 'j';"
        ),
        None,
    ));
    std::fs::remove_file(root.path().join("secret.key")).unwrap();
    let altered = tributary(
        root.path(),
        &format!("ALTER JOB j {body}; SELECT Status FROM job(type=insert);"),
        None,
    );
    assert_ok(&altered);
    assert!(
        stdout(&altered).contains("| PAUSED |"),
        "{}",
        stdout(&altered)
    );
}

/// A local path without a scheme is resolved when the job is created: a
/// process started in another directory later reads the same files.
#[test]
fn a_relative_uri_is_resolved_once_when_the_job_is_created() {
    let root = tempfile::tempdir().unwrap();
    let data = root.path().join("here/data");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::write(data.join("1.csv"), "1\n2\n").unwrap();
    std::fs::create_dir_all(root.path().join("elsewhere")).unwrap();
    let run_in = |dir: &str, sql: &str| {
        let output = tributary_command(root.path(), sql)
            .current_dir(root.path().join(dir))
            .output()
            .unwrap();
        assert_ok(&output);
        stdout(&output)
    };
    run_in(
        "here",
        "CREATE DATABASE d; CREATE TABLE d.t (id INT);
         CREATE JOB rel ON STREAMING DO INSERT INTO d.t SELECT * FROM S3('uri' = 'data/*.csv', 'format' = 'csv');
         PAUSE JOB WHERE jobName = 'rel';",
    );
    let out = run_in(
        "elsewhere",
        "RESUME JOB WHERE jobName = 'rel'; WAIT JOB WHERE jobName = 'rel' TIMEOUT 60;
         SELECT count(*) AS n FROM d.t;",
    );
    assert!(out.contains("| 2 |"), "{out}");
}

/// `RETRY FILE` goes by the commit history, not the ledger: a file some
/// committed version of the job loaded is refused even when its ledger
/// record was damaged by hand to say it was set aside.
#[test]
fn a_file_a_commit_loaded_is_never_retried_whatever_the_ledger_says() {
    let root = tempfile::tempdir().unwrap();
    let data = root.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    for i in 1..=3 {
        std::fs::write(data.join(format!("{i}.csv")), format!("{i}\n")).unwrap();
    }
    assert_ok(&tributary(
        root.path(),
        &format!(
            "CREATE DATABASE d; CREATE TABLE d.t (id INT);
             CREATE JOB feed ON STREAMING PROPERTIES ('max_interval' = '1s')
             DO INSERT INTO d.t SELECT * FROM S3('uri' = 'file://{}/*.csv', 'format' = 'csv');
             WAIT JOB WHERE jobName = 'feed' TIMEOUT 60; PAUSE JOB WHERE jobName = 'feed'",
            data.display()
        ),
        None,
    ));
    let ledger = root.path().join("wh/_tributary/ledger");
    for entry in walk(&ledger) {
        let text = std::fs::read_to_string(&entry).unwrap();
        let damaged = text.replace("\"status\":\"LOADED\"", "\"status\":\"QUARANTINED\"");
        std::fs::write(&entry, damaged).unwrap();
    }
    let shown = tributary(
        root.path(),
        "SELECT Status FROM job_files(job = 'feed') WHERE FileName LIKE '%2.csv'",
        None,
    );
    assert!(
        stdout(&shown).contains("QUARANTINED"),
        "damaged: {}",
        stdout(&shown)
    );
    let file = data.join("2.csv");
    let retried = tributary(
        root.path(),
        &format!("ALTER JOB feed RETRY FILE '{}'", file.display()),
        None,
    );
    let error = String::from_utf8_lossy(&retried.stderr);
    assert!(!retried.status.success(), "queued a loaded file: {error}");
    assert!(
        error.contains(&format!(
            "file '{}' was loaded by task 1 of job 'feed'",
            file.display()
        )) && error.contains("loading it again would load its rows twice"),
        "{error}"
    );
}

/// Every file under `dir`, recursively.
fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}

/// A task that runs past the job's `session.query_timeout` is cancelled
/// before its commit: no row of it is in the table, the job pauses saying
/// which property to raise, and once raised the same files load whole.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_past_the_jobs_time_limit_commits_nothing_and_pauses_the_job() {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("src");
    std::fs::create_dir(&source).unwrap();
    let rows = 2_000_000;
    let text: String = (0..rows).map(|i| format!("{i},value {i}\n")).collect();
    std::fs::write(source.join("big.csv"), text).unwrap();
    let engine = Engine::open(dir.path().join("wh").to_str().unwrap())
        .await
        .unwrap();
    engine
        .session()
        .sql(&format!(
            "CREATE DATABASE db1; CREATE TABLE db1.t (id INT, v STRING);
             CREATE JOB slow ON STREAMING PROPERTIES ('session.query_timeout' = '1')
             DO INSERT INTO db1.t SELECT * FROM S3('uri' = 'file://{}/*.csv', 'format' = 'csv', 'column_separator' = ',')",
            source.display()
        ))
        .await
        .unwrap();
    let job = wait_for_job(&engine, "slow", "the task to time out", |j| {
        j.status == JobStatus::Paused
    })
    .await;
    let error = job.error_msg.unwrap_or_default();
    assert!(
        error.contains("ran longer than session.query_timeout = 1 s")
            && error.contains("ALTER JOB slow PROPERTIES (\"session.query_timeout\""),
        "{error}"
    );
    let count = query(&engine, "SELECT count(*) AS n FROM db1.t").await;
    assert!(count.contains("| 0 |"), "{count}");
    engine
        .session()
        .sql("ALTER JOB slow PROPERTIES ('session.query_timeout' = '3600'); RESUME JOB WHERE jobName = 'slow'")
        .await
        .unwrap();
    wait_for_job(&engine, "slow", "the file to load", |j| {
        j.current_offset
            .as_deref()
            .is_some_and(|o| o.ends_with("big.csv"))
    })
    .await;
    let count = query(&engine, "SELECT count(*) AS n FROM db1.t").await;
    assert!(count.contains(&format!("| {rows} |")), "{count}");
}

/// A column added to a table a job loads: the job's INSERT of every
/// column no longer fits, so the job pauses naming the change and the
/// ALTER JOB that fixes it, with no file set aside; given an INSERT that
/// names its columns, it loads the rest once, the new column NULL.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_column_added_under_a_job_pauses_it_until_its_insert_fits() {
    let dir = tempfile::tempdir().unwrap();
    let engine = crate::support::one_file_a_commit_job(dir.path(), 3).await;
    wait_for_job(&engine, "feed", "the first files", |j| {
        j.succeed_task_count >= 3
    })
    .await;
    engine
        .session()
        .sql("ALTER TABLE db1.t ADD COLUMN score DOUBLE")
        .await
        .unwrap();
    let source = dir.path().join("src");
    for i in 4..=6 {
        std::fs::write(source.join(format!("f{i:04}.csv")), format!("{i},v{i}\n")).unwrap();
    }
    let job = wait_for_job(&engine, "feed", "the job to pause", |j| {
        j.status == JobStatus::Paused
    })
    .await;
    let error = job.error_msg.unwrap_or_default();
    assert!(
        error.contains("table db1.t changed (ADD COLUMN score DOUBLE)")
            && error.contains("ALTER JOB feed INSERT INTO db1.t (<columns>)"),
        "{error}"
    );
    let quarantined = query(
        &engine,
        "SELECT count(*) AS n FROM job_files(job = 'feed') WHERE Status = 'QUARANTINED'",
    )
    .await;
    assert!(
        quarantined.contains("| 0 |"),
        "no file set aside: {quarantined}"
    );
    engine
        .session()
        .sql(&format!(
            "ALTER JOB feed INSERT INTO db1.t (id, v) SELECT * FROM S3('uri' = 'file://{}/f*.csv', 'format' = 'csv', 'column_separator' = ',');
             RESUME JOB WHERE jobName = 'feed'",
            source.display()
        ))
        .await
        .unwrap();
    wait_for_job(&engine, "feed", "the new files", |j| {
        j.current_offset
            .as_deref()
            .is_some_and(|o| o.ends_with("f0006.csv"))
    })
    .await;
    let rows = query(
        &engine,
        "SELECT count(*) AS n, count(DISTINCT id) AS d, count(score) AS s FROM db1.t",
    )
    .await;
    assert!(rows.contains("| 6 | 6 | 0 |"), "{rows}");
    let loaded = query(
        &engine,
        "SELECT count(DISTINCT FileName) AS n FROM job_files(job = 'feed') WHERE Status = 'LOADED'",
    )
    .await;
    assert!(loaded.contains("| 6 |"), "every file loaded once: {loaded}");
}
