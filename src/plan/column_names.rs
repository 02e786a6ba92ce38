//! The names a query's result columns get, as MySQL and Doris give them:
//! a select item without an alias is named by its own text (`1`,
//! `count(*)`, `sum(amount)`, a string literal by its value), not by
//! DataFusion's rendering of the planned expression (`Int64(1)`,
//! `sum(db.t.amount)`). Clients and tools read columns by these names.

use datafusion::sql::parser::Statement as DFStatement;
use datafusion::sql::sqlparser::ast::{
    Expr, Ident, SelectItem, SetExpr, Statement as SqlStatement, Value,
};

/// MySQL cuts a column name at this many characters.
const MAX_NAME_CHARS: usize = 256;

/// Names the unaliased items of the outermost SELECT of a query (the
/// left-most one of a UNION, whose names the result takes).
pub(crate) fn name_select_items(statement: &mut DFStatement) {
    let DFStatement::Statement(statement) = statement else {
        return;
    };
    let SqlStatement::Query(query) = statement.as_mut() else {
        return;
    };
    let mut body = query.body.as_mut();
    loop {
        match body {
            SetExpr::SetOperation { left, .. } => body = left.as_mut(),
            SetExpr::Query(inner) => body = inner.body.as_mut(),
            SetExpr::Select(select) => {
                for item in select.projection.iter_mut() {
                    name_item(item);
                }
                return;
            }
            _ => return,
        }
    }
}

fn name_item(item: &mut SelectItem) {
    let SelectItem::UnnamedExpr(expr) = item else {
        return;
    };
    // A column keeps its own name; a job table's columns are matched by it.
    if matches!(expr, Expr::Identifier(_) | Expr::CompoundIdentifier(_)) {
        return;
    }
    let name: String = match expr {
        Expr::Value(value) => match &value.value {
            Value::SingleQuotedString(s) | Value::DoubleQuotedString(s) => s.clone(),
            _ => expr.to_string(),
        },
        _ => expr.to_string(),
    };
    let name: String = name.chars().take(MAX_NAME_CHARS).collect();
    *item = SelectItem::ExprWithAlias {
        expr: expr.clone(),
        alias: Ident::with_quote('`', name),
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::sql::parser::DFParser;

    fn named(sql: &str) -> String {
        let mut statements =
            DFParser::parse_sql_with_dialect(sql, &crate::parse::TributaryDialect).unwrap();
        let mut statement = statements.pop_front().unwrap();
        name_select_items(&mut statement);
        statement.to_string()
    }

    #[test]
    fn unaliased_items_are_named_by_their_text() {
        assert_eq!(
            named("SELECT 1, 'a', id, t.v, count(*) AS n, sum(v) FROM t"),
            "SELECT 1 AS `1`, 'a' AS `a`, id, t.v, count(*) AS n, sum(v) AS `sum(v)` FROM t"
        );
        assert_eq!(
            named("SELECT 1 UNION SELECT 2"),
            "SELECT 1 AS `1` UNION SELECT 2"
        );
        assert_eq!(named("INSERT INTO t SELECT 1"), "INSERT INTO t SELECT 1");
    }
}
