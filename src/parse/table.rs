//! `CREATE TABLE`, with the Doris clauses tributary accepts and ignores.

use datafusion::sql::sqlparser::tokenizer::Token;

use super::ast::{CreateTable, Statement, TableName};
use super::tokens::StatementParser;
use crate::catalog::{Column, SqlType, StructField};
use crate::error::{Error, Result};
use crate::maintenance::settings;

/// Doris `CREATE TABLE` clauses that may follow the column list.
const DORIS_TABLE_CLAUSES: &[&str] = &[
    "engine",
    "duplicate",
    "unique",
    "aggregate",
    "primary",
    "partition",
    "auto",
    "distributed",
    "properties",
    "rollup",
];

impl StatementParser<'_> {
    /// `CREATE TABLE [IF NOT EXISTS] [db.]name (column, ... [, INDEX ...])
    /// [ENGINE=...] [DUPLICATE|UNIQUE|AGGREGATE KEY(...)] [COMMENT '...']
    /// [PARTITION BY ...] [DISTRIBUTED BY ...] [PROPERTIES (...)]`, after
    /// `CREATE TABLE`.
    pub(super) fn create_table(&mut self, sql: &str) -> Result<Statement> {
        let if_not_exists = self.words(&["if", "not", "exists"]);
        let name = self.table_name()?;
        if self.word("like") {
            return Ok(Statement::CreateTableLike {
                name,
                if_not_exists,
                source: self.table_name()?,
            });
        }
        if self.parser.peek_token().token != Token::LParen {
            return self.create_table_as(sql, name, if_not_exists);
        }
        self.expect_token(Token::LParen)?;
        let mut columns = Vec::new();
        let mut ignored_clauses = Vec::new();
        loop {
            if self.peek_word("index") {
                ignored_clauses.push(self.clause_text(&[","]));
            } else {
                columns.push(self.column()?);
            }
            if !self.parser.consume_token(&Token::Comma) {
                break;
            }
        }
        self.expect_token(Token::RParen)?;
        let mut comment = None;
        let mut properties = Vec::new();
        loop {
            if self.parser.peek_token().token == Token::EOF {
                break;
            }
            if self.peek_word("properties") {
                let (ours, doris): (Vec<_>, Vec<_>) = self
                    .properties()?
                    .into_iter()
                    .map(|(k, v)| (k.to_ascii_lowercase(), v))
                    .partition(|(k, _)| settings::read_at_create(k));
                properties.extend(ours);
                if !doris.is_empty() {
                    let pairs: Vec<String> = doris
                        .iter()
                        .map(|(k, v)| format!("\"{k}\" = \"{v}\""))
                        .collect();
                    ignored_clauses.push(format!("PROPERTIES ({})", pairs.join(", ")));
                }
            } else if self.word("comment") {
                let _ = self.parser.consume_token(&Token::Eq);
                comment = Some(self.string_literal()?);
            } else if DORIS_TABLE_CLAUSES.iter().any(|w| self.peek_word(w)) {
                let mut stops = DORIS_TABLE_CLAUSES.to_vec();
                stops.push("comment");
                ignored_clauses.push(self.clause_text(&stops));
            } else {
                return Err(self.unexpected(
                    "expected a table clause (COMMENT, or Doris's ENGINE, DUPLICATE/UNIQUE/AGGREGATE KEY, PARTITION BY, DISTRIBUTED BY, PROPERTIES)",
                ));
            }
        }
        Ok(Statement::CreateTable(CreateTable {
            name,
            if_not_exists,
            columns,
            comment,
            ignored_clauses,
            properties,
        }))
    }

    /// `[db.]v [(c1, ...)] AS <query>`, after `CREATE [OR REPLACE] VIEW`.
    pub(super) fn create_view(&mut self, sql: &str, or_replace: bool) -> Result<Statement> {
        let name = self.table_name()?;
        let mut columns = Vec::new();
        if self.parser.consume_token(&Token::LParen) {
            loop {
                columns.push(self.identifier()?);
                if !self.parser.consume_token(&Token::Comma) {
                    break;
                }
            }
            self.expect_token(Token::RParen)?;
        }
        if self.word("comment") {
            self.string_literal()?;
        }
        if !self.word("as") {
            return Err(self.unexpected("expected AS SELECT ... after CREATE VIEW <name>"));
        }
        Ok(Statement::CreateView {
            name,
            or_replace,
            columns,
            query: self.rest(sql, "a query")?,
        })
    }

    /// `[PROPERTIES (...)] AS <query>`, after the table's name.
    fn create_table_as(
        &mut self,
        sql: &str,
        name: TableName,
        if_not_exists: bool,
    ) -> Result<Statement> {
        let mut properties = Vec::new();
        if self.peek_word("properties") {
            properties = self
                .properties()?
                .into_iter()
                .map(|(k, v)| (k.to_ascii_lowercase(), v))
                .collect();
        }
        if !self.word("as") {
            return Err(self.unexpected(
                "expected (<columns>), AS SELECT ... or LIKE <table> after CREATE TABLE <name>",
            ));
        }
        Ok(Statement::CreateTableAs {
            create: CreateTable {
                name,
                if_not_exists,
                columns: Vec::new(),
                comment: None,
                ignored_clauses: Vec::new(),
                properties,
            },
            query: self.rest(sql, "a query")?,
        })
    }
    /// `name TYPE [NULL | NOT NULL] [DEFAULT value] [COMMENT '...']`, in
    /// any order after the type.
    pub(super) fn column(&mut self) -> Result<Column> {
        let name = self.identifier()?;
        let sql_type = self.sql_type()?;
        let mut nullable = true;
        let mut comment = None;
        let mut default = None;
        loop {
            if self.words(&["not", "null"]) {
                nullable = false;
            } else if self.word("null") {
                nullable = true;
            } else if self.word("comment") {
                comment = Some(self.string_literal()?);
            } else if self.word("default") {
                default = Some(self.parser.parse_expr()?.to_string());
            } else {
                break;
            }
        }
        Ok(Column {
            name,
            sql_type,
            nullable,
            comment,
            default,
        })
    }
    /// A column type: a name with optional numeric arguments
    /// (`DECIMAL(10, 2)`), or a nested type (`ARRAY<INT>`,
    /// `MAP<STRING,INT>`, `STRUCT<name:STRING, tags:ARRAY<STRING>>`).
    fn sql_type(&mut self) -> Result<SqlType> {
        let mut closed_early = 0;
        let sql_type = self.nested_type(&mut closed_early)?;
        if closed_early > 0 {
            return Err(self.unexpected("unbalanced '>' in a column type"));
        }
        Ok(sql_type)
    }

    /// One type, inside or outside `<...>`. `closed_early` counts the
    /// `>` an inner type took as part of a `>>` token, which close the
    /// types around it.
    fn nested_type(&mut self, closed_early: &mut usize) -> Result<SqlType> {
        let name = match self.parser.next_token().token {
            Token::Word(w) => w.value,
            _ => {
                self.parser.prev_token();
                return Err(self.unexpected("expected a column type"));
            }
        };
        let nested = match name.to_ascii_lowercase().as_str() {
            "array" | "map" | "struct" => name.to_ascii_lowercase(),
            _ => return self.scalar_type(name),
        };
        if !self.parser.consume_token(&Token::Lt) {
            return Err(self.unexpected(&format!(
                "expected '<' after {}: {} types name what they hold, e.g. ARRAY<INT>, MAP<STRING,INT>, STRUCT<name:STRING>",
                nested.to_uppercase(),
                nested.to_uppercase()
            )));
        }
        let sql_type = match nested.as_str() {
            "array" => SqlType::Array {
                element: Box::new(self.nested_type(closed_early)?),
            },
            "map" => {
                let key = self.nested_type(closed_early)?;
                if key.is_nested() || *closed_early > 0 {
                    return Err(Error::UnsupportedType(format!(
                        "MAP<{key},...>: a map's key is a plain type (STRING, INT, DATE, ...)"
                    )));
                }
                self.expect_token(Token::Comma)?;
                SqlType::Map {
                    key: Box::new(key),
                    value: Box::new(self.nested_type(closed_early)?),
                }
            }
            _ => {
                let mut fields: Vec<StructField> = Vec::new();
                loop {
                    let name = self.identifier()?;
                    let _ = self.parser.consume_token(&Token::Colon);
                    if fields.iter().any(|f| f.name.eq_ignore_ascii_case(&name)) {
                        return Err(Error::UnsupportedType(format!(
                            "STRUCT with two fields named {name}: give each field its own name"
                        )));
                    }
                    let sql_type = self.nested_type(closed_early)?;
                    if self.word("comment") {
                        self.string_literal()?;
                    }
                    fields.push(StructField { name, sql_type });
                    if *closed_early > 0 || !self.parser.consume_token(&Token::Comma) {
                        break;
                    }
                }
                SqlType::Struct { fields }
            }
        };
        self.close_angle(closed_early)?;
        Ok(sql_type)
    }

    /// The `>` that closes a nested type: one pending from a `>>`, a `>`,
    /// or a `>>` that also closes the type around it.
    fn close_angle(&mut self, closed_early: &mut usize) -> Result<()> {
        if *closed_early > 0 {
            *closed_early -= 1;
            return Ok(());
        }
        match self.parser.next_token().token {
            Token::Gt => Ok(()),
            Token::ShiftRight => {
                *closed_early += 1;
                Ok(())
            }
            _ => {
                self.parser.prev_token();
                Err(self.unexpected("expected '>' to close the column type"))
            }
        }
    }

    /// A plain type after its name: `DECIMAL(10, 2)`, `INT`.
    fn scalar_type(&mut self, name: String) -> Result<SqlType> {
        let mut args = Vec::new();
        if self.parser.consume_token(&Token::LParen) {
            loop {
                let arg = self
                    .parser
                    .parse_literal_uint()
                    .map_err(|e| match Error::from(e) {
                        Error::Syntax(message) => Error::Syntax(format!("type {name}: {message}")),
                        other => other,
                    })?;
                args.push(arg);
                if !self.parser.consume_token(&Token::Comma) {
                    break;
                }
            }
            self.expect_token(Token::RParen)?;
        }
        SqlType::from_parts(&name, &args)
    }
    /// The text of a clause, from the next token up to (not including) one of
    /// the unquoted words or tokens in `stops` at parenthesis depth zero, or
    /// an unbalanced `)`.
    fn clause_text(&mut self, stops: &[&str]) -> String {
        let mut parts: Vec<String> = Vec::new();
        let mut depth = 0usize;
        loop {
            let token = self.parser.peek_token().token;
            let at_stop = match &token {
                Token::EOF => true,
                Token::RParen if depth == 0 => true,
                Token::Comma if depth == 0 => stops.contains(&","),
                Token::Word(w) if depth == 0 && !parts.is_empty() && w.quote_style.is_none() => {
                    stops.iter().any(|s| w.value.eq_ignore_ascii_case(s))
                }
                _ => false,
            };
            if at_stop {
                break;
            }
            match token {
                Token::LParen => depth += 1,
                Token::RParen => depth -= 1,
                _ => {}
            }
            self.parser.next_token();
            let text = token.to_string();
            match (parts.last_mut(), text.as_str()) {
                (Some(last), "(" | ")" | "," | ".") => last.push_str(&text),
                (Some(last), _) if last.ends_with('(') || last.ends_with('.') => {
                    last.push_str(&text)
                }
                _ => parts.push(text),
            }
        }
        parts.join(" ")
    }
}
