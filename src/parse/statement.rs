//! The statements tributary parses itself, and their parser.

use datafusion::sql::sqlparser::dialect::MySqlDialect;
use datafusion::sql::sqlparser::parser::Parser;
use datafusion::sql::sqlparser::tokenizer::Token;

use crate::catalog::users::Privilege;
use crate::catalog::{Column, SqlType};
use crate::error::{Error, Result};

/// A `[database.]table` reference, normalised to lower case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableName {
    pub database: Option<String>,
    pub table: String,
}

/// `CREATE TABLE`, with the Doris clauses tributary accepts and ignores.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateTable {
    pub name: TableName,
    pub if_not_exists: bool,
    pub columns: Vec<Column>,
    pub comment: Option<String>,
    /// Doris clauses (keys, distribution, partitioning, properties, indexes)
    /// that have no meaning for a Lance table, as written.
    pub ignored_clauses: Vec<String>,
}

/// What runs a job: new files (`ON STREAMING`) or the clock (`ON SCHEDULE`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobTrigger {
    Streaming,
    /// `EVERY count unit [STARTS when] [ENDS 'ts']`
    Every {
        count: u64,
        unit: String,
        starts: Option<When>,
        ends: Option<String>,
    },
    /// `AT when`
    At(When),
}

/// A time in a schedule: `CURRENT_TIMESTAMP` or a literal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum When {
    Now,
    Time(String),
}

/// What a GRANT covers: `*.*` (database `*`), `db.*`, or `db.tbl`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantScope {
    pub database: String,
    pub table: Option<String>,
}

/// A parsed statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Statement {
    CreateDatabase {
        name: String,
        if_not_exists: bool,
    },
    DropDatabase {
        name: String,
        if_exists: bool,
    },
    ShowDatabases,
    Use {
        database: String,
    },
    CreateTable(CreateTable),
    DropTable {
        name: TableName,
        if_exists: bool,
    },
    ShowTables {
        database: Option<String>,
    },
    Describe {
        table: TableName,
    },
    ShowCreateTable {
        table: TableName,
    },
    /// `DESC FUNCTION S3(...)`: the schema a table function returns; holds
    /// the call as written.
    DescribeFunction {
        call: String,
    },
    /// `CREATE JOB name [PROPERTIES (...)] ON {STREAMING | SCHEDULE ...}
    /// [PROPERTIES (...)] [COMMENT '...'] DO <insert>`
    CreateJob {
        name: String,
        trigger: JobTrigger,
        properties: Vec<(String, String)>,
        comment: Option<String>,
        body: String,
    },
    /// `ALTER JOB name [PROPERTIES (...)] [[DO] <insert>]`
    AlterJob {
        name: String,
        properties: Vec<(String, String)>,
        body: Option<String>,
    },
    /// `PAUSE JOB WHERE jobName = 'name'`
    PauseJob {
        name: String,
    },
    /// `RESUME JOB WHERE jobName = 'name'`
    ResumeJob {
        name: String,
    },
    /// `DROP JOB [IF EXISTS] WHERE jobName = 'name'`
    DropJob {
        name: String,
        if_exists: bool,
    },
    /// `WAIT JOB WHERE jobName = 'name' [TIMEOUT seconds]`: blocks until
    /// the job has loaded every file that existed when it was issued.
    WaitJob {
        name: String,
        timeout_secs: Option<u64>,
    },
    /// `CREATE USER [IF NOT EXISTS] 'name' [IDENTIFIED BY 'password']`
    CreateUser {
        name: String,
        password: Option<String>,
        if_not_exists: bool,
    },
    /// `DROP USER [IF EXISTS] 'name'`
    DropUser {
        name: String,
        if_exists: bool,
    },
    /// `GRANT privs ON scope TO 'name'`, or with `revoke`,
    /// `REVOKE privs ON scope FROM 'name'`.
    Grant {
        privileges: Vec<Privilege>,
        scope: GrantScope,
        user: String,
        revoke: bool,
    },
    /// `SHOW GRANTS [FOR 'name']`
    ShowGrants {
        user: Option<String>,
    },
    /// Any other statement, executed by DataFusion.
    Query(String),
}

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

/// Parses one statement (without its terminator).
pub fn parse_statement(sql: &str) -> Result<Statement> {
    if let Some(call) = describe_function_call(sql) {
        return Ok(Statement::DescribeFunction {
            call: call.to_string(),
        });
    }
    let dialect = MySqlDialect {};
    let mut p = StatementParser {
        parser: Parser::new(&dialect)
            .try_with_sql(sql)
            .map_err(|e| Error::Syntax(e.to_string()))?,
    };
    let statement = if p.words(&["create", "database"]) || p.words(&["create", "schema"]) {
        let if_not_exists = p.words(&["if", "not", "exists"]);
        Statement::CreateDatabase {
            name: p.identifier()?,
            if_not_exists,
        }
    } else if p.words(&["drop", "database"]) || p.words(&["drop", "schema"]) {
        let if_exists = p.words(&["if", "exists"]);
        let name = p.identifier()?;
        p.word("force");
        Statement::DropDatabase { name, if_exists }
    } else if p.words(&["show", "databases"]) || p.words(&["show", "schemas"]) {
        Statement::ShowDatabases
    } else if p.word("use") {
        Statement::Use {
            database: p.identifier()?,
        }
    } else if p.words(&["create", "table"]) {
        Statement::CreateTable(p.create_table()?)
    } else if p.words(&["drop", "table"]) {
        let if_exists = p.words(&["if", "exists"]);
        let name = p.table_name()?;
        p.word("force");
        Statement::DropTable { name, if_exists }
    } else if p.words(&["show", "tables"]) {
        let database = if p.word("from") || p.word("in") {
            Some(p.identifier()?)
        } else {
            None
        };
        Statement::ShowTables { database }
    } else if p.words(&["show", "create", "table"]) {
        Statement::ShowCreateTable {
            table: p.table_name()?,
        }
    } else if p.words(&["create", "job"]) {
        let name = p.identifier_as_written()?;
        // Doris's grammar puts PROPERTIES before ON STREAMING, its manual
        // after: both are accepted, once.
        let mut properties = p.properties()?;
        let trigger = p.job_trigger()?;
        if properties.is_empty() {
            properties = p.properties()?;
        }
        let comment = if p.word("comment") {
            Some(p.string_literal()?)
        } else {
            None
        };
        if !p.word("do") {
            return Err(p.unexpected("expected DO INSERT INTO ... SELECT ... FROM S3(...)"));
        }
        let body = p.rest(sql)?;
        return Ok(Statement::CreateJob {
            name,
            trigger,
            properties,
            comment,
            body,
        });
    } else if p.words(&["alter", "job"]) {
        let name = p.identifier_as_written()?;
        let properties = p.properties()?;
        p.word("do");
        let body = match p.parser.peek_token().token {
            Token::EOF => None,
            _ => Some(p.rest(sql)?),
        };
        return Ok(Statement::AlterJob {
            name,
            properties,
            body,
        });
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
        let name = p.where_job_name()?;
        let timeout_secs = if p.word("timeout") {
            Some(
                p.parser
                    .parse_literal_uint()
                    .map_err(|_| p.unexpected("expected TIMEOUT <seconds>, e.g. TIMEOUT 60"))?,
            )
        } else {
            None
        };
        Statement::WaitJob { name, timeout_secs }
    } else if p.words(&["create", "user"]) {
        let if_not_exists = p.words(&["if", "not", "exists"]);
        let name = p.user_name()?;
        let password = if p.words(&["identified", "by"]) {
            Some(p.string_literal()?)
        } else {
            None
        };
        Statement::CreateUser {
            name,
            password,
            if_not_exists,
        }
    } else if p.words(&["drop", "user"]) {
        let if_exists = p.words(&["if", "exists"]);
        Statement::DropUser {
            name: p.user_name()?,
            if_exists,
        }
    } else if p.peek_word("grant") || p.peek_word("revoke") {
        let revoke = p.word("revoke");
        if !revoke {
            p.word("grant");
        }
        let privileges = p.privileges()?;
        if !p.word("on") {
            return Err(p.unexpected("expected ON <database>.* or ON <database>.<table>"));
        }
        let scope = p.grant_scope()?;
        if !p.word(if revoke { "from" } else { "to" }) {
            return Err(p.unexpected(if revoke {
                "expected FROM 'user'"
            } else {
                "expected TO 'user'"
            }));
        }
        Statement::Grant {
            privileges,
            scope,
            user: p.user_name()?,
            revoke,
        }
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
    } else {
        return Ok(Statement::Query(sql.to_string()));
    };
    p.expect_end()?;
    Ok(statement)
}

/// The call of `DESC[RIBE] FUNCTION <call>`.
fn describe_function_call(sql: &str) -> Option<&str> {
    let mut words = sql.trim_start().splitn(3, char::is_whitespace);
    let first = words.next()?;
    let second = words.next()?;
    let is_desc = first.eq_ignore_ascii_case("desc") || first.eq_ignore_ascii_case("describe");
    (is_desc && second.eq_ignore_ascii_case("function")).then(|| words.next().unwrap_or("").trim())
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

/// A thin layer over sqlparser's [`Parser`] with word-based helpers, so that
/// Doris words that are not sqlparser keywords parse the same way.
struct StatementParser<'a> {
    parser: Parser<'a>,
}

impl StatementParser<'_> {
    /// Consumes the next token if it is the unquoted word `w` (any case).
    fn word(&mut self, w: &str) -> bool {
        if self.peek_word(w) {
            self.parser.next_token();
            true
        } else {
            false
        }
    }

    fn peek_word(&self, w: &str) -> bool {
        self.peek_word_at(0, w)
    }

    fn peek_word_at(&self, n: usize, w: &str) -> bool {
        matches!(&self.parser.peek_nth_token(n).token,
            Token::Word(word) if word.quote_style.is_none() && word.value.eq_ignore_ascii_case(w))
    }

    /// Consumes the words `ws` if all of them come next; otherwise nothing.
    fn words(&mut self, ws: &[&str]) -> bool {
        if ws.iter().enumerate().all(|(i, w)| self.peek_word_at(i, w)) {
            for _ in ws {
                self.parser.next_token();
            }
            true
        } else {
            false
        }
    }

    fn expect_token(&mut self, t: Token) -> Result<()> {
        if self.parser.consume_token(&t) {
            Ok(())
        } else {
            Err(self.unexpected(&format!("expected '{t}'")))
        }
    }

    fn expect_end(&mut self) -> Result<()> {
        match self.parser.peek_token().token {
            Token::EOF => Ok(()),
            _ => Err(self.unexpected("expected end of statement")),
        }
    }

    fn unexpected(&self, what: &str) -> Error {
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
    fn identifier(&mut self) -> Result<String> {
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
    fn identifier_as_written(&mut self) -> Result<String> {
        match self.parser.next_token().token {
            Token::Word(w) => Ok(w.value),
            Token::SingleQuotedString(s) | Token::DoubleQuotedString(s) => Ok(s),
            _ => {
                self.parser.prev_token();
                Err(self.unexpected("expected a name"))
            }
        }
    }

    /// `'name'` or `'name'@'host'` (the host is accepted and ignored).
    fn user_name(&mut self) -> Result<String> {
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
        let ends = if self.word("ends") {
            Some(self.string_literal()?)
        } else {
            None
        };
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
    fn where_job_name(&mut self) -> Result<String> {
        if !self.word("where") || !self.word("jobname") {
            return Err(self.unexpected("expected WHERE jobName = '<job_name>'"));
        }
        self.expect_token(Token::Eq)?;
        self.identifier_as_written()
    }

    /// `[PROPERTIES ("key" = "value", ...)]`
    fn properties(&mut self) -> Result<Vec<(String, String)>> {
        let mut pairs = Vec::new();
        if !self.word("properties") {
            return Ok(pairs);
        }
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

    /// The text of `sql` from the next token to the end.
    fn rest(&self, sql: &str) -> Result<String> {
        let next = self.parser.peek_token();
        if next.token == Token::EOF {
            return Err(self.unexpected("expected INSERT INTO ... SELECT ... FROM S3(...)"));
        }
        let start = next.span.start;
        let offset = byte_offset(sql, start.line as usize, start.column as usize);
        Ok(sql[offset..].trim().to_string())
    }

    fn table_name(&mut self) -> Result<TableName> {
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

    fn string_literal(&mut self) -> Result<String> {
        match self.parser.next_token().token {
            Token::SingleQuotedString(s) | Token::DoubleQuotedString(s) => Ok(s),
            _ => {
                self.parser.prev_token();
                Err(self.unexpected("expected a quoted string"))
            }
        }
    }

    fn create_table(&mut self) -> Result<CreateTable> {
        let if_not_exists = self.words(&["if", "not", "exists"]);
        let name = self.table_name()?;
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
        loop {
            if self.parser.peek_token().token == Token::EOF {
                break;
            }
            if self.word("comment") {
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
        Ok(CreateTable {
            name,
            if_not_exists,
            columns,
            comment,
            ignored_clauses,
        })
    }

    /// `name TYPE [NULL | NOT NULL] [COMMENT '...']`
    fn column(&mut self) -> Result<Column> {
        let name = self.identifier()?;
        let sql_type = self.sql_type()?;
        let mut nullable = true;
        let mut comment = None;
        loop {
            if self.words(&["not", "null"]) {
                nullable = false;
            } else if self.word("null") {
                nullable = true;
            } else if self.word("comment") {
                comment = Some(self.string_literal()?);
            } else {
                break;
            }
        }
        Ok(Column {
            name,
            sql_type,
            nullable,
            comment,
        })
    }

    /// A type name with optional numeric arguments: `DECIMAL(10, 2)`.
    fn sql_type(&mut self) -> Result<SqlType> {
        let name = match self.parser.next_token().token {
            Token::Word(w) => w.value,
            _ => {
                self.parser.prev_token();
                return Err(self.unexpected("expected a column type"));
            }
        };
        let mut args = Vec::new();
        if self.parser.consume_token(&Token::LParen) {
            loop {
                let arg = self
                    .parser
                    .parse_literal_uint()
                    .map_err(|e| Error::Syntax(format!("type {name}: {e}")))?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_doris_create_table() {
        let sql = "CREATE TABLE IF NOT EXISTS `Db1`.tbl1 (
            id INT NOT NULL COMMENT 'key', name VARCHAR(20), amount DECIMAL(10, 2),
            INDEX idx_name (name) USING INVERTED
        ) ENGINE=OLAP DUPLICATE KEY(id) COMMENT 'orders'
        DISTRIBUTED BY HASH(id) BUCKETS 10 PROPERTIES ('replication_num' = '1')";
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
                "PROPERTIES('replication_num' = '1')",
            ]
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
