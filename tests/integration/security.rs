//! What a SQL user of the client or the server can reach on the host: the
//! issue's reproductions as a user with only SELECT_PRIV, the server's
//! defaults, and a link out of an allowed directory.

use std::process::Command;

use crate::support::{assert_ok, stdout, tributary_command, Server};

/// Runs `sql` with the client on `root/wh` as `user`, with the local-file
/// roots `local_files` (`None`: the client's default).
fn client(
    root: &std::path::Path,
    user: &str,
    local_files: Option<&str>,
    sql: &str,
) -> std::process::Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tributary"));
    command
        .args([
            "--warehouse",
            root.join("wh").to_str().unwrap(),
            "--user",
            user,
            "-e",
            sql,
        ])
        .env("TRIBUTARY_SECRET_KEY_FILE", root.join("secret.key"))
        .env_remove("TRIBUTARY_LOCAL_FILES")
        .current_dir(root);
    if let Some(roots) = local_files {
        command.env("TRIBUTARY_LOCAL_FILES", roots);
    }
    command.output().unwrap()
}

fn stderr(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).to_string()
}

#[test]
fn a_user_without_admin_reads_no_host_file_through_the_client_or_the_server() {
    let root = tempfile::tempdir().unwrap();
    assert_ok(&client(
        root.path(),
        "root",
        None,
        "CREATE DATABASE d; CREATE USER bob; GRANT SELECT_PRIV ON d.* TO bob",
    ));
    let passwd = "SELECT * FROM S3('uri'='file:///etc/passwd', 'format'='csv', 'column_separator'=':') LIMIT 3";
    let catalog = format!(
        "SELECT * FROM S3('uri'='file://{}/wh/_tributary/catalog.json', 'format'='csv', 'column_separator'='|')",
        root.path().display()
    );
    // The scheme in any case is still a local file.
    let upper = "SELECT * FROM S3('uri'='FILE:///etc/passwd', 'format'='csv')";
    for sql in [passwd, catalog.as_str(), upper] {
        let read = client(root.path(), "bob", None, sql);
        assert!(!read.status.success(), "{}", stdout(&read));
        assert!(!stdout(&read).contains("root:") && !stdout(&read).contains("password"));
        assert!(
            stderr(&read).contains("reading local files through S3() needs ADMIN_PRIV"),
            "{}",
            stderr(&read)
        );
        // root, on the client's default roots (the current directory).
        let read = client(root.path(), "root", None, sql);
        assert!(
            stderr(&read).contains("is not readable here"),
            "{}",
            stderr(&read)
        );
    }
    let server = Server::start_with(root.path(), &[("TRIBUTARY_LOCAL_FILES", "none")]);
    server.root("SET PASSWORD FOR bob = PASSWORD('pw')");
    let over = server.mysql("bob", Some("pw"), passwd);
    assert!(!over.status.success());
    assert!(String::from_utf8_lossy(&over.stderr).contains("needs ADMIN_PRIV"));
    // The server reads no local file, not even for root, unless told.
    let over = server.mysql("root", None, passwd);
    let error = String::from_utf8_lossy(&over.stderr).to_string();
    assert!(
        error.contains("this server reads no local files"),
        "{error}"
    );
    // A statement that writes a file on the host is refused to anyone.
    let target = root.path().join("owned.csv");
    let copy = server.mysql(
        "bob",
        Some("pw"),
        &format!("COPY (SELECT 'owned' AS x) TO '{}'", target.display()),
    );
    assert!(!copy.status.success());
    assert!(!target.exists());
    assert_eq!(server.root("SELECT 1 AS alive"), "alive\n1\n");
}

#[test]
fn a_link_out_of_an_allowed_directory_is_not_followed() {
    let root = tempfile::tempdir().unwrap();
    let data = root.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::write(data.join("a.csv"), "1\n").unwrap();
    std::fs::write(root.path().join("secret.csv"), "42\n").unwrap();
    std::os::unix::fs::symlink(root.path().join("secret.csv"), data.join("b.csv")).unwrap();
    let roots = data.to_str().unwrap();
    let one = client(
        root.path(),
        "root",
        Some(roots),
        &format!(
            "SELECT * FROM S3('uri'='file://{}/a.csv', 'format'='csv')",
            data.display()
        ),
    );
    assert_ok(&one);
    let all = client(
        root.path(),
        "root",
        Some(roots),
        &format!(
            "SELECT * FROM S3('uri'='file://{}/*.csv', 'format'='csv')",
            data.display()
        ),
    );
    assert!(!all.status.success());
    assert!(!stdout(&all).contains("42"));
    let error = stderr(&all);
    assert!(
        error.contains("b.csv' is not readable here: local files are read only under"),
        "{error}"
    );
    // A link to a directory elsewhere: the files under it are outside too.
    let outside = root.path().join("outside");
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(outside.join("c.csv"), "43\n").unwrap();
    std::fs::create_dir_all(data.join("nested")).unwrap();
    std::os::unix::fs::symlink(&outside, data.join("nested").join("out")).unwrap();
    let through = client(
        root.path(),
        "root",
        Some(roots),
        &format!(
            "SELECT * FROM S3('uri'='file://{}/nested/*/*.csv', 'format'='csv')",
            data.display()
        ),
    );
    assert!(!through.status.success());
    assert!(!stdout(&through).contains("43"));
    let error = stderr(&through);
    assert!(
        error.contains("c.csv' is not readable here: local files are read only under"),
        "{error}"
    );
    let up = client(
        root.path(),
        "root",
        Some(roots),
        &format!(
            "SELECT * FROM S3('uri'='file://{}/../secret.csv', 'format'='csv')",
            data.display()
        ),
    );
    assert!(
        stderr(&up).contains("is not readable here"),
        "{}",
        stderr(&up)
    );
}

/// With `--s3-endpoints`, `S3()` calls only the endpoints listed: another
/// one (a second loopback address here) is refused before any connection.
#[test]
fn only_the_endpoints_the_operator_allows_are_called() {
    let root = tempfile::tempdir().unwrap();
    let server = crate::s3_server::S3Server::start();
    server.create_bucket("src");
    let allowed = server.endpoint.trim_start_matches("http://").to_string();
    let port = allowed.rsplit_once(':').unwrap().1;
    let query = |endpoint: &str| {
        format!(
            "SELECT count(*) AS n FROM S3('uri' = 's3://src/none/*.csv', 's3.endpoint' = '{endpoint}', 's3.region' = 'us-east-1', 's3.access_key' = 'a', 's3.secret_key' = 'b', 'format' = 'csv')"
        )
    };
    let run = |sql: &str| {
        tributary_command(root.path(), sql)
            .env("TRIBUTARY_S3_ENDPOINTS", &allowed)
            .output()
            .unwrap()
    };
    // Allowed: the server answers (no file matches there).
    let ok = run(&query(&server.endpoint));
    assert!(stderr(&ok).contains("no file matches"), "{}", stderr(&ok));
    let other = run(&query(&format!("http://127.0.0.2:{port}")));
    let error = stderr(&other);
    assert!(
        error.contains(&format!(
            "the endpoint http://127.0.0.2:{port} is not one this server calls ({allowed})"
        )),
        "{error}"
    );
}

/// Doris's FAILED_LOGIN_ATTEMPTS / PASSWORD_LOCK_TIME: after two wrong
/// passwords the account is locked, the right password too is refused
/// until the lock time passes; an UNBOUNDED lock lasts until ACCOUNT_UNLOCK.
/// Each refusal is logged with the client's address.
#[test]
fn an_account_locks_after_failed_logins_and_unlocks() {
    let root = tempfile::tempdir().unwrap();
    let server = Server::start(root.path());
    server.root(
        "CREATE USER carol IDENTIFIED BY 'Sesame-7' FAILED_LOGIN_ATTEMPTS 2 PASSWORD_LOCK_TIME 2 SECOND",
    );
    let login = |password: &str| {
        server
            .mysql("carol", Some(password), "SELECT 1")
            .status
            .success()
    };
    assert!(login("Sesame-7"));
    assert!(!login("guess-9") && !login("guess-9"));
    assert!(!login("Sesame-7"), "locked after two wrong passwords");
    std::thread::sleep(std::time::Duration::from_millis(2500));
    assert!(login("Sesame-7"), "the lock time passed");
    server.root("ALTER USER carol PASSWORD_LOCK_TIME UNBOUNDED");
    assert!(!login("guess-9") && !login("guess-9"));
    std::thread::sleep(std::time::Duration::from_millis(2500));
    assert!(!login("Sesame-7"), "locked until unlocked");
    server.root("ALTER USER carol ACCOUNT_UNLOCK");
    assert!(login("Sesame-7"));
    let log = server.log();
    assert!(log.contains("connection refused: wrong password"), "{log}");
    assert!(log.contains("127.0.0.1:"), "the client's address: {log}");
    assert!(
        log.contains("the account is locked after failed logins"),
        "{log}"
    );
    assert!(
        !log.contains("Sesame-7") && !log.contains("guess-9"),
        "no password in the log"
    );
}
