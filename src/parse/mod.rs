//! Parsing: SQL text → [`Statement`]s.
//!
//! Statements that tributary owns (databases, tables, jobs, users) are
//! parsed here with sqlparser's MySQL dialect, one module per family; everything else (`SELECT`, `INSERT`,
//! `EXPLAIN`, ...) is passed to DataFusion as text.

mod alter_table;
mod ast;
mod depth;
mod dialect;
mod index;
mod job;
mod match_operator;
pub mod options;
mod pattern;
mod redact;
mod script;
mod statement;
mod table;
mod tokens;
mod update;
mod user;

pub use ast::{
    CreateTable, GrantScope, IndexKind, JobTrigger, SessionVariable, ShowFilter, Statement,
    TableChange, TableName, When,
};
pub use depth::check_depth;
pub use dialect::TributaryDialect;
pub use match_operator::rewrite_match_operators;
pub use pattern::like;
pub use redact::redact_secrets;
pub use script::{split_script, PendingScript, ScriptStatement, SplitScript, Terminator};
pub use statement::parse_statement;
