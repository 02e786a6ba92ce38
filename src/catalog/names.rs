//! The names users give databases, tables, columns, jobs and users, and
//! the rules they follow: Doris's (`FeNameFormat`). A name is never a
//! path: table data lives at a location made from the table's id
//! ([`table_location`]), and names are checked when they are created so
//! that what is shown, logged and stored stays plain.
//!
//! Names made before these rules existed keep working: they are checked
//! only when something is created under them.

use std::sync::LazyLock;

use regex::Regex;

use crate::error::{Error, Result};

/// The longest database, table or job name.
pub const MAX_NAME_LENGTH: usize = 64;

/// Doris's `COMMON_NAME_REGEX`: a letter, then letters, digits, `_` and
/// `-`.
static COMMON_NAME: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[a-zA-Z][a-zA-Z0-9_-]{0,63}$").expect("valid regex"));

/// Doris's `USER_NAME_REGEX`: a letter, then letters, digits, `.`, `_`
/// and `-`.
static USER_NAME: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[a-zA-Z][a-zA-Z0-9._-]{0,63}$").expect("valid regex"));

/// Doris's `COLUMN_NAME_REGEX`, without the characters that make a name a
/// path (`/`) or that no client shows plainly (control characters).
static COLUMN_NAME: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"^[_a-zA-Z@0-9 ][.a-zA-Z0-9_+\-?@#$%^&*" ,:]{0,255}$"#).expect("valid regex")
});

/// What a name names, for its rule and its message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameKind {
    Database,
    Table,
    Column,
    Job,
    User,
    Index,
}

impl NameKind {
    fn noun(self) -> &'static str {
        match self {
            NameKind::Database => "database",
            NameKind::Table => "table",
            NameKind::Column => "column",
            NameKind::Job => "job",
            NameKind::User => "user",
            NameKind::Index => "index",
        }
    }

    fn rule(self) -> (&'static Regex, &'static str) {
        match self {
            NameKind::Database | NameKind::Table | NameKind::Job | NameKind::Index => (
                &COMMON_NAME,
                "a letter first, then letters, digits, '_' or '-', at most 64 characters",
            ),
            NameKind::User => (
                &USER_NAME,
                "a letter first, then letters, digits, '.', '_' or '-', at most 64 characters",
            ),
            NameKind::Column => (
                &COLUMN_NAME,
                "letters, digits, spaces and _ . + - ? @ # $ % ^ & * \" , :, at most 256 characters",
            ),
        }
    }
}

/// Checks that `name` follows the rule for a `kind` name.
pub fn check_name(kind: NameKind, name: &str) -> Result<()> {
    let (rule, wording) = kind.rule();
    if rule.is_match(name) {
        return Ok(());
    }
    Err(Error::InvalidName(format!(
        "'{}' is not a valid {} name: use {wording}",
        name.escape_debug(),
        kind.noun()
    )))
}

/// Where the data of table `id` lives, relative to the warehouse: made from
/// the id alone, so that no name can point outside the warehouse.
pub fn table_location(id: u64) -> String {
    format!("tables/{id}.lance")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_doris_rules_and_are_never_paths() {
        for good in ["orders", "db1", "my-table_2", "A"] {
            check_name(NameKind::Table, good).unwrap();
        }
        for bad in [
            "",
            "1abc",
            "../evil",
            "a/b",
            "a.b",
            "a b",
            "_x",
            "naïve",
            &"x".repeat(65),
        ] {
            let error = check_name(NameKind::Table, bad).unwrap_err().to_string();
            assert!(error.contains("is not a valid table name"), "{error}");
        }
        check_name(NameKind::User, "jane.doe").unwrap();
        assert!(check_name(NameKind::User, "../root").is_err());
        for good in ["id", "order date", "_hidden", "a.b", "price$"] {
            check_name(NameKind::Column, good).unwrap();
        }
        for bad in ["", "a/b", "../x", "tab\there", &"c".repeat(257)] {
            assert!(check_name(NameKind::Column, bad).is_err(), "{bad}");
        }
        assert_eq!(table_location(7), "tables/7.lance");
    }
}
