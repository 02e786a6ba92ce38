//! One client connection: it authenticates against the users `CREATE
//! USER ... IDENTIFIED BY` stored (`mysql_native_password`; `root` has no
//! password until one is set), then runs statements in its own session
//! (its user, its current database), as the REPL does, one result set or
//! OK per statement, an error packet with a MySQL code and tributary's
//! message when one fails.

use std::net::SocketAddr;
use std::sync::Mutex;

use async_trait::async_trait;
use opensrv_mysql::{
    AsyncMysqlShim, CapabilityFlags, Column, ErrorKind, InitWriter, OkResponse, ParamParser,
    QueryResultWriter, StatementMetaWriter,
};
use tokio::io::AsyncWrite;
use tokio_util::sync::CancellationToken;

use super::auth::{admit, new_salt, verify, Refused};
use super::hangup::Hangup;
use super::processes::Processes;
use super::results::{columns, error_kind, write_rows};
use super::variables::{answer, Asker, SERVER_VERSION};
use crate::catalog::users::{Privilege, ALL_DATABASES};
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::parse::split_script;
use crate::session::{ResultKind, Session, StatementResult};

/// A client's connection.
pub struct Connection {
    engine: Engine,
    id: u32,
    peer: SocketAddr,
    salt: [u8; 20],
    /// The user that authenticated.
    user: Mutex<Option<String>>,
    /// Its session, made on its first statement.
    session: Option<Session>,
    /// Whether the client has gone.
    hangup: Hangup,
    /// The server's connections, this one among them once logged in.
    processes: Processes,
    /// Closes this connection (`KILL CONNECTION`).
    close: CancellationToken,
    /// The connection is plain text and the server takes logins over TLS
    /// only.
    needs_tls: bool,
}

impl Connection {
    pub fn new(
        engine: Engine,
        id: u32,
        peer: SocketAddr,
        hangup: Hangup,
        processes: Processes,
        close: CancellationToken,
    ) -> Self {
        Self {
            engine,
            id,
            peer,
            salt: new_salt(),
            user: Mutex::new(None),
            session: None,
            hangup,
            processes,
            close,
            needs_tls: false,
        }
    }

    /// Refuses the login of this plain-text connection when `require_tls`.
    pub fn refuse_login_without_tls(&mut self, require_tls: bool) {
        self.needs_tls = require_tls;
    }

    /// The session's current database, if it has one.
    fn current_database(&self) -> Option<String> {
        self.session
            .as_ref()
            .and_then(|s| s.database().map(str::to_string))
    }

    /// The connection's session, as the user that authenticated.
    fn session(&mut self) -> &mut Session {
        let user = self.user.lock().expect("lock").clone();
        let engine = &self.engine;
        self.session.get_or_insert_with(|| {
            engine.session_as(user.as_deref().unwrap_or(crate::engine::DEFAULT_USER))
        })
    }

    /// Runs one statement: the server's own (`KILL`, `SHOW PROCESSLIST`),
    /// an answer to a driver's question, or the engine's.
    async fn execute(&mut self, sql: &str) -> Result<StatementResult> {
        if let Some(answer) = self.process_statement(sql) {
            return answer;
        }
        let id = self.id;
        let session = self.session();
        let asker = Asker {
            session,
            connection_id: id,
        };
        if let Some(answered) = answer(sql, &asker) {
            return Ok(answered);
        }
        session.execute_one(sql).await
    }

    /// Runs the statements of `sql` in order, then sends one result for
    /// each (several when the client sent several at once); stops at the
    /// first error and sends it after the results before it.
    async fn run<W: AsyncWrite + Send + Unpin>(
        &mut self,
        sql: &str,
        results: QueryResultWriter<'_, W>,
    ) -> std::io::Result<()> {
        let statements = statements(sql);
        let multi = CapabilityFlags::CLIENT_MULTI_STATEMENTS;
        if statements.len() > 1 && !results.client_capabilities().contains(multi) {
            let error = Error::Syntax(format!(
                "the query holds {} statements, and this client did not turn multi-statements on: send one statement per query, or turn them on (CLIENT_MULTI_STATEMENTS; PyMySQL: client_flag=CLIENT.MULTI_STATEMENTS, JDBC: allowMultiQueries=true)",
                statements.len()
            ));
            return self.fail(results, &error).await;
        }
        let mut outcomes = Vec::new();
        let hangup = self.hangup.clone();
        for statement in statements {
            let database = self.current_database();
            let progress = self.session().progress().clone();
            let killed = self
                .processes
                .start(self.id, &statement, database.as_deref(), progress);
            let started = std::time::Instant::now();
            let outcome = tokio::select! {
                outcome = self.execute(&statement) => outcome,
                () = killed.cancelled() => Err(Error::Cancelled),
                () = hangup.gone() => {
                    tracing::info!(connection = self.id, peer = %self.peer, "the client went away; its statement is cancelled");
                    return Err(std::io::ErrorKind::ConnectionAborted.into());
                }
            };
            let database = self.current_database();
            self.processes.finish(self.id, database.as_deref());
            let failed = outcome.is_err();
            self.engine.metrics().statement_finished(
                crate::metrics::statement_kind(&statement),
                !failed,
                started.elapsed(),
            );
            outcomes.push(outcome);
            if failed {
                break;
            }
        }
        // The column definitions outlive the writers that send them.
        let definitions: Vec<Vec<Column>> = outcomes
            .iter()
            .map(|outcome| match outcome {
                Ok(result) if result.kind == ResultKind::Rows => columns(&result.schema),
                _ => Vec::new(),
            })
            .collect();
        let mut results = results;
        let count = outcomes.len();
        if count == 0 {
            return results.completed(OkResponse::default()).await;
        }
        for (i, (outcome, definition)) in outcomes.iter().zip(&definitions).enumerate() {
            let result = match outcome {
                Ok(result) => result,
                Err(error) => return self.fail(results, error).await,
            };
            match send(results, result, definition, i + 1 == count).await? {
                Some(next) => results = next,
                None => return Ok(()),
            }
        }
        Ok(())
    }

    /// Sends `error` as the statement's result.
    async fn fail<W: AsyncWrite + Send + Unpin>(
        &self,
        results: QueryResultWriter<'_, W>,
        error: &Error,
    ) -> std::io::Result<()> {
        let message = error.to_string();
        tracing::info!(connection = self.id, error = %message, "statement failed");
        results.error(error_kind(error), message.as_bytes()).await
    }
}

impl Connection {
    /// `KILL [QUERY | CONNECTION] id` and `SHOW [FULL] PROCESSLIST`;
    /// `None` for any other statement.
    fn process_statement(&mut self, sql: &str) -> Option<Result<StatementResult>> {
        let words: Vec<String> = sql
            .split_whitespace()
            .map(str::to_ascii_lowercase)
            .collect();
        let show = matches!(
            words
                .iter()
                .map(String::as_str)
                .collect::<Vec<_>>()
                .as_slice(),
            ["show", "processlist"] | ["show", "full", "processlist"]
        );
        let kill = super::processes::parse_kill(sql);
        if !show && kill.is_none() {
            return None;
        }
        let session = self.session();
        let user = session.user().to_string();
        let admin = self
            .engine
            .catalog()
            .check_privilege(&user, Privilege::Admin, ALL_DATABASES, None)
            .is_ok();
        Some(match kill {
            Some(kill) => kill.and_then(|(kill, target)| {
                self.processes
                    .kill(target, kill, &user, admin)
                    .map(|()| StatementResult::affected(0))
            }),
            None => Ok(self.processes.list(&user, admin, words[1] == "full")),
        })
    }
}

/// The statements of a COM_QUERY, without terminators.
fn statements(sql: &str) -> Vec<String> {
    let split = split_script(sql);
    let remainder = split.remainder.trim().to_string();
    split
        .statements
        .into_iter()
        .map(|s| s.sql)
        .chain((!remainder.is_empty()).then_some(remainder))
        .filter(|s| !s.trim().is_empty())
        .collect()
}

/// Sends one statement's result; unless it is the `last`, the writer for
/// the next one.
async fn send<'a, W: AsyncWrite + Send + Unpin>(
    results: QueryResultWriter<'a, W>,
    result: &StatementResult,
    columns: &'a [Column],
    last: bool,
) -> std::io::Result<Option<QueryResultWriter<'a, W>>> {
    match result.kind {
        ResultKind::Affected(rows) => {
            let ok = OkResponse {
                affected_rows: rows,
                ..Default::default()
            };
            if last {
                results.completed(ok).await?;
                Ok(None)
            } else {
                results.complete_one(ok).await.map(Some)
            }
        }
        ResultKind::Rows => {
            let mut rows = results.start(columns).await?;
            write_rows(&mut rows, result).await?;
            if last {
                rows.finish().await?;
                Ok(None)
            } else {
                rows.finish_one().await.map(Some)
            }
        }
    }
}

#[async_trait]
impl<W: AsyncWrite + Send + Unpin> AsyncMysqlShim<W> for Connection {
    type Error = std::io::Error;

    fn version(&self) -> String {
        SERVER_VERSION.to_string()
    }

    fn connect_id(&self) -> u32 {
        self.id
    }

    fn salt(&self) -> [u8; 20] {
        self.salt
    }

    fn access_denied_message(&self, user: &str, using_password: bool) -> String {
        if self.needs_tls {
            return format!(
                "Access denied for user '{user}': this server takes logins over TLS only; connect with TLS (mysql --ssl, PyMySQL ssl={{...}}, JDBC useSsl=true)"
            );
        }
        format!(
            "Access denied for user '{user}'@'{}' (using password: {})",
            self.peer.ip(),
            if using_password { "YES" } else { "NO" }
        )
    }

    async fn authenticate(
        &self,
        _auth_plugin: &str,
        username: &[u8],
        salt: &[u8],
        auth_data: &[u8],
    ) -> bool {
        let user = String::from_utf8_lossy(username).to_string();
        if self.needs_tls {
            tracing::warn!(connection = self.id, peer = %self.peer, user = %user, "connection refused: not over TLS, and the server requires it");
            return false;
        }
        let admitted = admit(self.engine.catalog(), &user, |stored| {
            verify(salt, auth_data, stored)
        })
        .await;
        match admitted {
            Ok(()) => {}
            Err(Refused::Locked(until)) => {
                tracing::warn!(connection = self.id, peer = %self.peer, user = %user, until = %until, "connection refused: the account is locked after failed logins");
                return false;
            }
            Err(Refused::Unknown(error)) => {
                tracing::info!(connection = self.id, peer = %self.peer, user = %user, error = %error, "connection refused");
                return false;
            }
            Err(Refused::WrongPassword) => {
                tracing::warn!(connection = self.id, peer = %self.peer, user = %user, "connection refused: wrong password");
                return false;
            }
        }
        tracing::info!(connection = self.id, peer = %self.peer, user = %user, "connection opened");
        self.processes
            .open(self.id, &user, self.peer, self.close.clone());
        *self.user.lock().expect("lock") = Some(user);
        true
    }

    async fn on_prepare<'a>(
        &'a mut self,
        _query: &'a str,
        info: StatementMetaWriter<'a, W>,
    ) -> std::io::Result<()> {
        info.error(
            ErrorKind::ER_UNSUPPORTED_PS,
            b"prepared statements are not supported: send the statement as text (with PyMySQL, the default; with JDBC, useServerPrepStmts=false)",
        )
        .await
    }

    async fn on_execute<'a>(
        &'a mut self,
        _id: u32,
        _params: ParamParser<'a>,
        results: QueryResultWriter<'a, W>,
    ) -> std::io::Result<()> {
        results
            .error(
                ErrorKind::ER_UNSUPPORTED_PS,
                b"prepared statements are not supported: send the statement as text",
            )
            .await
    }

    async fn on_close<'a>(&'a mut self, _stmt: u32)
    where
        W: 'async_trait,
    {
    }

    async fn on_init<'a>(
        &'a mut self,
        database: &'a str,
        writer: InitWriter<'a, W>,
    ) -> std::io::Result<()> {
        let sql = format!("USE `{}`", database.replace('`', "``"));
        let used = self.session().execute_one(&sql).await;
        match used {
            Ok(_) => writer.ok().await,
            Err(error) => {
                writer
                    .error(error_kind(&error), error.to_string().as_bytes())
                    .await
            }
        }
    }

    async fn on_query<'a>(
        &'a mut self,
        query: &'a str,
        results: QueryResultWriter<'a, W>,
    ) -> std::io::Result<()> {
        let query = query.to_string();
        self.run(&query, results).await
    }

    async fn on_invalid_query<'a>(
        &'a mut self,
        results: QueryResultWriter<'a, W>,
    ) -> std::io::Result<()> {
        let error = not_utf8();
        results
            .error(error_kind(&error), error.to_string().as_bytes())
            .await
    }
}

/// The answer to a statement that was not valid UTF-8.
fn not_utf8() -> Error {
    Error::Syntax(
        "the statement is not valid UTF-8: send statements in UTF-8 (the client's character set utf8mb4)".into(),
    )
}
