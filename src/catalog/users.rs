//! Users and their privileges: a model small enough for an embedded engine.
//!
//! Privileges are granted per table (`db.tbl`), per database (`db.*`) or
//! globally (`*.*`); a grant's scope is kept as `db.tbl`, `db` or `*`.
//! `ADMIN_PRIV` implies the others; `root` holds every privilege. The
//! session user comes from the embedding API or `--user`; tributary does
//! not authenticate (passwords are kept hashed for a server to check).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The user that holds every privilege.
pub const ROOT: &str = "root";
/// The grant scope meaning every database.
pub const ALL_DATABASES: &str = "*";

/// A privilege.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Privilege {
    #[serde(rename = "SELECT_PRIV")]
    Select,
    #[serde(rename = "LOAD_PRIV")]
    Load,
    #[serde(rename = "ADMIN_PRIV")]
    Admin,
}

impl Privilege {
    /// Every privilege.
    pub const ALL: [Privilege; 3] = [Privilege::Select, Privilege::Load, Privilege::Admin];

    /// Parses `SELECT_PRIV`, `LOAD_PRIV`, `ADMIN_PRIV` (any case).
    pub fn parse(word: &str) -> Result<Self> {
        match word.to_ascii_uppercase().as_str() {
            "SELECT_PRIV" => Ok(Privilege::Select),
            "LOAD_PRIV" => Ok(Privilege::Load),
            "ADMIN_PRIV" => Ok(Privilege::Admin),
            other => Err(Error::Syntax(format!(
                "unknown privilege '{other}': use SELECT_PRIV, LOAD_PRIV, ADMIN_PRIV or ALL"
            ))),
        }
    }
}

impl fmt::Display for Privilege {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Privilege::Select => "SELECT_PRIV",
            Privilege::Load => "LOAD_PRIV",
            Privilege::Admin => "ADMIN_PRIV",
        })
    }
}

/// A user and its grants.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserDef {
    /// SHA-256 of the password, hex.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_sha256: Option<String>,
    /// Privileges by database (`*` for all).
    pub grants: BTreeMap<String, BTreeSet<Privilege>>,
}

impl UserDef {
    /// Whether the grants allow `privilege` on `database`, or on its
    /// `table` when one is given (a table is covered by grants on it, on its
    /// database and on `*.*`).
    pub fn allows(&self, privilege: Privilege, database: &str, table: Option<&str>) -> bool {
        let table_scope = table.map(|t| scope_key(database, Some(t)));
        let scopes = [Some(ALL_DATABASES), Some(database), table_scope.as_deref()];
        let allowed = scopes.into_iter().flatten().any(|scope| {
            self.grants
                .get(scope)
                .is_some_and(|p| p.contains(&privilege) || p.contains(&Privilege::Admin))
        });
        allowed
    }
}

/// The key a grant on `database` (or its `table`) is kept under.
pub fn scope_key(database: &str, table: Option<&str>) -> String {
    match table {
        Some(table) => format!("{database}.{table}"),
        None => database.to_string(),
    }
}

/// A grant's scope as SQL writes it: `*.*`, `db.*` or `db.tbl`.
pub fn show_scope(key: &str) -> String {
    if key == ALL_DATABASES {
        "*.*".to_string()
    } else if key.contains('.') {
        key.to_string()
    } else {
        format!("{key}.*")
    }
}

/// Hex SHA-256 of a password.
pub fn hash_password(password: &str) -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, password.as_bytes());
    digest.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// The error for a missing privilege on the scope kept as `scope`.
pub fn access_denied(user: &str, privilege: Privilege, scope: &str) -> Error {
    Error::AccessDenied {
        user: user.to_string(),
        privilege: privilege.to_string(),
        scope: show_scope(scope),
    }
}
