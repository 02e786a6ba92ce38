//! `CREATE INDEX`, `DROP INDEX` and `SHOW INDEX`, in Doris's words.

use super::ast::{IndexKind, Statement};
use super::tokens::StatementParser;
use crate::error::Result;

impl StatementParser<'_> {
    /// `CREATE INDEX [IF NOT EXISTS] name ON [db.]table (column)
    /// USING {INVERTED | BITMAP | BTREE} [PROPERTIES (...)] [COMMENT '...']`,
    /// after `CREATE INDEX`.
    pub(super) fn create_index(&mut self) -> Result<Statement> {
        let if_not_exists = self.words(&["if", "not", "exists"]);
        let name = self.identifier()?;
        if !self.word("on") {
            return Err(self.unexpected("expected ON <table> (<column>)"));
        }
        let table = self.table_name()?;
        self.expect_token(datafusion::sql::sqlparser::tokenizer::Token::LParen)?;
        let column = self.identifier()?;
        self.expect_token(datafusion::sql::sqlparser::tokenizer::Token::RParen)?;
        if !self.word("using") {
            return Err(self.unexpected(
                "expected USING INVERTED, USING BITMAP or USING BTREE (which index to build)",
            ));
        }
        let kind = if self.word("inverted") {
            IndexKind::Inverted
        } else if self.word("bitmap") {
            IndexKind::Bitmap
        } else if self.word("btree") {
            IndexKind::BTree
        } else {
            return Err(self.unexpected("expected INVERTED, BITMAP or BTREE"));
        };
        let properties = self.properties()?;
        let comment = self.string_after(&["comment"])?;
        Ok(Statement::CreateIndex {
            name,
            table,
            column,
            kind,
            properties,
            comment,
            if_not_exists,
        })
    }

    /// `DROP INDEX [IF EXISTS] name ON [db.]table`, after `DROP INDEX`.
    pub(super) fn drop_index(&mut self) -> Result<Statement> {
        let if_exists = self.words(&["if", "exists"]);
        let name = self.identifier()?;
        if !self.word("on") {
            return Err(self.unexpected("expected ON <table>"));
        }
        Ok(Statement::DropIndex {
            name,
            table: self.table_name()?,
            if_exists,
        })
    }

    /// `SHOW {INDEX | INDEXES | KEYS} {FROM | IN} [db.]table [{FROM | IN} db]`,
    /// after its first two words.
    pub(super) fn show_indexes(&mut self) -> Result<Statement> {
        if !(self.word("from") || self.word("in")) {
            return Err(self.unexpected("expected FROM <table>"));
        }
        let mut table = self.table_name()?;
        if self.word("from") || self.word("in") {
            table.database = Some(self.identifier()?);
        }
        Ok(Statement::ShowIndexes { table })
    }
}
