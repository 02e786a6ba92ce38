//! Syntax errors as MySQL users read them: where (line and column, and
//! the token there) and what was expected, from sqlparser's
//! `Expected: X, found: Y at Line: L, Column: C`.

use std::sync::LazyLock;

use regex::Regex;

/// sqlparser's `message` as `at line L, column C near 'Y': expected X`
/// (or `at the end of the statement: expected X`); a message of another
/// form as it is, with its position first when it has one.
pub(super) fn located(message: &str) -> String {
    static EXPECTED: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(?s)^Expected:? (.*), found: (.*?)(?: at Line: (\d+), Column: (\d+))?$")
            .expect("a valid pattern")
    });
    static POSITIONED: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(?s)^(.*) at Line: (\d+), Column: (\d+)$").expect("a valid pattern")
    });
    if let Some(parts) = EXPECTED.captures(message) {
        let expected = match &parts[1] {
            "an SQL statement" => "a statement",
            other => other,
        };
        let found = parts[2].trim_matches('\'');
        return match (parts.get(3), parts.get(4)) {
            _ if found == "EOF" => format!("at the end of the statement: expected {expected}"),
            (Some(line), Some(column)) => format!(
                "at line {}, column {} near '{found}': expected {expected}",
                line.as_str(),
                column.as_str()
            ),
            _ => format!("near '{found}': expected {expected}"),
        };
    }
    if let Some(parts) = POSITIONED.captures(message) {
        return format!(
            "at line {}, column {}: {}",
            &parts[2],
            &parts[3],
            lower_first(&parts[1])
        );
    }
    format!(": {message}")
}

fn lower_first(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn says_where_and_what_was_expected() {
        assert_eq!(
            located("Expected: an SQL statement, found: SELEC at Line: 1, Column: 1"),
            "at line 1, column 1 near 'SELEC': expected a statement"
        );
        assert_eq!(
            located("Expected: an expression, found: EOF"),
            "at the end of the statement: expected an expression"
        );
        assert_eq!(
            located("Expected: end of statement, found: '/tmp/x' at Line: 1, Column: 25"),
            "at line 1, column 25 near '/tmp/x': expected end of statement"
        );
        assert_eq!(
            located("Unterminated string literal at Line: 1, Column: 8"),
            "at line 1, column 8: unterminated string literal"
        );
        assert_eq!(
            located("the statement nests too deep"),
            ": the statement nests too deep"
        );
    }
}
