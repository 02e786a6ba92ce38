//! Resolving table-function calls (`S3(...)`, `job(...)`, `tasks(...)`)
//! before DataFusion plans a statement.
//!
//! DataFusion hands table functions their arguments after constant folding
//! (`"format" = "csv"` arrives as `false`), and calls them synchronously.
//! So tributary finds every such call in the parsed statement, reads its
//! `"key" = "value"` pairs from the syntax tree, prepares the table
//! asynchronously (listing files, reading the job store), and replaces the
//! arguments with the id of the prepared table, which [`PreparedFunction`]
//! then hands to DataFusion.

use std::collections::HashMap;
use std::ops::ControlFlow;
use std::sync::{Arc, Mutex};

use datafusion::catalog::{TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::ScalarValue;
use datafusion::error::{DataFusionError, Result as DFResult};
use datafusion::logical_expr::Expr;
use datafusion::sql::parser::Statement as DFStatement;
use datafusion::sql::sqlparser::ast::{
    BinaryOperator, Expr as SqlExpr, FunctionArg, FunctionArgExpr, Ident, ObjectNamePart,
    TableFactor, Value, VisitMut, VisitorMut,
};
use object_store::ObjectMeta;

use super::access::SourceAccess;
use super::listing;
use super::location::Location;
use super::options::S3Options;
use super::read_ahead::ReadAhead;
use super::source::FileSource;
use crate::error::{Error, Result};

/// Name the S3 table function is known by (any case).
pub const S3_FUNCTION: &str = "s3";

/// Names of the table functions, as calls are rewritten to (lower case).
pub const TABLE_FUNCTIONS: [&str; 8] = [
    S3_FUNCTION,
    "job",
    "jobs",
    "tasks",
    JOB_FILES_FUNCTION,
    REJECTED_ROWS_FUNCTION,
    JOB_LEASES_FUNCTION,
    JOB_STATUS_FUNCTION,
];

/// The table function that shows how far behind each job is.
pub const JOB_STATUS_FUNCTION: &str = "job_status";

/// The table function that shows which process runs each job.
pub const JOB_LEASES_FUNCTION: &str = "job_leases";

/// The table function that shows a job's file ledger.
pub const JOB_FILES_FUNCTION: &str = "job_files";

/// The table function that shows the rows a job's tasks left out.
pub const REJECTED_ROWS_FUNCTION: &str = "rejected_rows";

/// Tables prepared for the table-function calls of the statement being
/// planned, by id.
#[derive(Debug, Default)]
pub struct PreparedSources {
    tables: Mutex<HashMap<String, Arc<dyn TableProvider>>>,
}

impl PreparedSources {
    pub fn insert(&self, id: String, table: Arc<dyn TableProvider>) {
        self.tables.lock().expect("lock").insert(id, table);
    }

    fn get(&self, id: &str) -> Option<Arc<dyn TableProvider>> {
        self.tables.lock().expect("lock").get(id).cloned()
    }

    /// Forgets the tables of a statement once it is planned.
    pub fn clear(&self) {
        self.tables.lock().expect("lock").clear();
    }
}

/// A table function as DataFusion sees it: it returns the table prepared
/// for the id its call was rewritten to.
#[derive(Debug)]
pub struct PreparedFunction {
    name: &'static str,
    prepared: Arc<PreparedSources>,
}

impl PreparedFunction {
    pub fn new(name: &'static str, prepared: Arc<PreparedSources>) -> Self {
        Self { name, prepared }
    }
}

impl TableFunctionImpl for PreparedFunction {
    fn call_with_args(&self, args: TableFunctionArgs) -> DFResult<Arc<dyn TableProvider>> {
        let id = match args.exprs() {
            [Expr::Literal(ScalarValue::Utf8(Some(id)), _)] => id,
            _ => {
                return Err(DataFusionError::Plan(format!(
                    "{}() takes \"key\" = \"value\" arguments",
                    self.name
                )))
            }
        };
        self.prepared.get(id).ok_or_else(|| {
            DataFusionError::Plan(format!(
                "{}() can only be used in SQL run by a tributary session",
                self.name
            ))
        })
    }
}

/// One table-function call found in a statement.
#[derive(Debug, Clone)]
pub struct FunctionCall {
    /// The function name, lower case.
    pub name: String,
    /// The id the call's arguments were replaced with.
    pub id: String,
    pub pairs: Vec<(String, String)>,
}

/// Exactly these files, under this resolved `uri`, instead of those an
/// `S3()` call's pattern matches now: a streaming job's batch.
#[derive(Clone)]
pub struct FixedFiles<'a> {
    /// The call's `uri` as resolved when the job was created (a local path
    /// made absolute then).
    pub uri: &'a str,
    pub files: &'a [ObjectMeta],
    /// Bytes of some of them, read ahead.
    pub read_ahead: Option<Arc<ReadAhead>>,
}

/// Prepares the table an `S3(...)` call reads: the files matching its
/// pattern, or exactly the `fixed` ones when given. `partitions` bounds
/// read parallelism.
pub async fn prepare_s3(
    pairs: &[(String, String)],
    fixed: Option<FixedFiles<'_>>,
    partitions: usize,
    access: &SourceAccess,
) -> Result<Arc<dyn TableProvider>> {
    let mut options = S3Options::parse(pairs)?;
    if let Some(fixed) = &fixed {
        options.uri = fixed.uri.to_string();
    }
    let location = Location::parse(&options.uri, &options.connection, access)?;
    let (files, read_ahead) = match fixed {
        Some(fixed) => (fixed.files.to_vec(), fixed.read_ahead),
        None => (listing::list_all(&location).await?, None),
    };
    let table = FileSource::new(location, options, files)
        .await?
        .with_read_ahead(read_ahead)
        .into_table(partitions)?;
    Ok(Arc::new(table))
}

/// Finds the calls of the functions `names` in `statement`, lower-cases
/// their names and replaces their arguments with an id to prepare a table
/// under.
pub fn rewrite_calls(statement: &mut DFStatement, names: &[&str]) -> Result<Vec<FunctionCall>> {
    let mut finder = CallFinder {
        names: names.iter().map(|n| n.to_string()).collect(),
        calls: vec![],
        error: None,
    };
    match statement {
        DFStatement::Statement(inner) => {
            let _ = inner.visit(&mut finder);
        }
        DFStatement::Explain(explain) => return rewrite_calls(&mut explain.statement, names),
        _ => {}
    }
    match finder.error {
        Some(e) => Err(e),
        None => Ok(finder.calls),
    }
}

struct CallFinder {
    names: Vec<String>,
    calls: Vec<FunctionCall>,
    error: Option<Error>,
}

impl VisitorMut for CallFinder {
    type Break = ();

    fn pre_visit_table_factor(&mut self, factor: &mut TableFactor) -> ControlFlow<()> {
        let TableFactor::Table {
            name,
            args: Some(args),
            ..
        } = factor
        else {
            return ControlFlow::Continue(());
        };
        let function = match name.0.as_slice() {
            [part] => part.as_ident().map(|i| i.value.to_lowercase()),
            _ => None,
        };
        let Some(function) = function.filter(|f| self.names.contains(f)) else {
            return ControlFlow::Continue(());
        };
        match args
            .args
            .iter()
            .map(|a| pair(&function, a))
            .collect::<Result<Vec<_>>>()
        {
            Ok(pairs) => {
                let id = format!("{function}#{}", self.calls.len());
                args.args = vec![FunctionArg::Unnamed(FunctionArgExpr::Expr(SqlExpr::value(
                    Value::SingleQuotedString(id.clone()),
                )))];
                name.0 = vec![ObjectNamePart::Identifier(Ident::new(function.clone()))];
                self.calls.push(FunctionCall {
                    name: function,
                    id,
                    pairs,
                });
                ControlFlow::Continue(())
            }
            Err(e) => {
                self.error = Some(e);
                ControlFlow::Break(())
            }
        }
    }
}

/// A `"key" = "value"` argument.
fn pair(function: &str, arg: &FunctionArg) -> Result<(String, String)> {
    let (key, value) = match arg {
        FunctionArg::Unnamed(FunctionArgExpr::Expr(SqlExpr::BinaryOp {
            left,
            op: BinaryOperator::Eq,
            right,
        })) => (text(left), text(right)),
        FunctionArg::Named {
            name,
            arg: FunctionArgExpr::Expr(value),
            ..
        } => (Some(name.value.clone()), text(value)),
        FunctionArg::ExprNamed {
            name,
            arg: FunctionArgExpr::Expr(value),
            ..
        } => (text(name), text(value)),
        _ => (None, None),
    };
    match (key, value) {
        (Some(k), Some(v)) => Ok((k, v)),
        _ => Err(Error::Syntax(format!(
            "{}() takes \"key\" = \"value\" arguments, got {arg}",
            function.to_uppercase()
        ))),
    }
}

fn text(expr: &SqlExpr) -> Option<String> {
    match expr {
        SqlExpr::Value(v) => match &v.value {
            Value::SingleQuotedString(s) | Value::DoubleQuotedString(s) => Some(s.clone()),
            Value::Number(n, _) => Some(n.to_string()),
            Value::Boolean(b) => Some(b.to_string()),
            _ => None,
        },
        SqlExpr::Identifier(ident) => Some(ident.value.clone()),
        _ => None,
    }
}
