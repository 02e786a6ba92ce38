//! CREATE USER, DROP USER, GRANT, REVOKE and SHOW GRANTS, and the
//! privilege check every other statement goes through.

use crate::catalog::logins::LoginPolicy;
use crate::catalog::users::{show_scope, Privilege, ALL_DATABASES};
use crate::error::Result;
use crate::parse::GrantScope;
use crate::session::{Session, StatementResult};

/// Fails unless the session user holds `privilege` on `database`.
pub(crate) fn require(session: &Session, privilege: Privilege, database: &str) -> Result<()> {
    session
        .engine()
        .catalog()
        .check_privilege(session.user(), privilege, database, None)
}

/// Fails unless the session user holds `privilege` on table
/// `database.table` (or on its database, or globally).
pub(crate) fn require_on_table(
    session: &Session,
    privilege: Privilege,
    database: &str,
    table: &str,
) -> Result<()> {
    session
        .engine()
        .catalog()
        .check_privilege(session.user(), privilege, database, Some(table))
}

pub(super) async fn create_user(
    session: &Session,
    name: &str,
    password: Option<&str>,
    policy: &LoginPolicy,
    if_not_exists: bool,
) -> Result<StatementResult> {
    require(session, Privilege::Admin, ALL_DATABASES)?;
    let created = session
        .engine()
        .catalog()
        .create_user(name, password, policy, if_not_exists)
        .await?;
    Ok(StatementResult::affected(created as u64))
}

/// `ALTER USER`: a password (a user's own, or another's with ADMIN_PRIV),
/// the failed-login policy and ACCOUNT_UNLOCK (ADMIN_PRIV).
pub(super) async fn alter_user(
    session: &Session,
    user: &str,
    password: Option<&str>,
    policy: &LoginPolicy,
    unlock: bool,
) -> Result<StatementResult> {
    if !policy.is_empty() || unlock {
        require(session, Privilege::Admin, ALL_DATABASES)?;
        session
            .engine()
            .catalog()
            .set_login_policy(user, policy, unlock)
            .await?;
    }
    if let Some(password) = password {
        return set_password(session, Some(user), password).await;
    }
    Ok(StatementResult::affected(0))
}

/// `ALTER USER ... IDENTIFIED BY` / `SET PASSWORD`: a user sets their own
/// password; another's takes ADMIN_PRIV.
pub(super) async fn set_password(
    session: &Session,
    user: Option<&str>,
    password: &str,
) -> Result<StatementResult> {
    let user = user.unwrap_or(session.user());
    if user != session.user() {
        require(session, Privilege::Admin, ALL_DATABASES)?;
    }
    session
        .engine()
        .catalog()
        .set_password(user, password)
        .await?;
    Ok(StatementResult::affected(0))
}

pub(super) async fn drop_user(
    session: &Session,
    name: &str,
    if_exists: bool,
) -> Result<StatementResult> {
    require(session, Privilege::Admin, ALL_DATABASES)?;
    let dropped = session
        .engine()
        .catalog()
        .drop_user(name, if_exists)
        .await?;
    Ok(StatementResult::affected(dropped as u64))
}

pub(super) async fn grant(
    session: &Session,
    privileges: &[Privilege],
    scope: &GrantScope,
    user: &str,
    revoke: bool,
) -> Result<StatementResult> {
    require(session, Privilege::Admin, ALL_DATABASES)?;
    session
        .engine()
        .catalog()
        .grant(
            user,
            privileges,
            &scope.database,
            scope.table.as_deref(),
            revoke,
        )
        .await?;
    Ok(StatementResult::affected(0))
}

/// One row per user and scope: `UserIdentity`, `Database`, `Privileges`.
pub(super) fn show_grants(session: &Session, user: Option<&str>) -> Result<StatementResult> {
    let user = user.unwrap_or(session.user());
    let rows = session
        .engine()
        .catalog()
        .users()
        .into_iter()
        .filter(|(name, _)| name == user)
        .flat_map(|(name, def)| {
            def.grants
                .into_iter()
                .map(move |(scope, privileges)| {
                    let privileges: Vec<String> =
                        privileges.iter().map(Privilege::to_string).collect();
                    vec![
                        Some(format!("'{name}'@'%'")),
                        Some(show_scope(&scope)),
                        Some(privileges.join(",")),
                    ]
                })
                .collect::<Vec<_>>()
        })
        .collect();
    Ok(StatementResult::strings(
        &["UserIdentity", "Database", "Privileges"],
        rows,
    ))
}
