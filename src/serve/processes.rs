//! The server's connections as `SHOW PROCESSLIST` shows them, and `KILL
//! [QUERY | CONNECTION] id` (what the `mysql` client sends on Ctrl-C):
//! each connection registers here, with a token that cancels its running
//! statement and one that closes it. A user sees and kills their own
//! connections; `ADMIN_PRIV` reaches everyone's.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use datafusion::arrow::array::{ArrayRef, Int64Array, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::arrow::record_batch::RecordBatch;
use tokio_util::sync::CancellationToken;

use crate::error::{Error, Result};
use crate::progress::Progress;
use crate::session::StatementResult;

/// What `KILL` stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kill {
    /// The connection's running statement; the connection stays.
    Query,
    /// The statement and the connection.
    Connection,
}

/// One connection.
#[derive(Debug)]
struct Process {
    user: String,
    peer: SocketAddr,
    database: Option<String>,
    since: Instant,
    /// The statement running, and when it started.
    statement: Option<String>,
    /// How far it has come.
    progress: Option<Arc<Progress>>,
    cancel_statement: CancellationToken,
    close: CancellationToken,
}

/// Every connection of the server, by id.
#[derive(Debug, Clone, Default)]
pub struct Processes(Arc<Mutex<BTreeMap<u32, Process>>>);

impl Processes {
    /// Registers connection `id` of `user` from `peer`, which `close`
    /// closes.
    pub fn open(&self, id: u32, user: &str, peer: SocketAddr, close: CancellationToken) {
        self.lock().insert(
            id,
            Process {
                user: user.to_string(),
                peer,
                database: None,
                since: Instant::now(),
                statement: None,
                progress: None,
                cancel_statement: CancellationToken::new(),
                close,
            },
        );
    }

    /// Forgets connection `id`.
    pub fn close(&self, id: u32) {
        self.lock().remove(&id);
    }

    /// Notes that connection `id` runs `sql` in `database`, which has
    /// come as far as `progress` says; the token that cancels it.
    pub fn start(
        &self,
        id: u32,
        sql: &str,
        database: Option<&str>,
        progress: Arc<Progress>,
    ) -> CancellationToken {
        let mut processes = self.lock();
        let Some(process) = processes.get_mut(&id) else {
            return CancellationToken::new();
        };
        process.statement = Some(crate::parse::redact_secrets(sql));
        process.progress = Some(progress);
        process.database = database.map(str::to_string);
        process.since = Instant::now();
        process.cancel_statement = CancellationToken::new();
        process.cancel_statement.clone()
    }

    /// Notes that connection `id` is idle again, in `database`.
    pub fn finish(&self, id: u32, database: Option<&str>) {
        if let Some(process) = self.lock().get_mut(&id) {
            process.statement = None;
            process.progress = None;
            process.database = database.map(str::to_string);
            process.since = Instant::now();
        }
    }

    /// `KILL`: stops what `kill` says of connection `target`, for `user`
    /// (`admin`: whoever's it is).
    pub fn kill(&self, target: u32, kill: Kill, user: &str, admin: bool) -> Result<()> {
        let processes = self.lock();
        let process = processes
            .get(&target)
            .filter(|p| admin || p.user == user)
            .ok_or(Error::UnknownConnection(target))?;
        process.cancel_statement.cancel();
        if kill == Kill::Connection {
            process.close.cancel();
        }
        tracing::info!(connection = target, by = %user, ?kill, "killed");
        Ok(())
    }

    /// `SHOW [FULL] PROCESSLIST` for `user` (`admin`: everyone's), with
    /// MySQL's columns (Id and Time numbers); `full` shows whole
    /// statements, else their first 100 characters.
    pub fn list(&self, user: &str, admin: bool, full: bool) -> StatementResult {
        let processes = self.lock();
        let shown: Vec<(&u32, &Process)> = processes
            .iter()
            .filter(|(_, p)| admin || p.user == user)
            .collect();
        let text = |f: &dyn Fn(&Process) -> Option<String>| -> ArrayRef {
            Arc::new(shown.iter().map(|(_, p)| f(p)).collect::<StringArray>())
        };
        let columns: Vec<ArrayRef> = vec![
            Arc::new(
                shown
                    .iter()
                    .map(|(id, _)| i64::from(**id))
                    .collect::<Int64Array>(),
            ),
            text(&|p| Some(p.user.clone())),
            text(&|p| Some(p.peer.to_string())),
            text(&|p| p.database.clone()),
            text(&|p| {
                Some(
                    if p.statement.is_some() {
                        "Query"
                    } else {
                        "Sleep"
                    }
                    .into(),
                )
            }),
            Arc::new(
                shown
                    .iter()
                    .map(|(_, p)| p.since.elapsed().as_secs() as i64)
                    .collect::<Int64Array>(),
            ),
            // A running statement's State is how far it has come.
            text(&|p| {
                Some(
                    p.progress
                        .as_ref()
                        .map_or(String::new(), |progress| progress.snapshot().to_string()),
                )
            }),
            text(&|p| {
                p.statement.as_ref().map(|sql| match full {
                    true => sql.clone(),
                    false => sql.chars().take(100).collect(),
                })
            }),
        ];
        let number = |name| Field::new(name, DataType::Int64, false);
        let text_field = |name| Field::new(name, DataType::Utf8, true);
        let schema = Arc::new(Schema::new(vec![
            number("Id"),
            text_field("User"),
            text_field("Host"),
            text_field("db"),
            text_field("Command"),
            number("Time"),
            text_field("State"),
            text_field("Info"),
        ]));
        let batch =
            RecordBatch::try_new(schema.clone(), columns).expect("columns match the schema");
        StatementResult::rows(schema, vec![batch])
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<u32, Process>> {
        self.0.lock().expect("the process list lock")
    }
}

/// `KILL [QUERY | CONNECTION] id`, parsed: what it stops and whose.
pub fn parse_kill(sql: &str) -> Option<Result<(Kill, u32)>> {
    let words: Vec<&str> = sql.split_whitespace().collect();
    let (kill, id) = match words.as_slice() {
        [first, rest @ ..] if first.eq_ignore_ascii_case("kill") => match rest {
            [id] => (Kill::Connection, *id),
            [what, id] if what.eq_ignore_ascii_case("query") => (Kill::Query, *id),
            [what, id] if what.eq_ignore_ascii_case("connection") => (Kill::Connection, *id),
            _ => return Some(Err(kill_syntax())),
        },
        _ => return None,
    };
    Some(id.parse().map(|id| (kill, id)).map_err(|_| kill_syntax()))
}

fn kill_syntax() -> Error {
    Error::Syntax("expected KILL [QUERY | CONNECTION] <id>, the Id SHOW PROCESSLIST shows".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kill_names_what_it_stops() {
        assert!(matches!(
            parse_kill("KILL QUERY 7"),
            Some(Ok((Kill::Query, 7)))
        ));
        assert!(matches!(
            parse_kill("kill 7"),
            Some(Ok((Kill::Connection, 7)))
        ));
        assert!(parse_kill("KILL me").unwrap().is_err());
        assert!(parse_kill("SELECT 1").is_none());
    }

    #[test]
    fn a_user_kills_their_own_connections_only() {
        let processes = Processes::default();
        let peer = "127.0.0.1:1".parse().unwrap();
        let close = CancellationToken::new();
        processes.open(1, "alice", peer, close.clone());
        let progress = Arc::new(Progress::default());
        let statement = processes.start(
            1,
            "ALTER USER alice IDENTIFIED BY 'pw'",
            Some("d"),
            progress.clone(),
        );
        progress.add_rows(1_500);
        let shown = |column: usize| {
            processes.list("alice", false, true).batches[0]
                .column(column)
                .as_any()
                .downcast_ref::<StringArray>()
                .map(|info| info.value(0).to_string())
                .unwrap()
        };
        assert_eq!(shown(7), "ALTER USER alice IDENTIFIED BY ''");
        assert!(shown(6).contains(", 1,500 rows"), "{}", shown(6));
        assert!(processes.kill(1, Kill::Query, "bob", false).is_err());
        processes.kill(1, Kill::Query, "alice", false).unwrap();
        assert!(statement.is_cancelled() && !close.is_cancelled());
        processes.kill(1, Kill::Connection, "root", true).unwrap();
        assert!(close.is_cancelled());
    }
}
