//! [`TributaryDialect`]: the SQL tributary reads. MySQL's, as Doris users
//! write it (backticks, double-quoted strings, backslash escapes, `#`
//! comments, `LIMIT a, b`, `DIV`, and every MySQL-only rule of sqlparser,
//! as the dialect keeps MySQL's identity), with the analytic SQL DataFusion
//! plans: `GROUP BY ROLLUP/CUBE/GROUPING SETS`, aggregate
//! `FILTER (WHERE ...)`, `INTERVAL '2 minutes'`,
//! `SELECT * EXCLUDE/EXCEPT/REPLACE`, struct literals, `IGNORE NULLS` in
//! window functions, and the literals of nested values: `[1, 2]`,
//! `MAP {'k': 1}` and Doris's `{'k': 1}`.

use std::any::TypeId;

use datafusion::sql::sqlparser::ast::{Expr, Statement};
use datafusion::sql::sqlparser::dialect::{Dialect, MySqlDialect};
use datafusion::sql::sqlparser::keywords::Keyword;
use datafusion::sql::sqlparser::parser::{Parser, ParserError};

/// MySQL's dialect with DataFusion's analytic SQL.
#[derive(Debug, Default, Clone, Copy)]
pub struct TributaryDialect;

const MYSQL: MySqlDialect = MySqlDialect {};

/// Methods answered as MySQL answers them.
macro_rules! as_mysql {
    ($($method:ident),* $(,)?) => {
        $(fn $method(&self) -> bool {
            MYSQL.$method()
        })*
    };
}

/// Methods answered `true` where MySQL says `false`.
macro_rules! enabled {
    ($($method:ident),* $(,)?) => {
        $(fn $method(&self) -> bool {
            true
        })*
    };
}

impl Dialect for TributaryDialect {
    /// MySQL's identity: sqlparser's MySQL-only rules apply.
    fn dialect(&self) -> TypeId {
        TypeId::of::<MySqlDialect>()
    }

    fn is_identifier_start(&self, ch: char) -> bool {
        MYSQL.is_identifier_start(ch)
    }

    fn is_identifier_part(&self, ch: char) -> bool {
        MYSQL.is_identifier_part(ch)
    }

    fn is_delimited_identifier_start(&self, ch: char) -> bool {
        MYSQL.is_delimited_identifier_start(ch)
    }

    fn identifier_quote_style(&self, identifier: &str) -> Option<char> {
        MYSQL.identifier_quote_style(identifier)
    }

    fn parse_infix(
        &self,
        parser: &mut Parser,
        expr: &Expr,
        precedence: u8,
    ) -> Option<Result<Expr, ParserError>> {
        MYSQL.parse_infix(parser, expr, precedence)
    }

    fn parse_statement(&self, parser: &mut Parser) -> Option<Result<Statement, ParserError>> {
        MYSQL.parse_statement(parser)
    }

    fn is_table_factor_alias(&self, explicit: bool, kw: &Keyword, parser: &mut Parser) -> bool {
        MYSQL.is_table_factor_alias(explicit, kw, parser)
    }

    /// `INTERVAL '2 minutes'` as well as MySQL's `INTERVAL 2 MINUTE`.
    fn require_interval_qualifier(&self) -> bool {
        false
    }

    as_mysql!(
        supports_string_literal_backslash_escape,
        supports_string_literal_concatenation,
        ignores_wildcard_escapes,
        supports_numeric_prefix,
        supports_bitwise_shift_operators,
        supports_multiline_comment_hints,
        supports_limit_comma,
        supports_create_table_select,
        supports_insert_set,
        supports_user_host_grantee,
        supports_table_hints,
        requires_single_line_comment_whitespace,
        supports_match_against,
        supports_select_modifiers,
        supports_set_names,
        supports_comma_separated_set_assignments,
        supports_update_order_by,
        supports_data_type_signed_suffix,
        supports_cross_join_constraint,
        supports_double_ampersand_operator,
        supports_binary_kw_as_cast,
        supports_comment_optimizer_hint,
        supports_constraint_keyword_without_name,
        supports_key_column_option,
    );

    enabled!(
        supports_group_by_expr,
        supports_filter_during_aggregation,
        supports_select_wildcard_except,
        supports_select_wildcard_exclude,
        supports_select_wildcard_replace,
        supports_struct_literal,
        supports_window_function_null_treatment_arg,
        support_map_literal_syntax,
        supports_dictionary_syntax,
    );
}

#[cfg(test)]
mod tests {
    use datafusion::sql::sqlparser::parser::Parser;

    use super::*;

    fn parses(sql: &str) -> String {
        Parser::parse_sql(&TributaryDialect, sql)
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
            .remove(0)
            .to_string()
    }

    #[test]
    fn reads_mysql_and_datafusions_analytic_sql() {
        // MySQL's lexing and grammar.
        parses("SELECT `a`, \"text\", 'it\\'s' FROM t # a comment\n LIMIT 1, 2");
        parses("SELECT 7 DIV 2");
        assert!(Parser::parse_sql(&TributaryDialect, "SELECT \"a\"").is_ok());
        // DataFusion's analytic SQL.
        parses("SELECT a, b, sum(x) FROM t GROUP BY ROLLUP (a, b)");
        parses("SELECT a, sum(x) FROM t GROUP BY GROUPING SETS ((a), ())");
        parses("SELECT count(*) FILTER (WHERE x > 1) FROM t");
        parses("SELECT now() - INTERVAL '2 minutes', now() - INTERVAL 2 MINUTE");
        parses("SELECT * EXCLUDE (a) FROM t");
        parses("SELECT * EXCEPT (a) FROM t");
        parses("SELECT * REPLACE (a + 1 AS a) FROM t");
    }
}
