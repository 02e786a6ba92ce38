//! Planning and executing statements against the catalog and DataFusion.

mod alter_table;
mod canonical_names;
pub(crate) mod checked_arithmetic;
mod column_names;
mod create_table_as;
mod ddl;
pub(crate) mod dictionary_group_by;
mod dml;
pub(crate) mod functions;
mod index;
pub(crate) mod job;
pub(crate) use functions::read_jobs_again;
pub(crate) use job::{visible as job_visible, visible_jobs_with_leases};
pub(crate) mod date_functions;
mod maintenance;
pub(crate) mod mysql_functions;
pub(crate) mod nested_functions;
pub(crate) mod query;
mod run;
pub(crate) mod series;
mod show;
pub(crate) mod string_functions;
pub(crate) mod string_size;
pub(crate) mod text_search;
mod typed_rewrite;
mod users;
mod views;

use crate::catalog::users::Privilege;
use crate::catalog::TableDef;
use crate::error::{Error, Result};
use crate::parse::{SessionVariable, Statement, TableName};
use crate::session::{Session, StatementResult};

/// Executes one parsed statement in `session`, cancelled with an error
/// when it runs past the session's `insert_timeout` (an INSERT) or
/// `query_timeout` (any other statement but `WAIT JOB`, which has its own
/// `TIMEOUT`).
pub(crate) async fn execute(
    session: &mut Session,
    statement: Statement,
) -> Result<StatementResult> {
    let timeouts = session.timeouts();
    let (variable, seconds) = match &statement {
        Statement::WaitJob { .. } => return execute_statement(session, statement).await,
        Statement::Query(sql) if is_insert(sql) => ("insert_timeout", timeouts.insert_secs),
        _ => ("query_timeout", timeouts.query_secs),
    };
    let limit = std::time::Duration::from_secs(seconds);
    tokio::time::timeout(limit, execute_statement(session, statement))
        .await
        .map_err(|_| Error::TimedOut { variable, seconds })?
}

/// Whether `sql` is an INSERT.
fn is_insert(sql: &str) -> bool {
    sql.trim_start()
        .get(..6)
        .is_some_and(|w| w.eq_ignore_ascii_case("insert"))
}

async fn execute_statement(session: &mut Session, statement: Statement) -> Result<StatementResult> {
    match statement {
        Statement::CreateDatabase {
            name,
            if_not_exists,
        } => ddl::create_database(session, &name, if_not_exists).await,
        Statement::DropDatabase { name, if_exists } => {
            ddl::drop_database(session, &name, if_exists).await
        }
        Statement::Use { database } => ddl::use_database(session, database),
        Statement::CreateTable(create) => ddl::create_table(session, create).await,
        Statement::CreateView {
            name,
            or_replace,
            columns,
            query,
        } => views::create_view(session, &name, or_replace, columns, &query).await,
        Statement::DropView { name, if_exists } => {
            views::drop_view(session, &name, if_exists).await
        }
        Statement::ShowCreateView { name } => views::show_create_view(session, &name),
        Statement::CreateTableAs { create, query } => {
            create_table_as::create_table_as(session, create, &query).await
        }
        Statement::CreateTableLike {
            name,
            if_not_exists,
            source,
        } => create_table_as::create_table_like(session, name, if_not_exists, &source).await,
        Statement::DropTable { name, if_exists } => {
            ddl::drop_table(session, &name, if_exists).await
        }
        Statement::ShowDatabases => show::databases(session),
        Statement::TransactionControl => Ok(StatementResult::affected(0)),
        Statement::ShowTables {
            database,
            full,
            filter,
        } => show::tables(session, database, full, filter).await,
        Statement::ShowColumns {
            table,
            full,
            filter,
        } => show::columns(session, &table, full, filter).await,
        Statement::ShowTableStatus { database, like } => {
            maintenance::table_status(session, database, like.as_deref()).await
        }
        Statement::AdminCompact { table } => maintenance::admin_compact(session, &table).await,
        Statement::CreateIndex {
            name,
            table,
            column,
            kind,
            properties,
            if_not_exists,
            ..
        } => {
            let created =
                index::create_index(session, &name, &table, &column, kind, if_not_exists).await?;
            Ok(created.with_warnings(index::ignored_properties(&properties)))
        }
        Statement::DropIndex {
            name,
            table,
            if_exists,
        } => index::drop_index(session, &name, &table, if_exists).await,
        Statement::ShowIndexes { table } => index::show_indexes(session, &table).await,
        // Boxed: Lance's schema changes are deep futures.
        Statement::AlterTable { table, change } => {
            Box::pin(alter_table::alter_table(session, &table, &change)).await
        }
        Statement::AlterTableSet { table, properties } => {
            maintenance::alter_table_set(session, &table, properties).await
        }
        Statement::Describe { table } => show::describe(session, &table),
        Statement::ShowCreateTable { table } => show::create_table(session, &table),
        Statement::Delete { table, condition } => {
            dml::delete(session, &table, condition.as_deref()).await
        }
        Statement::Truncate { table } => dml::truncate(session, &table).await,
        Statement::Update {
            table,
            assignments,
            condition,
        } => dml::update(session, &table, &assignments, condition.as_deref()).await,
        Statement::DescribeFunction { call } => show::describe_function(session, &call).await,
        Statement::CreateJob {
            name,
            trigger,
            properties,
            comment,
            body,
        } => job::create_job(session, name, &trigger, &properties, comment, body).await,
        Statement::AlterJob {
            name,
            properties,
            body,
        } => job::alter_job(session, &name, &properties, body).await,
        Statement::RetryJobFile { name, file } => job::retry_file(session, &name, &file).await,
        Statement::ValidateJob { name } => job::validate_job(session, &name).await,
        Statement::PauseJob { name } => job::pause_job(session, &name).await,
        Statement::ResumeJob { name } => job::resume_job(session, &name).await,
        Statement::DropJob { name, if_exists } => job::drop_job(session, &name, if_exists).await,
        Statement::WaitJob { name, timeout_secs } => {
            job::wait_job(session, &name, timeout_secs).await
        }
        Statement::CreateUser {
            name,
            password,
            policy,
            if_not_exists,
        } => users::create_user(session, &name, password.as_deref(), &policy, if_not_exists).await,
        Statement::AlterUser {
            user,
            password,
            policy,
            unlock,
        } => users::alter_user(session, &user, password.as_deref(), &policy, unlock).await,
        Statement::SetPassword { user, password } => {
            users::set_password(session, user.as_deref(), &password).await
        }
        Statement::DropUser { name, if_exists } => {
            users::drop_user(session, &name, if_exists).await
        }
        Statement::Grant {
            privileges,
            scope,
            user,
            revoke,
        } => users::grant(session, &privileges, &scope, &user, revoke).await,
        Statement::ShowGrants { user } => users::show_grants(session, user.as_deref()),
        Statement::SetVariable { variable, value } => {
            set_variable(session, variable, value);
            Ok(StatementResult::affected(0))
        }
        Statement::Query(sql) => query::run(session, &sql).await,
    }
}

fn set_variable(session: &mut Session, variable: SessionVariable, value: u64) {
    let mut timeouts = session.timeouts();
    match variable {
        SessionVariable::QueryTimeout => timeouts.query_secs = value,
        SessionVariable::InsertTimeout => timeouts.insert_secs = value,
        SessionVariable::ExecMemLimit => return session.set_exec_mem_limit(value),
    }
    session.set_timeouts(timeouts);
}

/// `database`, or the session's current one.
pub(crate) fn database_or_current(session: &Session, database: Option<String>) -> Result<String> {
    database
        .or_else(|| session.database().map(str::to_string))
        .ok_or(Error::NoDatabaseSelected)
}

/// The database a table name refers to: its own, or the session's current one.
pub(crate) fn database_of(session: &Session, name: &TableName) -> Result<String> {
    database_or_current(session, name.database.clone())
}

/// The definition of the table `name` names.
fn table_def(session: &Session, name: &TableName) -> Result<TableDef> {
    let database = database_of(session, name)?;
    session.engine().catalog().table(&database, &name.table)
}

/// The table `name` names, once the session may change it (ADMIN_PRIV on
/// it, as Doris's ALTER_PRIV asks).
fn table_to_change(session: &Session, name: &TableName) -> Result<TableDef> {
    let def = table_def(session, name)?;
    users::require_on_table(session, Privilege::Admin, &def.database, &def.name)?;
    Ok(def)
}
