//! Running SQL in a [`Session`]: a script split into statements, each
//! parsed and executed by the planner, or one query streamed.

use datafusion::arrow::record_batch::RecordBatch;
use datafusion::execution::SendableRecordBatchStream;

use crate::error::{Error, Result};
use crate::parse::{parse_statement, redact_secrets, split_script, Statement};
use crate::session::{Session, StatementResult};

impl Session {
    /// Runs one or several `;`-separated statements and returns the batches
    /// of the last one. Stops at the first error; statements before it stay
    /// applied.
    pub async fn sql(&mut self, sql: &str) -> Result<Vec<RecordBatch>> {
        Ok(self
            .execute(sql)
            .await?
            .pop()
            .map(|r| r.batches)
            .unwrap_or_default())
    }

    /// Runs one or several `;`-separated statements and returns each one's
    /// result. Stops at the first error.
    pub async fn execute(&mut self, sql: &str) -> Result<Vec<StatementResult>> {
        let script = split_script(sql);
        let mut results = Vec::new();
        let remainder = (!script.remainder.is_empty()).then_some(script.remainder);
        for statement in script
            .statements
            .into_iter()
            .map(|s| s.sql)
            .chain(remainder)
        {
            results.push(self.execute_one(&statement).await?);
        }
        Ok(results)
    }

    /// Runs exactly one statement (no terminator needed).
    pub async fn execute_one(&mut self, sql: &str) -> Result<StatementResult> {
        let statement = parse_statement(sql)?;
        self.progress().restart();
        tracing::debug!(user = %self.user(), sql = %redact_secrets(sql), "execute");
        super::execute(self, statement).await
    }

    /// Runs one query (SELECT, including `S3(...)` reads) and streams its
    /// rows batch by batch instead of collecting them, for results larger
    /// than memory. Other statements are refused: run them with [`Self::sql`].
    pub async fn query(&mut self, sql: &str) -> Result<SendableRecordBatchStream> {
        let Statement::Query(sql) = parse_statement(sql)? else {
            return Err(not_a_query());
        };
        tracing::debug!(user = %self.user(), sql = %redact_secrets(&sql), "query");
        super::query::stream(self, &sql)
            .await?
            .ok_or_else(not_a_query)
    }
}

fn not_a_query() -> Error {
    Error::Syntax(
        "Session::query streams the rows of a SELECT; run other statements with Session::sql"
            .into(),
    )
}
