//! The statements tributary parses itself, as typed values.

use crate::catalog::logins::LoginPolicy;
use crate::catalog::users::Privilege;
use crate::catalog::Column;

/// A `[database.]table` reference, normalised to lower case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableName {
    pub database: Option<String>,
    pub table: String,
}

impl TableName {
    /// The `[database.]table` sqlparser's `name` stands for, in lower
    /// case; `None` for a name of more (or fewer) parts.
    pub fn from_object_name(
        name: &datafusion::sql::sqlparser::ast::ObjectName,
    ) -> Option<TableName> {
        let parts: Vec<String> = name
            .0
            .iter()
            .filter_map(|p| p.as_ident())
            .map(|i| i.value.to_lowercase())
            .collect();
        match parts.as_slice() {
            [table] => Some(TableName {
                database: None,
                table: table.clone(),
            }),
            [database, table] => Some(TableName {
                database: Some(database.clone()),
                table: table.clone(),
            }),
            _ => None,
        }
    }
}

/// `CREATE TABLE`, with the Doris clauses tributary accepts and ignores.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateTable {
    pub name: TableName,
    pub if_not_exists: bool,
    pub columns: Vec<Column>,
    pub comment: Option<String>,
    /// Doris clauses (keys, distribution, partitioning, properties, indexes)
    /// that have no meaning for a Lance table, as written.
    pub ignored_clauses: Vec<String>,
    /// The PROPERTIES tributary reads (lower-case keys).
    pub properties: Vec<(String, String)>,
}

/// A change `ALTER TABLE` makes to a table's columns or name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TableChange {
    /// `ADD COLUMN c TYPE [NOT NULL] [DEFAULT v] [COMMENT '...']`.
    AddColumn(crate::catalog::Column),
    /// `DROP COLUMN c`
    DropColumn(String),
    /// `RENAME COLUMN a [TO] b`
    RenameColumn { from: String, to: String },
    /// `MODIFY COLUMN c TYPE [NULL | NOT NULL] [COMMENT '...']`
    ModifyColumn(crate::catalog::Column),
    /// `RENAME [TO] u`
    Rename(String),
}

/// What runs a job: new files (`ON STREAMING`) or the clock (`ON SCHEDULE`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobTrigger {
    Streaming,
    /// `EVERY count unit [STARTS when] [ENDS 'ts']`
    Every {
        count: u64,
        unit: String,
        starts: Option<When>,
        ends: Option<String>,
    },
    /// `AT when`
    At(When),
}

/// A time in a schedule: `CURRENT_TIMESTAMP` or a literal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum When {
    Now,
    Time(String),
}

/// What a GRANT covers: `*.*` (database `*`), `db.*`, or `db.tbl`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantScope {
    pub database: String,
    pub table: Option<String>,
}

/// Which rows a `SHOW` keeps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ShowFilter {
    /// Names matching a pattern, in any case.
    Like(String),
    /// An expression over the shown columns, as written.
    Where(String),
}

/// A parsed statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Statement {
    CreateDatabase {
        name: String,
        if_not_exists: bool,
    },
    DropDatabase {
        name: String,
        if_exists: bool,
    },
    ShowDatabases,
    /// `BEGIN`, `START TRANSACTION`, `COMMIT`, `ROLLBACK`: accepted as
    /// Doris accepts them for its tables without transactions; every
    /// statement commits on its own, so there is nothing to begin, commit
    /// or roll back. Also `LOCK TABLES` and `UNLOCK TABLES`, which dump
    /// tools send around their reads: a query reads one version anyway.
    TransactionControl,
    Use {
        database: String,
    },
    CreateTable(CreateTable),
    DropTable {
        name: TableName,
        if_exists: bool,
    },
    /// `SHOW TABLE STATUS [{FROM | IN} db] [LIKE 'pattern']`
    ShowTableStatus {
        database: Option<String>,
        like: Option<String>,
    },
    /// `ADMIN COMPACT TABLE [db.]name [PARTITION p] [WHERE type = '...']`:
    /// maintains the table now (Doris's partition and type are ignored).
    AdminCompact {
        table: TableName,
    },
    /// `ALTER TABLE [db.]name SET ("key" = "value", ...)`
    AlterTableSet {
        table: TableName,
        properties: Vec<(String, String)>,
    },
    /// `CREATE TABLE [IF NOT EXISTS] t [PROPERTIES (...)] AS <query>`: the
    /// table (no columns: the query's) and the query as written.
    CreateTableAs {
        create: CreateTable,
        query: String,
    },
    /// `CREATE TABLE [IF NOT EXISTS] t LIKE s`
    CreateTableLike {
        name: TableName,
        if_not_exists: bool,
        source: TableName,
    },
    /// `CREATE [OR REPLACE] VIEW [db.]v [(c1, ...)] AS <query>`
    CreateView {
        name: TableName,
        or_replace: bool,
        columns: Vec<String>,
        query: String,
    },
    /// `DROP VIEW [IF EXISTS] [db.]v`
    DropView {
        name: TableName,
        if_exists: bool,
    },
    /// `SHOW CREATE VIEW [db.]v`
    ShowCreateView {
        name: TableName,
    },
    /// `ALTER TABLE [db.]name <change>`: a change of its columns or name.
    AlterTable {
        table: TableName,
        change: TableChange,
    },
    /// `CREATE INDEX [IF NOT EXISTS] name ON table (column) USING kind`
    CreateIndex {
        name: String,
        table: TableName,
        column: String,
        kind: IndexKind,
        properties: Vec<(String, String)>,
        comment: Option<String>,
        if_not_exists: bool,
    },
    /// `DROP INDEX [IF EXISTS] name ON table`
    DropIndex {
        name: String,
        table: TableName,
        if_exists: bool,
    },
    /// `SHOW INDEX FROM table`
    ShowIndexes {
        table: TableName,
    },
    /// `DELETE FROM t [WHERE condition]`, the condition as written.
    Delete {
        table: TableName,
        condition: Option<String>,
    },
    /// `UPDATE t SET c = v, ... [WHERE condition]`: each column (lower
    /// case) with its value, and the condition, as written.
    Update {
        table: TableName,
        assignments: Vec<(String, String)>,
        condition: Option<String>,
    },
    /// `TRUNCATE [TABLE] t`
    Truncate {
        table: TableName,
    },
    /// `SHOW [FULL] TABLES [{FROM | IN} db] [LIKE 'p' | WHERE expr]`
    ShowTables {
        database: Option<String>,
        full: bool,
        filter: Option<ShowFilter>,
    },
    /// `SHOW [FULL] {COLUMNS | FIELDS} {FROM | IN} t [{FROM | IN} db]
    /// [LIKE 'p' | WHERE expr]`
    ShowColumns {
        table: TableName,
        full: bool,
        filter: Option<ShowFilter>,
    },
    Describe {
        table: TableName,
    },
    ShowCreateTable {
        table: TableName,
    },
    /// `DESC FUNCTION S3(...)`: the schema a table function returns; holds
    /// the call as written.
    DescribeFunction {
        call: String,
    },
    /// `CREATE JOB name [PROPERTIES (...)] ON {STREAMING | SCHEDULE ...}
    /// [PROPERTIES (...)] [COMMENT '...'] DO <insert>`
    CreateJob {
        name: String,
        trigger: JobTrigger,
        properties: Vec<(String, String)>,
        comment: Option<String>,
        body: String,
    },
    /// `ALTER JOB name [PROPERTIES (...)] [[DO] <insert>]`
    AlterJob {
        name: String,
        properties: Vec<(String, String)>,
        body: Option<String>,
    },
    /// `ALTER JOB name RETRY FILE 'file'`: load a file the job set aside
    /// (quarantined, failed, skipped late) again, with its next task.
    RetryJobFile {
        name: String,
        file: String,
    },
    /// `VALIDATE JOB WHERE jobName = 'name'`: what the job's next task
    /// would load and leave out, without committing anything.
    ValidateJob {
        name: String,
    },
    /// `PAUSE JOB WHERE jobName = 'name'`
    PauseJob {
        name: String,
    },
    /// `RESUME JOB WHERE jobName = 'name'`
    ResumeJob {
        name: String,
    },
    /// `DROP JOB [IF EXISTS] WHERE jobName = 'name'`
    DropJob {
        name: String,
        if_exists: bool,
    },
    /// `WAIT JOB WHERE jobName = 'name' [TIMEOUT seconds]`: blocks until
    /// the job has loaded every file that existed when it was issued.
    WaitJob {
        name: String,
        timeout_secs: Option<u64>,
    },
    /// `CREATE USER [IF NOT EXISTS] 'name' [IDENTIFIED BY 'password']`
    CreateUser {
        name: String,
        password: Option<String>,
        policy: LoginPolicy,
        if_not_exists: bool,
    },
    /// `ALTER USER 'name' [IDENTIFIED BY 'password'] [FAILED_LOGIN_ATTEMPTS
    /// n] [PASSWORD_LOCK_TIME {n DAY|HOUR|SECOND | UNBOUNDED}]
    /// [ACCOUNT_UNLOCK]`.
    AlterUser {
        user: String,
        password: Option<String>,
        policy: LoginPolicy,
        unlock: bool,
    },
    /// `SET PASSWORD [FOR 'name'] = PASSWORD('password')` (`user` is `None`
    /// for the session's own).
    SetPassword {
        user: Option<String>,
        password: String,
    },
    /// `SET [SESSION] query_timeout = n`, `insert_timeout` (seconds) or
    /// `exec_mem_limit` (bytes).
    SetVariable {
        variable: SessionVariable,
        value: u64,
    },
    /// `DROP USER [IF EXISTS] 'name'`
    DropUser {
        name: String,
        if_exists: bool,
    },
    /// `GRANT privs ON scope TO 'name'`, or with `revoke`,
    /// `REVOKE privs ON scope FROM 'name'`.
    Grant {
        privileges: Vec<Privilege>,
        scope: GrantScope,
        user: String,
        revoke: bool,
    },
    /// `SHOW GRANTS [FOR 'name']`
    ShowGrants {
        user: Option<String>,
    },
    /// Any other statement, executed by DataFusion.
    Query(String),
}

/// A session variable of Doris's that `SET` changes and a statement obeys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionVariable {
    /// Seconds any statement but an INSERT may run.
    QueryTimeout,
    /// Seconds an INSERT may run.
    InsertTimeout,
    /// Bytes of memory one statement may hold.
    ExecMemLimit,
}

impl SessionVariable {
    pub const ALL: [SessionVariable; 3] = [
        SessionVariable::QueryTimeout,
        SessionVariable::InsertTimeout,
        SessionVariable::ExecMemLimit,
    ];

    /// Its name in `SET` and `SHOW VARIABLES`.
    pub fn name(self) -> &'static str {
        match self {
            SessionVariable::QueryTimeout => "query_timeout",
            SessionVariable::InsertTimeout => "insert_timeout",
            SessionVariable::ExecMemLimit => "exec_mem_limit",
        }
    }

    /// The values it takes, and how an error says them.
    pub fn range(self) -> (std::ops::RangeInclusive<u64>, &'static str) {
        match self {
            SessionVariable::QueryTimeout | SessionVariable::InsertTimeout => (
                1..=crate::job::MAX_DURATION_SECS,
                "<seconds>, from 1 to 31536000 (a year)",
            ),
            SessionVariable::ExecMemLimit => (
                crate::memory::MIN_EXEC_MEM_LIMIT..=u64::MAX,
                "<bytes>, at least 1048576 (1 MiB), or a size such as '4GiB'",
            ),
        }
    }
}

/// The kinds of index `CREATE INDEX ... USING` builds, as Lance scalar
/// indexes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IndexKind {
    /// Doris's inverted index: Lance's full-text index on a string column.
    Inverted,
    /// A bitmap per value: for columns with few distinct values.
    Bitmap,
    /// A B-tree: equality and range lookups on any ordered column.
    BTree,
}

impl IndexKind {
    /// Its name in `USING` and `SHOW INDEX`.
    pub fn name(self) -> &'static str {
        match self {
            IndexKind::Inverted => "INVERTED",
            IndexKind::Bitmap => "BITMAP",
            IndexKind::BTree => "BTREE",
        }
    }
}
