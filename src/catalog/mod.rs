//! The catalog: databases and tables, persisted in the warehouse.
//!
//! The whole catalog is one JSON document (`_tributary/catalog.json`),
//! replaced atomically on every change, so a crash leaves either the old or
//! the new catalog. Table data lives in Lance datasets the catalog points to.

pub mod display_names;
pub mod information_schema;
pub mod logins;
pub mod names;
pub mod pins;
mod provider;
mod table;
mod types;
pub mod users;

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Local, SecondsFormat, Utc};
use datafusion::arrow::datatypes::{Field, Schema, SchemaRef};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::warehouse::{Document, Warehouse};
use users::{
    access_denied, native_password_bytes, scope_key, Privilege, UserDef, ALL_DATABASES, ROOT,
};

pub use provider::{WarehouseCatalogProvider, CATALOG_NAME};
pub use table::{as_text, LanceTable};
pub use types::{is_nested_shape, sql_type_name, SqlType, StructField};

/// Relative path of the catalog document inside the warehouse.
const CATALOG_FILE: &str = "_tributary/catalog.json";
/// Version of the catalog document format.
const FORMAT_VERSION: u32 = 1;

/// A column of a table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Column {
    pub name: String,
    pub sql_type: SqlType,
    pub nullable: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// The value an INSERT that leaves the column out gives it, as written
    /// after DEFAULT (`0`, `'n/a'`, `CURRENT_TIMESTAMP`); NULL without one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
}

impl Column {
    /// [`Column::default`] as an expression DataFusion casts to the
    /// column's type: the current time, NULL, or the literal's text.
    pub fn default_expr(&self) -> Option<datafusion::logical_expr::Expr> {
        use datafusion::prelude::lit;
        let text = self.default.as_deref()?.trim();
        let upper = text.to_ascii_uppercase();
        Some(match upper.as_str() {
            "CURRENT_TIMESTAMP" | "CURRENT_TIMESTAMP()" | "NOW()" | "LOCALTIMESTAMP" => {
                datafusion::functions::expr_fn::now()
            }
            "NULL" => lit(datafusion::common::ScalarValue::Null),
            _ => lit(unquoted(text)),
        })
    }

    /// Why the column's DEFAULT cannot be its value, in a sentence naming
    /// the column; `Ok` without a DEFAULT.
    pub fn check_default(&self) -> std::result::Result<(), String> {
        let Some(text) = &self.default else {
            return Ok(());
        };
        let refused = |why: String| Err(format!("column {} DEFAULT {text}: {why}", self.name));
        if self.sql_type.is_nested() {
            return refused(format!("a {} column has no DEFAULT", self.sql_type));
        }
        let Some(datafusion::logical_expr::Expr::Literal(value, _)) = self.default_expr() else {
            return match self.sql_type {
                SqlType::DateTime { .. } | SqlType::Date => Ok(()),
                _ => refused("the current time is a DEFAULT for DATETIME and DATE columns".into()),
            };
        };
        if value.is_null() {
            return match self.nullable {
                true => Ok(()),
                false => refused("a NOT NULL column cannot default to NULL".into()),
            };
        }
        let converts = value.cast_to(&self.sql_type.arrow_type());
        match converts {
            Ok(v) if !v.is_null() => Ok(()),
            _ => refused(format!("not a value of type {}", self.sql_type)),
        }
    }

    /// The default as `information_schema.COLUMNS.COLUMN_DEFAULT` shows it:
    /// a string without its quotes.
    pub fn default_shown(&self) -> Option<String> {
        self.default.as_deref().map(unquoted)
    }
}

/// A SQL string literal's text (`'it''s'` is `it's`); anything else as
/// it is.
fn unquoted(text: &str) -> String {
    for quote in ['\'', '"'] {
        if let Some(inner) = text.strip_prefix(quote).and_then(|t| t.strip_suffix(quote)) {
            return inner.replace(&format!("{quote}{quote}"), &quote.to_string());
        }
    }
    text.to_string()
}

/// A table: its definition and where its Lance dataset is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableDef {
    pub id: u64,
    pub database: String,
    pub name: String,
    pub columns: Vec<Column>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// Doris clauses accepted at CREATE TABLE and ignored.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ignored_clauses: Vec<String>,
    /// The table properties tributary reads (maintenance settings:
    /// [`crate::maintenance::settings`]).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub properties: BTreeMap<String, String>,
    /// Dataset path relative to the warehouse root.
    pub location: String,
    pub created_at: String,
    /// The last `ALTER TABLE` that changed the columns, as a user would
    /// write it (`ADD COLUMN score DOUBLE`): a job whose INSERT no longer
    /// fits the table is told so.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_schema_change: Option<String>,
}

impl TableDef {
    /// `database.table`, as messages and logs name the table.
    pub fn qualified_name(&self) -> String {
        format!("{}.{}", self.database, self.name)
    }

    /// The Arrow schema of the table's Lance dataset.
    pub fn arrow_schema(&self) -> SchemaRef {
        let fields: Vec<Field> = self
            .columns
            .iter()
            .map(|c| Field::new(&c.name, c.sql_type.arrow_type(), c.nullable))
            .collect();
        Arc::new(Schema::new(fields))
    }

    /// The positions of the table's JSON columns.
    pub fn json_columns(&self) -> Vec<usize> {
        (self.columns.iter().enumerate())
            .filter(|(_, c)| c.sql_type == SqlType::Json)
            .map(|(i, _)| i)
            .collect()
    }
}

/// A database: a namespace of tables and views.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DatabaseDef {
    pub created_at: String,
    pub tables: BTreeMap<String, TableDef>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub views: BTreeMap<String, ViewDef>,
}

/// A view: a named query, read as a subquery wherever the view is named.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ViewDef {
    pub database: String,
    pub name: String,
    /// The names given to the query's columns (none: the query's own).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub columns: Vec<String>,
    /// The query, its table names qualified with their database.
    pub query: String,
    pub definer: String,
    pub created_at: String,
}

/// The persisted catalog document.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct CatalogState {
    format_version: u32,
    next_table_id: u64,
    databases: BTreeMap<String, DatabaseDef>,
    #[serde(default)]
    users: BTreeMap<String, UserDef>,
}

/// Databases and tables of one warehouse.
#[derive(Debug)]
pub struct Catalog {
    document: Document<CatalogState>,
    /// Table versions this process reads and commits on.
    pins: pins::Pins,
}

impl Catalog {
    /// Loads the catalog of `warehouse`, or starts an empty one.
    pub async fn load(warehouse: Arc<Warehouse>) -> Result<Self> {
        let document = Document::load(warehouse, CATALOG_FILE, "catalog", || CatalogState {
            format_version: FORMAT_VERSION,
            next_table_id: 1,
            databases: BTreeMap::new(),
            users: BTreeMap::new(),
        })
        .await?;
        let version = document.snapshot().format_version;
        if version > FORMAT_VERSION {
            return Err(Error::Catalog(format!(
                "{} has format version {version}, this tributary reads up to {FORMAT_VERSION}: upgrade tributary",
                document.uri()
            )));
        }
        Ok(Self {
            document,
            pins: pins::Pins::default(),
        })
    }

    /// The table versions this process reads and commits on.
    pub fn pins(&self) -> &pins::Pins {
        &self.pins
    }

    /// Opens the latest version of a table's Lance dataset.
    pub async fn open_dataset(&self, def: &TableDef) -> Result<lance::Dataset> {
        crate::write::open_dataset(
            &self.warehouse().uri(&def.location),
            self.warehouse().storage_options(),
        )
        .await
    }

    /// The warehouse this catalog lives in.
    pub fn warehouse(&self) -> &Arc<Warehouse> {
        self.document.warehouse()
    }

    fn snapshot(&self) -> Arc<CatalogState> {
        self.document.snapshot()
    }

    /// Names of all databases, sorted.
    pub fn database_names(&self) -> Vec<String> {
        self.snapshot().databases.keys().cloned().collect()
    }

    /// Whether `name` is a database.
    pub fn database_exists(&self, name: &str) -> bool {
        self.snapshot().databases.contains_key(name)
    }

    /// Names of the tables of `database`, sorted.
    pub fn table_names(&self, database: &str) -> Result<Vec<String>> {
        let state = self.snapshot();
        let db = state
            .databases
            .get(database)
            .ok_or_else(|| Error::UnknownDatabase(database.to_string()))?;
        Ok(db.tables.keys().cloned().collect())
    }

    /// The definitions of every table, by database then name.
    pub fn tables(&self) -> Vec<TableDef> {
        let state = self.snapshot();
        state
            .databases
            .values()
            .flat_map(|db| db.tables.values().cloned())
            .collect()
    }

    /// The definition of `database.table`.
    pub fn table(&self, database: &str, table: &str) -> Result<TableDef> {
        let state = self.snapshot();
        let db = state
            .databases
            .get(database)
            .ok_or_else(|| Error::UnknownDatabase(database.to_string()))?;
        db.tables
            .get(table)
            .cloned()
            .ok_or_else(|| Error::UnknownTable {
                database: database.to_string(),
                table: table.to_string(),
            })
    }

    /// Applies `change` to a copy of the catalog, persists it, then publishes
    /// it. Nothing changes if `change` or the write fails.
    async fn update<T>(&self, change: impl FnMut(&mut CatalogState) -> Result<T>) -> Result<T> {
        self.document.update(change).await
    }

    /// The view `database.name`, if there is one.
    pub fn view(&self, database: &str, name: &str) -> Option<ViewDef> {
        self.snapshot()
            .databases
            .get(database)
            .and_then(|db| db.views.get(name).cloned())
    }

    /// The views of `database`, by name.
    pub fn views(&self, database: &str) -> Vec<ViewDef> {
        self.snapshot()
            .databases
            .get(database)
            .map(|db| db.views.values().cloned().collect())
            .unwrap_or_default()
    }

    /// Stores `view`, replacing one of its name when `or_replace`; a table
    /// of its name is never replaced.
    pub async fn create_view(&self, view: ViewDef, or_replace: bool) -> Result<()> {
        self.update(|state| {
            let db = state
                .databases
                .get_mut(&view.database)
                .ok_or_else(|| Error::UnknownDatabase(view.database.clone()))?;
            let taken = db.tables.contains_key(&view.name)
                || (db.views.contains_key(&view.name) && !or_replace);
            if taken {
                return Err(Error::TableExists {
                    database: view.database.clone(),
                    table: view.name.clone(),
                });
            }
            db.views.insert(view.name.clone(), view.clone());
            Ok(())
        })
        .await
    }

    /// Removes the view `database.name`; false when there was none.
    pub async fn drop_view(&self, database: &str, name: &str) -> Result<bool> {
        self.update(|state| {
            let db = state
                .databases
                .get_mut(database)
                .ok_or_else(|| Error::UnknownDatabase(database.to_string()))?;
            Ok(db.views.remove(name).is_some())
        })
        .await
    }

    /// Reads the catalog again from the warehouse, for the changes other
    /// processes made.
    pub async fn refresh(&self) -> Result<()> {
        self.document.refresh().await.map(|_| ())
    }

    /// Creates a database. Returns false if it existed and `if_not_exists`.
    pub async fn create_database(&self, name: &str, if_not_exists: bool) -> Result<bool> {
        names::check_name(names::NameKind::Database, name)?;
        if self.database_exists(name) {
            return if if_not_exists {
                Ok(false)
            } else {
                Err(Error::DatabaseExists(name.to_string()))
            };
        }
        self.update(|state| {
            if state.databases.contains_key(name) {
                return Err(Error::DatabaseExists(name.to_string()));
            }
            state.databases.insert(
                name.to_string(),
                DatabaseDef {
                    created_at: now(),
                    ..Default::default()
                },
            );
            Ok(true)
        })
        .await
    }

    /// Removes a database and its tables from the catalog, returning the
    /// dropped tables (whose datasets the caller deletes), or `None` if it
    /// did not exist and `if_exists`.
    pub async fn drop_database(
        &self,
        name: &str,
        if_exists: bool,
    ) -> Result<Option<Vec<TableDef>>> {
        if !self.database_exists(name) && if_exists {
            return Ok(None);
        }
        self.update(|state| {
            let db = state
                .databases
                .remove(name)
                .ok_or_else(|| Error::UnknownDatabase(name.to_string()))?;
            Ok(Some(db.tables.into_values().collect()))
        })
        .await
    }

    /// Reserves a table id and the dataset location for a new table (made
    /// from the id: see [`names`]).
    pub async fn allocate_table(&self) -> Result<(u64, String)> {
        self.update(|state| {
            let id = state.next_table_id;
            state.next_table_id += 1;
            Ok((id, names::table_location(id)))
        })
        .await
    }

    /// Adds a table whose dataset has been created.
    pub async fn add_table(&self, table: TableDef) -> Result<()> {
        self.update(|state| {
            let db = state
                .databases
                .get_mut(&table.database)
                .ok_or_else(|| Error::UnknownDatabase(table.database.clone()))?;
            if db.tables.contains_key(&table.name) || db.views.contains_key(&table.name) {
                return Err(Error::TableExists {
                    database: table.database.clone(),
                    table: table.name.clone(),
                });
            }
            db.tables.insert(table.name.clone(), table.clone());
            Ok(())
        })
        .await
    }

    /// Sets `properties` of `database.name` (the caller checked them).
    pub async fn set_table_properties(
        &self,
        database: &str,
        name: &str,
        properties: &[(String, String)],
    ) -> Result<()> {
        self.change_table(database, name, |table| {
            for (key, value) in properties {
                table.properties.insert(key.clone(), value.clone());
            }
            Ok(())
        })
        .await
    }

    /// Applies `change` to the definition of `database.name`.
    pub async fn change_table(
        &self,
        database: &str,
        name: &str,
        mut change: impl FnMut(&mut TableDef) -> Result<()>,
    ) -> Result<()> {
        self.update(|state| {
            let table = state
                .databases
                .get_mut(database)
                .ok_or_else(|| Error::UnknownDatabase(database.to_string()))?
                .tables
                .get_mut(name)
                .ok_or_else(|| Error::UnknownTable {
                    database: database.to_string(),
                    table: name.to_string(),
                })?;
            change(table)
        })
        .await
    }

    /// Renames `database.from` to `database.to` (its dataset stays where it
    /// is: locations come from ids).
    pub async fn rename_table(&self, database: &str, from: &str, to: &str) -> Result<()> {
        self.update(|state| {
            let db = state
                .databases
                .get_mut(database)
                .ok_or_else(|| Error::UnknownDatabase(database.to_string()))?;
            if db.tables.contains_key(to) || db.views.contains_key(to) {
                return Err(Error::TableExists {
                    database: database.to_string(),
                    table: to.to_string(),
                });
            }
            let mut table = db.tables.remove(from).ok_or_else(|| Error::UnknownTable {
                database: database.to_string(),
                table: from.to_string(),
            })?;
            table.name = to.to_string();
            db.tables.insert(to.to_string(), table);
            Ok(())
        })
        .await
    }

    /// Removes a table from the catalog and returns its definition.
    pub async fn remove_table(&self, database: &str, name: &str) -> Result<TableDef> {
        self.update(|state| {
            let db = state
                .databases
                .get_mut(database)
                .ok_or_else(|| Error::UnknownDatabase(database.to_string()))?;
            db.tables.remove(name).ok_or_else(|| Error::UnknownTable {
                database: database.to_string(),
                table: name.to_string(),
            })
        })
        .await
    }
}

impl Catalog {
    /// Fails unless `user` holds `privilege` on `database` (`*` for global),
    /// or on its `table` when one is given.
    pub fn check_privilege(
        &self,
        user: &str,
        privilege: Privilege,
        database: &str,
        table: Option<&str>,
    ) -> Result<()> {
        if user == ROOT {
            return Ok(());
        }
        let state = self.snapshot();
        match state.users.get(user) {
            Some(def) if def.allows(privilege, database, table) => Ok(()),
            _ => Err(access_denied(user, privilege, &scope_key(database, table))),
        }
    }

    /// Whether `user` holds any privilege on `database` or on one of its
    /// tables: what `SHOW DATABASES` lists for them, as Doris does.
    pub fn can_see_database(&self, user: &str, database: &str) -> bool {
        if user == ROOT {
            return true;
        }
        let state = self.snapshot();
        state.users.get(user).is_some_and(|def| {
            def.grants.iter().any(|(scope, privileges)| {
                !privileges.is_empty()
                    && (scope == ALL_DATABASES
                        || scope == database
                        || scope
                            .strip_prefix(database)
                            .is_some_and(|t| t.starts_with('.')))
            })
        })
    }

    /// Whether `user` holds any privilege on table `database.table`, on
    /// its database, or on all.
    pub fn can_see_table(&self, user: &str, database: &str, table: &str) -> bool {
        if user == ROOT {
            return true;
        }
        let table_scope = scope_key(database, Some(table));
        let state = self.snapshot();
        state.users.get(user).is_some_and(|def| {
            [ALL_DATABASES, database, table_scope.as_str()]
                .iter()
                .any(|scope| def.grants.get(*scope).is_some_and(|p| !p.is_empty()))
        })
    }

    /// Creates a user. Returns false if it existed and `if_not_exists`.
    pub async fn create_user(
        &self,
        name: &str,
        password: Option<&str>,
        policy: &logins::LoginPolicy,
        if_not_exists: bool,
    ) -> Result<bool> {
        if name == ROOT {
            return Err(Error::User("user 'root' always exists".into()));
        }
        names::check_name(names::NameKind::User, name)?;
        self.update(|state| {
            if state.users.contains_key(name) {
                return if if_not_exists {
                    Ok(false)
                } else {
                    Err(Error::User(format!("user '{name}' already exists")))
                };
            }
            let mut user = UserDef::default();
            user.set_password(password);
            user.logins.apply(policy);
            state.users.insert(name.to_string(), user);
            Ok(true)
        })
        .await
    }

    /// Sets the password of user `name` (`root` included).
    pub async fn set_password(&self, name: &str, password: &str) -> Result<()> {
        self.update(|state| {
            user_mut(state, name)?.set_password(Some(password));
            Ok(())
        })
        .await
    }

    /// Changes the failed-login policy of user `name` with the clauses
    /// given, and unlocks the account when `unlock`.
    pub async fn set_login_policy(
        &self,
        name: &str,
        policy: &logins::LoginPolicy,
        unlock: bool,
    ) -> Result<()> {
        self.update(|state| {
            let user = user_mut(state, name)?;
            user.logins.apply(policy);
            if unlock {
                user.logins.unlock();
            }
            Ok(())
        })
        .await
    }

    /// Until when user `name`'s account is locked (unix ms), if it is.
    pub fn locked_until(&self, name: &str) -> Option<i64> {
        let now = chrono::Utc::now().timestamp_millis();
        let state = self.snapshot();
        state.users.get(name).and_then(|u| u.logins.locked_at(now))
    }

    /// Counts a login of user `name`, good or not (a wrong one may lock
    /// the account); written only when the count changes.
    pub async fn record_login(&self, name: &str, good: bool) -> Result<()> {
        let now = chrono::Utc::now().timestamp_millis();
        let changes = {
            let state = self.snapshot();
            let Some(user) = state.users.get(name) else {
                return Ok(());
            };
            user.logins.clone().record(good, now)
        };
        if !changes {
            return Ok(());
        }
        self.update(|state| {
            if let Some(user) = state.users.get_mut(name) {
                user.logins.record(good, now);
            }
            Ok(())
        })
        .await
    }

    /// What `mysql_native_password` checks for user `name`: `None` when the
    /// user has no password (root until one is set).
    pub fn native_password(&self, name: &str) -> Result<Option<[u8; 20]>> {
        let state = self.snapshot();
        let user = match state.users.get(name) {
            Some(user) => user,
            None if name == ROOT => return Ok(None),
            None => return Err(Error::User(format!("unknown user '{name}'"))),
        };
        match (&user.mysql_native_password, &user.password_sha256) {
            (Some(stored), _) => Ok(native_password_bytes(stored)),
            (None, None) => Ok(None),
            (None, Some(_)) => Err(Error::User(format!(
                "user '{name}' has a password from before tributary served the MySQL protocol; set it again with ALTER USER '{name}' IDENTIFIED BY '...'"
            ))),
        }
    }

    /// Drops a user. Returns false if it did not exist and `if_exists`.
    pub async fn drop_user(&self, name: &str, if_exists: bool) -> Result<bool> {
        if name == ROOT {
            return Err(Error::User("user 'root' cannot be dropped".into()));
        }
        self.update(|state| match state.users.remove(name) {
            Some(_) => Ok(true),
            None if if_exists => Ok(false),
            None => Err(Error::User(format!("unknown user '{name}'"))),
        })
        .await
    }

    /// Grants (or with `revoke`, revokes) privileges on a table, a database
    /// or `*`.
    pub async fn grant(
        &self,
        user: &str,
        privileges: &[Privilege],
        database: &str,
        table: Option<&str>,
        revoke: bool,
    ) -> Result<()> {
        match table {
            Some(table) if self.view(database, table).is_none() => {
                self.table(database, table)?;
            }
            Some(_) => {}
            None if database != ALL_DATABASES && !self.database_exists(database) => {
                return Err(Error::UnknownDatabase(database.to_string()));
            }
            None => {}
        }
        let database = &scope_key(database, table);
        self.update(|state| {
            let def = state.users.get_mut(user).ok_or_else(|| {
                Error::User(format!(
                    "unknown user '{user}' (CREATE USER '{user}' first)"
                ))
            })?;
            let scope = def.grants.entry(database.to_string()).or_default();
            for privilege in privileges {
                if revoke {
                    scope.remove(privilege);
                } else {
                    scope.insert(*privilege);
                }
            }
            def.grants.retain(|_, p| !p.is_empty());
            Ok(())
        })
        .await
    }

    /// Users and their grants, by name (`root` included).
    pub fn users(&self) -> Vec<(String, UserDef)> {
        let state = self.snapshot();
        let mut users: Vec<(String, UserDef)> = state
            .users
            .iter()
            .filter(|(name, _)| name.as_str() != ROOT)
            .map(|(name, def)| (name.clone(), def.clone()))
            .collect();
        let root = UserDef {
            grants: BTreeMap::from([(
                ALL_DATABASES.to_string(),
                Privilege::ALL.into_iter().collect(),
            )]),
            ..state.users.get(ROOT).cloned().unwrap_or_default()
        };
        users.insert(0, (ROOT.to_string(), root));
        users
    }
}

/// The current time as stored: UTC, RFC 3339 (`2025-01-01T12:00:00Z`),
/// so that processes in other time zones agree; [`shown_time`] prints it.
pub fn now() -> String {
    utc_time(Utc::now())
}

/// `time` as stored.
pub fn utc_time(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// A stored time as Doris prints one, in the local time zone:
/// `2025-01-01 12:00:00`. Anything else (an older store's local time) is
/// shown as stored.
pub fn shown_time(stored: &str) -> String {
    DateTime::parse_from_rfc3339(stored)
        .map(|t| {
            t.with_timezone(&Local)
                .format("%Y-%m-%d %H:%M:%S")
                .to_string()
        })
        .unwrap_or_else(|_| stored.to_string())
}

/// User `name` to change (root is kept only once something about it is
/// set).
fn user_mut<'a>(state: &'a mut CatalogState, name: &str) -> Result<&'a mut UserDef> {
    if name == ROOT {
        return Ok(state.users.entry(ROOT.to_string()).or_default());
    }
    state.users.get_mut(name).ok_or_else(|| {
        Error::User(format!(
            "unknown user '{name}' (CREATE USER '{name}' IDENTIFIED BY '...' first)"
        ))
    })
}

/// Unix milliseconds `ms` as [`now`] shows a time.
pub fn show_millis(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| {
            t.with_timezone(&Local)
                .format("%Y-%m-%d %H:%M:%S")
                .to_string()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_stored_in_utc_and_shown_in_local_time() {
        let stored = now();
        assert!(stored.ends_with('Z'), "{stored}");
        let time = DateTime::parse_from_rfc3339("2026-01-05T10:00:00Z").unwrap();
        let local = time
            .with_timezone(&Local)
            .format("%Y-%m-%d %H:%M:%S")
            .to_string();
        assert_eq!(shown_time("2026-01-05T10:00:00Z"), local);
        assert_eq!(shown_time("2026-01-05 10:00:00"), "2026-01-05 10:00:00");
    }
}
