//! Column names of tributary's own tables in any case. Doris writes the
//! columns of `job()` unquoted in any case (`WHERE ExecuteType =
//! "streaming"`), MySQL tools those of `information_schema` in upper case
//! (`SELECT TABLE_NAME FROM information_schema.TABLES`), while DataFusion
//! folds unquoted names to lower case. In a query that reads `job()`,
//! `tasks()` or another job table function, or an `information_schema`
//! table, unquoted names of their columns become exact quoted names; for
//! the job tables, string literals compared with `ExecuteType` or
//! `Status` are matched in upper case, as Doris does. Only that query's
//! own expressions change: a subquery over another table (or the outer
//! query around one) keeps its names, so `id` of a user's table is never
//! taken for `job()`'s `Id`.

use std::ops::ControlFlow;

use datafusion::sql::parser::Statement as DFStatement;
use datafusion::sql::sqlparser::ast::{
    Expr as SqlExpr, Ident, Query, SetExpr, TableFactor, Value, VisitMut, VisitorMut,
};

use super::job::{FILE_COLUMNS, JOB_COLUMNS, LEASE_COLUMNS, REJECTED_COLUMNS, TASK_COLUMNS};
use crate::catalog::information_schema::{self, INFORMATION_SCHEMA};
use crate::read::{S3_FUNCTION, TABLE_FUNCTIONS};

/// Rewrites the column names of the queries in `statement` that read
/// tributary's own tables.
pub(super) fn canonicalize_columns(statement: &mut DFStatement) {
    if let DFStatement::Statement(inner) = statement {
        let _ = inner.visit(&mut Canonicalizer::default());
    }
}

/// Whose columns a query reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reads {
    Other,
    JobTables,
    InformationSchema,
}

/// One entry per query being walked, innermost last.
#[derive(Default)]
struct Canonicalizer {
    reads: Vec<Reads>,
}

/// The column a name stands for in a query that `reads`.
fn canonical(ident: &Ident, reads: Reads) -> Option<&'static str> {
    if ident.quote_style.is_some() {
        return None;
    }
    let matches = |c: &str| c.eq_ignore_ascii_case(&ident.value);
    match reads {
        Reads::Other => None,
        Reads::JobTables => JOB_COLUMNS
            .iter()
            .chain(TASK_COLUMNS.iter())
            .chain(FILE_COLUMNS.iter())
            .chain(REJECTED_COLUMNS.iter())
            .chain(LEASE_COLUMNS.iter())
            .copied()
            .find(|c| matches(c)),
        Reads::InformationSchema => information_schema::column_names().find(|c| matches(c)),
    }
}

/// Whose tables `body` reads in its own FROM clauses.
fn reads(body: &SetExpr) -> Reads {
    match body {
        SetExpr::Select(select) => select
            .from
            .iter()
            .flat_map(|from| {
                std::iter::once(&from.relation).chain(from.joins.iter().map(|j| &j.relation))
            })
            .map(reads_table)
            .find(|r| *r != Reads::Other)
            .unwrap_or(Reads::Other),
        SetExpr::Query(query) => reads(&query.body),
        SetExpr::SetOperation { left, right, .. } => match reads(left) {
            Reads::Other => reads(right),
            found => found,
        },
        _ => Reads::Other,
    }
}

/// Whether `factor` is a call of a job table function or an
/// `information_schema` table.
fn reads_table(factor: &TableFactor) -> Reads {
    let TableFactor::Table { name, args, .. } = factor else {
        return Reads::Other;
    };
    let parts: Vec<String> = name
        .0
        .iter()
        .filter_map(|p| p.as_ident())
        .map(|i| i.value.to_lowercase())
        .collect();
    match (args, parts.as_slice()) {
        (Some(_), [.., function])
            if function != S3_FUNCTION && TABLE_FUNCTIONS.contains(&function.as_str()) =>
        {
            Reads::JobTables
        }
        (None, [.., schema, _]) if schema == INFORMATION_SCHEMA => Reads::InformationSchema,
        _ => Reads::Other,
    }
}

impl VisitorMut for Canonicalizer {
    type Break = ();

    fn pre_visit_query(&mut self, query: &mut Query) -> ControlFlow<()> {
        self.reads.push(reads(&query.body));
        ControlFlow::Continue(())
    }

    fn post_visit_query(&mut self, _: &mut Query) -> ControlFlow<()> {
        self.reads.pop();
        ControlFlow::Continue(())
    }

    fn pre_visit_expr(&mut self, expr: &mut SqlExpr) -> ControlFlow<()> {
        let reads = self.reads.last().copied().unwrap_or(Reads::Other);
        match expr {
            SqlExpr::Identifier(ident) => {
                if let Some(name) = canonical(ident, reads) {
                    *ident = Ident::with_quote('`', name);
                }
            }
            SqlExpr::BinaryOp { left, right, .. } if reads == Reads::JobTables => {
                let upper_case_column = matches!(left.as_ref(),
                    SqlExpr::Identifier(i) if ["executetype", "status"].contains(&i.value.to_lowercase().as_str()));
                if let (true, SqlExpr::Value(v)) = (upper_case_column, right.as_mut()) {
                    if let Value::SingleQuotedString(s) | Value::DoubleQuotedString(s) =
                        &mut v.value
                    {
                        *s = s.to_uppercase();
                    }
                }
            }
            _ => {}
        }
        ControlFlow::Continue(())
    }
}
