//! Resolving `S3(...)` calls before DataFusion plans a statement.
//!
//! DataFusion hands table functions their arguments after constant folding
//! (`"format" = "csv"` arrives as `false`), and calls them synchronously.
//! So tributary finds every `S3(...)` call in the parsed statement, reads
//! its `"key" = "value"` pairs from the syntax tree, lists and inspects the
//! files asynchronously, and replaces the arguments with the id of the
//! prepared table, which [`S3Function`] then hands to DataFusion.

use std::collections::HashMap;
use std::ops::ControlFlow;
use std::sync::{Arc, Mutex};

use datafusion::catalog::{TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::ScalarValue;
use datafusion::error::{DataFusionError, Result as DFResult};
use datafusion::logical_expr::Expr;
use datafusion::sql::parser::Statement as DFStatement;
use datafusion::sql::sqlparser::ast::{
    BinaryOperator, Expr as SqlExpr, FunctionArg, FunctionArgExpr, TableFactor, Value, VisitMut,
    VisitorMut,
};

use super::listing;
use super::location::Location;
use super::options::S3Options;
use super::source::FileSource;
use crate::error::{Error, Result};

/// Name the table function is known by (any case).
pub const S3_FUNCTION: &str = "s3";

/// Tables prepared for the `S3(...)` calls of the statement being planned,
/// by id.
#[derive(Debug, Default)]
pub struct PreparedSources {
    tables: Mutex<HashMap<String, Arc<dyn TableProvider>>>,
}

impl PreparedSources {
    fn insert(&self, id: String, table: Arc<dyn TableProvider>) {
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

/// The `S3(...)` table function as DataFusion sees it: it returns the table
/// prepared by [`resolve_s3_calls`] for the id it is called with.
#[derive(Debug)]
pub struct S3Function {
    prepared: Arc<PreparedSources>,
}

impl S3Function {
    pub fn new(prepared: Arc<PreparedSources>) -> Self {
        Self { prepared }
    }
}

impl TableFunctionImpl for S3Function {
    fn call_with_args(&self, args: TableFunctionArgs) -> DFResult<Arc<dyn TableProvider>> {
        let id = match args.exprs() {
            [Expr::Literal(ScalarValue::Utf8(Some(id)), _)] => id,
            _ => {
                return Err(DataFusionError::Plan(
                    "S3() takes \"key\" = \"value\" arguments".into(),
                ))
            }
        };
        self.prepared.get(id).ok_or_else(|| {
            DataFusionError::Plan("S3() can only be used in SQL run by a tributary session".into())
        })
    }
}

/// One `S3(...)` call found in a statement.
struct S3Call {
    id: String,
    pairs: Vec<(String, String)>,
}

/// Finds the `S3(...)` calls of `statement`, prepares a table for each and
/// rewrites the call to refer to it. `partitions` bounds read parallelism.
pub async fn resolve_s3_calls(
    statement: &mut DFStatement,
    prepared: &PreparedSources,
    partitions: usize,
) -> Result<()> {
    let calls = rewrite_calls(statement)?;
    for call in calls {
        let options = S3Options::parse(&call.pairs)?;
        let location = Location::parse(&options.uri, &options.connection)?;
        let files = listing::list_all(&location).await?;
        let table = FileSource::new(location, options, files)
            .await?
            .into_table(partitions)?;
        prepared.insert(call.id, Arc::new(table));
    }
    Ok(())
}

fn rewrite_calls(statement: &mut DFStatement) -> Result<Vec<S3Call>> {
    let mut finder = CallFinder::default();
    match statement {
        DFStatement::Statement(inner) => {
            let _ = inner.visit(&mut finder);
        }
        DFStatement::Explain(explain) => return rewrite_calls(&mut explain.statement),
        _ => {}
    }
    match finder.error {
        Some(e) => Err(e),
        None => Ok(finder.calls),
    }
}

#[derive(Default)]
struct CallFinder {
    calls: Vec<S3Call>,
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
        let is_s3 = name.0.len() == 1
            && name.0[0]
                .as_ident()
                .is_some_and(|i| i.value.eq_ignore_ascii_case(S3_FUNCTION));
        if !is_s3 {
            return ControlFlow::Continue(());
        }
        match args.args.iter().map(pair).collect::<Result<Vec<_>>>() {
            Ok(pairs) => {
                let id = format!("s3#{}", self.calls.len());
                args.args = vec![FunctionArg::Unnamed(FunctionArgExpr::Expr(SqlExpr::value(
                    Value::SingleQuotedString(id.clone()),
                )))];
                self.calls.push(S3Call { id, pairs });
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
fn pair(arg: &FunctionArg) -> Result<(String, String)> {
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
            "S3() takes \"key\" = \"value\" arguments, got {arg}"
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
