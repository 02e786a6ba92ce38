//! [`parse_statement`]: a short dispatch on a statement's first words to
//! the parser of each statement tributary owns (databases and tables here,
//! [`table`](super::table), [`job`](super::job), [`user`](super::user));
//! anything else goes to DataFusion as text.

use super::TributaryDialect;
use datafusion::sql::sqlparser::tokenizer::Token;

use super::ast::{SessionVariable, ShowFilter, Statement};
use super::tokens::StatementParser;
use crate::error::{Error, Result};

/// Parses one statement (without its terminator).
pub fn parse_statement(sql: &str) -> Result<Statement> {
    if let Some(call) = describe_function_call(sql) {
        return Ok(Statement::DescribeFunction {
            call: call.to_string(),
        });
    }
    let dialect = TributaryDialect;
    let mut p = StatementParser::new(&dialect, sql)?;
    let statement = if p.words(&["create", "database"]) || p.words(&["create", "schema"]) {
        p.create_database()?
    } else if p.words(&["drop", "database"]) || p.words(&["drop", "schema"]) {
        p.drop_database()?
    } else if p.words(&["show", "databases"]) || p.words(&["show", "schemas"]) {
        Statement::ShowDatabases
    } else if p.word("begin")
        || p.words(&["start", "transaction"])
        || p.word("commit")
        || p.word("rollback")
        || p.words(&["lock", "tables"])
        || p.words(&["unlock", "tables"])
    {
        // WORK, AND [NO] CHAIN, READ ONLY, WITH CONSISTENT SNAPSHOT, TO
        // SAVEPOINT x, the tables to lock: all mean nothing without
        // transactions, and each query reads one version of a table.
        while p.parser.peek_token().token != Token::EOF {
            p.parser.next_token();
        }
        Statement::TransactionControl
    } else if p.word("use") {
        Statement::Use {
            database: p.identifier()?,
        }
    } else if p.words(&["create", "view"]) {
        return p.create_view(sql, false);
    } else if p.words(&["create", "or", "replace", "view"]) {
        return p.create_view(sql, true);
    } else if p.words(&["drop", "view"]) {
        let if_exists = p.words(&["if", "exists"]);
        Statement::DropView {
            name: p.table_name()?,
            if_exists,
        }
    } else if p.words(&["show", "create", "view"]) {
        Statement::ShowCreateView {
            name: p.table_name()?,
        }
    } else if p.words(&["create", "table"]) {
        let statement = p.create_table(sql)?;
        if matches!(statement, Statement::CreateTableAs { .. }) {
            return Ok(statement);
        }
        statement
    } else if p.words(&["drop", "table"]) {
        p.drop_table()?
    } else if p.words(&["show", "table", "status"]) {
        p.show_table_status()?
    } else if p.words(&["create", "index"]) {
        p.create_index()?
    } else if p.words(&["drop", "index"]) {
        p.drop_index()?
    } else if p.words(&["show", "index"])
        || p.words(&["show", "indexes"])
        || p.words(&["show", "keys"])
    {
        p.show_indexes()?
    } else if p.words(&["alter", "table"]) {
        p.alter_table()?
    } else if p.words(&["admin", "compact", "table"]) {
        let table = p.table_name()?;
        if p.word("partition") {
            p.identifier()?;
        }
        if p.word("where") {
            while p.parser.peek_token().token != Token::EOF {
                p.parser.next_token();
            }
        }
        Statement::AdminCompact { table }
    } else if p.words(&["delete", "from"]) {
        let table = p.table_name()?;
        let condition = match p.show_filter()? {
            None => None,
            Some(ShowFilter::Where(condition)) => Some(condition),
            Some(ShowFilter::Like(_)) => {
                return Err(Error::Syntax(
                    "expected DELETE FROM <table> [WHERE <condition>]".into(),
                ))
            }
        };
        Statement::Delete { table, condition }
    } else if p.peek_word("update") {
        return super::update::parse_update(sql);
    } else if p.word("truncate") {
        p.word("table");
        Statement::Truncate {
            table: p.table_name()?,
        }
    } else if p.words(&["show", "tables"]) {
        p.show_tables(false)?
    } else if p.words(&["show", "full", "tables"]) {
        p.show_tables(true)?
    } else if let Some(full) = p.show_columns_words() {
        p.show_columns(full)?
    } else if p.words(&["show", "create", "table"]) {
        Statement::ShowCreateTable {
            table: p.table_name()?,
        }
    } else if p.words(&["create", "job"]) {
        return p.create_job(sql);
    } else if p.words(&["alter", "job"]) {
        return p.alter_job(sql);
    } else if p.words(&["pause", "job"]) {
        Statement::PauseJob {
            name: p.where_job_name()?,
        }
    } else if p.words(&["resume", "job"]) {
        Statement::ResumeJob {
            name: p.where_job_name()?,
        }
    } else if p.words(&["drop", "job"]) {
        let if_exists = p.words(&["if", "exists"]);
        Statement::DropJob {
            name: p.where_job_name()?,
            if_exists,
        }
    } else if p.words(&["wait", "job"]) {
        p.wait_job()?
    } else if p.words(&["validate", "job"]) {
        Statement::ValidateJob {
            name: p.where_job_name()?,
        }
    } else if p.words(&["alter", "user"]) {
        p.alter_user()?
    } else if p.words(&["set", "password"]) {
        p.set_password()?
    } else if let Some(variable) = p.session_variable() {
        p.expect_token(Token::Eq)?;
        let value = p.variable_value(variable)?;
        Statement::SetVariable { variable, value }
    } else if p.client_setting() {
        // What MySQL clients set on connecting: one character set, no
        // transactions, no SQL modes; the same as tributary serve answers.
        while p.parser.peek_token().token != Token::EOF {
            p.parser.next_token();
        }
        Statement::TransactionControl
    } else if p.time_zone_setting() {
        p.check_time_zone()?;
        Statement::TransactionControl
    } else if p.peek_word("set") {
        p.check_other_set()?;
        return Ok(Statement::Query(sql.to_string()));
    } else if p.words(&["create", "user"]) {
        p.create_user()?
    } else if p.words(&["drop", "user"]) {
        let if_exists = p.words(&["if", "exists"]);
        Statement::DropUser {
            name: p.user_name()?,
            if_exists,
        }
    } else if p.peek_word("grant") || p.peek_word("revoke") {
        p.grant()?
    } else if p.words(&["show", "grants"]) {
        let user = if p.word("for") {
            Some(p.user_name()?)
        } else {
            None
        };
        Statement::ShowGrants { user }
    } else if p.word("desc") || p.word("describe") {
        Statement::Describe {
            table: p.table_name()?,
        }
    } else if p.peek_word("show") {
        return Err(Error::Syntax(format!(
            "'{}' is not a SHOW statement tributary has: SHOW DATABASES, SHOW [FULL] TABLES, SHOW [FULL] COLUMNS, SHOW CREATE TABLE, SHOW CREATE VIEW, SHOW TABLE STATUS, SHOW INDEX, SHOW GRANTS (and over the server SHOW VARIABLES, SHOW WARNINGS, SHOW PROCESSLIST)",
            sql.trim()
        )));
    } else {
        return Ok(Statement::Query(sql.to_string()));
    };
    p.expect_end()?;
    Ok(statement)
}

impl StatementParser<'_> {
    /// `CREATE {DATABASE | SCHEMA} [IF NOT EXISTS] name`, after its first
    /// two words.
    fn create_database(&mut self) -> Result<Statement> {
        let if_not_exists = self.words(&["if", "not", "exists"]);
        Ok(Statement::CreateDatabase {
            name: self.identifier()?,
            if_not_exists,
        })
    }

    /// `DROP {DATABASE | SCHEMA} [IF EXISTS] name [FORCE]`.
    fn drop_database(&mut self) -> Result<Statement> {
        let if_exists = self.words(&["if", "exists"]);
        let name = self.identifier()?;
        self.word("force");
        Ok(Statement::DropDatabase { name, if_exists })
    }

    /// `DROP TABLE [IF EXISTS] [db.]name [FORCE]`.
    fn drop_table(&mut self) -> Result<Statement> {
        let if_exists = self.words(&["if", "exists"]);
        let name = self.table_name()?;
        self.word("force");
        Ok(Statement::DropTable { name, if_exists })
    }

    /// A `SET` of anything but a session variable tributary keeps goes to
    /// DataFusion only when it sets one of DataFusion's options to one
    /// literal (or is `SET TIME ZONE`); others fail here in one sentence
    /// instead of in DataFusion's words.
    /// `SET [SESSION] autocommit | NAMES | CHARACTER SET | character_set_* |
    /// collation_* | sql_mode | transaction ...`, and `SET @@session.` of
    /// those.
    fn client_setting(&mut self) -> bool {
        const SETTINGS: [&str; 8] = [
            "autocommit",
            "names",
            "character",
            "sql_mode",
            "transaction",
            "character_set_",
            "collation_",
            "sql_",
        ];
        let at = if self.peek_word_at(1, "session") {
            2
        } else {
            1
        };
        if !self.peek_word("set") {
            return false;
        }
        match &self.parser.peek_nth_token(at).token {
            Token::Word(w) => {
                let mut name = w.value.to_ascii_lowercase();
                // `@@session.autocommit`: the scope, a period, the name.
                let scoped = matches!(name.as_str(), "@@session" | "@@global" | "@@local");
                if scoped && self.parser.peek_nth_token(at + 1).token == Token::Period {
                    if let Token::Word(w) = &self.parser.peek_nth_token(at + 2).token {
                        name = w.value.to_ascii_lowercase();
                    }
                }
                let name = name
                    .trim_start_matches("@@session.")
                    .trim_start_matches("@@");
                SETTINGS.iter().any(|s| {
                    if s.ends_with('_') {
                        name.starts_with(s)
                    } else {
                        name == *s
                    }
                })
            }
            _ => false,
        }
    }

    /// `SET [SESSION] time_zone = ...` (also `@@time_zone`), consumed up to
    /// the `=`; nothing consumed for any other statement.
    fn time_zone_setting(&mut self) -> bool {
        let at = if self.peek_word_at(1, "session") {
            2
        } else {
            1
        };
        // `@@session.time_zone` is three tokens: the scope, a period, the name.
        let scoped = self.peek_word_at(at, "@@session")
            && self.parser.peek_nth_token(at + 1).token == Token::Period
            && self.peek_word_at(at + 2, "time_zone");
        let name_tokens = match scoped {
            true => 3,
            false if self.peek_word_at(at, "time_zone") || self.peek_word_at(at, "@@time_zone") => {
                1
            }
            false => return false,
        };
        if !self.peek_word("set") {
            return false;
        }
        for _ in 0..at + name_tokens {
            self.parser.next_token();
        }
        true
    }

    /// The zone a `SET time_zone` gives: times are kept in UTC, so UTC is
    /// taken (what MySQL clients send on connecting) and any other zone is
    /// refused rather than ignored, which would shift no time.
    fn check_time_zone(&mut self) -> Result<()> {
        const UTC: [&str; 7] = [
            "utc", "+00:00", "+0:00", "00:00", "system", "gmt", "etc/utc",
        ];
        self.expect_token(Token::Eq)?;
        let zone = self.string_literal()?;
        if UTC.contains(&zone.to_ascii_lowercase().as_str()) {
            return Ok(());
        }
        Err(Error::Unsupported(format!(
            "time zone '{zone}' is not supported: tributary keeps times in UTC (system_time_zone), so SET time_zone takes 'UTC', '+00:00' or 'SYSTEM'"
        )))
    }

    fn check_other_set(&mut self) -> Result<()> {
        self.word("set");
        self.word("session");
        let name = match self.parser.next_token().token {
            Token::Word(w) if w.value.eq_ignore_ascii_case("time") => return Ok(()),
            Token::Word(w) if w.value.eq_ignore_ascii_case("datafusion") => {
                let option = self.datafusion_option()?;
                return self.literal_value(&option);
            }
            Token::Word(w) => w.value,
            other => other.to_string(),
        };
        let known: Vec<&str> = SessionVariable::ALL.iter().map(|v| v.name()).collect();
        Err(Error::UnknownVariable {
            name,
            known: known.join(", "),
        })
    }

    /// The rest of a DataFusion option's dotted name, lower case.
    fn datafusion_option(&mut self) -> Result<String> {
        let mut name = String::from("datafusion");
        while self.parser.consume_token(&Token::Period) {
            name.push('.');
            name.push_str(&self.identifier()?.to_ascii_lowercase());
        }
        Ok(name)
    }

    /// `= value` or `TO value` with one literal value, to the end.
    fn literal_value(&mut self, option: &str) -> Result<()> {
        if !self.parser.consume_token(&Token::Eq) {
            self.word("to");
        }
        match self.parser.next_token().token {
            Token::Number(n, _) => check_option_size(option, &n)?,
            Token::SingleQuotedString(n) | Token::DoubleQuotedString(n) => {
                check_option_size(option, &n)?
            }
            Token::Word(w) if w.quote_style.is_none() => {}
            _ => {
                self.parser.prev_token();
                return Err(self.unexpected(
                    "expected one literal value (a number, a string, true or false) for a DataFusion option",
                ));
            }
        }
        self.expect_end()
    }

    /// `SHOW TABLE STATUS [{FROM | IN} db] [LIKE 'pattern']`, after its
    /// first three words.
    fn show_table_status(&mut self) -> Result<Statement> {
        let database = if self.word("from") || self.word("in") {
            Some(self.identifier()?)
        } else {
            None
        };
        let like = if self.word("like") {
            Some(self.string_literal()?)
        } else {
            None
        };
        Ok(Statement::ShowTableStatus { database, like })
    }

    /// `SHOW TABLES [{FROM | IN} db]`.
    fn show_tables(&mut self, full: bool) -> Result<Statement> {
        let database = if self.word("from") || self.word("in") {
            Some(self.identifier()?)
        } else {
            None
        };
        Ok(Statement::ShowTables {
            database,
            full,
            filter: self.show_filter()?,
        })
    }

    /// `SHOW [FULL] {COLUMNS | FIELDS}`, consumed: whether FULL.
    fn show_columns_words(&mut self) -> Option<bool> {
        for full in [false, true] {
            for noun in ["columns", "fields"] {
                let words: &[&str] = if full {
                    &["show", "full", noun]
                } else {
                    &["show", noun]
                };
                if self.words(words) {
                    return Some(full);
                }
            }
        }
        None
    }

    /// The rest of `SHOW [FULL] COLUMNS`: `{FROM | IN} t [{FROM | IN} db]
    /// [LIKE | WHERE]`.
    fn show_columns(&mut self, full: bool) -> Result<Statement> {
        if !(self.word("from") || self.word("in")) {
            return Err(self.unexpected("expected FROM <table>"));
        }
        let mut table = self.table_name()?;
        if self.word("from") || self.word("in") {
            table.database = Some(self.identifier()?);
        }
        Ok(Statement::ShowColumns {
            table,
            full,
            filter: self.show_filter()?,
        })
    }

    /// `LIKE 'pattern'` or `WHERE expression` (the rest of the
    /// statement), if one comes next.
    fn show_filter(&mut self) -> Result<Option<ShowFilter>> {
        if self.word("like") {
            return Ok(Some(ShowFilter::Like(self.string_literal()?)));
        }
        if !self.word("where") {
            return Ok(None);
        }
        let mut expression = Vec::new();
        while self.parser.peek_token().token != Token::EOF {
            expression.push(self.parser.next_token().token.to_string());
        }
        if expression.is_empty() {
            return Err(self.unexpected("expected an expression after WHERE"));
        }
        Ok(Some(ShowFilter::Where(expression.join(" "))))
    }
}

/// The call of `DESC[RIBE] FUNCTION <call>`.
fn describe_function_call(sql: &str) -> Option<&str> {
    let mut words = sql.trim_start().splitn(3, char::is_whitespace);
    let first = words.next()?;
    let second = words.next()?;
    let is_desc = first.eq_ignore_ascii_case("desc") || first.eq_ignore_ascii_case("describe");
    (is_desc && second.eq_ignore_ascii_case("function")).then(|| words.next().unwrap_or("").trim())
}

/// DataFusion's options that size what a query allocates or spawns up
/// front, and the most each may be set to: a larger value made DataFusion
/// abort the whole process on its first sort (`batch_size` =
/// 81928192928192 asked for a petabyte).
const SIZED_OPTIONS: [(&str, u64); 3] = [
    ("datafusion.execution.batch_size", 1 << 20),
    ("datafusion.execution.target_partitions", 1024),
    ("datafusion.execution.planning_concurrency", 1024),
];

/// Refuses a value of a [`SIZED_OPTIONS`] option above its bound.
fn check_option_size(option: &str, value: &str) -> Result<()> {
    let Some((_, most)) = SIZED_OPTIONS.iter().find(|(name, _)| *name == option) else {
        return Ok(());
    };
    match value.trim().parse::<u64>() {
        Ok(n) if (1..=*most).contains(&n) => Ok(()),
        _ => Err(Error::OutOfRange(format!(
            "{option} must be a whole number from 1 to {most}, not {value}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;
    use crate::parse::ast::{JobTrigger, When};

    #[test]
    fn parses_doris_create_table() {
        let sql = "CREATE TABLE IF NOT EXISTS `Db1`.tbl1 (
            id INT NOT NULL COMMENT 'key', name VARCHAR(20), amount DECIMAL(10, 2),
            INDEX idx_name (name) USING INVERTED
        ) ENGINE=OLAP DUPLICATE KEY(id) COMMENT 'orders'
        DISTRIBUTED BY HASH(id) BUCKETS 10 PROPERTIES ('replication_num' = '1', 'Compaction' = 'off')";
        let Statement::CreateTable(ct) = parse_statement(sql).unwrap() else {
            panic!("not a create table")
        };
        assert_eq!(ct.name.database.as_deref(), Some("db1"));
        assert!(ct.if_not_exists);
        assert_eq!(ct.columns.len(), 3);
        assert!(!ct.columns[0].nullable);
        assert_eq!(ct.columns[0].comment.as_deref(), Some("key"));
        assert_eq!(ct.comment.as_deref(), Some("orders"));
        assert_eq!(
            ct.ignored_clauses,
            vec![
                "INDEX idx_name(name) USING INVERTED",
                "ENGINE = OLAP",
                "DUPLICATE KEY(id)",
                "DISTRIBUTED BY HASH(id) BUCKETS 10",
                "PROPERTIES (\"replication_num\" = \"1\")",
            ]
        );
        // The properties tributary reads are kept, not ignored.
        assert_eq!(
            ct.properties,
            vec![("compaction".to_string(), "off".to_string())]
        );
    }

    #[test]
    fn parses_job_statements() {
        let sql = "CREATE JOB my_job ON STREAMING\nPROPERTIES (\"s3.max_batch_files\" = \"2\")\nCOMMENT 'feed'\nDO INSERT INTO db1.t SELECT * FROM S3(\"uri\" = \"s3://b/*.csv\")";
        assert_eq!(
            parse_statement(sql).unwrap(),
            Statement::CreateJob {
                name: "my_job".into(),
                trigger: JobTrigger::Streaming,
                properties: vec![("s3.max_batch_files".into(), "2".into())],
                comment: Some("feed".into()),
                body: "INSERT INTO db1.t SELECT * FROM S3(\"uri\" = \"s3://b/*.csv\")".into(),
            }
        );
        assert_eq!(
            parse_statement("pause job where JOBNAME = 'My_Job'").unwrap(),
            Statement::PauseJob {
                name: "My_Job".into()
            }
        );
        assert_eq!(
            parse_statement("ALTER JOB j PROPERTIES ('max_interval' = '5s')").unwrap(),
            Statement::AlterJob {
                name: "j".into(),
                properties: vec![("max_interval".into(), "5s".into())],
                body: None,
            }
        );
    }

    #[test]
    fn parses_scheduled_jobs() {
        let every = "CREATE JOB j ON SCHEDULE EVERY 2 minute STARTS CURRENT_TIMESTAMP ENDS '2030-01-01 00:00:00' COMMENT 'c' DO INSERT INTO t SELECT 1";
        let Statement::CreateJob { trigger, body, .. } = parse_statement(every).unwrap() else {
            panic!("not a job");
        };
        assert_eq!(
            trigger,
            JobTrigger::Every {
                count: 2,
                unit: "minute".into(),
                starts: Some(When::Now),
                ends: Some("2030-01-01 00:00:00".into()),
            }
        );
        assert_eq!(body, "INSERT INTO t SELECT 1");
        let at = "CREATE JOB j PROPERTIES ('session.query_timeout' = '5') ON SCHEDULE AT '2030-01-01 00:00:00' DO INSERT INTO t SELECT 1";
        let Statement::CreateJob {
            trigger,
            properties,
            ..
        } = parse_statement(at).unwrap()
        else {
            panic!("not a job");
        };
        assert_eq!(
            trigger,
            JobTrigger::At(When::Time("2030-01-01 00:00:00".into()))
        );
        assert_eq!(properties.len(), 1);
        assert!(
            parse_statement("CREATE JOB j ON SCHEDULE EVERY soon DO INSERT INTO t SELECT 1")
                .unwrap_err()
                .to_string()
                .contains("expected EVERY <n> <unit>")
        );
    }

    #[test]
    fn passes_queries_through() {
        assert_eq!(
            parse_statement("select 1").unwrap(),
            Statement::Query("select 1".into())
        );
        assert!(matches!(
            parse_statement("create table t (a int) garbage"),
            Err(Error::Syntax(_))
        ));
    }
}
