//! `UPDATE [db.]t SET c = expr, ... [WHERE condition]`, parsed by
//! sqlparser and kept as text: the plan checks each expression against the
//! table ([`crate::plan`]).

use datafusion::sql::sqlparser::ast::{
    AssignmentTarget, ObjectName, Statement as SqlStatement, TableFactor, Update,
};
use datafusion::sql::sqlparser::parser::Parser;

use super::ast::{Statement, TableName};
use super::TributaryDialect;
use crate::error::{Error, Result};

const FORM: &str = "UPDATE <table> SET <column> = <value>, ... [WHERE <condition>]";

/// Parses an UPDATE statement.
pub fn parse_update(sql: &str) -> Result<Statement> {
    let statement = Parser::new(&TributaryDialect)
        .try_with_sql(sql)?
        .parse_statement()?;
    let SqlStatement::Update(update) = statement else {
        return Err(Error::Syntax(format!("expected {FORM}")));
    };
    let Update {
        table,
        assignments,
        from,
        selection,
        returning,
        order_by,
        limit,
        ..
    } = update;
    let single_table = table.joins.is_empty() && from.is_none();
    let TableFactor::Table { name, .. } = &table.relation else {
        return Err(Error::Syntax(format!("expected {FORM}")));
    };
    if !single_table {
        return Err(Error::Syntax(format!(
            "UPDATE changes one table: write the other tables into the SET values or the WHERE condition as subqueries ({FORM})"
        )));
    }
    if returning.is_some() || !order_by.is_empty() || limit.is_some() {
        return Err(Error::Syntax(format!(
            "UPDATE takes no RETURNING, ORDER BY or LIMIT: {FORM}"
        )));
    }
    let assignments = assignments
        .into_iter()
        .map(|a| match a.target {
            AssignmentTarget::ColumnName(column) => Ok((last_part(&column)?, a.value.to_string())),
            AssignmentTarget::Tuple(_) => Err(Error::Syntax(format!(
                "expected one column a SET assignment: {FORM}"
            ))),
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Statement::Update {
        table: table_name(name)?,
        assignments,
        condition: selection.map(|s| s.to_string()),
    })
}

/// `[db.]table` in lower case.
fn table_name(name: &ObjectName) -> Result<TableName> {
    TableName::from_object_name(name).ok_or_else(|| {
        Error::Syntax(format!(
            "expected a table as [database.]table, found '{name}'"
        ))
    })
}

/// A column name, `c` of `t.c` too.
fn last_part(name: &ObjectName) -> Result<String> {
    parts(name)
        .pop()
        .ok_or_else(|| Error::Syntax(format!("expected {FORM}")))
}

fn parts(name: &ObjectName) -> Vec<String> {
    name.0
        .iter()
        .filter_map(|p| p.as_ident())
        .map(|i| i.value.to_lowercase())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_update_keeps_its_assignments_and_condition_as_text() {
        let Statement::Update {
            table,
            assignments,
            condition,
        } = parse_update("UPDATE d.T SET Name = upper(name), d.t.v = v + 1 WHERE id = 2").unwrap()
        else {
            panic!("an update");
        };
        assert_eq!(
            (table.database.as_deref(), table.table.as_str()),
            (Some("d"), "t")
        );
        assert_eq!(
            assignments,
            [
                ("name".to_string(), "upper(name)".to_string()),
                ("v".to_string(), "v + 1".to_string())
            ]
        );
        assert_eq!(condition.as_deref(), Some("id = 2"));
        assert!(parse_update("UPDATE a JOIN b ON a.x = b.x SET a.v = 1").is_err());
    }
}
