//! Parsing: SQL text → [`Statement`]s.
//!
//! Statements that tributary owns (databases, tables, later jobs) are parsed
//! here with sqlparser's MySQL dialect; everything else (`SELECT`, `INSERT`,
//! `EXPLAIN`, ...) is passed to DataFusion as text.

mod redact;
mod script;
mod statement;

pub use redact::redact_secrets;
pub use script::{split_script, ScriptStatement, SplitScript, Terminator};
pub use statement::{
    parse_statement, CreateTable, GrantScope, JobTrigger, Statement, TableName, When,
};
