//! [`StatementParser`]: a thin layer over sqlparser's [`Parser`] with the
//! word-based helpers every statement's parser uses, so that Doris words
//! that are not sqlparser keywords parse the same way, and one way to say
//! "expected X, found Y".

use super::TributaryDialect;
use datafusion::sql::sqlparser::parser::Parser;
use datafusion::sql::sqlparser::tokenizer::Token;

use super::ast::{SessionVariable, TableName};
use crate::error::{Error, Result};

/// Parses one statement's tokens.
pub(super) struct StatementParser<'a> {
    pub(super) parser: Parser<'a>,
}

impl<'a> StatementParser<'a> {
    /// A parser over `sql` in the MySQL dialect.
    pub(super) fn new(dialect: &'a TributaryDialect, sql: &str) -> Result<Self> {
        Ok(Self {
            parser: Parser::new(dialect)
                .try_with_sql(sql)
                .map_err(Error::from)?,
        })
    }
}

impl StatementParser<'_> {
    /// Consumes the next token if it is the unquoted word `w` (any case).
    pub(super) fn word(&mut self, w: &str) -> bool {
        if self.peek_word(w) {
            self.parser.next_token();
            true
        } else {
            false
        }
    }
    pub(super) fn peek_word(&self, w: &str) -> bool {
        self.peek_word_at(0, w)
    }
    pub(super) fn peek_word_at(&self, n: usize, w: &str) -> bool {
        matches!(&self.parser.peek_nth_token(n).token,
            Token::Word(word) if word.quote_style.is_none() && word.value.eq_ignore_ascii_case(w))
    }
    /// Consumes the words `ws` if all of them come next; otherwise nothing.
    pub(super) fn words(&mut self, ws: &[&str]) -> bool {
        if ws.iter().enumerate().all(|(i, w)| self.peek_word_at(i, w)) {
            for _ in ws {
                self.parser.next_token();
            }
            true
        } else {
            false
        }
    }
    /// After `SET [SESSION]`, the name of a session variable a statement
    /// obeys (`query_timeout`, `exec_mem_limit`, also as `@@session.x`),
    /// consumed with them; `None` (nothing consumed) for any other
    /// statement.
    pub(super) fn session_variable(&mut self) -> Option<SessionVariable> {
        for variable in SessionVariable::ALL {
            for prefix in [&["set"][..], &["set", "session"][..]] {
                let mut words = prefix.to_vec();
                words.push(variable.name());
                if self.words(&words) {
                    return Some(variable);
                }
            }
        }
        None
    }
    /// The value of `SET variable = value`: a whole number, or for a
    /// size a string such as '4GiB', in the variable's range.
    pub(super) fn variable_value(&mut self, variable: SessionVariable) -> Result<u64> {
        let (range, expected) = variable.range();
        let value = match self.parser.peek_token().token {
            Token::SingleQuotedString(s) | Token::DoubleQuotedString(s)
                if variable == SessionVariable::ExecMemLimit =>
            {
                s.trim()
                    .parse::<bytesize::ByteSize>()
                    .ok()
                    .map(|size| size.as_u64())
            }
            Token::Number(n, _) => n.parse::<u64>().ok(),
            _ => None,
        }
        .filter(|value| range.contains(value));
        match value {
            Some(value) => {
                self.parser.next_token();
                Ok(value)
            }
            None => Err(self.unexpected(&format!("expected SET {} = {expected}", variable.name()))),
        }
    }
    /// The string literal after the words `ws` when they come next
    /// (`COMMENT 'x'`, `IDENTIFIED BY 'pw'`); `None` without them.
    pub(super) fn string_after(&mut self, ws: &[&str]) -> Result<Option<String>> {
        if self.words(ws) {
            self.string_literal().map(Some)
        } else {
            Ok(None)
        }
    }
    pub(super) fn expect_token(&mut self, t: Token) -> Result<()> {
        if self.parser.consume_token(&t) {
            Ok(())
        } else {
            Err(self.unexpected(&format!("expected '{t}'")))
        }
    }
    pub(super) fn expect_end(&mut self) -> Result<()> {
        match self.parser.peek_token().token {
            Token::EOF => Ok(()),
            _ => Err(self.unexpected("expected end of statement")),
        }
    }
    pub(super) fn unexpected(&self, what: &str) -> Error {
        let next = self.parser.peek_token();
        match next.token {
            Token::EOF => Error::Syntax(format!("{what}, found end of statement")),
            t => Error::Syntax(format!(
                "{what}, found '{t}' at line {}, column {}",
                next.span.start.line, next.span.start.column
            )),
        }
    }
    /// An identifier, bare, quoted or backticked, in lower case.
    pub(super) fn identifier(&mut self) -> Result<String> {
        match self.parser.next_token().token {
            Token::Word(w) => Ok(w.value.to_lowercase()),
            Token::SingleQuotedString(s) | Token::DoubleQuotedString(s) => Ok(s.to_lowercase()),
            _ => {
                self.parser.prev_token();
                Err(self.unexpected("expected a name"))
            }
        }
    }
    /// A name kept as written (job names are case-sensitive, as in Doris).
    pub(super) fn identifier_as_written(&mut self) -> Result<String> {
        match self.parser.next_token().token {
            Token::Word(w) => Ok(w.value),
            Token::SingleQuotedString(s) | Token::DoubleQuotedString(s) => Ok(s),
            _ => {
                self.parser.prev_token();
                Err(self.unexpected("expected a name"))
            }
        }
    }
    pub(super) fn string_literal(&mut self) -> Result<String> {
        match self.parser.next_token().token {
            Token::SingleQuotedString(s) | Token::DoubleQuotedString(s) => Ok(s),
            _ => {
                self.parser.prev_token();
                Err(self.unexpected("expected a quoted string"))
            }
        }
    }
    /// The text of `sql` from the next token to the end.
    /// The statement's text from the next token on; `expected` names what
    /// must come there.
    pub(super) fn rest(&self, sql: &str, expected: &str) -> Result<String> {
        let next = self.parser.peek_token();
        if next.token == Token::EOF {
            return Err(self.unexpected(&format!("expected {expected}")));
        }
        let start = next.span.start;
        let offset = byte_offset(sql, start.line as usize, start.column as usize);
        Ok(sql[offset..].trim().to_string())
    }
    pub(super) fn table_name(&mut self) -> Result<TableName> {
        let first = self.identifier()?;
        if self.parser.consume_token(&Token::Period) {
            Ok(TableName {
                database: Some(first),
                table: self.identifier()?,
            })
        } else {
            Ok(TableName {
                database: None,
                table: first,
            })
        }
    }
}

/// The byte offset of a 1-based line and character column in `text`.
fn byte_offset(text: &str, line: usize, column: usize) -> usize {
    let line_start: usize = text
        .split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(str::len)
        .sum();
    text[line_start..]
        .char_indices()
        .nth(column.saturating_sub(1))
        .map_or(text.len(), |(i, _)| line_start + i)
}
