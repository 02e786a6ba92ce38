//! The clients Doris users have, against a real `tributary serve`: the
//! interactive `mysql` client through a pseudo-terminal, mysqldump, the
//! Python drivers and tools (PyMySQL, mysqlclient, mysql-connector-python,
//! SQLAlchemy, pandas), JDBC and node, all installed by `.ci/setup`. The
//! checks of the scripted clients are in `tests/clients/`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::s3_server::venv;
use crate::support::{stdout, Server};

fn script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/clients")
        .join(name)
}

/// Runs `client`; fails the test with what the client and `server` said
/// unless it succeeded.
fn run_client(server: &Server, client: &mut Command) -> Output {
    let run = client
        .output()
        .expect("the client runs (installed by .ci/setup)");
    assert!(
        run.status.success(),
        "{}{}\nserver log:\n{}",
        stdout(&run),
        String::from_utf8_lossy(&run.stderr),
        server.log()
    );
    run
}

/// A Python script of `tests/clients/` in the test virtualenv, given the
/// server's port.
fn python_script(name: &str, server: &Server) -> Command {
    let mut command = Command::new(venv().join("bin/python"));
    command.arg(script(name)).arg(server.port.to_string());
    command
}

#[test]
fn python_drivers_connect_query_and_read_metadata() {
    let root = tempfile::tempdir().unwrap();
    let server = Server::start(root.path());
    run_client(&server, &mut python_script("python_drivers.py", &server));
    assert!(server.stop());
}

/// The interactive client reads the table names of its database (with
/// COM_FIELD_LIST) before its prompt; it hung there.
#[test]
fn the_interactive_mysql_client_starts_in_a_database_and_quits() {
    let root = tempfile::tempdir().unwrap();
    let server = Server::start(root.path());
    server.root(
        "CREATE DATABASE shop; CREATE TABLE shop.orders (id INT); INSERT INTO shop.orders VALUES (1), (2)",
    );
    let run = run_client(
        &server,
        Command::new("python3")
            .arg(script("interactive_mysql.py"))
            .arg(server.port.to_string())
            .arg("shop"),
    );
    let shown = stdout(&run);
    assert!(
        shown.contains("| 2 |") || shown.contains("|    2 |"),
        "{shown}"
    );
    assert!(shown.contains("Database changed"), "{shown}");
    assert!(shown.contains("Bye"), "{shown}");
    assert!(server.stop());
}

/// MariaDB Connector/J (Debian's libmariadb-java): connecting with and
/// without a database, `DatabaseMetaData` (queries of information_schema
/// with MySQL's functions), a PreparedStatement, a DECIMAL's scale, error
/// codes.
#[test]
fn a_jdbc_program_reads_metadata_and_typed_values() {
    let root = tempfile::tempdir().unwrap();
    let server = Server::start(root.path());
    let classes = root.path().join("classes");
    let compiled = Command::new("javac")
        .arg("-d")
        .arg(&classes)
        .arg(script("JdbcClient.java"))
        .output()
        .expect("javac runs (installed by .ci/setup)");
    assert!(
        compiled.status.success(),
        "{}",
        String::from_utf8_lossy(&compiled.stderr)
    );
    let classpath = format!("{}:{MARIADB_JDBC}", classes.display());
    run_client(
        &server,
        Command::new("java")
            .args(["-cp", &classpath, "JdbcClient"])
            .arg(server.port.to_string()),
    );
    assert!(server.stop());
}

/// Where Debian's libmariadb-java puts the driver.
const MARIADB_JDBC: &str = "/usr/share/java/mariadb-java-client.jar";

/// node's mysql2 (installed by .ci/setup under the cache): an empty
/// database name in the handshake, several statements at once.
#[test]
fn node_mysql2_connects_without_a_database_and_runs_several_statements() {
    let root = tempfile::tempdir().unwrap();
    let server = Server::start(root.path());
    let modules = std::env::var("HOME").map_or_else(|_| PathBuf::from("/root"), PathBuf::from);
    run_client(
        &server,
        Command::new("node")
            .env(
                "NODE_PATH",
                modules.join(".cache/tributary/node/node_modules"),
            )
            .arg(script("node_mysql2.js"))
            .arg(server.port.to_string()),
    );
    assert!(server.stop());
}

/// `mysqldump --no-data` writes each table's CREATE TABLE (it locks the
/// tables, reads information_schema and DATABASE()).
#[test]
fn mysqldump_writes_the_schema() {
    let root = tempfile::tempdir().unwrap();
    let server = Server::start(root.path());
    server.root("CREATE DATABASE shop; CREATE TABLE shop.orders (id INT NOT NULL, amount DECIMAL(10,2), note STRING)");
    let run = run_client(
        &server,
        Command::new("mysqldump")
            .args([
                "-h",
                "127.0.0.1",
                "-u",
                "root",
                "--no-data",
                "--no-tablespaces",
            ])
            .arg(format!("-P{}", server.port))
            .arg("shop"),
    );
    let dump = stdout(&run);
    assert!(
        dump.contains("CREATE TABLE `orders` (\n  `id` int NOT NULL,\n  `amount` decimal(10,2),\n  `note` text\n)"),
        "{dump}"
    );
    assert!(server.stop());
}

/// `KILL QUERY` stops a running statement from another connection (the
/// mysql client's Ctrl-C), `KILL` closes a connection, `SHOW
/// PROCESSLIST` shows a user their own connections.
#[test]
fn kill_query_stops_a_running_statement() {
    let root = tempfile::tempdir().unwrap();
    let server = Server::start(root.path());
    run_client(&server, &mut python_script("kill_query.py", &server));
    assert!(server.stop());
}

/// With `--tls-cert` and `--tls-key`, a client that asks for TLS gets it
/// (the mysql client, PyMySQL); with `--require-tls` one that does not is
/// refused at login with a sentence that says how to connect.
#[test]
fn clients_that_ask_for_tls_get_it_and_require_tls_refuses_the_others() {
    let root = tempfile::tempdir().unwrap();
    let (cert, key) = (root.path().join("cert.pem"), root.path().join("key.pem"));
    let made = Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
        ])
        .args(["-subj", "/CN=localhost", "-keyout"])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("openssl runs");
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let (cert_arg, key_arg) = (cert.to_str().unwrap(), key.to_str().unwrap());
    let server = Server::start_with_args(
        root.path(),
        &[],
        &[
            "--tls-cert",
            cert_arg,
            "--tls-key",
            key_arg,
            "--require-tls",
        ],
    );
    let over_tls = Command::new("mysql")
        .args(["-h", "127.0.0.1", "-u", "root", "--ssl", "--batch"])
        .arg(format!("-P{}", server.port))
        .args(["-e", "SELECT 41 + 1 AS answer"])
        .output()
        .expect("the mysql client runs");
    assert_eq!(
        stdout(&over_tls),
        "answer\n42\n",
        "{}\nserver log:\n{}",
        String::from_utf8_lossy(&over_tls.stderr),
        server.log()
    );
    let python = Command::new(venv().join("bin/python"))
        .arg("-c")
        .arg(format!(
            "import pymysql, ssl\n\
             context = ssl.create_default_context(cafile={cert_arg:?})\n\
             context.check_hostname = False\n\
             c = pymysql.connect(host='127.0.0.1', port={}, user='root', password='', ssl=context)\n\
             cur = c.cursor(); cur.execute('SELECT 1'); print(cur.fetchall())",
            server.port
        ))
        .output()
        .expect("python runs");
    assert_eq!(
        stdout(&python),
        "((1,),)\n",
        "{}",
        String::from_utf8_lossy(&python.stderr)
    );
    let plain = server.mysql("root", None, "SELECT 1");
    let refused = String::from_utf8_lossy(&plain.stderr);
    assert!(
        !plain.status.success()
            && refused.contains("ERROR 1045")
            && refused.contains("takes logins over TLS only"),
        "{refused}"
    );
    assert!(server.stop());
}
