//! Hiding secrets in SQL text before it is shown or logged.

use std::sync::LazyLock;

use regex::Regex;

/// `"s3.secret_key" = "..."` and the like, with any quoting.
static SECRET_OPTION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"(?i)(["'`]?(?:s3\.access_key|s3\.secret_key|s3\.session_token)["'`]?\s*=\s*)("(?:\\.|[^"\\])*"|'(?:\\.|[^'\\])*')"#,
    )
    .expect("valid regex")
});

/// A password given in a statement: `IDENTIFIED BY '...'`,
/// `PASSWORD('...')`.
static PASSWORD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"(?i)(\bidentified\s+by\s+|\bpassword\s*\(\s*)("(?:\\.|[^"\\])*"|'(?:\\.|[^'\\])*')"#,
    )
    .expect("valid regex")
});

/// `sql` with the value of every secret option (`s3.access_key`,
/// `s3.secret_key`, `s3.session_token`) and every password replaced by an
/// empty string, as Doris shows job definitions.
pub fn redact_secrets(sql: &str) -> String {
    let emptied = |caps: &regex::Captures| {
        let quote = &caps[2][..1];
        format!("{}{quote}{quote}", &caps[1])
    };
    let sql = SECRET_OPTION.replace_all(sql, emptied);
    PASSWORD.replace_all(&sql, emptied).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hides_every_secret_option() {
        let sql = r#"SELECT * FROM S3("uri" = "s3://b/k", "s3.access_key" = "AKIA", 'S3.SECRET_KEY'='se"cr\'et', "s3.session_token" = "tok", "s3.region" = "us")"#;
        assert_eq!(
            redact_secrets(sql),
            r#"SELECT * FROM S3("uri" = "s3://b/k", "s3.access_key" = "", 'S3.SECRET_KEY'='', "s3.session_token" = "", "s3.region" = "us")"#
        );
    }

    #[test]
    fn hides_passwords() {
        assert_eq!(
            redact_secrets("CREATE USER a IDENTIFIED BY 'pw-1'; SET PASSWORD = PASSWORD( \"x\")"),
            "CREATE USER a IDENTIFIED BY ''; SET PASSWORD = PASSWORD( \"\")"
        );
    }
}
