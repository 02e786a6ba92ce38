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

/// `sql` with the value of every secret option (`s3.access_key`,
/// `s3.secret_key`, `s3.session_token`) replaced by an empty string, as
/// Doris shows job definitions.
pub fn redact_secrets(sql: &str) -> String {
    SECRET_OPTION
        .replace_all(sql, |caps: &regex::Captures| {
            let quote = &caps[2][..1];
            format!("{}{quote}{quote}", &caps[1])
        })
        .into_owned()
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
}
