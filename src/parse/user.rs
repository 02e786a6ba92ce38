//! `CREATE USER`, `DROP USER`, `GRANT`, `REVOKE` and their clauses.

use datafusion::sql::sqlparser::tokenizer::Token;

use super::ast::{GrantScope, Statement};
use super::tokens::StatementParser;
use crate::catalog::logins::LoginPolicy;
use crate::catalog::users::Privilege;
use crate::error::Result;

impl StatementParser<'_> {
    /// `{GRANT privs ON scope TO | REVOKE privs ON scope FROM} 'user'[@'host']`.
    pub(super) fn grant(&mut self) -> Result<Statement> {
        let revoke = self.word("revoke");
        if !revoke {
            self.word("grant");
        }
        let privileges = self.privileges()?;
        if !self.word("on") {
            return Err(self.unexpected("expected ON <database>.* or ON <database>.<table>"));
        }
        let scope = self.grant_scope()?;
        if !self.word(if revoke { "from" } else { "to" }) {
            return Err(self.unexpected(if revoke {
                "expected FROM 'user'"
            } else {
                "expected TO 'user'"
            }));
        }
        Ok(Statement::Grant {
            privileges,
            scope,
            user: self.user_name()?,
            revoke,
        })
    }

    /// `CREATE USER [IF NOT EXISTS] 'name' [IDENTIFIED BY 'password']`,
    /// after `CREATE USER`.
    pub(super) fn create_user(&mut self) -> Result<Statement> {
        let if_not_exists = self.words(&["if", "not", "exists"]);
        let name = self.user_name()?;
        let password = self.string_after(&["identified", "by"])?;
        let mut policy = LoginPolicy::default();
        while self.login_policy(&mut policy)? {}
        Ok(Statement::CreateUser {
            name,
            password,
            policy,
            if_not_exists,
        })
    }

    /// `ALTER USER 'name'` then any of `IDENTIFIED BY 'password'`, the
    /// failed-login clauses and `ACCOUNT_UNLOCK`, after `ALTER USER`.
    pub(super) fn alter_user(&mut self) -> Result<Statement> {
        let user = self.user_name()?;
        let mut password = None;
        let mut policy = LoginPolicy::default();
        let mut unlock = false;
        loop {
            if self.words(&["identified", "by"]) {
                password = Some(self.string_literal()?);
            } else if self.word("account_unlock") {
                unlock = true;
            } else if !self.login_policy(&mut policy)? {
                break;
            }
        }
        if password.is_none() && policy.is_empty() && !unlock {
            return Err(self.unexpected(
                "expected IDENTIFIED BY '<password>', FAILED_LOGIN_ATTEMPTS <n>, PASSWORD_LOCK_TIME <n> DAY|HOUR|SECOND|UNBOUNDED or ACCOUNT_UNLOCK",
            ));
        }
        Ok(Statement::AlterUser {
            user,
            password,
            policy,
            unlock,
        })
    }

    /// One failed-login clause into `policy`; false when there is none.
    fn login_policy(&mut self, policy: &mut LoginPolicy) -> Result<bool> {
        if self.word("failed_login_attempts") {
            let n = self
                .parser
                .parse_literal_uint()
                .ok()
                .and_then(|n| u32::try_from(n).ok())
                .ok_or_else(|| self.unexpected("expected FAILED_LOGIN_ATTEMPTS <n>, e.g. 3"))?;
            policy.failed_login_attempts = Some(n);
            return Ok(true);
        }
        if !self.word("password_lock_time") {
            return Ok(false);
        }
        if self.word("unbounded") {
            policy.lock_secs = Some(None);
            return Ok(true);
        }
        let expected = "expected PASSWORD_LOCK_TIME <n> DAY|HOUR|SECOND or UNBOUNDED";
        let n = self
            .parser
            .parse_literal_uint()
            .map_err(|_| self.unexpected(expected))?;
        let unit = if self.word("day") || self.word("days") {
            86_400
        } else if self.word("hour") || self.word("hours") {
            3_600
        } else if self.word("second") || self.word("seconds") {
            1
        } else {
            return Err(self.unexpected(expected));
        };
        let secs = n
            .checked_mul(unit)
            .filter(|s| *s <= crate::job::MAX_DURATION_SECS)
            .ok_or_else(|| self.unexpected("PASSWORD_LOCK_TIME is at most a year (365 DAY)"))?;
        policy.lock_secs = Some(Some(secs));
        Ok(true)
    }

    /// `SET PASSWORD [FOR 'name'] = PASSWORD('password')` (or `= 'password'`),
    /// after `SET PASSWORD`.
    pub(super) fn set_password(&mut self) -> Result<Statement> {
        let user = if self.word("for") {
            Some(self.user_name()?)
        } else {
            None
        };
        self.expect_token(Token::Eq)?;
        let function = self.word("password");
        if function {
            self.expect_token(Token::LParen)?;
        }
        let password = self.string_literal()?;
        if function {
            self.expect_token(Token::RParen)?;
        }
        Ok(Statement::SetPassword { user, password })
    }

    /// `'name'` or `'name'@'host'` (the host is accepted and ignored).
    pub(super) fn user_name(&mut self) -> Result<String> {
        let name = self.identifier_as_written()?;
        if self.parser.consume_token(&Token::AtSign) {
            self.identifier_as_written()?;
        }
        Ok(name)
    }
    /// `SELECT_PRIV, LOAD_PRIV` or `ALL [PRIVILEGES]`.
    fn privileges(&mut self) -> Result<Vec<Privilege>> {
        if self.word("all") {
            self.word("privileges");
            return Ok(Privilege::ALL.to_vec());
        }
        let mut privileges = Vec::new();
        loop {
            privileges.push(Privilege::parse(&self.identifier_as_written()?)?);
            if !self.parser.consume_token(&Token::Comma) {
                return Ok(privileges);
            }
        }
    }
    /// `*.*`, `db.*` or `db.tbl`.
    fn grant_scope(&mut self) -> Result<GrantScope> {
        let database = if self.parser.consume_token(&Token::Mul) {
            "*".to_string()
        } else {
            self.identifier()?
        };
        let expected = "expected <database>.* or <database>.<table> (or *.*)";
        if !self.parser.consume_token(&Token::Period) {
            return Err(self.unexpected(expected));
        }
        if self.parser.consume_token(&Token::Mul) {
            return Ok(GrantScope {
                database,
                table: None,
            });
        }
        if database == "*" {
            return Err(self.unexpected(expected));
        }
        Ok(GrantScope {
            database,
            table: Some(self.identifier()?),
        })
    }
}
