//! The JOB statements: `CREATE JOB`, `ALTER JOB` (and `ALTER JOB ... RETRY
//! FILE`), `PAUSE/RESUME/DROP/WAIT/VALIDATE JOB WHERE jobName = '...'`, and the schedule and property clauses.

use datafusion::sql::sqlparser::tokenizer::Token;

use super::ast::{JobTrigger, Statement, When};
use super::tokens::StatementParser;
use crate::error::{Error, Result};

impl StatementParser<'_> {
    /// `CREATE JOB name [PROPERTIES (...)] {ON STREAMING | ON SCHEDULE ...}
    /// [PROPERTIES (...)] [COMMENT '...'] DO <insert>`, after `CREATE JOB`.
    /// Doris's grammar puts PROPERTIES before ON, its manual after: both
    /// are accepted, once. The body is kept as written.
    pub(super) fn create_job(&mut self, sql: &str) -> Result<Statement> {
        let name = self.identifier_as_written()?;
        let mut properties = self.properties()?;
        let trigger = self.job_trigger()?;
        if properties.is_empty() {
            properties = self.properties()?;
        }
        let comment = self.string_after(&["comment"])?;
        if !self.word("do") {
            return Err(self.unexpected("expected DO INSERT INTO ... SELECT ... FROM S3(...)"));
        }
        Ok(Statement::CreateJob {
            name,
            trigger,
            properties,
            comment,
            body: self.rest(sql, "INSERT INTO ... SELECT ... FROM S3(...)")?,
        })
    }

    /// `ALTER JOB name [PROPERTIES (...)] [[DO] <insert>]` (Doris writes no
    /// DO) or `ALTER JOB name RETRY FILE 'file'`, after `ALTER JOB`.
    pub(super) fn alter_job(&mut self, sql: &str) -> Result<Statement> {
        let name = self.identifier_as_written()?;
        if self.words(&["retry", "file"]) {
            let file = self.string_literal()?;
            self.expect_end()?;
            return Ok(Statement::RetryJobFile { name, file });
        }
        let properties = self.properties()?;
        self.word("do");
        let body = match self.parser.peek_token().token {
            Token::EOF => None,
            _ => Some(self.rest(sql, "INSERT INTO ... SELECT ... FROM S3(...)")?),
        };
        Ok(Statement::AlterJob {
            name,
            properties,
            body,
        })
    }

    /// `WAIT JOB WHERE jobName = 'name' [TIMEOUT seconds]`, after `WAIT JOB`.
    pub(super) fn wait_job(&mut self) -> Result<Statement> {
        let name = self.where_job_name()?;
        let timeout_secs = if self.word("timeout") {
            let seconds = self
                .parser
                .parse_literal_uint()
                .map_err(|_| self.unexpected("expected TIMEOUT <seconds>, e.g. TIMEOUT 60"))?;
            if seconds > crate::job::MAX_DURATION_SECS {
                return Err(Error::InvalidJob(format!(
                    "TIMEOUT {seconds} is longer than a year: give at most {} seconds",
                    crate::job::MAX_DURATION_SECS
                )));
            }
            Some(seconds)
        } else {
            None
        };
        Ok(Statement::WaitJob { name, timeout_secs })
    }

    /// `ON STREAMING`, `ON SCHEDULE EVERY n unit [STARTS ..] [ENDS ..]` or
    /// `ON SCHEDULE AT ..`.
    fn job_trigger(&mut self) -> Result<JobTrigger> {
        const EXPECTED: &str =
            "expected ON STREAMING, ON SCHEDULE EVERY <n> <unit> or ON SCHEDULE AT '<time>'";
        if self.words(&["on", "streaming"]) {
            return Ok(JobTrigger::Streaming);
        }
        if !self.words(&["on", "schedule"]) {
            return Err(self.unexpected(EXPECTED));
        }
        if self.word("at") {
            return Ok(JobTrigger::At(self.when()?));
        }
        if !self.word("every") {
            return Err(self.unexpected(EXPECTED));
        }
        let count = self
            .parser
            .parse_literal_uint()
            .map_err(|_| self.unexpected("expected EVERY <n> <unit>, e.g. EVERY 1 MINUTE"))?;
        let unit = self.identifier_as_written()?;
        let starts = if self.word("starts") {
            Some(self.when()?)
        } else {
            None
        };
        let ends = self.string_after(&["ends"])?;
        Ok(JobTrigger::Every {
            count,
            unit,
            starts,
            ends,
        })
    }
    /// `CURRENT_TIMESTAMP` or `'2026-01-01 10:00:00'`.
    fn when(&mut self) -> Result<When> {
        if self.word("current_timestamp") {
            return Ok(When::Now);
        }
        Ok(When::Time(self.string_literal()?))
    }
    /// `WHERE jobName = 'name'`
    pub(super) fn where_job_name(&mut self) -> Result<String> {
        if !self.word("where") || !self.word("jobname") {
            return Err(self.unexpected("expected WHERE jobName = '<job_name>'"));
        }
        self.expect_token(Token::Eq)?;
        self.identifier_as_written()
    }
    /// `[PROPERTIES ("key" = "value", ...)]`
    pub(super) fn properties(&mut self) -> Result<Vec<(String, String)>> {
        if !self.word("properties") {
            return Ok(Vec::new());
        }
        self.key_values()
    }
    /// `("key" = "value", ...)`
    pub(super) fn key_values(&mut self) -> Result<Vec<(String, String)>> {
        let mut pairs = Vec::new();
        self.expect_token(Token::LParen)?;
        if self.parser.consume_token(&Token::RParen) {
            return Ok(pairs);
        }
        loop {
            let key = self.string_literal()?;
            self.expect_token(Token::Eq)?;
            let value = self.string_literal()?;
            pairs.push((key, value));
            if !self.parser.consume_token(&Token::Comma) {
                break;
            }
        }
        self.expect_token(Token::RParen)?;
        Ok(pairs)
    }
}
