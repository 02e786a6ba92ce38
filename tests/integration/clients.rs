//! The clients Doris users have, against a real `tributary serve`: the
//! interactive `mysql` client through a pseudo-terminal, and the Python
//! drivers and tools (PyMySQL, mysql-connector-python, SQLAlchemy,
//! pandas), all installed by `.ci/setup`. The checks themselves are in
//! `tests/clients/`.

use std::path::Path;
use std::process::Command;

use crate::s3_server::venv;
use crate::support::{stdout, Server};

fn script(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/clients")
        .join(name)
}

#[test]
fn python_drivers_connect_query_and_read_metadata() {
    let root = tempfile::tempdir().unwrap();
    let server = Server::start(root.path());
    let run = Command::new(venv().join("bin/python"))
        .arg(script("python_drivers.py"))
        .arg(server.port.to_string())
        .output()
        .expect("python runs");
    assert!(
        run.status.success(),
        "{}{}\nserver log:\n{}",
        stdout(&run),
        String::from_utf8_lossy(&run.stderr),
        server.log()
    );
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
    let run = Command::new("python3")
        .arg(script("interactive_mysql.py"))
        .arg(server.port.to_string())
        .arg("shop")
        .output()
        .expect("python runs");
    let shown = stdout(&run);
    assert!(
        run.status.success(),
        "{shown}{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(
        shown.contains("| 2 |") || shown.contains("|    2 |"),
        "{shown}"
    );
    assert!(shown.contains("Database changed"), "{shown}");
    assert!(shown.contains("Bye"), "{shown}");
    assert!(server.stop());
}
