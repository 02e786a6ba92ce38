//! How deep a statement may nest: expressions (`1+1+...`, `a OR b OR
//! ...`), subqueries and `UNION` chains. Planning walks a statement
//! recursively, and a statement thousands of levels deep would overflow
//! the stack and end the process (every connection and job with it), so
//! one deeper than [`MAX_DEPTH`] is refused, with an error, before it is
//! planned. The check itself stops descending at the limit.

use std::ops::ControlFlow;

use datafusion::sql::parser::Statement as DFStatement;
use datafusion::sql::sqlparser::ast::{Expr, Query, SetExpr, Visit, Visitor};

use crate::error::{Error, Result};

/// The deepest nesting a statement may have.
pub const MAX_DEPTH: usize = 1000;

/// Refuses `statement` when it nests deeper than [`MAX_DEPTH`].
pub fn check_depth(statement: &DFStatement) -> Result<()> {
    let mut depth = Depth::default();
    let within = match statement {
        DFStatement::Statement(inner) => inner.visit(&mut depth).is_continue(),
        DFStatement::Explain(explain) => return check_depth(&explain.statement),
        _ => true,
    };
    if within {
        return Ok(());
    }
    Err(Error::TooDeep { limit: MAX_DEPTH })
}

/// Counts the nesting of expressions and queries as the walk descends.
#[derive(Default)]
struct Depth {
    current: usize,
}

impl Depth {
    fn enter(&mut self, levels: usize) -> ControlFlow<()> {
        self.current += levels;
        if self.current > MAX_DEPTH {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    }
}

impl Visitor for Depth {
    type Break = ();

    fn pre_visit_expr(&mut self, _: &Expr) -> ControlFlow<()> {
        self.enter(1)
    }

    fn post_visit_expr(&mut self, _: &Expr) -> ControlFlow<()> {
        self.current -= 1;
        ControlFlow::Continue(())
    }

    /// A query counts one level, and its chain of set operations (`UNION
    /// ALL ...`) one more for each link, measured along the chain without
    /// descending it.
    fn pre_visit_query(&mut self, query: &Query) -> ControlFlow<()> {
        self.enter(1 + set_chain(&query.body))
    }

    fn post_visit_query(&mut self, query: &Query) -> ControlFlow<()> {
        self.current -= 1 + set_chain(&query.body);
        ControlFlow::Continue(())
    }
}

/// How many set operations are chained in `body`, counted along their
/// left sides (where a parser puts a long chain) without recursion.
fn set_chain(body: &SetExpr) -> usize {
    let mut links = 0;
    let mut next = body;
    while let SetExpr::SetOperation { left, .. } = next {
        links += 1;
        next = left;
    }
    links
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::sql::parser::DFParser;

    fn check(sql: &str) -> Result<()> {
        let statement = DFParser::parse_sql(sql).unwrap().pop_front().unwrap();
        check_depth(&statement)
    }

    #[test]
    fn statements_nested_past_the_limit_are_refused() {
        check("SELECT 1 + 2, (SELECT a FROM t WHERE b IN (SELECT c FROM u))").unwrap();
        let ok = vec!["1"; MAX_DEPTH - 10].join("+");
        check(&format!("SELECT {ok}")).unwrap();
        let terms = vec!["1"; MAX_DEPTH + 10].join("+");
        let error = check(&format!("SELECT {terms}")).unwrap_err().to_string();
        assert!(error.contains("nests deeper than 1000 levels"), "{error}");
        let ors = vec!["a = 1"; MAX_DEPTH + 10].join(" OR ");
        assert!(check(&format!("SELECT * FROM t WHERE {ors}")).is_err());
        let unions = vec!["SELECT 1"; MAX_DEPTH + 10].join(" UNION ALL ");
        assert!(check(&unions).is_err());
    }
}
