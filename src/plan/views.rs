//! Views: `CREATE [OR REPLACE] VIEW`, `DROP VIEW`, `SHOW CREATE VIEW`, and
//! reading them. A query that names a view reads the view's query in its
//! place ([`expand_views`]), so a view always shows its tables as they are
//! now, and SELECT_PRIV is checked on the tables the view reads, as Doris
//! does. A view's query is kept with its table names qualified by the
//! database it was created in, so it reads the same tables from any
//! session.

use std::ops::ControlFlow;

use datafusion::logical_expr::LogicalPlan;
use datafusion::sql::parser::Statement as DFStatement;
use datafusion::sql::sqlparser::ast::{
    visit_relations_mut, Ident, ObjectName, ObjectNamePart, Query, Statement as SqlStatement,
    TableAlias, TableAliasColumnDef, TableFactor, VisitMut, VisitorMut,
};
use datafusion::sql::sqlparser::parser::Parser;

use super::database_of;
use super::users::require;
use crate::catalog::names::{check_name, NameKind};
use crate::catalog::users::Privilege;
use crate::catalog::{now, ViewDef};
use crate::error::{Error, Result};
use crate::parse::{TableName, TributaryDialect};
use crate::read::{rewrite_calls, S3_FUNCTION};
use crate::session::{Session, StatementResult};

/// How deep views may name views.
const MAX_NESTING: usize = 16;

pub(super) async fn create_view(
    session: &Session,
    name: &TableName,
    or_replace: bool,
    columns: Vec<String>,
    query: &str,
) -> Result<StatementResult> {
    let database = database_of(session, name)?;
    require(session, Privilege::Admin, &database)?;
    check_name(NameKind::Table, &name.table)?;
    let query = qualified(session, &database, query)?;
    let mut statement = super::query::parse_sql(session, &query)?;
    if !rewrite_calls(&mut statement, &[S3_FUNCTION])?.is_empty() {
        return Err(Error::NotAllowed(
            "a view reads tables, not files: S3() with its credentials would be kept in the catalog and shown by SHOW CREATE VIEW; load the files into a table (INSERT INTO ... SELECT ... FROM S3(...), or a job) and make the view over it".into(),
        ));
    }
    let plan = super::query::plan(session, &query).await?;
    if matches!(plan, LogicalPlan::Dml(_) | LogicalPlan::Ddl(_)) {
        return Err(Error::Syntax(
            "a view is a query: CREATE VIEW v AS SELECT ...".into(),
        ));
    }
    let given = plan.schema().fields().len();
    if !columns.is_empty() && columns.len() != given {
        return Err(Error::Syntax(format!(
            "view {database}.{} names {} columns and its query gives {given}",
            name.table,
            columns.len()
        )));
    }
    let view = ViewDef {
        database,
        name: name.table.clone(),
        columns,
        query,
        definer: session.user().to_string(),
        created_at: now(),
    };
    session
        .engine()
        .catalog()
        .create_view(view, or_replace)
        .await?;
    Ok(StatementResult::affected(0))
}

pub(super) async fn drop_view(
    session: &Session,
    name: &TableName,
    if_exists: bool,
) -> Result<StatementResult> {
    let database = database_of(session, name)?;
    require(session, Privilege::Admin, &database)?;
    let catalog = session.engine().catalog();
    if catalog.table(&database, &name.table).is_ok() {
        return Err(Error::Syntax(format!(
            "{database}.{} is a table, not a view: DROP TABLE drops it",
            name.table
        )));
    }
    if !catalog.drop_view(&database, &name.table).await? && !if_exists {
        return Err(unknown_view(&database, &name.table));
    }
    Ok(StatementResult::affected(0))
}

pub(super) fn show_create_view(session: &Session, name: &TableName) -> Result<StatementResult> {
    let database = database_of(session, name)?;
    let view = session
        .engine()
        .catalog()
        .view(&database, &name.table)
        .ok_or_else(|| unknown_view(&database, &name.table))?;
    if !session
        .engine()
        .catalog()
        .can_see_table(session.user(), &database, &view.name)
    {
        return Err(unknown_view(&database, &name.table));
    }
    let columns = match view.columns.as_slice() {
        [] => String::new(),
        names => format!(
            " ({})",
            names
                .iter()
                .map(|c| format!("`{c}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let sql = format!("CREATE VIEW `{}`{columns} AS {}", view.name, view.query);
    Ok(StatementResult::strings(
        &[
            "View",
            "Create View",
            "character_set_client",
            "collation_connection",
        ],
        vec![vec![
            Some(view.name),
            Some(sql),
            Some("utf8mb4".into()),
            Some("utf8mb4_0900_bin".into()),
        ]],
    ))
}

fn unknown_view(database: &str, name: &str) -> Error {
    Error::Syntax(format!(
        "unknown view '{database}.{name}' (SHOW FULL TABLES FROM {database} lists the views, Table_type VIEW)"
    ))
}

/// `query` with each unqualified name of a table or view of `database`
/// qualified by it.
fn qualified(session: &Session, database: &str, query: &str) -> Result<String> {
    let mut statements = Parser::parse_sql(&TributaryDialect, query)?;
    let (Some(statement), true) = (statements.pop(), statements.is_empty()) else {
        return Err(Error::Syntax(
            "a view is one query: CREATE VIEW v AS SELECT ...".into(),
        ));
    };
    let mut statement = statement;
    let catalog = session.engine().catalog();
    let _ = visit_relations_mut(&mut statement, |name: &mut ObjectName| {
        if let [ObjectNamePart::Identifier(ident)] = name.0.as_slice() {
            let table = ident.value.to_lowercase();
            if catalog.table(database, &table).is_ok() || catalog.view(database, &table).is_some() {
                name.0
                    .insert(0, ObjectNamePart::Identifier(Ident::new(database)));
            }
        }
        ControlFlow::<()>::Continue(())
    });
    Ok(statement.to_string())
}

/// Puts each view `statement` names in its place as a subquery, with the
/// view's name (or the alias given) and its column names.
pub(super) fn expand_views(session: &Session, statement: &mut DFStatement) -> Result<()> {
    let inner = match statement {
        DFStatement::Statement(inner) => inner.as_mut(),
        DFStatement::Explain(explain) => return expand_views(session, &mut explain.statement),
        _ => return Ok(()),
    };
    for _ in 0..MAX_NESTING {
        let mut expander = Expander {
            session,
            expanded: false,
            error: None,
        };
        let _ = inner.visit(&mut expander);
        if let Some(error) = expander.error {
            return Err(error);
        }
        if !expander.expanded {
            return Ok(());
        }
    }
    Err(Error::Syntax(format!(
        "views name views more than {MAX_NESTING} deep (or a view names itself): CREATE OR REPLACE VIEW one of them over tables"
    )))
}

struct Expander<'a> {
    session: &'a Session,
    expanded: bool,
    error: Option<Error>,
}

impl Expander<'_> {
    /// The view a table name stands for, if it is one.
    fn view(&self, name: &ObjectName) -> Option<ViewDef> {
        let name = TableName::from_object_name(name)?;
        let database = database_of(self.session, &name).ok()?;
        self.session.engine().catalog().view(&database, &name.table)
    }
}

impl VisitorMut for Expander<'_> {
    type Break = ();

    fn pre_visit_table_factor(&mut self, factor: &mut TableFactor) -> ControlFlow<()> {
        let TableFactor::Table {
            name,
            alias,
            args: None,
            ..
        } = factor
        else {
            return ControlFlow::Continue(());
        };
        let Some(view) = self.view(name) else {
            return ControlFlow::Continue(());
        };
        let subquery = match parse_query(&view.query) {
            Ok(query) => query,
            Err(error) => {
                self.error = Some(error);
                return ControlFlow::Break(());
            }
        };
        let alias = alias.clone().unwrap_or(TableAlias {
            explicit: true,
            name: Ident::new(&view.name),
            columns: Vec::new(),
            at: None,
        });
        let alias = match (alias.columns.is_empty(), view.columns.is_empty()) {
            (true, false) => TableAlias {
                columns: view
                    .columns
                    .iter()
                    .map(|c| TableAliasColumnDef {
                        name: Ident::new(c),
                        data_type: None,
                    })
                    .collect(),
                ..alias
            },
            _ => alias,
        };
        *factor = TableFactor::Derived {
            lateral: false,
            subquery,
            alias: Some(alias),
            sample: None,
        };
        self.expanded = true;
        ControlFlow::Continue(())
    }
}

fn parse_query(sql: &str) -> Result<Box<Query>> {
    match Parser::parse_sql(&TributaryDialect, sql)?.pop() {
        Some(SqlStatement::Query(query)) => Ok(query),
        _ => Err(Error::Syntax(format!(
            "a view's query does not parse: {sql}"
        ))),
    }
}
