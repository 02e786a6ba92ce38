//! `ALTER TABLE`: a table's properties (`SET (...)`), its columns (`ADD`,
//! `DROP`, `RENAME`, `MODIFY COLUMN`) or its name (`RENAME [TO] u`), in
//! Doris's and MySQL's words.

use datafusion::sql::sqlparser::tokenizer::Token;

use super::ast::{Statement, TableChange};
use super::tokens::StatementParser;
use crate::error::Result;

const FORMS: &str = "expected ALTER TABLE <table> followed by SET (\"key\" = \"value\", ...), ADD COLUMN <column> <type>, DROP COLUMN <column>, RENAME COLUMN <column> <new name>, MODIFY COLUMN <column> <type> or RENAME <new name>";

impl StatementParser<'_> {
    /// The rest of `ALTER TABLE`, after those two words.
    pub(super) fn alter_table(&mut self) -> Result<Statement> {
        let table = self.table_name()?;
        if self.word("set") {
            return Ok(Statement::AlterTableSet {
                table,
                properties: self.key_values()?,
            });
        }
        let change = if self.word("add") {
            self.word("column");
            self.added_column()?
        } else if self.word("drop") {
            self.word("column");
            TableChange::DropColumn(self.identifier()?)
        } else if self.words(&["rename", "column"]) {
            let from = self.identifier()?;
            self.word("to");
            TableChange::RenameColumn {
                from,
                to: self.identifier()?,
            }
        } else if self.word("modify") {
            self.word("column");
            TableChange::ModifyColumn(self.column()?)
        } else if self.word("rename") {
            self.word("to");
            TableChange::Rename(self.identifier()?)
        } else {
            return Err(self.unexpected(FORMS));
        };
        if self.word("after") || self.word("first") {
            return Err(self.unexpected(
                "tributary adds a column after the last one: leave out AFTER or FIRST, and name the columns in the order you want them in your SELECT",
            ));
        }
        Ok(Statement::AlterTable { table, change })
    }

    /// `c TYPE [NULL | NOT NULL] [DEFAULT value] [COMMENT '...']`
    fn added_column(&mut self) -> Result<TableChange> {
        let column = self.column()?;
        if self.parser.peek_token().token == Token::LParen {
            return Err(self.unexpected("expected one column: ADD COLUMN <column> <type>"));
        }
        Ok(TableChange::AddColumn(column))
    }
}

#[cfg(test)]
mod tests {
    use crate::parse::{parse_statement, Statement, TableChange};

    fn change(sql: &str) -> TableChange {
        match parse_statement(sql).unwrap() {
            Statement::AlterTable { change, .. } => change,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn reads_doris_and_mysql_forms() {
        let TableChange::AddColumn(column) =
            change("ALTER TABLE d.t ADD COLUMN score DOUBLE NOT NULL DEFAULT 0.5 COMMENT 'x'")
        else {
            panic!("an added column");
        };
        assert_eq!(
            (
                column.name.as_str(),
                column.nullable,
                column.default.as_deref()
            ),
            ("score", false, Some("0.5"))
        );
        assert_eq!(
            change("ALTER TABLE t RENAME COLUMN a TO b"),
            TableChange::RenameColumn {
                from: "a".into(),
                to: "b".into()
            }
        );
        assert_eq!(
            change("ALTER TABLE t RENAME u"),
            TableChange::Rename("u".into())
        );
        assert_eq!(
            change("ALTER TABLE t DROP COLUMN c"),
            TableChange::DropColumn("c".into())
        );
        assert!(parse_statement("ALTER TABLE t ADD COLUMN c INT AFTER a").is_err());
    }
}
