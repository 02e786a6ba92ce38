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
    /// The password as MySQL's `mysql_native_password` checks it:
    /// SHA1(SHA1(password)), shown as MySQL shows it (`*` and 40 upper-case
    /// hex digits). Users whose password was set before tributary served
    /// the MySQL protocol have none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mysql_native_password: Option<String>,
    /// Privileges by database (`*` for all).
    pub grants: BTreeMap<String, BTreeSet<Privilege>>,
    /// The failed-login policy and count.
    #[serde(default, skip_serializing_if = "is_default")]
    pub logins: super::logins::LoginState,
}

fn is_default(state: &super::logins::LoginState) -> bool {
    *state == super::logins::LoginState::default()
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

/// SHA-1 of `bytes` (what `mysql_native_password` is made of).
pub fn sha1(bytes: &[u8]) -> [u8; 20] {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY, bytes);
    let mut out = [0u8; 20];
    out.copy_from_slice(digest.as_ref());
    out
}

/// A password as `mysql_native_password` keeps it: `*` and the upper-case
/// hex of SHA1(SHA1(password)), as MySQL's `PASSWORD()` shows it.
pub fn native_password(password: &str) -> String {
    let twice = sha1(&sha1(password.as_bytes()));
    let hex: String = twice.iter().map(|b| format!("{b:02X}")).collect();
    format!("*{hex}")
}

/// The SHA1(SHA1(password)) a [`native_password`] holds.
pub fn native_password_bytes(stored: &str) -> Option<[u8; 20]> {
    let hex = stored.strip_prefix('*')?;
    let mut out = [0u8; 20];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

impl UserDef {
    /// Sets the password (both forms); `None` for no password.
    pub fn set_password(&mut self, password: Option<&str>) {
        self.password_sha256 = password.map(hash_password);
        self.mysql_native_password = password.map(native_password);
    }
}

/// The error for a missing privilege on the scope kept as `scope`.
pub fn access_denied(user: &str, privilege: Privilege, scope: &str) -> Error {
    Error::AccessDenied {
        user: user.to_string(),
        privilege: privilege.to_string(),
        scope: show_scope(scope),
    }
}
