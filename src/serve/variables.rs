//! What MySQL drivers and tools ask a server on connect and expect
//! answered: `SELECT @@version_comment LIMIT 1` (the `mysql` client),
//! `SET NAMES utf8mb4` (PyMySQL), `SELECT DATABASE()`, `SHOW VARIABLES
//! LIKE ...`, `SHOW WARNINGS`, and JDBC's `SELECT @@session.x AS x, ...`.
//! They are answered here from the session, as Doris's FE answers them;
//! anything else goes to the engine.

use crate::parse::TributaryDialect;
use datafusion::sql::sqlparser::ast::{
    Expr, FunctionArguments, SelectItem, SetExpr, Statement as SqlStatement,
};
use datafusion::sql::sqlparser::parser::Parser;

use crate::parse::{like, SessionVariable};
use crate::session::{Session, StatementResult};

/// The MySQL version the server reports, as Doris's FE does (`5.7.99`:
/// new enough for drivers; the 99 keeps scanners from matching MySQL CVEs).
pub const SERVER_VERSION: &str = "5.7.99";

/// Who asks: the session and its connection id.
pub struct Asker<'a> {
    pub session: &'a Session,
    pub connection_id: u32,
}

/// The server variables, as `SHOW VARIABLES` and `@@name` read them.
fn variables(asker: &Asker<'_>) -> Vec<(&'static str, String)> {
    let fixed = crate::catalog::information_schema::SERVER_VARIABLES;
    let mut all: Vec<(&'static str, String)> = fixed
        .into_iter()
        .map(|(name, value)| (name, value.to_string()))
        .collect();
    all.push(("version", SERVER_VERSION.to_string()));
    all.push(("version_comment", version_comment()));
    all.push(("transaction_read_only", "0".to_string()));
    all.push(("connection_id", asker.connection_id.to_string()));
    let timeouts = asker.session.timeouts();
    all.push(("query_timeout", timeouts.query_secs.to_string()));
    all.push(("insert_timeout", timeouts.insert_secs.to_string()));
    all.push(("exec_mem_limit", asker.session.exec_mem_limit().to_string()));
    all.sort();
    all
}

/// `@@version_comment`: tributary's version, as Doris's names Doris's.
pub fn version_comment() -> String {
    format!("tributary version {}", env!("CARGO_PKG_VERSION"))
}

/// The answer to `statement` when it is one of the questions drivers ask;
/// `None` for anything else.
pub fn answer(statement: &str, asker: &Asker<'_>) -> Option<StatementResult> {
    let words: Vec<String> = statement
        .split_whitespace()
        .take(4)
        .map(str::to_ascii_lowercase)
        .collect();
    let word = |i: usize| words.get(i).map(String::as_str).unwrap_or("");
    match (word(0), word(1)) {
        // SET NAMES, SET CHARACTER SET, SET autocommit = 1, SET SESSION ...:
        // the server has one character set and no transactions to set. A
        // time zone goes to the engine, which takes only UTC.
        ("set", second)
            if second != "password"
                && !second.starts_with("datafusion.")
                && !words.iter().any(|w| w.contains("time_zone"))
                && !words.iter().any(|w| {
                    SessionVariable::ALL
                        .iter()
                        .any(|v| w.trim_start_matches("@@session.").starts_with(v.name()))
                }) =>
        {
            Some(StatementResult::affected(0))
        }
        ("show", "warnings" | "errors") => Some(StatementResult::strings(
            &["Level", "Code", "Message"],
            Vec::new(),
        )),
        ("show", _) if words.contains(&"variables".to_string()) => {
            Some(show_variables(statement, asker))
        }
        ("select", _) => select_without_table(statement, asker),
        _ => None,
    }
}

/// `SHOW [GLOBAL | SESSION] VARIABLES [LIKE 'pattern']`.
fn show_variables(statement: &str, asker: &Asker<'_>) -> StatementResult {
    let pattern = statement
        .split_once('\'')
        .and_then(|(_, rest)| rest.rsplit_once('\''))
        .map(|(pattern, _)| pattern.to_ascii_lowercase());
    let rows = variables(asker)
        .into_iter()
        .filter(|(name, _)| pattern.as_deref().is_none_or(|p| like(p, name)))
        .map(|(name, value)| vec![Some(name.to_string()), Some(value)])
        .collect();
    StatementResult::strings(&["Variable_name", "Value"], rows)
}

/// A `SELECT` of `@@variables` and `DATABASE()`, `USER()`,
/// `CURRENT_USER()`, `VERSION()`, `CONNECTION_ID()` without a table: one
/// row. `None` when the SELECT has anything else.
fn select_without_table(statement: &str, asker: &Asker<'_>) -> Option<StatementResult> {
    let parsed = Parser::parse_sql(&TributaryDialect, statement).ok()?;
    let [SqlStatement::Query(query)] = parsed.as_slice() else {
        return None;
    };
    let SetExpr::Select(select) = query.body.as_ref() else {
        return None;
    };
    if !select.from.is_empty() {
        return None;
    }
    let variables = variables(asker);
    let mut names = Vec::new();
    let mut values = Vec::new();
    for item in &select.projection {
        let (expr, alias) = match item {
            SelectItem::UnnamedExpr(expr) => (expr, None),
            SelectItem::ExprWithAlias { expr, alias } => (expr, Some(alias.value.clone())),
            _ => return None,
        };
        let value = value_of(expr, asker, &variables)?;
        names.push(alias.unwrap_or_else(|| expr.to_string()));
        values.push(value);
    }
    let columns: Vec<&str> = names.iter().map(String::as_str).collect();
    Some(StatementResult::strings(&columns, vec![values]))
}

/// The value of one item of such a SELECT; `None` for anything else.
fn value_of(
    expr: &Expr,
    asker: &Asker<'_>,
    variables: &[(&'static str, String)],
) -> Option<Option<String>> {
    let variable = |name: &str| {
        let name = name.trim_start_matches('@').to_ascii_lowercase();
        let name = name
            .strip_prefix("session.")
            .or_else(|| name.strip_prefix("global."))
            .unwrap_or(&name)
            .to_string();
        variables
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| Some(v.clone()))
    };
    match expr {
        Expr::Identifier(ident) if ident.value.starts_with("@@") => variable(&ident.value),
        Expr::CompoundIdentifier(parts) if parts.first()?.value.starts_with("@@") => {
            let joined: Vec<&str> = parts.iter().map(|p| p.value.as_str()).collect();
            variable(&joined.join("."))
        }
        Expr::Function(function) => {
            let no_arguments = match &function.args {
                FunctionArguments::None => true,
                FunctionArguments::List(list) => list.args.is_empty(),
                FunctionArguments::Subquery(_) => false,
            };
            if !no_arguments {
                return None;
            }
            let session = asker.session;
            match function.name.to_string().to_ascii_lowercase().as_str() {
                "database" | "schema" => Some(session.database().map(str::to_string)),
                "user" | "current_user" | "session_user" | "system_user" => {
                    Some(Some(format!("'{}'@'%'", session.user())))
                }
                "version" => Some(Some(SERVER_VERSION.to_string())),
                "connection_id" => Some(Some(asker.connection_id.to_string())),
                _ => None,
            }
        }
        _ => None,
    }
}
