//! Credentials given to S3() never show up in plans or errors.

use tributary::Engine;

use crate::support::table;

const SECRET: &str = "very-secret-key-value";
const ACCESS: &str = "visible-nowhere-access";

#[tokio::test]
async fn explain_and_errors_do_not_show_credentials() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data.csv");
    std::fs::write(&data, "1,a\n").unwrap();
    let engine = Engine::open(dir.path().join("wh").to_str().unwrap())
        .await
        .unwrap();
    let mut session = engine.session();
    let creds = format!("\"s3.access_key\" = \"{ACCESS}\", \"s3.secret_key\" = \"{SECRET}\"");
    let explain = session
        .sql(&format!(
            "EXPLAIN SELECT * FROM S3(\"uri\" = \"file://{}\", \"format\" = \"csv\", \"column_separator\" = \",\", {creds})",
            data.display()
        ))
        .await
        .unwrap();
    let text = table(&explain);
    assert!(text.contains("StreamingTableExec"), "{text}");
    assert!(!text.contains(SECRET) && !text.contains(ACCESS), "{text}");

    // Unreachable endpoint and bad options: the error names the problem, not the keys.
    for sql in [
        format!("SELECT * FROM S3(\"uri\" = \"s3://b/k.csv\", \"s3.endpoint\" = \"http://127.0.0.1:1\", \"s3.region\" = \"us-east-1\", \"format\" = \"csv\", {creds})"),
        format!("SELECT * FROM S3(\"uri\" = \"s3://b/k.csv\", \"format\" = \"csv\", {creds})"),
        format!("SELECT * FROM S3(\"uri\" = \"s3://b/k.csv\", \"format\" = \"bogus\", {creds})"),
    ] {
        let err = session.sql(&sql).await.unwrap_err().to_string();
        assert!(!err.contains(SECRET) && !err.contains(ACCESS), "{err}");
    }
}
