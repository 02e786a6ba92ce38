//! The engine's error type: every failure a user can cause, with the context
//! needed to fix it.

mod arrow;
mod syntax;

pub(crate) use arrow::printed as arrow_error_printed;

use datafusion::error::DataFusionError;
use datafusion::parquet::errors::ParquetError;

/// Result alias used throughout tributary.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Errors returned by the engine.
///
/// Messages name the object involved and, where there is one, the fix.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// SQL text that does not parse, or a statement form tributary does not support.
    #[error("syntax error: {0}")]
    Syntax(String),

    /// A statement the SQL parser could not read: where, and what it
    /// expected there ([`syntax::located`]).
    #[error("syntax error {0}")]
    SyntaxAt(String),

    /// A database that does not exist.
    #[error("unknown database '{0}' (SHOW DATABASES lists the existing ones)")]
    UnknownDatabase(String),

    /// A table that does not exist.
    #[error(
        "unknown table '{database}.{table}' (SHOW TABLES FROM {database} lists the existing ones)"
    )]
    UnknownTable { database: String, table: String },

    /// A database that already exists.
    #[error("database '{0}' already exists (use CREATE DATABASE IF NOT EXISTS to ignore)")]
    DatabaseExists(String),

    /// A table that already exists.
    #[error(
        "table '{database}.{table}' already exists (use CREATE TABLE IF NOT EXISTS to ignore)"
    )]
    TableExists { database: String, table: String },

    /// A database that still has tables.
    #[error("database '{database}' is not empty: it has {tables} table(s); drop them first")]
    DatabaseNotEmpty { database: String, tables: usize },

    /// A statement that needs a current database when none is selected.
    #[error("no database selected: run USE <database> or qualify the table as <database>.<table>")]
    NoDatabaseSelected,

    /// An INSERT that would put NULL into a NOT NULL column.
    #[error("cannot store NULL in NOT NULL column(s) {columns} of {table}; nothing was changed")]
    NotNullViolation { table: String, columns: String },

    /// A column type tributary does not know.
    #[error("unsupported column type '{0}' (supported: TINYINT, SMALLINT, INT, BIGINT, LARGEINT, FLOAT, DOUBLE, DECIMAL(p,s), BOOLEAN, CHAR(n), VARCHAR(n), STRING, TEXT, DATE, DATETIME, DATETIMEV2)")]
    UnsupportedType(String),

    /// A statement tributary never runs, whoever asks (it would write files
    /// outside the warehouse).
    #[error("{0}")]
    NotAllowed(String),

    /// A statement tributary refuses rather than answer wrongly.
    #[error("{0}")]
    Unsupported(String),

    /// A setting given a value outside what tributary allows.
    #[error("{0}")]
    OutOfRange(String),

    /// An S3 endpoint `S3()` may not call from here.
    #[error("{0}")]
    EndpointRefused(String),

    /// A local path `S3()` may not read here.
    #[error("{0}")]
    LocalFileRefused(String),

    /// A value an UPDATE (or ALTER TABLE's DEFAULT) cannot store in its
    /// column.
    #[error("{statement} {table} cannot set {columns}: {reason}; nothing was changed")]
    InvalidValue {
        statement: &'static str,
        table: String,
        columns: String,
        reason: String,
    },

    /// A statement that ran past the session's time limit and was cancelled.
    #[error("the statement ran longer than {variable} = {seconds} s and was cancelled; SET {variable} = <seconds> to allow more")]
    TimedOut {
        variable: &'static str,
        seconds: u64,
    },

    /// A job's INSERT that ran past the job's time limit and was cancelled
    /// before its commit.
    #[error("the job's INSERT ran longer than {property} = {seconds} s and was cancelled with nothing committed; {fix}")]
    JobTimedOut {
        property: &'static str,
        seconds: u64,
        fix: String,
    },

    /// A statement nested deeper than planning can safely walk.
    #[error("the statement nests deeper than {limit} levels (expressions, subqueries or UNION chains): split it, or use IN (...) or a table instead of a long chain")]
    TooDeep { limit: usize },

    /// A `SET` of a variable that neither tributary nor DataFusion has.
    #[error("unknown variable '{name}': SET takes {known}, or one of DataFusion's options as datafusion.<section>.<name>")]
    UnknownVariable { name: String, known: String },

    /// A name that does not follow the rules for its kind.
    #[error("{0}")]
    InvalidName(String),

    /// An `ALTER TABLE` that cannot be made, with why.
    #[error("cannot alter table {table}: {reason}")]
    CannotAlter { table: String, reason: String },

    /// A table definition that is not valid (duplicate columns, no columns, ...).
    #[error("invalid table definition: {0}")]
    InvalidTable(String),

    /// The warehouse location could not be opened or parsed.
    #[error("warehouse '{location}': {message}")]
    Warehouse { location: String, message: String },

    /// The catalog file in the warehouse could not be read or written.
    #[error("catalog: {0}")]
    Catalog(String),

    /// Reading or writing a Lance dataset failed.
    #[error("lance dataset '{location}': {}", without_code_location(&.source.to_string()))]
    Lance {
        location: String,
        #[source]
        source: lance::Error,
    },

    /// Planning or executing a query failed.
    #[error("{}", datafusion_message(.0))]
    DataFusion(DataFusionError),

    /// Object store access failed.
    #[error("object store: {0}")]
    ObjectStore(#[from] object_store::Error),

    /// Arrow computation failed.
    #[error("{}", arrow::message(.0))]
    Arrow(#[from] datafusion::arrow::error::ArrowError),

    /// An option of a table function or job with a bad value.
    #[error("invalid option \"{key}\": {message}")]
    InvalidOption { key: String, message: String },

    /// An option key that is not known.
    #[error("unknown option \"{key}\"; known options: {known}")]
    UnknownOption { key: String, known: String },

    /// A pattern that matches no file.
    #[error("no file matches '{uri}': check the path and the pattern")]
    NoFilesMatch { uri: String },

    /// An INSERT from files that are all empty: there are no rows, and no
    /// columns to plan the INSERT with. It inserts nothing.
    #[error("every file matching '{uri}' is empty: there is nothing to insert")]
    EmptySource { uri: String },

    /// Reading source files failed (unreachable endpoint, missing bucket,
    /// denied access, a file that does not parse).
    #[error("cannot read '{uri}': {message}")]
    Source { uri: String, message: String },

    /// A job that does not exist.
    #[error("unknown job '{0}' (SELECT Name FROM job(type=insert) lists the existing ones)")]
    UnknownJob(String),

    /// A job name that is taken.
    #[error("job '{name}' already exists (id {id}); choose another name or DROP JOB WHERE jobName = '{name}'")]
    JobExists { name: String, id: u64 },

    /// Too many streaming jobs.
    #[error("cannot create more than {0} streaming jobs (max_streaming_job_num); drop unused jobs first")]
    TooManyJobs(usize),

    /// A job statement that does not fit the job's state or definition.
    #[error("{0}")]
    InvalidJob(String),

    /// The session user lacks a privilege.
    #[error("access denied for user '{user}': needs {privilege} on {scope} (GRANT {privilege} ON {scope} TO '{user}')")]
    AccessDenied {
        user: String,
        privilege: String,
        scope: String,
    },

    /// A user that does not exist, or exists already.
    #[error("{0}")]
    User(String),

    /// A load left out more rows than its job allows.
    #[error("{filtered} of {scanned} rows could not be converted to the table's types ({rule}); first: {first}")]
    TooManyFilteredRows {
        filtered: u64,
        scanned: u64,
        rule: String,
        first: String,
    },

    /// An INSERT from files met a row that does not fit the table; it
    /// loaded nothing.
    #[error("INSERT INTO {table} loaded no rows: {first}; correct that row, or load the files with a job, which leaves such rows out as far as its \"session.insert_max_filter_ratio\" allows")]
    InsertRejected { table: String, first: String },

    /// A source that cannot be reached now (connection refused, timeout,
    /// throttling, server error): worth retrying.
    #[error("cannot read '{uri}': {message}")]
    Unavailable { uri: String, message: String },

    /// The table version a task read was removed before its commit (by
    /// another process's maintenance): worth retrying.
    #[error("table {table}: version {version}, which the task read, was removed by table maintenance in another process before the task committed; the task is retried")]
    VersionRemoved { table: String, version: u64 },

    /// The key file that seals job credentials cannot be read, created or
    /// used.
    #[error("secret key file {path}: {message}")]
    SecretKey { path: String, message: String },

    /// A job's credentials cannot be sealed or opened.
    #[error("{0}")]
    Credentials(String),

    /// The catalog or the job store cannot be read or written in the
    /// warehouse; nothing of the change was made.
    #[error("cannot {action} the {what} at {uri}: {source}")]
    Document {
        what: &'static str,
        action: &'static str,
        uri: String,
        #[source]
        source: Box<Error>,
    },

    /// Another process committed files of the same job after the offset
    /// this task read: the task committed nothing, and the job goes on
    /// from that commit.
    #[error("job '{job}': another process committed this job's next files (table version {version}) while this task loaded them; nothing of this task was committed, and the job goes on after that commit")]
    Fenced { job: String, version: u64 },

    /// A job's loop wrote about the job after another process took its
    /// lease: the write is refused, so that only the holder records tasks.
    #[error("job '{job}' is run by another process now (its lease passed to epoch {epoch}); this process records nothing more about it")]
    LeaseLost { job: String, epoch: u64 },

    /// The statement was cancelled (Ctrl-C in the REPL).
    #[error("statement cancelled")]
    Cancelled,
    /// The server's TLS certificate or key cannot be used.
    #[error("TLS: {0}")]
    Tls(String),

    /// `KILL` of a connection the server does not have.
    #[error("unknown connection id {0}: SHOW PROCESSLIST lists the connections")]
    UnknownConnection(u32),
    /// Workers (`--workers`, `tributary worker`) misconfigured or unusable.
    #[error("{0}")]
    Workers(String),
}

impl Error {
    /// Wraps a Lance error with the dataset it concerns.
    pub fn lance(location: impl Into<String>, source: lance::Error) -> Self {
        Error::Lance {
            location: location.into(),
            source,
        }
    }

    /// Whether the error is about the content of the files read: one that
    /// cannot be read or decoded, or too many rows that do not convert.
    pub fn is_file_error(&self) -> bool {
        matches!(
            self,
            Error::Source { .. } | Error::TooManyFilteredRows { .. }
        )
    }

    /// Whether the error is a fault of the source that may pass (it is
    /// unreachable, slow or throttling), looking inside DataFusion errors.
    pub fn is_transient(&self) -> bool {
        match self {
            Error::Unavailable { .. } | Error::VersionRemoved { .. } => true,
            Error::DataFusion(e) => datafusion_is_transient(e),
            _ => false,
        }
    }

    /// Converts into a DataFusion error, keeping the message, for use inside
    /// DataFusion traits.
    pub fn into_datafusion(self) -> DataFusionError {
        match self {
            Error::DataFusion(e) => e,
            other => DataFusionError::External(Box::new(other)),
        }
    }
}

/// A DataFusion error that carries one of tributary's (a file that cannot
/// be read, a job's limits) becomes that error, without DataFusion's
/// wrappers around it.
impl From<DataFusionError> for Error {
    fn from(error: DataFusionError) -> Self {
        match error {
            DataFusionError::External(e) => match e.downcast::<Error>() {
                Ok(inner) => *inner,
                Err(e) => Error::DataFusion(DataFusionError::External(e)),
            },
            DataFusionError::Context(_, inner) if carries_own_error(&inner) => Error::from(*inner),
            // A syntax error, whoever parsed the statement (MySQL's 1064).
            DataFusionError::SQL(parser, _) => Error::from(*parser),
            DataFusionError::Shared(shared) => match std::sync::Arc::try_unwrap(shared) {
                Ok(inner) => Error::from(inner),
                Err(shared) => Error::DataFusion(DataFusionError::Shared(shared)),
            },
            // A Parquet file's failure, named by the reader
            // (`read::parquet`).
            DataFusionError::ParquetError(parquet) => match *parquet {
                ParquetError::External(e) => match e.downcast::<Error>() {
                    Ok(inner) => *inner,
                    Err(e) => Error::DataFusion(DataFusionError::ParquetError(Box::new(
                        ParquetError::External(e),
                    ))),
                },
                parquet => Error::DataFusion(DataFusionError::ParquetError(Box::new(parquet))),
            },
            DataFusionError::ArrowError(arrow, backtrace) => match *arrow {
                datafusion::arrow::error::ArrowError::ExternalError(e) => {
                    match e.downcast::<DataFusionError>() {
                        Ok(inner) => Error::from(*inner),
                        Err(e) => match e.downcast::<Error>() {
                            Ok(inner) => *inner,
                            Err(e) => Error::DataFusion(DataFusionError::ArrowError(
                                Box::new(datafusion::arrow::error::ArrowError::ExternalError(e)),
                                backtrace,
                            )),
                        },
                    }
                }
                arrow => Error::DataFusion(DataFusionError::ArrowError(Box::new(arrow), backtrace)),
            },
            other => Error::DataFusion(other),
        }
    }
}

/// A DataFusion error's message, without the "Error during planning: "
/// DataFusion puts before a planning error's own words.
/// A parser's error is a syntax error, in the parser's own words (not
/// `sql parser error: ...`).
impl From<datafusion::sql::sqlparser::parser::ParserError> for Error {
    fn from(error: datafusion::sql::sqlparser::parser::ParserError) -> Self {
        use datafusion::sql::sqlparser::parser::ParserError;
        match error {
            ParserError::ParserError(message) | ParserError::TokenizerError(message) => {
                Error::SyntaxAt(syntax::located(&message))
            }
            ParserError::RecursionLimitExceeded => {
                Error::Syntax("the statement nests too deep to parse: split it".into())
            }
        }
    }
}

fn datafusion_message(error: &DataFusionError) -> String {
    let message = variant_message(error);
    no_matching_signature(&message)
        .or_else(|| unconvertible(&message))
        .or_else(|| values_count(&message))
        .or_else(|| not_grouped(&message))
        .or_else(|| no_common_type(&message))
        .or_else(|| substring_without_position(&message))
        .or_else(|| same_names(&message))
        .or_else(|| unknown_system_variable(&message))
        .unwrap_or_else(|| without_signature_listing(&message))
}

/// `Column in SELECT must be in GROUP BY or an aggregate function: While
/// expanding wildcard, column "d.t.id" must appear ...` (whether or not a
/// wildcard was written) as which column, where, and the two fixes.
fn not_grouped(message: &str) -> Option<String> {
    static NOT_GROUPED: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(
            r#"^Column in (SELECT|HAVING|QUALIFY|ORDER BY) must be in GROUP BY or an aggregate function: .*?column "([^"]+)" must appear"#,
        )
        .expect("a valid pattern")
    });
    let parts = NOT_GROUPED.captures(message)?;
    let column = &parts[2];
    Some(format!(
        "column {column} in {} is neither in GROUP BY nor inside an aggregate function: add it to GROUP BY, or aggregate it (ANY_VALUE({column}), max({column}), ...)",
        &parts[1]
    ))
}

/// An operator given two types it has no common type for (`Cannot coerce
/// arithmetic expression Utf8 * Int64 to valid types`, `There isn't a
/// common type to coerce Utf8 and Int64 in LIKE expression`), with the
/// types as SQL names.
fn no_common_type(message: &str) -> Option<String> {
    static ARITHMETIC: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(
            r"^(?:Cannot coerce arithmetic expression|Cannot get result type for temporal operation) (\S+) (\S+) (\S+?):? ",
        )
        .expect("a valid pattern")
    });
    static COMPARISON: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(
            r"^There isn't a common type to coerce (\S+) and (\S+) in (.+) expression",
        )
        .expect("a valid pattern")
    });
    if let Some(parts) = ARITHMETIC.captures(message) {
        return Some(format!(
            "cannot compute {} {} {}: CAST one operand to a type the operator takes",
            arrow::sql_type(&parts[1]),
            &parts[2],
            arrow::sql_type(&parts[3])
        ));
    }
    let parts = COMPARISON.captures(message)?;
    Some(format!(
        "cannot compare {} with {} in {}: CAST one side to the other's type",
        arrow::sql_type(&parts[1]),
        arrow::sql_type(&parts[2]),
        &parts[3]
    ))
}

/// Two select items with one name (`SELECT max(id), max(id)`), which
/// DataFusion refuses with its plan's inner names.
fn same_names(message: &str) -> Option<String> {
    static PROJECTION: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r"^Projections require unique expression names but the expression .* at position (\d+) and .* at position (\d+) have the same name")
            .expect("a valid pattern")
    });
    static FIELD: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r#"^Schema contains duplicate unqualified field name "?([^"]+)"?"#)
            .expect("a valid pattern")
    });
    if let Some(parts) = PROJECTION.captures(message) {
        let item = |i: &str| i.parse::<usize>().map(|i| i + 1).unwrap_or_default();
        return Some(format!(
            "select items {} and {} have the same name: give one of them another with AS",
            item(&parts[1]),
            item(&parts[2])
        ));
    }
    let parts = FIELD.captures(message)?;
    Some(format!(
        "two columns would both be named {}: give one of them another name with AS",
        &parts[1]
    ))
}

/// `SELECT @@nope`: DataFusion says the variable `has no type information`.
fn unknown_system_variable(message: &str) -> Option<String> {
    static UNKNOWN: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r#"^variable \[(.*)\] has no type information"#).expect("a valid pattern")
    });
    let parts = UNKNOWN.captures(message)?;
    let name = parts[1].replace(['"', ' '], "").replace(',', ".");
    Some(format!(
        "unknown system variable {name}: SHOW VARIABLES over the server lists them"
    ))
}

/// `SUBSTR(str)`, which DataFusion refuses with its syntax tree printed.
fn substring_without_position(message: &str) -> Option<String> {
    message
        .starts_with("Substring without for/from is not valid")
        .then(|| "SUBSTR needs a start position: SUBSTR(str, pos[, len])".to_string())
}

/// A VALUES row with another number of values than the columns it fills,
/// counted from 1 as MySQL counts rows (`Column count doesn't match value
/// count at row 1`).
fn values_count(message: &str) -> Option<String> {
    static COUNT: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(
            r"Inconsistent data length across values list: got (\d+) values in row (\d+) but expected (\d+)",
        )
        .expect("a valid pattern")
    });
    let parts = COUNT.captures(message)?;
    let row: usize = parts[2].parse().ok()?;
    Some(format!(
        "row {} of VALUES has {} values where {} are expected: give one for every column, or name the columns (INSERT INTO t (a, b) VALUES ...)",
        row + 1,
        &parts[1],
        &parts[3]
    ))
}

/// `Cannot automatically convert Struct(...) to Utf8` (an INSERT's value
/// for a column) with the types as SQL names and what to do.
fn unconvertible(message: &str) -> Option<String> {
    static UNCONVERTIBLE: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(
            r"(?s)(?:Cannot automatically convert (.+) to (.+)|type mismatch and can't cast to got (.+) and (.+))$",
        )
        .expect("a valid pattern")
    });
    let parts = UNCONVERTIBLE.captures(message.trim())?;
    let (from, to) = match (parts.get(1), parts.get(2)) {
        (Some(from), Some(to)) => (from.as_str(), to.as_str()),
        _ => (parts.get(3)?.as_str(), parts.get(4)?.as_str()),
    };
    let sql = |arrow: &str| match arrow.parse::<datafusion::arrow::datatypes::DataType>() {
        Ok(data_type) => crate::catalog::sql_type_name(&data_type),
        Err(_) => arrow.to_string(),
    };
    Some(format!(
        "a value of type {} cannot be stored as {}: convert it in the query (CAST(x AS JSON) for a JSON column, named_struct(...) with the column's fields in order for a STRUCT)",
        sql(from),
        sql(to)
    ))
}

/// A call with arguments no signature of the function takes: the first
/// sentence (`Function 'upper' expects 1 arguments but received 2`, or
/// the function's own words), without DataFusion's list of candidate
/// signatures and the wrappers around a function's own coercion error.
fn without_signature_listing(message: &str) -> String {
    const NO_MATCH: &str = ". No function matches the given name and argument types";
    const COERCION: &str = "coercion failed with: ";
    let Some(end) = message.find(NO_MATCH) else {
        return message.to_string();
    };
    let mut sentence = &message[..end];
    if let Some(at) = sentence.find(COERCION) {
        sentence = &sentence[at + COERCION.len()..];
    }
    for prefix in ["Execution error: ", "Error during planning: "] {
        sentence = sentence.strip_prefix(prefix).unwrap_or(sentence);
    }
    sentence.to_string()
}

fn variant_message(error: &DataFusionError) -> String {
    // A memory limit's own sentence, under whichever operator met it.
    if let DataFusionError::ResourcesExhausted(message) = error.find_root() {
        const PREFIX: &str = "Resources exhausted: ";
        return match message.rfind(PREFIX) {
            Some(at) => message[at + PREFIX.len()..].to_string(),
            None => message.clone(),
        };
    }
    match error {
        DataFusionError::Plan(message)
        | DataFusionError::Configuration(message)
        | DataFusionError::NotImplemented(message)
        | DataFusionError::Execution(message) => message.clone(),
        DataFusionError::SchemaError(schema, _) => schema.to_string(),
        DataFusionError::ArrowError(error, _) => arrow::message(error),
        // Several errors of one statement: the first, as DataFusion shows.
        DataFusionError::Collection(errors) if !errors.is_empty() => datafusion_message(&errors[0]),
        DataFusionError::Diagnostic(_, inner) => datafusion_message(inner),
        // "Optimizer rule 'x' failed" and the like name DataFusion's
        // internals, not what the statement did wrong.
        DataFusionError::Context(_, inner) => datafusion_message(inner),
        DataFusionError::Shared(inner) => datafusion_message(inner),
        DataFusionError::External(e) => innermost(&e.to_string()),
        // Not `SQL error: ParserError("...")`: the parser's own sentence.
        DataFusionError::SQL(parser, _) => Error::from(parser.as_ref().clone()).to_string(),
        other => other.to_string(),
    }
}

/// `Function 'sum' failed to match any signature, errors: ... received
/// String ...` as `function 'sum' does not take a STRING argument`.
fn no_matching_signature(message: &str) -> Option<String> {
    static NO_MATCH: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r"(?s)Function '([^']+)' failed to match any signature.*?received (\w+)")
            .expect("a valid pattern")
    });
    let parts = NO_MATCH.captures(message)?;
    Some(format!(
        "function '{}' does not take a {} argument",
        &parts[1],
        arrow::sql_type(&parts[2])
    ))
}

/// A library's error that carries another's in its text (Lance's `Query
/// Execution error: Error applying filter expression to batch: Arrow
/// error: Cast error: ...`): the innermost one, in its own words.
fn innermost(text: &str) -> String {
    const WRAPPERS: [&str; 5] = [
        "Query Execution error: ",
        "Error applying filter expression to batch: ",
        "Arrow error: ",
        "External error: ",
        "Execution error: ",
    ];
    let text = without_code_location(text);
    let mut rest = text.as_str();
    while let Some(inner) = WRAPPERS.iter().find_map(|w| rest.strip_prefix(w)) {
        rest = inner;
    }
    arrow::printed(rest)
}

/// `message` without the source file and line a library put in it
/// (`..., /root/.cargo/registry/.../scalar_index.rs:250:25`): they say
/// nothing to a user and name the build machine.
pub(crate) fn without_code_location(message: &str) -> String {
    static LOCATION: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r",?\s*[^\s,]+\.rs:\d+:\d+").expect("a valid pattern")
    });
    LOCATION.replace_all(message, "").into_owned()
}

fn carries_own_error(error: &DataFusionError) -> bool {
    match error {
        DataFusionError::Context(_, e) => carries_own_error(e),
        other => own_error(other).is_some(),
    }
}

fn datafusion_is_transient(error: &DataFusionError) -> bool {
    match error {
        DataFusionError::Context(_, e) => datafusion_is_transient(e),
        DataFusionError::Shared(e) => datafusion_is_transient(e),
        other => own_error(other).is_some_and(Error::is_transient),
    }
}

/// The tributary error `error` carries as it is.
fn own_error(error: &DataFusionError) -> Option<&Error> {
    match error {
        DataFusionError::External(e) => e.downcast_ref::<Error>(),
        DataFusionError::ParquetError(parquet) => match parquet.as_ref() {
            ParquetError::External(e) => e.downcast_ref::<Error>(),
            _ => None,
        },
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_call_no_signature_takes_is_one_sentence() {
        let message = "Execution error: Function 'if' user-defined coercion failed with: Error during planning: IF takes three arguments: IF(condition, then, else). No function matches the given name and argument types 'if(Boolean, Utf8)'. You might need to add explicit type casts.\n\tCandidate functions:\n\tif(UserDefined)";
        assert_eq!(
            without_signature_listing(message),
            "IF takes three arguments: IF(condition, then, else)"
        );
        let message = "Function 'upper' expects 1 arguments but received 2. No function matches the given name and argument types 'upper(Utf8, Utf8)'.\n\tCandidate functions:\n\tupper(String)";
        assert_eq!(
            without_signature_listing(message),
            "Function 'upper' expects 1 arguments but received 2"
        );
    }

    #[test]
    fn a_library_error_around_an_arrow_error_is_the_arrow_error_in_our_words() {
        let lance = "Query Execution error: Error applying filter expression to batch: Arrow error: Cast error: Cannot cast string 'a' to value of Decimal128(38, 10) type";
        let error = DataFusionError::External(lance.into());
        assert_eq!(
            Error::from(error).to_string(),
            "cannot cast 'a' to DECIMAL(38,10)"
        );
    }

    #[test]
    fn library_code_locations_are_cut_from_messages() {
        let lance = "Encountered internal error. Index not found: b, /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/lance-14.0.2/src/io/exec/scalar_index.rs:250:25";
        assert_eq!(
            without_code_location(lance),
            "Encountered internal error. Index not found: b"
        );
        let error = DataFusionError::External(lance.into());
        assert!(!Error::from(error).to_string().contains(".rs:"));
    }
}
