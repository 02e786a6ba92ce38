//! `tributary serve` with the clients people have: a real server process
//! on a free loopback port, the `mysql` command-line client and PyMySQL
//! (both installed by `.ci/setup`), a streaming job that loads while no
//! other process runs, 50 connections at once, and SIGTERM.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use crate::s3_server::venv;
use crate::support::{stdout, Server};

/// Runs a PyMySQL script against `server`; `PORT` in it is its port.
fn python(server: &Server, script: &str) -> Output {
    let mut child = Command::new(venv().join("bin/python"))
        .arg("-")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python runs");
    let script = script.replace("PORT", &server.port.to_string());
    child
        .stdin
        .take()
        .unwrap()
        .write_all(script.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

/// What `script` printed, run after a prelude that connects as root
/// (`c`, `cur`) and defines `error_of(sql)` (the error's message, or "no
/// error"); the script must succeed.
fn printed_by(server: &Server, script: &str) -> String {
    let prelude = r#"
import pymysql
from pymysql.constants import COMMAND
c = pymysql.connect(host="127.0.0.1", port=PORT, user="root", password="")
cur = c.cursor()
def error_of(sql):
    try:
        cur.execute(sql)
        return "no error"
    except pymysql.err.MySQLError as e:
        return e.args[1]
"#;
    let out = python(server, &format!("{prelude}{script}"));
    let printed = stdout(&out);
    assert!(
        out.status.success(),
        "{printed}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    printed
}

fn put_files(dir: &Path, first: usize, count: usize) {
    std::fs::create_dir_all(dir).unwrap();
    for i in first..first + count {
        std::fs::write(
            dir.join(format!("part-{i:04}.csv")),
            format!("{i},{i}.50\n"),
        )
        .unwrap();
    }
}

#[test]
fn the_mysql_client_and_pymysql_talk_to_the_server() {
    let root = tempfile::tempdir().unwrap();
    let server = Server::start(root.path());

    // Connect-time questions and types over the text protocol.
    let version = server.root("SELECT @@version_comment, VERSION()");
    assert!(version.contains("tributary version"), "{version}");
    assert!(version.contains("5.7.99"), "{version}");
    // JDBC's variable list, and SHOW VARIABLES.
    let jdbc = server.root(
        "SELECT @@session.auto_increment_increment AS auto_increment_increment, @@character_set_client AS character_set_client",
    );
    assert_eq!(
        jdbc,
        "auto_increment_increment\tcharacter_set_client\n1\tutf8mb4\n"
    );
    let variables = server.root("SHOW VARIABLES LIKE 'max_allowed%'");
    assert_eq!(
        variables,
        "Variable_name\tValue\nmax_allowed_packet\t16777216\n"
    );
    let rows = server.root(
        "CREATE DATABASE d; CREATE TABLE d.t (id INT NOT NULL, amount DECIMAL(10, 2), day DATE, at DATETIME, ok BOOLEAN, note STRING);
         INSERT INTO d.t VALUES (1, 12.5, '2026-01-05', '2026-01-05 10:30:00', true, NULL), (2, -3.25, '2026-02-01', '2026-02-01 00:00:01', false, 'x');
         SELECT * FROM d.t ORDER BY id",
    );
    assert_eq!(
        rows,
        "id\tamount\tday\tat\tok\tnote\n1\t12.50\t2026-01-05\t2026-01-05 10:30:00\t1\tNULL\n2\t-3.25\t2026-02-01\t2026-02-01 00:00:01\t0\tx\n"
    );

    // An error comes back as an error packet with a MySQL code.
    let missing = server.mysql("root", None, "SELECT * FROM d.nope");
    assert!(!missing.status.success());
    let error = String::from_utf8_lossy(&missing.stderr);
    assert!(error.contains("ERROR 1146"), "{error}");
    assert!(error.contains("unknown table 'd.nope'"), "{error}");

    // A created user with its password; a wrong one is refused.
    server.root("CREATE USER alice IDENTIFIED BY 'pw-1'; GRANT SELECT_PRIV ON d.t TO alice");
    let alice = server.mysql("alice", Some("pw-1"), "SELECT count(*) AS n FROM d.t");
    assert_eq!(
        stdout(&alice),
        "n\n2\n",
        "{}",
        String::from_utf8_lossy(&alice.stderr)
    );
    let wrong = server.mysql("alice", Some("nope"), "SELECT 1");
    assert!(!wrong.status.success());
    let refused = String::from_utf8_lossy(&wrong.stderr);
    assert!(
        refused.contains(
            "ERROR 1045 (28000): Access denied for user 'alice'@'127.0.0.1' (using password: YES)"
        ),
        "{refused}"
    );
    // Privileges apply as in the REPL.
    let denied = server.mysql(
        "alice",
        Some("pw-1"),
        "INSERT INTO d.t VALUES (3, 1, NULL, NULL, NULL, NULL)",
    );
    assert!(String::from_utf8_lossy(&denied.stderr).contains("access denied for user 'alice'"));

    // PyMySQL: SET NAMES on connect, a current database, Python types.
    let python = python(
        &server,
        r#"
import pymysql
c = pymysql.connect(host="127.0.0.1", port=PORT, user="alice", password="pw-1", database="d")
cur = c.cursor()
cur.execute("SELECT DATABASE()")
print(cur.fetchall())
cur.execute("SELECT id, amount, day, note FROM t ORDER BY id")
print(cur.fetchall())
from pymysql.constants import CLIENT
m = pymysql.connect(host="127.0.0.1", port=PORT, user="alice", password="pw-1", client_flag=CLIENT.MULTI_STATEMENTS)
cur = m.cursor()
cur.execute("SELECT 1 AS a; SELECT count(*) FROM d.t")
print(cur.fetchall(), cur.nextset(), cur.fetchall(), cur.nextset())
"#,
    );
    assert_eq!(
        stdout(&python),
        "(('d',),)\n((1, Decimal('12.50'), datetime.date(2026, 1, 5), None), (2, Decimal('-3.25'), datetime.date(2026, 2, 1), 'x'))\n((1,),) True ((2,),) None\n",
        "{}",
        String::from_utf8_lossy(&python.stderr)
    );
    // root has no password until one is set.
    server.root("SET PASSWORD = PASSWORD('root-pw')");
    assert!(!server.mysql("root", None, "SELECT 1").status.success());
    let with = server.mysql("root", Some("root-pw"), "SELECT 1 AS one");
    assert_eq!(stdout(&with), "one\n1\n");
    assert!(
        server.log().contains("connection opened"),
        "{}",
        server.log()
    );
    assert!(!server.log().contains("pw-1"), "no password in the log");
    assert!(server.stop(), "SIGTERM ends the server with status 0");
}

/// A job created through the server loads while no other process runs;
/// 50 connections query at once meanwhile; SIGTERM mid-load leaves table
/// and job consistent, and a restarted server resumes the job.
#[test]
fn a_served_job_loads_alone_and_survives_sigterm() {
    let root = tempfile::tempdir().unwrap();
    let source = root.path().join("src");
    put_files(&source, 0, 4);
    let server = Server::start(root.path());
    server.root(&format!(
        "CREATE DATABASE d; CREATE TABLE d.feed (id INT NOT NULL, amount DECIMAL(10, 2));
         CREATE JOB feed ON STREAMING PROPERTIES (\"max_interval\" = \"1s\", \"s3.max_batch_files\" = \"50\")
         DO INSERT INTO d.feed SELECT * FROM S3(\"uri\" = \"file://{}/*.csv\", \"format\" = \"csv\", \"column_separator\" = \",\")",
        source.display()
    ));
    server.wait_for("SELECT count(*) AS n FROM d.feed", "n\n4\n");
    let jobs = server.root("SELECT Name, Status FROM job(type=insert)");
    assert_eq!(jobs, "Name\tStatus\nfeed\tRUNNING\n");
    let tasks =
        server.root("SELECT count(*) AS tasks FROM tasks(type='insert') WHERE Status = 'SUCCESS'");
    assert!(tasks.starts_with("tasks\n"), "{tasks}");

    // 50 connections at once, each querying, while the job loads more.
    put_files(&source, 4, 500);
    let many = python(
        &server,
        r#"
import threading, pymysql
errors = []
def work():
    try:
        c = pymysql.connect(host="127.0.0.1", port=PORT, user="root", password="")
        cur = c.cursor()
        for _ in range(5):
            cur.execute("SELECT count(*) FROM d.feed")
            cur.fetchall()
            cur.execute("SELECT Status FROM job(type=insert)")
            cur.fetchall()
        c.close()
    except Exception as e:
        errors.append(repr(e))
threads = [threading.Thread(target=work) for _ in range(50)]
for t in threads: t.start()
for t in threads: t.join()
print("errors", errors)
"#,
    );
    assert_eq!(
        stdout(&many),
        "errors []\n",
        "{}",
        String::from_utf8_lossy(&many.stderr)
    );

    // SIGTERM while the job may be loading: nothing half-written.
    put_files(&source, 504, 500);
    std::thread::sleep(Duration::from_millis(300));
    assert!(server.stop(), "SIGTERM ends the server with status 0");
    let server = Server::start(root.path());
    server.wait_for(
        "SELECT count(*) AS n, count(DISTINCT id) AS d FROM d.feed",
        "n\td\n1004\t1004\n",
    );
    let status = server.root("SELECT Status, FailedTaskCount FROM job(type=insert)");
    assert_eq!(status, "Status\tFailedTaskCount\nRUNNING\t0\n");
    assert!(server.stop());
}

/// A job created by another process (`tributary -e`, which exits at once)
/// is run by the server, which had no job when it started.
#[test]
fn the_server_runs_a_job_another_process_created() {
    let root = tempfile::tempdir().unwrap();
    let source = root.path().join("src");
    std::fs::create_dir_all(&source).unwrap();
    let server = Server::start(root.path());
    crate::support::assert_ok(&crate::support::tributary(
        root.path(),
        &format!(
            "CREATE DATABASE d; CREATE TABLE d.feed (id INT NOT NULL, amount DECIMAL(10, 2));
             CREATE JOB feed ON STREAMING PROPERTIES (\"max_interval\" = \"1s\")
             DO INSERT INTO d.feed SELECT * FROM S3(\"uri\" = \"file://{}/*.csv\", \"format\" = \"csv\", \"column_separator\" = \",\")",
            source.display()
        ),
        None,
    ));
    put_files(&source, 0, 3);
    // The server reads the other process's catalog and job store changes.
    server.wait_for("SHOW DATABASES", "\nd\n");
    server.wait_for("SELECT count(*) AS n FROM d.feed", "n\n3\n");
    assert!(server.stop());
}

/// Statements that used to end the server or the connection, or run
/// forever: a statement nested thousands of levels deep (the stack), a
/// query that is not UTF-8, a timeout past the clock's range, a recursive
/// query that never ends (query_timeout). Each gets an error, and the
/// connection and the server go on.
#[test]
fn statements_that_could_kill_the_server_get_errors() {
    let root = tempfile::tempdir().unwrap();
    let server = Server::start(root.path());
    let script = r#"
deep = [
    "SELECT " + "+".join(["1"] * 10000),
    "SELECT 1 WHERE " + " OR ".join(["1 = 1"] * 10000),
    " UNION ALL ".join(["SELECT 1"] * 5000),
    "SELECT " + " || ".join(["'a'"] * 10000),
    "WAIT JOB WHERE jobName = 'j' TIMEOUT 18446744073709551615",
]
for sql in deep:
    print(error_of(sql)[:60])
    cur.execute("SELECT 1")
    print(cur.fetchall()[0][0])
c._execute_command(COMMAND.COM_QUERY, b"SHOW DATABASES\xc3")
try:
    c._read_query_result()
    print("no error")
except pymysql.err.MySQLError as e:
    print(e.args[1][:60])
cur.execute("SELECT 1 + 1")
print(cur.fetchall()[0][0])
cur.execute("SET query_timeout = 1")
print(error_of("WITH RECURSIVE r AS (SELECT 1 AS n UNION ALL SELECT n + 1 FROM r) SELECT count(*) FROM r")[:60])
cur.execute("SHOW VARIABLES LIKE 'query_timeout'")
print(cur.fetchall()[0][1])
"#;
    let printed = printed_by(&server, script);
    let deep = "the statement nests deeper than 1000 levels (expressions, su";
    let expected = [
        deep,
        "1",
        deep,
        "1",
        deep,
        "1",
        deep,
        "1",
        "TIMEOUT 18446744073709551615 is longer than a year: give at ",
        "1",
        "syntax error: the statement is not valid UTF-8: send stateme",
        "2",
        "the statement ran longer than query_timeout = 1 s and was ca",
        "1",
    ];
    assert_eq!(printed.lines().collect::<Vec<_>>(), expected, "{printed}");
    assert_eq!(server.root("SELECT 1 AS alive"), "alive\n1\n");
    assert!(server.stop());
}

/// A client that goes away while its statement runs (closing the
/// connection as a driver does, with COM_QUIT, or dropping the socket)
/// has its statement cancelled: it does not run on until query_timeout.
#[test]
fn a_statement_is_cancelled_when_its_client_goes_away() {
    let root = tempfile::tempdir().unwrap();
    let server = Server::start(root.path());
    let script = r#"
import pymysql, socket, time
from pymysql.constants import COMMAND
endless = b"WITH RECURSIVE r AS (SELECT 1 AS n UNION ALL SELECT n + 1 FROM r) SELECT count(*) FROM r"
for how in ["quit", "drop"]:
    c = pymysql.connect(host="127.0.0.1", port=PORT, user="root", password="")
    c._execute_command(COMMAND.COM_QUERY, endless)
    time.sleep(0.5)
    if how == "quit":
        c.close()
    else:
        c._sock.shutdown(socket.SHUT_RDWR)
        c._sock.close()
"#;
    let out = python(&server, script);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let cancelled = |log: &str| {
        log.matches("the client went away; its statement is cancelled")
            .count()
    };
    while cancelled(&server.log()) < 2 {
        assert!(
            std::time::Instant::now() < deadline,
            "both statements should be cancelled; server log:\n{}",
            server.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(server.root("SELECT 1 AS alive"), "alive\n1\n");
    assert!(server.stop());
}

/// Statements that would take all the memory: each ends with an error
/// naming the limit it met (the session's exec_mem_limit, the server's
/// --memory-limit), and the server answers the next statement.
#[test]
fn statements_that_would_take_all_the_memory_get_errors() {
    let root = tempfile::tempdir().unwrap();
    let server = Server::start_with(root.path(), &[("TRIBUTARY_MEMORY_LIMIT", "64MiB")]);
    let script = r#"
cur.execute("SHOW VARIABLES LIKE 'exec_mem_limit'")
print(cur.fetchall()[0][1])
print(error_of("SELECT * FROM generate_series(1, 100000000)")[:60])
cur.execute("SET exec_mem_limit = 8388608")
print(error_of("SELECT * FROM generate_series(1, 10000000)")[:60])
cur.execute("SELECT count(*) FROM generate_series(9223372036854775806, 9223372036854775807, 9223372036854775807)")
print(cur.fetchall()[0][0])
"#;
    let printed = printed_by(&server, script);
    let expected = [
        "2147483648",
        "the statements running in this process together need more me",
        "the statement needs more memory than exec_mem_limit (8.0 MiB",
        "1",
    ];
    assert_eq!(printed.lines().collect::<Vec<_>>(), expected, "{printed}");
    assert!(server.stop());
}
